package graph_test

import (
	"testing"

	"mgmtsession/ca"
	"mgmtsession/graph"
)

// Every input of WhatIfSignIn reaches Graph's evaluate in the documented
// body: a policy that needs the fact applies when it is sent, and reports
// notEnoughInformation (or its own condition) when it is not.
func TestEvaluateSendsEveryInput(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	const fabrik = "7e000000-0000-4000-8000-0000000000f1"
	const workload = "3f2a1b0c-1111-4222-8333-444455556666"
	create := func(name string, edit func(*ca.Conditions)) string {
		t.Helper()
		p := ca.Policy{DisplayName: name, State: ca.StateReportOnly, Conditions: ca.Conditions{
			ClientAppTypes: []string{"all"},
			Applications:   &ca.Applications{IncludeApplications: []string{ca.All}},
			Users:          &ca.Users{IncludeUsers: []string{operatorID}},
		}, GrantControls: &ca.GrantControls{Operator: "OR", BuiltInControls: []string{"mfa"}}}
		edit(&p.Conditions)
		created, err := c.CreatePolicy(ctx, p)
		must(t, err)
		return created.ID
	}
	level := "elevated"
	ids := map[string]string{
		"action": create("Registering security info", func(cd *ca.Conditions) {
			cd.Applications = &ca.Applications{IncludeUserActions: []string{ca.UserActionRegisterInfo}}
		}),
		"context": create("Auth context c7", func(cd *ca.Conditions) {
			cd.Applications = &ca.Applications{IncludeAuthenticationContextClassReferences: []string{"c7"}}
		}),
		"risk": create("Risky sign-ins", func(cd *ca.Conditions) {
			cd.SignInRiskLevels, cd.UserRiskLevels = []string{"high"}, []string{"medium"}
		}),
		"insider": create("Insider risk", func(cd *ca.Conditions) { cd.InsiderRiskLevels = &level }),
		"device": create("Devices of extension attribute 1", func(cd *ca.Conditions) {
			cd.Devices = &ca.Devices{DeviceFilter: &ca.Filter{Mode: "include", Rule: `device.extensionAttribute1 -eq "paw"`}}
		}),
		"transfer": create("Authentication transfer", func(cd *ca.Conditions) {
			cd.AuthenticationFlows = &ca.AuthenticationFlows{TransferMethods: "authenticationTransfer"}
		}),
		"guest": create("Fabrikam guests", func(cd *ca.Conditions) {
			cd.Users = &ca.Users{IncludeGuestsOrExternalUsers: &ca.GuestsOrExtern{GuestOrExternalUserTypes: "b2bCollaborationGuest",
				ExternalTenants: &ca.ExternalTenants{ODataType: "#microsoft.graph.conditionalAccessEnumeratedExternalTenants",
					MembershipKind: "enumerated", Members: []string{fabrik}}}}
		}),
		"workload": create("Risky workload", func(cd *ca.Conditions) {
			cd.Users = &ca.Users{IncludeUsers: []string{ca.None}}
			cd.ClientApplications = &ca.ClientApplications{IncludeServicePrincipals: []string{workload}}
			cd.ServicePrincipalRiskLevels = []string{"medium"}
		}),
	}
	base := graph.WhatIfSignIn{UserID: operatorID, Applications: []string{appExchangeOnline},
		IPAddress: outsideIP, Country: "GB", ClientAppType: "browser", DevicePlatform: "windows"}
	for _, tc := range []struct {
		name   string
		policy string
		edit   func(*graph.WhatIfSignIn)
		want   string // analysisReasons; notSet when it applies
	}{
		{"user action sent", "action", func(s *graph.WhatIfSignIn) { s.UserAction = "registerSecurityInformation" }, "notSet"},
		{"applications instead of a user action", "action", func(*graph.WhatIfSignIn) {}, "userActions"},
		{"authentication context sent", "context", func(s *graph.WhatIfSignIn) { s.AuthContext = "c7" }, "notSet"},
		{"another authentication context", "context", func(s *graph.WhatIfSignIn) { s.AuthContext = "c8" }, "authenticationContext"},
		{"sign-in and user risk sent", "risk", func(s *graph.WhatIfSignIn) { s.SignInRisk, s.UserRisk = "high", "medium" }, "notSet"},
		{"user risk too low", "risk", func(s *graph.WhatIfSignIn) { s.SignInRisk, s.UserRisk = "high", "low" }, "userRisk"},
		{"insider risk sent", "insider", func(s *graph.WhatIfSignIn) { s.InsiderRisk = "elevated" }, "notSet"},
		{"insider risk not sent", "insider", func(*graph.WhatIfSignIn) {}, "notEnoughInformation"},
		{"device info sent", "device", func(s *graph.WhatIfSignIn) { s.DeviceInfo = map[string]any{"extensionAttribute1": "paw"} }, "notSet"},
		{"another device", "device", func(s *graph.WhatIfSignIn) { s.DeviceInfo = map[string]any{"extensionAttribute1": "kiosk"} }, "devices"},
		{"no device info", "device", func(*graph.WhatIfSignIn) {}, "notEnoughInformation"},
		{"authentication transfer sent", "transfer", func(s *graph.WhatIfSignIn) { s.AuthFlow = "authenticationTransfer" }, "notSet"},
		{"guest kind and home tenant sent", "guest", func(s *graph.WhatIfSignIn) {
			s.ExternalUserType, s.ExternalTenantID = "b2bCollaborationGuest", fabrik
		}, "notSet"},
		{"guest without home tenant", "guest", func(s *graph.WhatIfSignIn) { s.ExternalUserType = "b2bCollaborationGuest" }, "notEnoughInformation"},
		{"workload identity sent", "workload", func(s *graph.WhatIfSignIn) {
			s.ServicePrincipalID, s.ServicePrincipalRisk = workload, "medium"
		}, "notSet"},
		{"user instead of the workload", "workload", func(*graph.WhatIfSignIn) {}, "users"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			tc.edit(&s)
			results, err := c.Evaluate(ctx, s)
			must(t, err)
			for _, r := range results {
				if r.ID == ids[tc.policy] {
					if r.AnalysisReasons != tc.want || r.PolicyApplies != (tc.want == "notSet") {
						t.Errorf("applies %v, reasons %q; want %q", r.PolicyApplies, r.AnalysisReasons, tc.want)
					}
					return
				}
			}
			t.Errorf("policy %s not in the answer", tc.policy)
		})
	}
}
