package graph_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"mgmtsession/assets"
	"mgmtsession/ca"
	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
)

// allowedIPs is a named location the way the product builds it: the
// platform's egress ranges, no @odata.type on the ranges (the adapter adds
// it from the address family).
func allowedIPs(ranges ...string) ca.NamedLocation {
	l := ca.NamedLocation{ODataType: ca.ODataIPNamedLocation, DisplayName: "CoreView allowed IPs"}
	for _, r := range ranges {
		l.IPRanges = append(l.IPRanges, ca.IPRange{CIDRAddress: r})
	}
	return l
}

// mfaOutside is the policy the product creates: MFA for the account
// everywhere except the allowed IPs.
func mfaOutside(userID, locationID, state string) ca.Policy {
	return ca.Policy{
		DisplayName: "CoreView: require MFA outside the allowed IPs",
		State:       state,
		Conditions: ca.Conditions{
			ClientAppTypes: []string{"all"},
			Applications:   &ca.Applications{IncludeApplications: []string{ca.All}},
			Users:          &ca.Users{IncludeUsers: []string{userID}},
			Locations:      &ca.Locations{IncludeLocations: []string{ca.All}, ExcludeLocations: []string{locationID}},
		},
		GrantControls: &ca.GrantControls{Operator: "OR", BuiltInControls: []string{"mfa"}},
	}
}

func TestPoliciesRead(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	ps, err := c.Policies(ctx)
	must(t, err)
	if len(ps) != 8 {
		t.Fatalf("%d policies, want the demo tenant's 8", len(ps))
	}
	i := slices.IndexFunc(ps, func(p ca.Policy) bool { return p.ID == policyMFAAdmins })
	if i < 0 {
		t.Fatal("CA001 missing")
	}
	p := ps[i]
	if p.State != ca.StateEnabled || p.Conditions.Users == nil ||
		!slices.Contains(p.Conditions.Users.IncludeRoles, roleGlobalAdmin) ||
		!slices.Equal(p.Conditions.Users.ExcludeUsers, []string{breakGlass1, breakGlass2}) ||
		p.GrantControls == nil || !slices.Equal(p.GrantControls.BuiltInControls, []string{"mfa"}) {
		t.Errorf("CA001 read as %+v", p)
	}

	one, err := c.Policy(ctx, policyCountryBlock)
	must(t, err)
	if one.DisplayName != "CA004: Block sign-ins outside allowed countries" || one.Conditions.Locations == nil ||
		!slices.Equal(one.Conditions.Locations.ExcludeLocations, []string{allowedCountriesID}) {
		t.Errorf("CA004 read as %+v", one)
	}
	if _, err := c.Policy(ctx, "c0a1b2c3-9999-4000-8000-00000000c999"); !graph.IsNotFound(err) {
		t.Errorf("a missing policy: %v", err)
	}
}

func TestPolicyLifecycle(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	u := newAccount(t, c, "coreview.admin")
	loc, err := c.CreateNamedLocation(ctx, allowedIPs("198.51.100.0/24"))
	must(t, err)

	created, err := c.CreatePolicy(ctx, mfaOutside(u.ID, loc.ID, ca.StateReportOnly))
	must(t, err)
	if !guidRE.MatchString(created.ID) || created.State != ca.StateReportOnly || created.CreatedDateTime == nil ||
		!slices.Equal(created.Conditions.Locations.ExcludeLocations, []string{loc.ID}) {
		t.Errorf("created %+v", created)
	}
	got, err := c.Policy(ctx, created.ID)
	must(t, err)
	if got.DisplayName != created.DisplayName || !slices.Equal(got.Conditions.Users.IncludeUsers, []string{u.ID}) {
		t.Errorf("read back %+v", got)
	}

	// Enforce it and exclude a break-glass account; what was read back can
	// be written back as it is.
	got.State = ca.StateEnabled
	got.Conditions.Users.ExcludeUsers = []string{breakGlass1}
	must(t, c.UpdatePolicy(ctx, got))
	after, err := c.Policy(ctx, created.ID)
	must(t, err)
	if after.State != ca.StateEnabled || !slices.Equal(after.Conditions.Users.ExcludeUsers, []string{breakGlass1}) || after.ModifiedDateTime == nil {
		t.Errorf("after update %+v", after)
	}
	// Exclude the account from an existing policy, as step 3 plans.
	mfaAll, err := c.Policy(ctx, policyMFAAll)
	must(t, err)
	mfaAll.Conditions.Users.ExcludeUsers = append(mfaAll.Conditions.Users.ExcludeUsers, u.ID)
	must(t, c.UpdatePolicy(ctx, mfaAll))
	if again, _ := c.Policy(ctx, policyMFAAll); !slices.Contains(again.Conditions.Users.ExcludeUsers, u.ID) ||
		!slices.Equal(again.Conditions.Users.ExcludeGroups, []string{groupEmergency}) {
		t.Errorf("CA002 after excluding the account: %+v", again.Conditions.Users)
	}

	ps, err := c.Policies(ctx)
	must(t, err)
	if len(ps) != 9 {
		t.Errorf("%d policies after one create, want 9", len(ps))
	}

	must(t, c.DeletePolicy(ctx, created.ID))
	if _, err := c.Policy(ctx, created.ID); !graph.IsNotFound(err) {
		t.Errorf("after delete: %v", err)
	}
	must(t, c.DeletePolicy(ctx, created.ID)) // already gone is fine
}

