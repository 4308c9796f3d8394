package whatif_test

import (
	"slices"
	"strings"
	"testing"

	"mgmtsession/ca"
	"mgmtsession/whatif"
)

func TestParseNewInputs(t *testing.T) {
	good := []struct {
		name string
		got  func() (string, error)
		want string
	}{
		{"user action short", func() (string, error) { return whatif.ParseUserAction("registerSecurityInfo") }, "registerSecurityInformation"},
		{"user action device", func() (string, error) { return whatif.ParseUserAction("REGISTERDEVICE") }, "registerOrJoinDevices"},
		{"auth context", func() (string, error) { return whatif.ParseAuthContext("C42") }, "c42"},
		{"auth context max", func() (string, error) { return whatif.ParseAuthContext("c99") }, "c99"},
		{"risk", func() (string, error) { return whatif.ParseRisk("High", whatif.RiskLevels) }, "high"},
		{"risk not given", func() (string, error) { return whatif.ParseRisk("", whatif.RiskLevels) }, ""},
		{"insider risk", func() (string, error) { return whatif.ParseRisk("elevated", whatif.InsiderRiskLevels) }, "elevated"},
		{"guest type", func() (string, error) { return whatif.ParseGuestType("b2bdirectconnectuser") }, "b2bDirectConnectUser"},
		{"platform unknown", func() (string, error) { return whatif.ParsePlatform("unknown") }, ""},
		{"transfer flow", func() (string, error) { return whatif.ParseAuthFlow("authenticationTransfer") }, "authenticationTransfer"},
	}
	for _, g := range good {
		if v, err := g.got(); err != nil || v != g.want {
			t.Errorf("%s: %q, %v; want %q", g.name, v, err, g.want)
		}
	}
	bad := []struct {
		name string
		err  func() error
		says string
	}{
		{"unknown user action", func() error { _, err := whatif.ParseUserAction("resetPassword"); return err }, "resetPassword"},
		{"auth context c0", func() error { _, err := whatif.ParseAuthContext("c0"); return err }, "c1 to c99"},
		{"auth context c100", func() error { _, err := whatif.ParseAuthContext("c100"); return err }, "c1 to c99"},
		{"auth context c07", func() error { _, err := whatif.ParseAuthContext("c07"); return err }, "c1 to c99"},
		{"auth context c+5", func() error { _, err := whatif.ParseAuthContext("c+5"); return err }, "c1 to c99"},
		{"unknown risk", func() error { _, err := whatif.ParseRisk("severe", whatif.RiskLevels); return err }, "severe"},
		{"user risk name for insider", func() error { _, err := whatif.ParseRisk("high", whatif.InsiderRiskLevels); return err }, "minor"},
		{"unknown guest type", func() error { _, err := whatif.ParseGuestType("visitor"); return err }, "visitor"},
		{"tenant not a GUID", func() error { _, err := whatif.ParseTenantID("fabrikam.com"); return err }, "fabrikam.com"},
		{"device without =", func() error { _, err := whatif.ParseDevice([]string{"isCompliant"}); return err }, "name=value"},
		{"unknown device property", func() error { _, err := whatif.ParseDevice([]string{"colour=red"}); return err }, "colour"},
		{"device bool", func() error { _, err := whatif.ParseDevice([]string{"isCompliant=maybe"}); return err }, "true or false"},
		{"device trust type", func() error { _, err := whatif.ParseDevice([]string{"trustType=Joined"}); return err }, "AzureAD"},
		{"device id", func() error { _, err := whatif.ParseDevice([]string{"deviceId=laptop"}); return err }, "GUID"},
		{"device twice", func() error { _, err := whatif.ParseDevice([]string{"model=a", "Model=b"}); return err }, "twice"},
		{"device empty", func() error { _, err := whatif.ParseDevice([]string{"model="}); return err }, "no value"},
	}
	for _, b := range bad {
		if err := b.err(); err == nil || !strings.Contains(err.Error(), b.says) {
			t.Errorf("%s: %v, want an error saying %q", b.name, err, b.says)
		}
	}
	d, err := whatif.ParseDevice([]string{"iscompliant=TRUE", "trustType=azuread", "extensionAttribute15=x", "systemLabels=a|b"})
	if err != nil || d["isCompliant"] != "true" || d["trustType"] != "AzureAD" || d["extensionAttribute15"] != "x" || d["systemLabels"] != "a|b" {
		t.Errorf("ParseDevice: %v, %v", d, err)
	}
}

