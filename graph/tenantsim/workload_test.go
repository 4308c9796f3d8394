package tenantsim_test

import (
	"net/http"
	"strings"
	"testing"
)

// evaluate answers for a service principal's sign-in as Conditional Access
// for workload identities does: a policy applies when its
// clientApplications include the app (and do not exclude it); policies
// for users do not apply to it.
func TestEvaluateServicePrincipalSignIn(t *testing.T) {
	s := newSim(t, "")
	const app, other = "3f2a1b0c-1111-4222-8333-444455556666", "9e8d7c6b-aaaa-4bbb-8ccc-ddddeeeeffff"
	created := s.call("POST", policiesPath, map[string]any{
		"displayName": "Block the reporting app outside the office",
		"state":       "enabled",
		"conditions": map[string]any{
			"clientAppTypes":     []string{"all"},
			"applications":       map[string]any{"includeApplications": []string{"All"}},
			"users":              map[string]any{"includeUsers": []string{"None"}},
			"clientApplications": map[string]any{"includeServicePrincipals": []string{app}, "excludeServicePrincipals": []string{}},
			"locations":          map[string]any{"includeLocations": []string{"All"}, "excludeLocations": []string{headOfficeID}},
		},
		"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"block"}},
	}).want(t, http.StatusCreated)
	workload := created.str("id")
	evaluate := func(spID, ip string) map[string]whatIf {
		t.Helper()
		return whatIfResults(t, s.call("POST", evaluatePath, map[string]any{
			"signInIdentity":   map[string]any{"@odata.type": "#microsoft.graph.servicePrincipalSignIn", "servicePrincipalId": spID},
			"signInContext":    map[string]any{"@odata.type": "#microsoft.graph.applicationContext", "includeApplications": []string{exchangeOnline}},
			"signInConditions": map[string]any{"ipAddress": ip, "servicePrincipalRiskLevel": "none"},
		}).want(t, http.StatusOK))
	}
	outside := evaluate(app, outsideIP)
	if got := outside[workload]; !got.applies {
		t.Errorf("the workload policy for %s from outside: %+v, want it to apply", app, got)
	}
	if got := outside[policyMFAAll]; got.applies || got.reason != "workloadIdentities" {
		t.Errorf("a user policy for a service principal: %+v, want workloadIdentities", got)
	}
	if got := evaluate(other, outsideIP)[workload]; got.applies || got.reason != "workloadIdentities" {
		t.Errorf("the workload policy for another app: %+v, want workloadIdentities", got)
	}
	// Its other conditions are still evaluated: from the trusted office
	// (the head office range) it does not apply.
	headOffice := s.call("GET", namedLocations+"/"+headOfficeID, nil).want(t, http.StatusOK)
	cidr := obj(list(headOffice.Body, "ipRanges")[0])["cidrAddress"].(string)
	inside := strings.SplitN(cidr, "/", 2)[0]
	if got := evaluate(app, inside)[workload]; got.applies || got.reason != "location" {
		t.Errorf("the workload policy from the office (%s): %+v, want location", inside, got)
	}
}

// evaluate takes a user sign-in's documented externalTenantId and
// externalUserType, and an error about signInIdentity names its type.
func TestEvaluateUserSignInIdentity(t *testing.T) {
	s := newSim(t, "")
	body := func(identity map[string]any) map[string]any {
		return map[string]any{
			"signInIdentity":   identity,
			"signInContext":    map[string]any{"@odata.type": "#microsoft.graph.applicationContext", "includeApplications": []string{exchangeOnline}},
			"signInConditions": map[string]any{"clientAppType": "browser"},
		}
	}
	s.call("POST", evaluatePath, body(map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": operatorID,
		"externalTenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "externalUserType": "b2bCollaborationGuest"})).want(t, http.StatusOK)
	for _, c := range []struct {
		identity map[string]any
		want     string
	}{
		{map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": operatorID, "servicePrincipalId": operatorID}, "on type 'microsoft.graph.userSignIn'"},
		{map[string]any{"@odata.type": "#microsoft.graph.servicePrincipalSignIn", "servicePrincipalId": exchangeOnline, "userId": operatorID}, "on type 'microsoft.graph.servicePrincipalSignIn'"},
		{map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": operatorID, "externalUserType": "alien"}, "microsoft.graph.conditionalAccessGuestOrExternalUserTypes"},
		{map[string]any{"@odata.type": "#microsoft.graph.deviceSignIn", "userId": operatorID}, "A type named 'microsoft.graph.deviceSignIn' could not be resolved"},
	} {
		msg := s.call("POST", evaluatePath, body(c.identity)).graphError(t, http.StatusBadRequest, "")
		if !strings.Contains(msg, c.want) {
			t.Errorf("%v: %q, want it to contain %q", c.identity, msg, c.want)
		}
	}
}
