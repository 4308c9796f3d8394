package whatif_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"mgmtsession/ca"
	"mgmtsession/change"
	"mgmtsession/connect"
	"mgmtsession/whatif"
)

const platformRange = "20.190.128.0/24"

func allowed(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func groupLines(gs []whatif.SweepGroup) string {
	var b strings.Builder
	for _, g := range gs {
		b.WriteString("\n  " + g.String())
	}
	return b.String()
}

// Before the setup, the demo tenant challenges the new account from the
// allowed range: CA001 (administrators) and CA002 (all users) demand MFA.
// After an apply, nothing challenges it from there and nothing lets it in
// without MFA from outside.
func TestSweepDemoTenantBeforeAndAfterApply(t *testing.T) {
	env, err := connect.Open(connect.Options{Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	ctx := t.Context()
	client, sess, err := env.SignIn(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := whatif.ReadPolicySet(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	in := whatif.SweepInput{Subject: whatif.NewAccount(nil, nil), Allowed: allowed(platformRange), AllowedCountry: "US", OutsideCountry: "GB"}
	before, err := ps.Sweep(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(before.Challenged) == 0 {
		t.Fatal("before the setup: no challenge from the allowed range")
	}
	var deciders []string
	for _, g := range before.Challenged {
		if !strings.HasPrefix(g.Condition, "from "+platformRange) {
			t.Errorf("challenged group not from the allowed range: %s", g)
		}
		for _, p := range []string{ca001, ca002} {
			if strings.Contains(g.Outcome, p) && !slices.Contains(deciders, p) {
				deciders = append(deciders, p)
			}
		}
	}
	if len(deciders) != 2 {
		t.Errorf("before the setup the challenges name %v, want CA001 and CA002:%s", deciders, groupLines(before.Challenged))
	}
	if h := before.Headlines(); !strings.Contains(h[0], "challenged or blocked in") || !strings.Contains(h[0], ca002) {
		t.Errorf("headline: %q", h[0])
	}

	// The setup, as 'mgmtsession apply' makes it.
	client.SetReplicationPolicy(10*time.Second, 20*time.Millisecond)
	d, err := change.Resolve(change.Config{}, change.Overrides{AllowedIPs: []string{platformRange}})
	if err != nil {
		t.Fatal(err)
	}
	facts, err := change.ReadFacts(ctx, client, sess, d)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := change.MakePlan(d, facts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := change.Apply(ctx, client, plan, change.Options{VerifyReads: 2, VerifyPause: 10 * time.Millisecond, VerifyTimeout: 20 * time.Second, Operator: "test"})
	if err != nil {
		t.Fatal(err)
	}
	account, err := whatif.ExistingAccount(ctx, client, res.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	ps, err = whatif.ReadPolicySet(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	in.Subject = account
	after, err := ps.Sweep(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Challenged) != 0 || len(after.Unprotected) != 0 {
		t.Errorf("after apply: challenged%s\nunprotected%s", groupLines(after.Challenged), groupLines(after.Unprotected))
	}
	if !after.Clean() {
		t.Error("after apply the sweep is not clean")
	}
	h := after.Headlines()
	if !strings.Contains(h[0], "never challenged") || !strings.Contains(h[1], "MFA or a block for every one") {
		t.Errorf("headlines after apply: %q", h)
	}
	// Graph agrees on a sample, one request per sampled sign-in.
	if err := ps.ConfirmWithGraph(ctx, client, after, 2, 0); err != nil {
		t.Fatal(err)
	}
	if g := after.Graph; !g.Compared || g.Requests == 0 || g.Requests > 2 || len(g.Disagreements) != 0 {
		t.Errorf("Graph confirmation: %+v", g)
	}
}

// A policy scoped to Windows only leaves every other platform without MFA
// from outside: the sweep says so in one condition, and nothing about
// Windows.
func TestSweepFindsAWindowsOnlyGap(t *testing.T) {
	loc := ca.NamedLocation{ODataType: ca.ODataIPNamedLocation, ID: "10c00000-0000-4000-8000-000000000001", DisplayName: "platform",
		IPRanges: []ca.IPRange{{ODataType: ca.ODataIPv4CidrRange, CIDRAddress: platformRange}}}
	policy := ca.Policy{ID: "p1", DisplayName: "MFA outside the platform, Windows only", State: ca.StateEnabled,
		Conditions: ca.Conditions{
			Users:          &ca.Users{IncludeUsers: []string{ca.All}},
			Applications:   &ca.Applications{IncludeApplications: []string{ca.All}},
			ClientAppTypes: []string{"all"},
			Platforms:      &ca.Platforms{IncludePlatforms: []string{"windows"}},
			Locations:      &ca.Locations{IncludeLocations: []string{ca.All}, ExcludeLocations: []string{loc.ID}},
		},
		GrantControls: &ca.GrantControls{Operator: "OR", BuiltInControls: []string{"mfa"}}}
	ps := whatif.NewPolicySet([]ca.Policy{policy}, []ca.NamedLocation{loc})
	sw, err := ps.Sweep(whatif.SweepInput{Subject: whatif.NewAccount(nil, nil), Allowed: allowed(platformRange)})
	if err != nil {
		t.Fatal(err)
	}
	if len(sw.Challenged) != 0 {
		t.Errorf("challenged from the allowed range:%s", groupLines(sw.Challenged))
	}
	if len(sw.Unprotected) != 1 {
		t.Fatalf("want one gap condition, got:%s", groupLines(sw.Unprotected))
	}
	g := sw.Unprotected[0]
	for _, p := range []string{"linux", "macOS"} {
		if !slices.Contains(g.DevicePlatforms, p) || !strings.Contains(g.Condition, p) {
			t.Errorf("the gap does not name %s: %s", p, g)
		}
	}
	if slices.Contains(g.DevicePlatforms, "windows") {
		t.Errorf("the gap names Windows: %s", g)
	}
	if !strings.HasPrefix(g.Condition, "from outside") || !strings.Contains(g.Condition, "any client") || !strings.Contains(g.Condition, "any application") {
		t.Errorf("gap condition: %s", g)
	}
	if h := sw.Headlines(); !strings.Contains(h[1], "no MFA in") || !strings.Contains(h[1], "linux") {
		t.Errorf("headline: %q", h[1])
	}
	// An unknown platform cannot be decided for a Windows-only policy.
	if len(sw.Undetermined) == 0 || !slices.Contains(sw.Undetermined[0].DevicePlatforms, whatif.SweepPlatformUnknown) {
		t.Errorf("undetermined:%s", groupLines(sw.Undetermined))
	}
}

// Every combination is evaluated and reported: applications x client app
// types x platforms (unknown included) x places x (without and with the
// place's country).
func TestSweepEvaluatesEveryCombination(t *testing.T) {
	ps := demoPolicies(t)
	sw, err := ps.Sweep(whatif.SweepInput{Subject: whatif.NewAccount(nil, nil),
		Allowed: allowed(platformRange, "2a01:111:f400:7e00::/56"), AllowedCountry: "US", OutsideCountry: "GB"})
	if err != nil {
		t.Fatal(err)
	}
	// The IPv6 range begins with the head office's /64, so it is swept in
	// two parts: the head office, and the rest.
	places := 1 + 2 + 1
	want := places * 2 * len(whatif.PlatformApps()) * len(whatif.ClientAppTypes) * (len(whatif.DevicePlatforms) + 1)
	if len(sw.Combinations) != want {
		t.Errorf("%d combinations, want %d", len(sw.Combinations), want)
	}
	seen := map[string]bool{}
	for _, c := range sw.Combinations {
		key := strings.Join([]string{c.From, c.Country, c.Application, c.ClientAppType, c.DevicePlatform}, "|")
		if seen[key] {
			t.Fatalf("combination twice: %s", key)
		}
		seen[key] = true
	}
	if !slices.Contains(sw.Allowed, "2a01:111:f400:7e00::/56") || !seen["2a01:111:f400:7e00::/64|US|Exchange Online|browser|unknown"] {
		t.Errorf("the head office part of the IPv6 range is not its own place: %v", sw.Allowed)
	}
	// Each group's count adds up to the combinations in its category.
	n := 0
	for _, g := range sw.Challenged {
		n += g.Combinations
	}
	m := 0
	for _, c := range sw.Combinations {
		if c.Allowed && c.Verdict != ca.VerdictAllow && (c.ClientAppType == "browser" || c.ClientAppType == "mobileAppsAndDesktopClients") {
			m++
		}
	}
	if n != m || n == 0 {
		t.Errorf("challenged groups cover %d combinations, want %d", n, m)
	}
}

func TestSweepRefusesAnOutsideAddressThatIsAllowed(t *testing.T) {
	ps := demoPolicies(t)
	_, err := ps.Sweep(whatif.SweepInput{Allowed: allowed(platformRange), Outside: netip.MustParseAddr("20.190.128.9")})
	if err == nil || !strings.Contains(err.Error(), "20.190.128.9") {
		t.Errorf("err = %v", err)
	}
	if _, err := ps.Sweep(whatif.SweepInput{}); err == nil {
		t.Error("a sweep without allowed ranges was accepted")
	}
}