// Each new input decides a policy locally as Graph's What If decides it on
// the simulated tenant; left out, the policy is notEnoughInformation in both.
func TestNewInputsLocallyAndInGraph(t *testing.T) {
	client, _ := demoTenant(t)
	ctx := t.Context()
	subject, err := whatif.ExistingAccount(ctx, client, adeleUPN)
	if err != nil {
		t.Fatal(err)
	}
	level := "moderate,elevated"
	policies := map[string]ca.Conditions{
		"security info": {Applications: &ca.Applications{IncludeUserActions: []string{ca.UserActionRegisterInfo}}},
		"context c3":    {Applications: &ca.Applications{IncludeAuthenticationContextClassReferences: []string{"c3"}}},
		"insider":       {InsiderRiskLevels: &level},
		"compliant":     {Devices: &ca.Devices{DeviceFilter: &ca.Filter{Mode: "exclude", Rule: "device.isCompliant -eq True"}}},
		"transfer":      {AuthenticationFlows: &ca.AuthenticationFlows{TransferMethods: "authenticationTransfer"}},
		"risky sign-in": {SignInRiskLevels: []string{"medium", "high"}},
	}
	ids := map[string]string{}
	for name, cond := range policies {
		if cond.Applications == nil {
			cond.Applications = &ca.Applications{IncludeApplications: []string{ca.All}}
		}
		cond.Users = &ca.Users{IncludeUsers: []string{subject.ID}}
		cond.ClientAppTypes = []string{"all"}
		p, err := client.CreatePolicy(ctx, ca.Policy{DisplayName: name, State: ca.StateReportOnly, Conditions: cond,
			GrantControls: &ca.GrantControls{Operator: "OR", BuiltInControls: []string{"mfa"}}})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = p.ID
	}
	ps, err := whatif.ReadPolicySet(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	base := whatif.Case{Apps: whatif.PlatformApps(), Conditions: whatif.Conditions{
		IP: outsideIP, Country: "US", ClientAppType: "browser", DevicePlatform: "windows"}}
	for _, tc := range []struct {
		name    string
		edit    func(*whatif.Case)
		policy  string
		applies bool
		reason  string
	}{
		{"user action", func(c *whatif.Case) {
			c.UserAction = whatif.UserActionRegisterSecurityInfo
			c.Apps = []whatif.App{whatif.UserActionTarget(c.UserAction)}
		}, "security info", true, ""},
		{"apps are not a user action", func(*whatif.Case) {}, "security info", false, "userActions"},
		{"authentication context", func(c *whatif.Case) {
			c.AuthContext = "c3"
			c.Apps = []whatif.App{whatif.AuthContextTarget("c3")}
		}, "context c3", true, ""},
		{"insider risk", func(c *whatif.Case) { c.InsiderRisk = "elevated" }, "insider", true, ""},
		{"insider risk minor", func(c *whatif.Case) { c.InsiderRisk = "minor" }, "insider", false, "insiderRisk"},
		{"insider risk not given", func(*whatif.Case) {}, "insider", false, "notEnoughInformation"},
		{"non-compliant device", func(c *whatif.Case) { c.Device = map[string]string{"isCompliant": "false"} }, "compliant", true, ""},
		{"compliant device", func(c *whatif.Case) { c.Device = map[string]string{"isCompliant": "true"} }, "compliant", false, "devices"},
		{"device not given", func(*whatif.Case) {}, "compliant", false, "notEnoughInformation"},
		{"authentication transfer", func(c *whatif.Case) { c.AuthFlow = "authenticationTransfer" }, "transfer", true, ""},
		{"sign-in risk", func(c *whatif.Case) { c.SignInRisk = "high" }, "risky sign-in", true, ""},
		{"sign-in risk low", func(c *whatif.Case) { c.SignInRisk = "low" }, "risky sign-in", false, "signInRisk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			c.Apps = whatif.PlatformApps()
			tc.edit(&c)
			r := ps.Evaluate(subject, c)
			if err := r.CompareWithGraph(ctx, client, subject); err != nil {
				t.Fatal(err)
			}
			if !r.Graph.Compared || len(r.Graph.Disagreements) != 0 {
				t.Errorf("Graph disagrees: %+v", r.Graph)
			}
			i := slices.IndexFunc(r.Policies, func(p whatif.PolicyOutcome) bool { return p.ID == ids[tc.policy] })
			if i < 0 {
				t.Fatalf("policy %q missing", tc.policy)
			}
			p := r.Policies[i]
			if p.Applies != tc.applies || (tc.reason != "" && !slices.Contains(p.Reasons, tc.reason)) {
				t.Errorf("applies %v reasons %v; want %v %q", p.Applies, p.Reasons, tc.applies, tc.reason)
			}
			if p.Graph == nil || p.Graph.Applies != tc.applies {
				t.Errorf("Graph: %+v, want applies %v", p.Graph, tc.applies)
			}
		})
	}

	// A workload identity signs in by its application id: user policies
	// are left out of it, locally and in Graph.
	wl := whatif.WorkloadIdentity("3f2a1b0c-1111-4222-8333-444455556666")
	r := ps.Evaluate(wl, base)
	if err := r.CompareWithGraph(ctx, client, wl); err != nil {
		t.Fatal(err)
	}
	if r.Verdict != ca.VerdictAllow || len(r.Graph.Disagreements) != 0 {
		t.Errorf("workload identity: verdict %s, disagreements %+v", r.Verdict, r.Graph.Disagreements)
	}
	for _, p := range r.Policies {
		if p.State != ca.StateDisabled && !slices.Contains(p.Reasons, "workloadIdentities") {
			t.Errorf("%s for a workload identity: %v", p.DisplayName, p.Reasons)
		}
	}
}
