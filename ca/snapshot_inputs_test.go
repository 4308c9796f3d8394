package ca

import "testing"

// Snapshot principals carry an external user's kind and home tenant into
// the evaluator; a snapshot written before they existed still loads, its
// guests judged by userType alone.
func TestSnapshotPrincipalExternalFacts(t *testing.T) {
	s, err := ParseSnapshot([]byte(`{"tenantId":"t","policies":[],"namedLocations":[],"principals":[
		{"id":"u1","userPrincipalName":"g@fabrikam.example","userType":"Guest","memberOf":[],"roles":[],
		 "externalUserType":"b2bCollaborationGuest","homeTenantId":"7e000000-0000-4000-8000-0000000000f1"},
		{"id":"u2","userPrincipalName":"old@contoso.example","userType":"Guest","memberOf":[],"roles":[]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := s.Principal("u1")
	sub := p.Subject()
	if sub.ExternalUserType != "b2bCollaborationGuest" || sub.HomeTenant != "7e000000-0000-4000-8000-0000000000f1" || !sub.Guest {
		t.Errorf("new principal: %+v", sub)
	}
	old, _ := s.Principal("u2")
	if sub := old.Subject(); sub.ExternalUserType != "" || !sub.Guest {
		t.Errorf("older principal: %+v", sub)
	}
	// The kind decides a policy for the one, and is undecided for the other.
	pol := Policy{ID: "p", State: StateEnabled, Conditions: Conditions{
		Users:        &Users{IncludeGuestsOrExternalUsers: &GuestsOrExtern{GuestOrExternalUserTypes: "b2bCollaborationGuest"}},
		Applications: &Applications{IncludeApplications: []string{All}},
	}}
	e := NewEvaluator([]Policy{pol}, nil)
	if r := e.Evaluate(SignIn{Subject: p.Subject(), Application: All}).Policies[0]; !r.Applies {
		t.Errorf("B2B guest from the snapshot: %+v", r)
	}
	if r := e.Evaluate(SignIn{Subject: old.Subject(), Application: All}).Policies[0]; r.Applies || len(r.Undecided) == 0 {
		t.Errorf("guest of an older snapshot: %+v", r)
	}
}
