package whatif_test

import (
	"cmp"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"mgmtsession/assets"
	"mgmtsession/ca"
	"mgmtsession/graph"
	"mgmtsession/whatif"
)

// Objects of the demo tenant (assets/demo-tenant.json).
const (
	adeleID        = "0a1b2c3d-0001-4000-8000-000000000001"
	adeleUPN       = "adele.admin@contoso-demo.com"
	breakGlass1    = "0a1b2c3d-0002-4000-8000-000000000002"
	groupEmergency = "9b8a7c6d-0004-4000-8000-0000000000a4"
	ca001          = "CA001: Require MFA for administrators"
	ca002          = "CA002: Require MFA for all users"
	ca004          = "CA004: Block sign-ins outside allowed countries"
	outsideIP      = "20.190.128.5" // not a named location
	headOfficeIP   = "51.140.12.5"  // "Head office", trusted
	headOfficeIPv6 = "2a01:111:f400:7e00::25"
	roleGlobalAdm  = "62e90394-69f5-4237-9190-012177145e10"
)

// demoPolicies are the demo tenant's policies and named locations, read
// from the embedded asset the simulated tenant starts from.
func demoPolicies(t testing.TB) *whatif.PolicySet {
	t.Helper()
	var st struct {
		Policies       []ca.Policy        `json:"policies"`
		NamedLocations []ca.NamedLocation `json:"namedLocations"`
	}
	if err := json.Unmarshal(assets.DemoTenant, &st); err != nil {
		t.Fatal(err)
	}
	return whatif.NewPolicySet(st.Policies, st.NamedLocations)
}

func platformCase(ip, country string) whatif.Case {
	return whatif.Case{Apps: whatif.PlatformApps(), Conditions: whatif.Conditions{
		IP: ip, Country: country, ClientAppType: whatif.DefaultClientAppType, DevicePlatform: whatif.DefaultDevicePlatform,
	}}
}

func names(ps []whatif.PolicyOutcome) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.DisplayName
	}
	return out
}

func outcome(t *testing.T, r *whatif.CaseResult, name string) whatif.PolicyOutcome {
	t.Helper()
	for _, p := range r.Policies {
		if p.DisplayName == name {
			return p
		}
	}
	t.Fatalf("no policy %q in the result", name)
	return whatif.PolicyOutcome{}
}

// The management account before it exists, with the default roles: the
// demo tenant demands MFA of it from anywhere, and says which policies do.
func TestNewAccountNeedsMFAFromAnyIP(t *testing.T) {
	ps := demoPolicies(t)
	acct := whatif.NewAccount(nil, nil)
	for _, tc := range []struct {
		ip, country string
		culprits    []string
	}{
		// CA001 targets the Exchange, SharePoint, User and Authentication
		// Administrator roles the account gets; CA002 targets all users
		// except from trusted locations.
		{outsideIP, "US", []string{ca001, ca002}},
		{outsideIP, "", []string{ca001, ca002}},
		// From the trusted head office CA002 is excluded ("AllTrusted"),
		// over IPv4 and IPv6 alike, but CA001 has no location condition.
		{headOfficeIP, "GB", []string{ca001}},
		{headOfficeIPv6, "GB", []string{ca001}},
	} {
		r := ps.Evaluate(acct, platformCase(tc.ip, tc.country))
		if r.Verdict != ca.VerdictMFA {
			t.Errorf("%s: verdict %s, want mfa", tc.ip, r.Verdict)
		}
		if got := names(r.Culprits()); !slices.Equal(got, tc.culprits) {
			t.Errorf("%s: caused by %q, want %q", tc.ip, got, tc.culprits)
		}
		for _, a := range r.PerApp {
			if a.Verdict != ca.VerdictMFA {
				t.Errorf("%s: %s alone: %s, want mfa", tc.ip, a.App.Name, a.Verdict)
			}
		}
	}
}

