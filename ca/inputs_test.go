package ca

import (
	"slices"
	"testing"
)

// The inputs Entra's What If takes beyond the basic sign-in: insider risk,
// workload identities with their risk, and the kind and home tenant of an
// external user. Sources as in evaluate_test.go, plus
//   [workload] workload-identity (Conditional Access for workload identities)
//   [signin]   graph signInConditions: "insiderRiskLevel ... Default value is none"

const (
	spApp      = "5e7a0000-0000-4000-8000-0000000000a1"
	spOther    = "5e7a0000-0000-4000-8000-0000000000a2"
	homeFabrik = "7e000000-0000-4000-8000-0000000000f1"
	homeOther  = "7e000000-0000-4000-8000-0000000000f2"
)

func workloadPolicy(incl, excl []string, risk ...string) func(*Policy) {
	return func(p *Policy) {
		p.Conditions.Users = nil
		p.Conditions.ClientApplications = &ClientApplications{IncludeServicePrincipals: incl, ExcludeServicePrincipals: excl}
		p.Conditions.ServicePrincipalRiskLevels = risk
		p.GrantControls = &GrantControls{Operator: "OR", BuiltInControls: []string{"block"}}
	}
}

func guests(kinds string, tenants ...string) func(*Policy) {
	return func(p *Policy) {
		p.Conditions.Users = &Users{IncludeGuestsOrExternalUsers: &GuestsOrExtern{GuestOrExternalUserTypes: kinds}}
		if tenants != nil {
			p.Conditions.Users.IncludeGuestsOrExternalUsers.ExternalTenants = &ExternalTenants{
				ODataType: "#microsoft.graph.conditionalAccessEnumeratedExternalTenants", MembershipKind: "enumerated", Members: tenants}
		}
	}
}

func external(kind, home string) func(*SignIn) {
	return func(s *SignIn) { s.Subject.ExternalUserType, s.Subject.HomeTenant = kind, home }
}

func inputCases() []evalCase {
	insider := func(levels string) func(*Policy) {
		return func(p *Policy) { p.Conditions.InsiderRiskLevels = &levels }
	}
	return []evalCase{
		// ---- Insider risk --------------------------------------------------
		{name: "insider risk not given is not enough information", reasons: []string{nei}, undecided: []string{ReasonInsiderRisk},
			policy: insider("elevated")},
		{name: "insider risk at a level the policy names", applies: true,
			policy: insider("moderate,elevated"), signIn: func(s *SignIn) { s.InsiderRisk = "elevated" }},
		{name: "insider risk below the levels", reasons: []string{ReasonInsiderRisk},
			policy: insider("elevated"), signIn: func(s *SignIn) { s.InsiderRisk = "minor" }},
		{name: "insider risk none", reasons: []string{ReasonInsiderRisk},
			policy: insider("minor,moderate,elevated"), signIn: func(s *SignIn) { s.InsiderRisk = "none" }},
		{name: "no insider risk condition ignores the level", applies: true,
			signIn: func(s *SignIn) { s.InsiderRisk = "elevated" }},

		// ---- Workload identities -------------------------------------------
		// [workload] policies target service principals through
		// clientApplications; "ServicePrincipalsInMyTenant" is every one.
		{name: "workload sign-in targeted by id", applies: true,
			policy: workloadPolicy([]string{spApp}, nil), signIn: func(s *SignIn) { s.ServicePrincipal = spApp }},
		{name: "workload sign-in targeted by every service principal", applies: true,
			policy: workloadPolicy([]string{"ServicePrincipalsInMyTenant"}, nil), signIn: func(s *SignIn) { s.ServicePrincipal = spApp }},
		{name: "workload sign-in excluded", reasons: []string{ReasonWorkloadIdentities},
			policy: workloadPolicy([]string{"ServicePrincipalsInMyTenant"}, []string{spApp}), signIn: func(s *SignIn) { s.ServicePrincipal = spApp }},
		{name: "workload sign-in of another service principal", reasons: []string{ReasonWorkloadIdentities},
			policy: workloadPolicy([]string{spOther}, nil), signIn: func(s *SignIn) { s.ServicePrincipal = spApp }},
		{name: "user policy does not apply to a workload identity", reasons: []string{ReasonWorkloadIdentities},
			signIn: func(s *SignIn) { s.ServicePrincipal = spApp }},
		{name: "workload policy does not apply to a user", reasons: []string{ReasonUsers},
			policy: workloadPolicy([]string{"ServicePrincipalsInMyTenant"}, nil)},
		{name: "service principal risk at a level the policy names", applies: true,
			policy: workloadPolicy([]string{spApp}, nil, "high"),
			signIn: func(s *SignIn) { s.ServicePrincipal, s.ServicePrincipalRisk = spApp, "high" }},
		{name: "service principal risk not given is none", reasons: []string{ReasonWorkloadIdentities},
			policy: workloadPolicy([]string{spApp}, nil, "high"), signIn: func(s *SignIn) { s.ServicePrincipal = spApp }},

		// ---- Guests and external users -------------------------------------
		{name: "B2B guest of a named tenant", applies: true,
			policy: guests("b2bCollaborationGuest", homeFabrik),
			signIn: external("b2bCollaborationGuest", homeFabrik)},
		{name: "B2B guest of another tenant", reasons: []string{ReasonUsers},
			policy: guests("b2bCollaborationGuest", homeFabrik),
			signIn: external("b2bCollaborationGuest", homeOther)},
		{name: "B2B guest without a home tenant is not enough information", reasons: []string{nei}, undecided: []string{ReasonUsers},
			policy: guests("b2bCollaborationGuest", homeFabrik),
			signIn: external("b2bCollaborationGuest", "")},
		{name: "kind the policy does not name", reasons: []string{ReasonUsers},
			policy: guests("b2bCollaborationGuest"), signIn: external("b2bDirectConnectUser", homeFabrik)},
		{name: "local guest needs no home tenant", applies: true,
			policy: guests("internalGuest,b2bCollaborationGuest", homeFabrik), signIn: external("internalGuest", "")},
		{name: "B2B member selected as external although userType Member", applies: true,
			policy: guests("b2bCollaborationMember"), signIn: external("b2bCollaborationMember", homeOther)},
		{name: "external kind given decides what Guest alone could not", applies: true,
			policy: guests("b2bCollaborationGuest"),
			signIn: func(s *SignIn) { s.Subject.Guest, s.Subject.ExternalUserType = true, "b2bCollaborationGuest" }},
		{name: "guest kind not given stays not enough information", reasons: []string{nei}, undecided: []string{ReasonUsers},
			policy: guests("b2bCollaborationGuest"), signIn: func(s *SignIn) { s.Subject.Guest = true }},
		{name: "GuestsOrExternalUsers includes a direct-connect user", applies: true,
			policy: func(p *Policy) { p.Conditions.Users.IncludeUsers = []string{GuestsOrExternalUsers} },
			signIn: external("b2bDirectConnectUser", homeOther)},
		{name: "external type none is an internal user", reasons: []string{ReasonUsers},
			policy: func(p *Policy) { p.Conditions.Users.IncludeUsers = []string{GuestsOrExternalUsers} },
			signIn: external("none", "")},
		{name: "excluded external tenant wins", reasons: []string{ReasonUsers},
			policy: func(p *Policy) {
				p.Conditions.Users.ExcludeGuestsOrExternalUsers = &GuestsOrExtern{GuestOrExternalUserTypes: "b2bCollaborationGuest",
					ExternalTenants: &ExternalTenants{MembershipKind: "enumerated", Members: []string{homeFabrik}}}
			},
			signIn: external("b2bCollaborationGuest", homeFabrik)},
	}
}

