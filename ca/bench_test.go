package ca

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// benchTenant builds a large, varied tenant: 240 policies over 50 named
// locations (40 IP locations of 20 to 2000 ranges, IPv4 and IPv6, and 10
// country locations), targeting users, 300 groups and admin roles, single
// apps, groupings and All, with platform, client app, location, risk and
// device conditions. The generator is seeded, so every run is the same.
func benchTenant() ([]Policy, []NamedLocation) {
	r := rand.New(rand.NewPCG(1, 2))
	id := func(prefix string, n int) string { return fmt.Sprintf("%s-0000-4000-8000-%012d", prefix, n) }
	pick := func(list []string, n int) []string {
		out := make([]string, 0, n)
		for range n {
			out = append(out, list[r.IntN(len(list))])
		}
		return out
	}

	var locs []NamedLocation
	for i := range 40 {
		l := NamedLocation{ODataType: ODataIPNamedLocation, ID: id("1ocat10n", i), DisplayName: fmt.Sprint("ip ", i), IsTrusted: i%8 == 0}
		n := 20 + r.IntN(200)
		if i%10 == 0 {
			n = 2000 // the documented maximum per location
		}
		for j := range n {
			if j%5 == 4 {
				l.IPRanges = append(l.IPRanges, IPRange{ODataType: ODataIPv6CidrRange,
					CIDRAddress: fmt.Sprintf("2001:db8:%x:%x::/64", i, j)})
				continue
			}
			l.IPRanges = append(l.IPRanges, IPRange{ODataType: ODataIPv4CidrRange,
				CIDRAddress: fmt.Sprintf("%d.%d.%d.0/24", 11+i, j/256, j%256)})
		}
		locs = append(locs, l)
	}
	countries := []string{"FR", "DE", "US", "GB", "JP", "BR", "IN", "CN", "RU", "KP"}
	for i := range 10 {
		locs = append(locs, NamedLocation{ODataType: ODataCountryLocation, ID: id("c0untry0", i), DisplayName: fmt.Sprint("countries ", i),
			CountriesAndRegions: pick(countries, 1+r.IntN(4)), IncludeUnknownCountriesAndRegions: i%3 == 0})
	}
	locIDs := make([]string, len(locs))
	for i, l := range locs {
		locIDs[i] = l.ID
	}

	groups := make([]string, 300)
	for i := range groups {
		groups[i] = id("9r0up000", i)
	}
	users := make([]string, 100)
	for i := range users {
		users[i] = id("05e70000", i)
	}
	roles := []string{roleGA, roleCAAdm, "194ae4cb-b126-40b2-bd5b-6091b380977d", "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
		"29232cdf-9323-42fd-ade2-1d097af3e4de", "fe930be7-5e62-47db-91af-98c3a49a38b1"}
	apps := append([]string{AppExchangeOnline, AppSharePointOnline, AppTeamsServices, AppAzureServiceManagement, AppMicrosoftGraph},
		id("a99aaaaa", 1), id("a99aaaaa", 2), id("a99aaaaa", 3))
	platforms := []string{"android", "iOS", "windows", "macOS", "linux"}
	clientSets := [][]string{{"all"}, {"browser", "mobileAppsAndDesktopClients"}, {"exchangeActiveSync", "other"}, {"browser"}}
	grants := []*GrantControls{
		{Operator: "OR", BuiltInControls: []string{"mfa"}},
		{Operator: "OR", BuiltInControls: []string{"block"}},
		{Operator: "OR", BuiltInControls: []string{"mfa", "compliantDevice"}},
		{Operator: "AND", BuiltInControls: []string{"compliantDevice"}},
		{Operator: "OR", AuthenticationStrength: &AuthenticationStrength{ID: "00000000-0000-0000-0000-000000000004"}},
	}
	states := []string{StateEnabled, StateEnabled, StateEnabled, StateReportOnly, StateDisabled}

	policies := make([]Policy, 240)
	for i := range policies {
		p := Policy{ID: id("b011c900", i), DisplayName: fmt.Sprint("policy ", i), State: states[r.IntN(len(states))],
			GrantControls: grants[r.IntN(len(grants))]}
		u := &Users{ExcludeGroups: pick(groups, 1+r.IntN(3)), ExcludeUsers: pick(users, r.IntN(3))}
		switch r.IntN(4) {
		case 0:
			u.IncludeUsers = []string{All}
		case 1:
			u.IncludeGroups = pick(groups, 5+r.IntN(20))
		case 2:
			u.IncludeRoles = pick(roles, 1+r.IntN(len(roles)))
		case 3:
			u.IncludeUsers = pick(users, 10+r.IntN(30))
			u.IncludeGuestsOrExternalUsers = &GuestsOrExtern{GuestOrExternalUserTypes: "internalGuest,b2bCollaborationGuest"}
		}
		a := &Applications{}
		switch r.IntN(4) {
		case 0:
			a.IncludeApplications = []string{All}
			a.ExcludeApplications = pick(apps, r.IntN(2))
		case 1:
			a.IncludeApplications = []string{Office365}
		case 2:
			a.IncludeApplications = []string{MicrosoftAdminPortals, AppAzureServiceManagement}
		case 3:
			a.IncludeApplications = pick(apps, 1+r.IntN(4))
		}
		p.Conditions = Conditions{Users: u, Applications: a, ClientAppTypes: clientSets[r.IntN(len(clientSets))]}
		if r.IntN(3) == 0 {
			p.Conditions.Platforms = &Platforms{IncludePlatforms: pick(platforms, 1+r.IntN(3))}
		}
		switch r.IntN(3) {
		case 0:
			p.Conditions.Locations = &Locations{IncludeLocations: []string{All}, ExcludeLocations: append([]string{AllTrusted}, pick(locIDs, r.IntN(4))...)}
		case 1:
			p.Conditions.Locations = &Locations{IncludeLocations: pick(locIDs, 1+r.IntN(5))}
		}
		if r.IntN(8) == 0 {
			p.Conditions.SignInRiskLevels = []string{"high", "medium"}
		}
		if r.IntN(10) == 0 {
			p.Conditions.Devices = &Devices{DeviceFilter: &Filter{Mode: "exclude",
				Rule: `device.trustType -eq "AzureAD" -and device.extensionAttribute1 -in ["SAW", "PAW"]`}}
		}
		policies[i] = p
	}
	return policies, locs
}