// "Allowed countries" excludes CA004's block; from elsewhere the block
// wins over MFA, and without a country the block cannot be decided.
func TestCountryDecidesTheCountryBlock(t *testing.T) {
	ps := demoPolicies(t)
	acct := whatif.NewAccount(nil, nil)
	if r := ps.Evaluate(acct, platformCase(outsideIP, "RU")); r.Verdict != ca.VerdictBlock || !slices.Contains(names(r.Culprits()), ca004) {
		t.Errorf("from RU: verdict %s, culprits %q; want block by CA004", r.Verdict, names(r.Culprits()))
	}
	r := ps.Evaluate(acct, platformCase(outsideIP, ""))
	p := outcome(t, r, ca004)
	if p.Applies || !slices.Equal(p.Reasons, []string{ca.ReasonNotEnoughInformation}) || !slices.Equal(p.Undecided, []string{ca.ReasonLocation}) {
		t.Errorf("CA004 without a country: applies %v, reasons %q, undecided %q", p.Applies, p.Reasons, p.Undecided)
	}
	if !slices.Contains(r.Undetermined, p.ID) {
		t.Errorf("CA004 without a country is not listed as undetermined: %q", r.Undetermined)
	}
}

// A hypothetical account in the emergency-access group is excluded from
// CA002, and roles given explicitly replace the default set.
func TestNewAccountRolesAndGroups(t *testing.T) {
	ps := demoPolicies(t)
	r := ps.Evaluate(whatif.NewAccount([]string{}, []string{groupEmergency}), platformCase(outsideIP, "US"))
	if r.Verdict != ca.VerdictAllow {
		t.Errorf("no roles, emergency group: verdict %s (by %q), want allow", r.Verdict, names(r.Culprits()))
	}
	if p := outcome(t, r, ca002); p.Applies || !slices.Equal(p.Reasons, []string{ca.ReasonUsers}) {
		t.Errorf("CA002 for a member of the excluded group: applies %v, reasons %q", p.Applies, p.Reasons)
	}
	r = ps.Evaluate(whatif.NewAccount([]string{roleGlobalAdm}, []string{groupEmergency}), platformCase(outsideIP, "US"))
	if got := names(r.Culprits()); !slices.Equal(got, []string{ca001}) {
		t.Errorf("Global Administrator in the emergency group: caused by %q, want only CA001", got)
	}
}

// A policy that targets one application applies to the platform's
// sign-ins as a whole and says to which application; the strongest
// per-application verdict is the aggregate one, while each row keeps its own.
func TestAggregateOverApplications(t *testing.T) {
	target := func(id, name, control string, apps ...string) ca.Policy {
		return ca.Policy{
			ID: id, DisplayName: name, State: ca.StateEnabled,
			Conditions: ca.Conditions{
				ClientAppTypes: []string{"all"},
				Applications:   &ca.Applications{IncludeApplications: apps},
				Users:          &ca.Users{IncludeUsers: []string{ca.All}},
			},
			GrantControls: &ca.GrantControls{Operator: "OR", BuiltInControls: []string{control}},
		}
	}
	exchange := target("p-exo", "MFA for Exchange", "mfa", ca.AppExchangeOnline)
	azure := target("p-asm", "Block Azure management", "block", ca.AppAzureServiceManagement)
	teams := target("p-trusted", "Exchange: trusted only", "mfa", ca.AppExchangeOnline)
	teams.Conditions.Locations = &ca.Locations{IncludeLocations: []string{ca.AllTrusted}}
	ps := whatif.NewPolicySet([]ca.Policy{exchange, azure, teams}, nil)
	r := ps.Evaluate(whatif.NewAccount(nil, nil), platformCase(outsideIP, "US"))
	if r.Verdict != ca.VerdictBlock || !slices.Equal(r.RequiredControls, []string{"block", "mfa"}) {
		t.Errorf("verdict %s requiring %q, want block requiring block and mfa", r.Verdict, r.RequiredControls)
	}
	// The Office 365 row is a sign-in to some member of the suite, and
	// Exchange Online is one; Azure Service Management is not.
	if p := outcome(t, r, "MFA for Exchange"); !p.Applies || !slices.Equal(p.AppliesTo, []string{"Exchange Online", "Office 365"}) || len(p.Reasons) != 0 {
		t.Errorf("MFA for Exchange: applies %v to %q, reasons %q", p.Applies, p.AppliesTo, p.Reasons)
	}
	if p := outcome(t, r, "Block Azure management"); !p.Applies || !slices.Equal(p.AppliesTo, []string{"Azure Service Management"}) {
		t.Errorf("Block Azure management: applies %v to %q", p.Applies, p.AppliesTo)
	}
	want := map[string]string{"Exchange Online": ca.VerdictMFA, "Office 365": ca.VerdictMFA, "Azure Service Management": ca.VerdictBlock}
	for _, a := range r.PerApp {
		if w := cmp.Or(want[a.App.Name], ca.VerdictAllow); a.Verdict != w {
			t.Errorf("%s: %s, want %s", a.App.Name, a.Verdict, w)
		}
	}
	// Not applying anywhere: the reasons of every application, in Graph's
	// order: location for Exchange Online, application too for the others.
	q := outcome(t, r, "Exchange: trusted only")
	if q.Applies || !slices.Equal(q.Reasons, []string{ca.ReasonApplication, ca.ReasonLocation}) {
		t.Errorf("trusted-only policy from outside: applies %v, reasons %q", q.Applies, q.Reasons)
	}
	if got := names(r.Culprits()); !slices.Equal(got, []string{"Block Azure management"}) {
		t.Errorf("caused by %q, want the block", got)
	}
}