func TestEvaluateInputs(t *testing.T) {
	locs := testLocations()
	for _, tc := range inputCases() {
		t.Run(tc.name, func(t *testing.T) {
			p := basePolicy()
			if tc.policy != nil {
				tc.policy(&p)
			}
			s := baseSignIn()
			if tc.signIn != nil {
				tc.signIn(&s)
			}
			got := Evaluate([]Policy{p}, locs, s).Policies[0]
			if got.Applies != tc.applies {
				t.Errorf("applies = %v, want %v (reasons %v)", got.Applies, tc.applies, got.Reasons)
			}
			want := tc.reasons
			if want == nil {
				want = []string{}
			}
			if !slices.Equal(got.Reasons, want) {
				t.Errorf("reasons = %v, want %v", got.Reasons, want)
			}
			if tc.undecided != nil && !slices.Equal(got.Undecided, tc.undecided) {
				t.Errorf("undecided = %v, want %v", got.Undecided, tc.undecided)
			}
		})
	}
}

// Brief says what Evaluate says: the same verdict, the enforced applying
// policies that reach it, and the undetermined ones with their conditions.
func TestBriefAgreesWithEvaluate(t *testing.T) {
	policies, locs := benchTenant()
	e := NewEvaluator(policies, locs)
	signIns := benchSignIns()
	for _, s := range benchSignIns() {
		s.Device = nil
		s.InsiderRisk = ""
		signIns = append(signIns, s)
	}
	for n, s := range signIns {
		full, brief := e.Evaluate(s), e.Brief(s)
		if full.Verdict != brief.Verdict {
			t.Fatalf("sign-in %d: verdict %s, brief %s", n, full.Verdict, brief.Verdict)
		}
		var undetermined []int
		var undecided [][]string
		for i, pr := range full.Policies {
			if pr.State != StateEnabled {
				continue
			}
			if pr.Applies && policies[i].GrantControls != nil {
				_, class, _ := compileGrant(policies[i].GrantControls)
				if verdictNames[class] == full.Verdict && full.Verdict != VerdictAllow && !slices.Contains(brief.Culprits, i) {
					t.Errorf("sign-in %d: policy %d decides %s but is not a culprit", n, i, full.Verdict)
				}
			}
			if slices.Contains(full.Undetermined, pr.ID) {
				undetermined = append(undetermined, i)
				undecided = append(undecided, pr.Undecided)
			}
		}
		if !slices.Equal(undetermined, brief.Undetermined) {
			t.Errorf("sign-in %d: undetermined %v, brief %v", n, undetermined, brief.Undetermined)
		}
		for i := range undecided {
			if i < len(brief.Undecided) && !slices.Equal(undecided[i], brief.Undecided[i]) {
				t.Errorf("sign-in %d: undecided %v, brief %v", n, undecided[i], brief.Undecided[i])
			}
		}
	}
}