func TestNamedLocationsRead(t *testing.T) {
	c := appClient(t, tenant(t, ""))
	ctx := testCtx(t)
	locs, err := c.NamedLocations(ctx)
	must(t, err)
	if len(locs) != 2 {
		t.Fatalf("%d named locations, want 2", len(locs))
	}
	office, err := c.NamedLocation(ctx, headOfficeID)
	must(t, err)
	if !office.IsIP() || !office.IsTrusted || len(office.IPRanges) != 2 ||
		office.IPRanges[0].ODataType != ca.ODataIPv4CidrRange || office.IPRanges[1].ODataType != ca.ODataIPv6CidrRange {
		t.Errorf("head office %+v", office)
	}
	countries, err := c.NamedLocation(ctx, allowedCountriesID)
	must(t, err)
	if countries.ODataType != ca.ODataCountryLocation || !slices.Contains(countries.CountriesAndRegions, "GB") {
		t.Errorf("allowed countries %+v", countries)
	}
	if _, err := c.NamedLocation(ctx, "3f7e2d1c-9999-4000-8000-000000009999"); !graph.IsNotFound(err) {
		t.Errorf("a missing location: %v", err)
	}
}

func TestNamedLocationLifecycle(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	want := allowedIPs("198.51.100.0/24", "2001:db8:abcd::/48", "192.0.2.7/32")
	want.IsTrusted = true
	loc, err := c.CreateNamedLocation(ctx, want)
	must(t, err)
	if !guidRE.MatchString(loc.ID) || !loc.IsIP() || !loc.IsTrusted || len(loc.IPRanges) != 3 {
		t.Fatalf("created %+v", loc)
	}
	for i, wantType := range []string{ca.ODataIPv4CidrRange, ca.ODataIPv6CidrRange, ca.ODataIPv4CidrRange} {
		if loc.IPRanges[i].ODataType != wantType || loc.IPRanges[i].CIDRAddress != want.IPRanges[i].CIDRAddress {
			t.Errorf("range %d = %+v, want %s %s", i, loc.IPRanges[i], wantType, want.IPRanges[i].CIDRAddress)
		}
	}

	// The ranges are replaced as a whole; un-trusting sends isTrusted:false.
	loc.IPRanges = []ca.IPRange{{CIDRAddress: "203.0.113.0/28"}}
	loc.IsTrusted = false
	must(t, c.UpdateNamedLocation(ctx, loc))
	got, err := c.NamedLocation(ctx, loc.ID)
	must(t, err)
	if len(got.IPRanges) != 1 || got.IPRanges[0].CIDRAddress != "203.0.113.0/28" || got.IsTrusted {
		t.Errorf("after update %+v", got)
	}

	// A country location goes through the same calls.
	cl, err := c.CreateNamedLocation(ctx, ca.NamedLocation{ODataType: ca.ODataCountryLocation, DisplayName: "Blocked",
		CountriesAndRegions: []string{"KP", "IR"}, IncludeUnknownCountriesAndRegions: true})
	must(t, err)
	if !cl.IncludeUnknownCountriesAndRegions {
		t.Errorf("created %+v", cl)
	}
	cl.CountriesAndRegions = []string{"KP"}
	cl.IncludeUnknownCountriesAndRegions = false
	must(t, c.UpdateNamedLocation(ctx, cl))
	if got, _ := c.NamedLocation(ctx, cl.ID); !slices.Equal(got.CountriesAndRegions, []string{"KP"}) || got.IncludeUnknownCountriesAndRegions {
		t.Errorf("country location after update %+v", got)
	}
	must(t, c.DeleteNamedLocation(ctx, cl))

	must(t, c.DeleteNamedLocation(ctx, got))
	if _, err := c.NamedLocation(ctx, loc.ID); !graph.IsNotFound(err) {
		t.Errorf("after delete: %v", err)
	}
	must(t, c.DeleteNamedLocation(ctx, got)) // already gone is fine
}