// benchSignIns are 6 applications from 2 addresses: one inside a trusted
// IPv4 location, one IPv6 address outside every location.
func benchSignIns() []SignIn {
	sub := Subject{UserID: fmt.Sprintf("05e70000-0000-4000-8000-%012d", 7), Roles: []string{roleCAAdm}}
	for i := 0; i < 300; i += 6 {
		sub.Groups = append(sub.Groups, fmt.Sprintf("9r0up000-0000-4000-8000-%012d", i))
	}
	apps := []string{AppExchangeOnline, AppSharePointOnline, AppTeamsServices, AppAzurePortal, AppMicrosoftGraph, Office365}
	ips := []netip.Addr{netip.MustParseAddr("11.3.7.20"), netip.MustParseAddr("2001:db8:ffff::9")}
	var out []SignIn
	for _, app := range apps {
		for _, ip := range ips {
			out = append(out, SignIn{Subject: sub, Application: app, ClientAppType: "browser", DevicePlatform: "windows",
				IP: ip, Country: "FR", Device: device("device.trustType", "AzureAD")})
		}
	}
	return out
}

// BenchmarkEvaluate240x12 measures one op = 12 sign-ins against 240
// policies with a prepared Evaluator; the goal is well under 2 ms per op.
func BenchmarkEvaluate240x12(b *testing.B) {
	policies, locs := benchTenant()
	signIns := benchSignIns()
	e := NewEvaluator(policies, locs)
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range signIns {
			e.Evaluate(s)
		}
	}
}

// BenchmarkNewEvaluator240 measures preparing the same tenant (50
// locations, about 8,000 ranges), the one-off cost the plain Evaluate
// function pays on every call.
func BenchmarkNewEvaluator240(b *testing.B) {
	policies, locs := benchTenant()
	b.ReportAllocs()
	for b.Loop() {
		NewEvaluator(policies, locs)
	}
}

// The benchmark tenant is varied enough to exercise every verdict.
func TestBenchTenantIsVaried(t *testing.T) {
	policies, locs := benchTenant()
	for _, p := range policies {
		if err := ValidatePolicy(p); err != nil {
			t.Fatalf("%s: %v", p.ID, err)
		}
	}
	for _, l := range locs {
		if err := ValidateNamedLocation(l); err != nil {
			t.Fatalf("%s: %v", l.ID, err)
		}
	}
	e := NewEvaluator(policies, locs)
	verdicts := map[string]int{}
	applied := 0
	for _, s := range benchSignIns() {
		res := e.Evaluate(s)
		verdicts[res.Verdict]++
		for _, pr := range res.Policies {
			if pr.Applies {
				applied++
			}
		}
	}
	if len(verdicts) < 2 || applied < 12 {
		t.Errorf("verdicts %v, %d applying results: the tenant is too uniform", verdicts, applied)
	}
	t.Logf("verdicts %v, %d applying results", verdicts, applied)
}