// Graph does not expand groupings, so the platform's request names real
// ids only: the five applications and every member of the Office 365
// suite, without duplicates.
func TestGraphRequestUsesRealApplicationIDs(t *testing.T) {
	subject := whatif.Subject{ID: adeleID, UserPrincipalName: adeleUPN}
	req, _, ok := whatif.GraphSignIn(subject, platformCase(outsideIP, "US"))
	if !ok {
		t.Fatal("Graph cannot be asked about an existing account")
	}
	for _, id := range req.Applications {
		if !whatif.IsGUID(id) {
			t.Errorf("application %q sent to Graph is not an application id", id)
		}
	}
	want := append([]string{ca.AppMicrosoftGraph, ca.AppAzureServiceManagement}, ca.Office365Apps()...)
	for _, id := range want {
		if !slices.Contains(req.Applications, id) {
			t.Errorf("application %s missing from Graph's request", id)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(req.Applications)))) != len(req.Applications) {
		t.Errorf("duplicate application ids: %q", req.Applications)
	}
	if req.IPAddress != outsideIP || req.Country != "US" || req.ClientAppType == "" || req.DevicePlatform == "" || req.UserID != adeleID {
		t.Errorf("request lacks a sign-in detail: %+v", req)
	}
	if _, note, ok := whatif.GraphSignIn(whatif.NewAccount(nil, nil), platformCase(outsideIP, "US")); ok || note == "" {
		t.Errorf("Graph asked about an account that does not exist")
	}
	all, _ := whatif.ParseApps("all")
	if _, note, ok := whatif.GraphSignIn(subject, whatif.Case{Apps: all}); ok || !strings.Contains(note, "all") {
		t.Errorf("Graph asked about the All target: %q", note)
	}
}