func TestDeleteTrustedNamedLocation(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	l := allowedIPs("198.51.100.0/24")
	l.IsTrusted = true
	loc, err := c.CreateNamedLocation(ctx, l)
	must(t, err)
	// Graph refuses to delete a trusted location; the adapter un-trusts it
	// first.
	srv.ResetRequests()
	must(t, c.DeleteNamedLocation(ctx, loc))
	if _, err := c.NamedLocation(ctx, loc.ID); !graph.IsNotFound(err) {
		t.Errorf("after delete: %v", err)
	}
	reqs := srv.Requests()
	if len(reqs) < 2 || reqs[0].Method != "PATCH" || reqs[1].Method != "DELETE" || reqs[1].Status != 204 {
		t.Errorf("requests %+v, want PATCH (un-trust) then DELETE", reqs)
	}

	// The demo tenant's trusted head office is referenced by no policy, so
	// it goes the same way.
	office, err := c.NamedLocation(ctx, headOfficeID)
	must(t, err)
	must(t, c.DeleteNamedLocation(ctx, office))

	// A location a policy uses is refused with Graph's reason.
	countries, err := c.NamedLocation(ctx, allowedCountriesID)
	must(t, err)
	err = c.DeleteNamedLocation(ctx, countries)
	if ge := asGraphError(t, err); ge.Status != 400 || ge.RequestID == "" {
		t.Errorf("deleting a referenced location: %v", ge)
	}
}

func TestEvaluate(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	signIn := graph.WhatIfSignIn{
		UserID: operatorID, Applications: []string{appExchangeOnline},
		IPAddress: outsideIP, Country: "GB", ClientAppType: "browser", DevicePlatform: "windows",
	}
	results, err := c.Evaluate(ctx, signIn)
	must(t, err)
	byID := map[string]graph.WhatIfResult{}
	for _, r := range results {
		byID[r.ID] = r
		if r.DisplayName == "" || r.State == "" || r.Conditions.Users == nil {
			t.Errorf("result without the policy's fields: %+v", r)
		}
		if r.AnalysisReasons == "" {
			t.Errorf("%s: analysisReasons empty", r.DisplayName)
		}
		if r.PolicyApplies != (r.AnalysisReasons == "notSet") {
			t.Errorf("%s: applies %v with reasons %q", r.DisplayName, r.PolicyApplies, r.AnalysisReasons)
		}
	}
	// From outside, the operator (a Global Administrator) meets both MFA
	// policies.
	for _, id := range []string{policyMFAAdmins, policyMFAAll} {
		if r, ok := byID[id]; !ok || !r.PolicyApplies {
			t.Errorf("%s from outside: %+v", id, r)
		}
	}
	if r := byID[policyLegacyAuth]; r.PolicyApplies || r.AnalysisReasons != "clientApps" {
		t.Errorf("legacy auth block for a browser: applies %v, reasons %q", r.PolicyApplies, r.AnalysisReasons)
	}
	if r := byID[policyCountryBlock]; r.PolicyApplies || r.AnalysisReasons != "location" {
		t.Errorf("country block from GB: applies %v, reasons %q", r.PolicyApplies, r.AnalysisReasons)
	}
	if _, ok := byID[policyDisabled]; ok {
		t.Errorf("a disabled policy was evaluated")
	}

	// From the trusted head office, CA002 (which excludes trusted
	// locations) no longer applies, for the location.
	signIn.IPAddress = "51.140.12.5"
	results, err = c.Evaluate(ctx, signIn)
	must(t, err)
	for _, r := range results {
		if r.ID == policyMFAAll && (r.PolicyApplies || r.AnalysisReasons != "location") {
			t.Errorf("CA002 from the trusted location: applies %v, reasons %q", r.PolicyApplies, r.AnalysisReasons)
		}
	}

	// The device code flow meets the Microsoft-managed policy that blocks it.
	signIn.AuthFlow = "deviceCodeFlow"
	results, err = c.Evaluate(ctx, signIn)
	must(t, err)
	if i := slices.IndexFunc(results, func(r graph.WhatIfResult) bool { return r.ID == "c0a1b2c3-0007-4000-8000-00000000c007" }); i < 0 || !results[i].PolicyApplies {
		t.Errorf("device code flow: the block policy does not apply")
	}

	_, err = c.Evaluate(ctx, graph.WhatIfSignIn{UserID: "0a1b2c3d-9999-4000-8000-000000009999", Applications: []string{appExchangeOnline}, IPAddress: outsideIP})
	if ge := asGraphError(t, err); ge.Status != 400 {
		t.Errorf("What If for a missing user: %v", ge)
	}
}

