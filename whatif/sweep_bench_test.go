package whatif_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"mgmtsession/ca"
	"mgmtsession/whatif"
)

// bigTenant is a large, varied tenant like package ca's benchmark tenant:
// 240 policies over 40 IP locations (20 to 2000 ranges each) and 10 country
// locations, on users, groups, roles, guests, apps and groupings, with
// platform, client app, location, risk and device conditions. Seeded, so
// every run is the same.
func bigTenant() ([]ca.Policy, []ca.NamedLocation) {
	r := rand.New(rand.NewPCG(12, 240))
	id := func(prefix string, n int) string { return fmt.Sprintf("%s-0000-4000-8000-%012d", prefix, n) }
	pick := func(list []string, n int) []string {
		out := make([]string, 0, n)
		for range n {
			out = append(out, list[r.IntN(len(list))])
		}
		return out
	}
	var locs []ca.NamedLocation
	for i := range 40 {
		l := ca.NamedLocation{ODataType: ca.ODataIPNamedLocation, ID: id("1ocat10n", i), DisplayName: fmt.Sprint("ip ", i), IsTrusted: i%8 == 0}
		n := 20 + r.IntN(200)
		if i%10 == 0 {
			n = 2000
		}
		for j := range n {
			l.IPRanges = append(l.IPRanges, ca.IPRange{ODataType: ca.ODataIPv4CidrRange, CIDRAddress: fmt.Sprintf("%d.%d.%d.0/24", 11+i, j/256, j%256)})
		}
		locs = append(locs, l)
	}
	countries := []string{"FR", "DE", "US", "GB", "JP", "BR"}
	for i := range 10 {
		locs = append(locs, ca.NamedLocation{ODataType: ca.ODataCountryLocation, ID: id("c0untry0", i), DisplayName: fmt.Sprint("countries ", i),
			CountriesAndRegions: pick(countries, 1+r.IntN(3)), IncludeUnknownCountriesAndRegions: i%3 == 0})
	}
	locIDs := make([]string, len(locs))
	for i, l := range locs {
		locIDs[i] = l.ID
	}
	groups := make([]string, 300)
	for i := range groups {
		groups[i] = id("9r0up000", i)
	}
	apps := []string{ca.AppExchangeOnline, ca.AppSharePointOnline, ca.AppMicrosoftGraph, ca.AppTeamsServices, ca.AppAzureServiceManagement}
	clientSets := [][]string{{"all"}, {"browser", "mobileAppsAndDesktopClients"}, {"exchangeActiveSync", "other"}, {"browser"}}
	platforms := []string{"android", "iOS", "windows", "macOS", "linux"}
	controls := [][]string{{"mfa"}, {"block"}, {"compliantDevice"}, {"mfa", "compliantDevice"}}
	policies := make([]ca.Policy, 240)
	for i := range policies {
		u := &ca.Users{}
		switch r.IntN(4) {
		case 0:
			u.IncludeUsers = []string{ca.All}
			u.ExcludeGroups = pick(groups, 1+r.IntN(3))
		case 1:
			u.IncludeRoles = []string{roleGlobalAdm}
		case 2:
			u.IncludeGroups = pick(groups, 1+r.IntN(5))
		case 3:
			u.IncludeGuestsOrExternalUsers = &ca.GuestsOrExtern{GuestOrExternalUserTypes: "internalGuest,b2bCollaborationGuest"}
		}
		a := &ca.Applications{}
		switch r.IntN(3) {
		case 0:
			a.IncludeApplications = []string{ca.All}
		case 1:
			a.IncludeApplications = []string{ca.Office365}
		case 2:
			a.IncludeApplications = pick(apps, 1+r.IntN(3))
		}
		state := ca.StateEnabled
		if i%5 == 0 {
			state = ca.StateReportOnly
		}
		p := ca.Policy{ID: id("p0l1cy00", i), DisplayName: fmt.Sprint("policy ", i), State: state,
			Conditions:    ca.Conditions{Users: u, Applications: a, ClientAppTypes: clientSets[r.IntN(len(clientSets))]},
			GrantControls: &ca.GrantControls{Operator: "OR", BuiltInControls: controls[r.IntN(len(controls))]}}
		if r.IntN(3) == 0 {
			p.Conditions.Platforms = &ca.Platforms{IncludePlatforms: pick(platforms, 1+r.IntN(3))}
		}
		switch r.IntN(3) {
		case 0:
			p.Conditions.Locations = &ca.Locations{IncludeLocations: []string{ca.All}, ExcludeLocations: append([]string{ca.AllTrusted}, pick(locIDs, r.IntN(4))...)}
		case 1:
			p.Conditions.Locations = &ca.Locations{IncludeLocations: pick(locIDs, 1+r.IntN(5))}
		}
		if r.IntN(10) == 0 {
			p.Conditions.Devices = &ca.Devices{DeviceFilter: &ca.Filter{Mode: "exclude", Rule: `device.trustType -eq "AzureAD"`}}
		}
		policies[i] = p
	}
	return policies, locs
}

// BenchmarkSweep240 is one sweep for the management account over 240
// policies and 50 named locations: every combination of the six platform
// applications, four client app types, six platforms (unknown included),
// two allowed ranges (one split by a named location) and an outside
// address, each with and without a country. The goal is under 50 ms.
func BenchmarkSweep240(b *testing.B) {
	policies, locs := bigTenant()
	ps := whatif.NewPolicySet(policies, locs)
	in := whatif.SweepInput{
		Subject: whatif.NewAccount(nil, []string{"9r0up000-0000-4000-8000-000000000007"}),
		// Location 0's ranges cover 11.7.0.0 to 11.7.207.255: that allowed
		// range is swept in two parts.
		Allowed:        []netip.Prefix{netip.MustParsePrefix("11.7.0.0/16"), netip.MustParsePrefix("20.190.128.0/24")},
		AllowedCountry: "FR", OutsideCountry: "US",
	}
	sw, err := ps.Sweep(in)
	if err != nil {
		b.Fatal(err)
	}
	if len(sw.Challenged) == 0 || len(sw.Undetermined) == 0 {
		b.Fatalf("the tenant is too uniform: %d challenged, %d undetermined groups", len(sw.Challenged), len(sw.Undetermined))
	}
	if len(sw.Combinations) != 4*2*6*4*6 {
		b.Fatalf("%d combinations, want %d", len(sw.Combinations), 4*2*6*4*6)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ps.Sweep(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(sw.Combinations)), "combinations")
}