// Compare puts Graph's answer beside each policy and lists each way the two
// can differ; Graph's first-reason-only reporting and unknown reasons are
// not disagreements.
func TestCompareWithGraph(t *testing.T) {
	ps := demoPolicies(t)
	subject := whatif.Subject{ID: adeleID, UserPrincipalName: adeleUPN, Roles: []string{roleGlobalAdm}, Groups: []string{}}
	base := ps.Evaluate(subject, platformCase(outsideIP, "US"))
	agreeing := func() []graph.WhatIfResult {
		var out []graph.WhatIfResult
		for _, p := range base.Policies {
			if p.State == ca.StateDisabled {
				continue // Graph evaluates enabled and report-only only
			}
			r := graph.WhatIfResult{PolicyApplies: p.Applies, AnalysisReasons: "notSet"}
			r.ID, r.DisplayName, r.State = p.ID, p.DisplayName, p.State
			if !p.Applies {
				r.AnalysisReasons = p.Reasons[len(p.Reasons)-1] // any one of them
			}
			out = append(out, r)
		}
		return out
	}
	idOf := func(name string) string { return outcome(t, base, name).ID }
	tests := []struct {
		name   string
		edit   func([]graph.WhatIfResult) []graph.WhatIfResult
		policy string // the disagreeing policy's name; "" for none
		detail string
	}{
		{"agree", func(r []graph.WhatIfResult) []graph.WhatIfResult { return r }, "", ""},
		{"Graph says it does not apply", func(r []graph.WhatIfResult) []graph.WhatIfResult {
			i := slices.IndexFunc(r, func(x graph.WhatIfResult) bool { return x.ID == idOf(ca001) })
			r[i].PolicyApplies, r[i].AnalysisReasons = false, "users"
			return r
		}, ca001, "local: applies; Graph: does not apply (users)"},
		{"Graph says it applies", func(r []graph.WhatIfResult) []graph.WhatIfResult {
			i := slices.IndexFunc(r, func(x graph.WhatIfResult) bool { return x.ID == idOf(ca004) })
			r[i].PolicyApplies, r[i].AnalysisReasons = true, "notSet"
			return r
		}, ca004, "Graph: applies"},
		{"different reason", func(r []graph.WhatIfResult) []graph.WhatIfResult {
			i := slices.IndexFunc(r, func(x graph.WhatIfResult) bool { return x.ID == idOf(ca004) })
			r[i].AnalysisReasons = "users"
			return r
		}, ca004, "Graph says users"},
		{"unknown reason is not a disagreement", func(r []graph.WhatIfResult) []graph.WhatIfResult {
			i := slices.IndexFunc(r, func(x graph.WhatIfResult) bool { return x.ID == idOf(ca004) })
			r[i].AnalysisReasons = ""
			return r
		}, "", ""},
		// Graph names reasons in its own case and may add
		// unknownFutureValue: neither is a disagreement, in the list or in
		// the table (the table once judged these on its own and disagreed).
		{"reason in another case", func(r []graph.WhatIfResult) []graph.WhatIfResult {
			i := slices.IndexFunc(r, func(x graph.WhatIfResult) bool { return x.ID == idOf(ca004) })
			r[i].AnalysisReasons = strings.ToUpper(r[i].AnalysisReasons[:1]) + r[i].AnalysisReasons[1:]
			return r
		}, "", ""},
		{"unknownFutureValue beside the reason", func(r []graph.WhatIfResult) []graph.WhatIfResult {
			i := slices.IndexFunc(r, func(x graph.WhatIfResult) bool { return x.ID == idOf(ca004) })
			r[i].AnalysisReasons = "unknownFutureValue," + r[i].AnalysisReasons
			return r
		}, "", ""},
		{"enabled policy left out", func(r []graph.WhatIfResult) []graph.WhatIfResult {
			return slices.DeleteFunc(r, func(x graph.WhatIfResult) bool { return x.ID == idOf(ca002) })
		}, ca002, "did not report"},
		{"policy only Graph knows", func(r []graph.WhatIfResult) []graph.WhatIfResult {
			x := graph.WhatIfResult{PolicyApplies: true, AnalysisReasons: "notSet"}
			x.ID, x.DisplayName, x.State = "new-policy", "Created meanwhile", ca.StateEnabled
			return append(r, x)
		}, "Created meanwhile", "not among the policies read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ps.Evaluate(subject, platformCase(outsideIP, "US"))
			r.Compare(tc.edit(agreeing()))
			if r.Graph == nil || !r.Graph.Compared {
				t.Fatal("no comparison recorded")
			}
			d := r.Graph.Disagreements
			if tc.policy == "" {
				if len(d) != 0 {
					t.Errorf("disagreements %+v, want none", d)
				}
			} else if len(d) != 1 || d[0].DisplayName != tc.policy || !strings.Contains(d[0].Detail, tc.detail) {
				t.Errorf("disagreements %+v, want one on %q saying %q", d, tc.policy, tc.detail)
			}
			// One judgement: the table marks exactly the policies the
			// comparison lists (a policy only Graph knows is not in it).
			var table strings.Builder
			whatif.WriteText(&table, r, subject, whatif.Source{Mode: "demo"}, 80)
			inTable := 0
			for _, x := range d {
				if x.Local != nil {
					inTable++
				}
			}
			if n := strings.Count(table.String(), "<- DISAGREES"); n != inTable {
				t.Errorf("the table marks %d disagreements, the comparison lists %d:\n%s", n, inTable, table.String())
			}
			for _, p := range r.Policies {
				if p.State == ca.StateDisabled && p.Graph != nil {
					t.Errorf("%s is disabled but carries a Graph answer", p.DisplayName)
				}
			}
		})
	}
	// Graph's answer is kept beside the policy, an unknown reason as nil.
	r := ps.Evaluate(subject, platformCase(outsideIP, "US"))
	res := agreeing()
	res[slices.IndexFunc(res, func(x graph.WhatIfResult) bool { return x.ID == idOf(ca004) })].AnalysisReasons = ""
	r.Compare(res)
	if g := outcome(t, r, ca001).Graph; g == nil || !g.Applies || g.AnalysisReasons == nil || *g.AnalysisReasons != "notSet" {
		t.Errorf("CA001's Graph answer: %+v", g)
	}
	if g := outcome(t, r, ca004).Graph; g == nil || g.Applies || g.AnalysisReasons != nil {
		t.Errorf("CA004's unknown Graph reason: %+v", g)
	}
}