// TestPolicyValuesNewerThanTheSDK: Graph adds enum members over time (a new
// grant control, a new client app type). The adapter must hand them on as
// Graph sent them; the SDK's generated models read an unknown member of a
// list as the enum's first member, so "riskRemediation" became "block".
func TestPolicyValuesNewerThanTheSDK(t *testing.T) {
	var st map[string]any
	if err := json.Unmarshal(assets.DemoTenant, &st); err != nil {
		t.Fatal(err)
	}
	for _, v := range st["policies"].([]any) {
		p := v.(map[string]any)
		if p["id"] == policyMFAAll {
			p["grantControls"].(map[string]any)["builtInControls"] = []any{"mfa", "riskRemediation"}
			p["grantControls"].(map[string]any)["operator"] = "AND"
			p["conditions"].(map[string]any)["clientAppTypes"] = []any{"browser", "someFutureClient"}
		}
	}
	data, _ := json.Marshal(st)
	path := filepath.Join(t.TempDir(), "tenant.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := tenantWith(t, tenantsim.Options{StatePath: path})
	c := appClient(t, srv)
	ctx := testCtx(t)

	check := func(where string, p ca.Policy) {
		t.Helper()
		if p.GrantControls == nil || !slices.Equal(p.GrantControls.BuiltInControls, []string{"mfa", "riskRemediation"}) {
			t.Errorf("%s: builtInControls %v, want [mfa riskRemediation]", where, p.GrantControls)
		}
		if !slices.Equal(p.Conditions.ClientAppTypes, []string{"browser", "someFutureClient"}) {
			t.Errorf("%s: clientAppTypes %v, want [browser someFutureClient]", where, p.Conditions.ClientAppTypes)
		}
	}
	one, err := c.Policy(ctx, policyMFAAll)
	must(t, err)
	check("Policy", one)
	all, err := c.Policies(ctx)
	must(t, err)
	for _, p := range all {
		if p.ID == policyMFAAll {
			check("Policies", p)
		}
		if p.ID == policyLegacyAuth && !slices.Equal(p.GrantControls.BuiltInControls, []string{"block"}) {
			t.Errorf("CA003 controls %v", p.GrantControls.BuiltInControls)
		}
	}
	results, err := c.Evaluate(ctx, graph.WhatIfSignIn{UserID: meganID, Applications: []string{appExchangeOnline},
		IPAddress: outsideIP, Country: "GB", ClientAppType: "browser", DevicePlatform: "windows"})
	must(t, err)
	for _, r := range results {
		if r.ID == policyMFAAll {
			check("Evaluate", r.Policy)
		}
	}
}

// TestPolicyWritesAreSentAsGiven: what the caller writes reaches Graph as
// it is, so Graph (not the SDK) decides; an unknown client app type must not
// quietly become "all" and widen the policy.
func TestPolicyWritesAreSentAsGiven(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	p := mfaOutside(meganID, headOfficeID, ca.StateReportOnly)
	p.Conditions.ClientAppTypes = []string{"fax"}
	_, err := c.CreatePolicy(ctx, p)
	if ge := asGraphError(t, err); ge.Status != 400 || !strings.Contains(ge.Message, "clientAppTypes") {
		t.Errorf("creating with clientAppTypes [fax]: %v", ge)
	}
	ps, err := c.Policies(ctx)
	must(t, err)
	if len(ps) != 8 {
		t.Errorf("%d policies: the refused policy was created anyway", len(ps))
	}

	// The state is sent even when the SDK would not know it.
	p.Conditions.ClientAppTypes = []string{"browser"}
	p.State = "enabledSometimes"
	_, err = c.CreatePolicy(ctx, p)
	if ge := asGraphError(t, err); ge.Status != 400 || !strings.Contains(ge.Message, "enabledSometimes") {
		t.Errorf("creating with state enabledSometimes: %v", ge)
	}
}