func TestResolveRoles(t *testing.T) {
	got, err := whatif.ResolveRoles([]string{"exchange administrator", " Global Reader ", "F28A1F50-F6E7-4571-818B-6A12F2AF6B6C", "Exchange Administrator"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"29232cdf-9323-42fd-ade2-1d097af3e4de", "f2ef992c-3afb-46b9-b7cf-a126ee74c451", "f28a1f50-f6e7-4571-818b-6a12f2af6b6c"}
	if !slices.Equal(got, want) {
		t.Errorf("resolved %q, want %q", got, want)
	}
	if _, err := whatif.ResolveRoles([]string{"Global Reader", "Chief Wizard"}); err == nil || !strings.Contains(err.Error(), `"Chief Wizard"`) {
		t.Errorf("unknown role: %v", err)
	}
	// The least-privilege set is the six roles GRAPH-NOTES section 6 names.
	var defaults []string
	for _, id := range whatif.DefaultRoles() {
		defaults = append(defaults, whatif.RoleName(id))
	}
	wantNames := []string{"Global Reader", "Exchange Administrator", "Teams Administrator", "User Administrator", "Authentication Administrator", "SharePoint Administrator"}
	if !slices.Equal(defaults, wantNames) {
		t.Errorf("default roles %q, want %q", defaults, wantNames)
	}
}

// The built-in role table and the simulated tenant's role definitions give
// the same template id for every name they share.
func TestRoleTableMatchesTheSimulatedTenant(t *testing.T) {
	var defs []struct{ ID, DisplayName string }
	if err := json.Unmarshal(assets.RoleDefinitions, &defs); err != nil {
		t.Fatal(err)
	}
	for _, d := range defs {
		ids, err := whatif.ResolveRoles([]string{d.DisplayName})
		if err != nil {
			t.Errorf("%s: %v", d.DisplayName, err)
			continue
		}
		if ids[0] != d.ID {
			t.Errorf("%s: template id %s, the simulated tenant says %s", d.DisplayName, ids[0], d.ID)
		}
	}
}

func TestParseInputs(t *testing.T) {
	for _, s := range []string{"20.190.128.5", "2a01:111:f400:7e00::25", "::ffff:20.190.128.5"} {
		if _, err := whatif.ParseIP(s); err != nil {
			t.Errorf("ParseIP(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "300.1.2.3", "20.190.128.0/24", "fe80::1%eth0", "example.com"} {
		if _, err := whatif.ParseIP(s); err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("ParseIP(%q) = %v, want an error naming it", s, err)
		}
	}
	if c, err := whatif.ParseCountry("gb"); err != nil || c != "GB" {
		t.Errorf("ParseCountry(gb) = %q, %v", c, err)
	}
	for _, s := range []string{"G", "GBR", "1A", "é1"} {
		if _, err := whatif.ParseCountry(s); err == nil {
			t.Errorf("ParseCountry(%q) accepted", s)
		}
	}
	if v, err := whatif.ParseClientApp("BROWSER"); err != nil || v != "browser" {
		t.Errorf("ParseClientApp(BROWSER) = %q, %v", v, err)
	}
	if v, err := whatif.ParsePlatform("macos"); err != nil || v != "macOS" {
		t.Errorf("ParsePlatform(macos) = %q, %v", v, err)
	}
	if v, err := whatif.ParseAuthFlow("deviceCode"); err != nil || v != "deviceCodeFlow" {
		t.Errorf("ParseAuthFlow(deviceCode) = %q, %v", v, err)
	}
	for alias, want := range map[string]string{"platform": ca.AppExchangeOnline, "ALL": ca.All, "office365": ca.Office365, "AdminPortals": ca.MicrosoftAdminPortals, ca.AppTeamsServices: ca.AppTeamsServices} {
		apps, err := whatif.ParseApps(alias)
		if err != nil || apps[0].ID != want {
			t.Errorf("ParseApps(%q) = %+v, %v", alias, apps, err)
		}
	}
	if _, err := whatif.ParseApps("outlook"); err == nil || !strings.Contains(err.Error(), `"outlook"`) {
		t.Errorf("ParseApps(outlook): %v", err)
	}
}

func TestMatrixCases(t *testing.T) {
	ps := demoPolicies(t)
	m, err := ps.Matrix(t.Context(), nil, whatif.MatrixInput{
		Subject: whatif.NewAccount(nil, nil),
		Locations: []whatif.Location{
			{Label: "allowed IP", IP: netip.MustParseAddr(headOfficeIP), Country: "GB"},
			{Label: "outside IP", IP: netip.MustParseAddr(outsideIP), Country: "US"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Cases) != 2 || len(m.Cases[0].PerApp) != 6 || m.GraphRequests != 0 {
		t.Fatalf("matrix shape: %d cases, %d apps, %d Graph requests", len(m.Cases), len(m.Cases[0].PerApp), m.GraphRequests)
	}
	if c := m.Cases[1]; c.Case.ClientAppType != "mobileAppsAndDesktopClients" || c.Case.DevicePlatform != "windows" || c.Case.Label != "outside IP" {
		t.Errorf("defaults: %+v", c.Case)
	}
	if _, err := ps.Matrix(t.Context(), nil, whatif.MatrixInput{Locations: []whatif.Location{{Label: "no ip"}}}); err == nil {
		t.Error("a location without an IP was accepted")
	}
}

func TestNamedUserIDs(t *testing.T) {
	ps := demoPolicies(t)
	got := whatif.NamedUserIDs(ps.Policies)
	// CA001 excludes both break-glass accounts by id; CA008 names
	// GuestsOrExternalUsers, which is not a user.
	want := []string{breakGlass1, "0a1b2c3d-0003-4000-8000-000000000003"}
	if !slices.Equal(got, want) {
		t.Errorf("named users %q, want %q", got, want)
	}
}
