package tenantsim_test

import (
	"net/http"
	"strings"
	"testing"
)

// evaluate takes every documented signInConditions and signInIdentity fact
// and evaluates it as Graph does: insider risk, service principal risk, the
// external user's kind and home tenant, and deviceInfo for device filters.
// A fact the request leaves out is notEnoughInformation where a policy
// needs it.
func TestEvaluateEveryInput(t *testing.T) {
	s := newSim(t, "")
	const fabrik = "7e000000-0000-4000-8000-0000000000f1"
	create := func(name string, conditions map[string]any) string {
		t.Helper()
		base := map[string]any{
			"clientAppTypes": []string{"all"},
			"applications":   map[string]any{"includeApplications": []string{"All"}},
			"users":          map[string]any{"includeUsers": []string{operatorID}},
		}
		for k, v := range conditions {
			base[k] = v
		}
		return s.call("POST", policiesPath, map[string]any{
			"displayName": name, "state": "enabledForReportingButNotEnforced", "conditions": base,
			"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"mfa"}},
		}).want(t, http.StatusCreated).str("id")
	}
	insider := create("Insider risk elevated", map[string]any{"insiderRiskLevels": "elevated"})
	guests := create("Guests of Fabrikam", map[string]any{"users": map[string]any{
		"includeGuestsOrExternalUsers": map[string]any{"guestOrExternalUserTypes": "b2bCollaborationGuest",
			"externalTenants": map[string]any{"@odata.type": "#microsoft.graph.conditionalAccessEnumeratedExternalTenants",
				"membershipKind": "enumerated", "members": []string{fabrik}}}}})
	devices := create("Compliant Linux devices", map[string]any{"devices": map[string]any{"deviceFilter": map[string]any{
		"mode": "include", "rule": `device.isCompliant -eq True -and device.operatingSystem -eq "Linux"`}}})
	spRisk := create("Risky workloads", map[string]any{"users": map[string]any{"includeUsers": []string{"None"}},
		"clientApplications":         map[string]any{"includeServicePrincipals": []string{"ServicePrincipalsInMyTenant"}},
		"servicePrincipalRiskLevels": []string{"high"}})

	evaluate := func(identity, conditions map[string]any) map[string]whatIf {
		t.Helper()
		if identity == nil {
			identity = map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": operatorID}
		}
		return whatIfResults(t, s.call("POST", evaluatePath, map[string]any{
			"signInIdentity":   identity,
			"signInContext":    map[string]any{"@odata.type": "#microsoft.graph.applicationContext", "includeApplications": []string{exchangeOnline}},
			"signInConditions": conditions,
		}).want(t, http.StatusOK))
	}
	guest := func(home string) map[string]any {
		m := map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": operatorID, "externalUserType": "b2bCollaborationGuest"}
		if home != "" {
			m["externalTenantId"] = home
		}
		return m
	}
	sp := map[string]any{"@odata.type": "#microsoft.graph.servicePrincipalSignIn", "servicePrincipalId": "3f2a1b0c-1111-4222-8333-444455556666"}
	for _, c := range []struct {
		name       string
		identity   map[string]any
		conditions map[string]any
		policy     string
		want       whatIf
	}{
		{"insider risk not given", nil, map[string]any{"clientAppType": "browser"}, insider, whatIf{false, "notEnoughInformation"}},
		{"insider risk elevated", nil, map[string]any{"insiderRiskLevel": "elevated"}, insider, whatIf{true, "notSet"}},
		{"insider risk minor", nil, map[string]any{"insiderRiskLevel": "minor"}, insider, whatIf{false, "insiderRisk"}},
		{"guest of the named tenant", guest(fabrik), map[string]any{}, guests, whatIf{true, "notSet"}},
		{"guest of another tenant", guest("7e000000-0000-4000-8000-0000000000f2"), map[string]any{}, guests, whatIf{false, "users"}},
		{"guest without a home tenant", guest(""), map[string]any{}, guests, whatIf{false, "notEnoughInformation"}},
		{"compliant Linux device", nil, map[string]any{"deviceInfo": map[string]any{"isCompliant": true, "operatingSystem": "Linux"}}, devices, whatIf{true, "notSet"}},
		{"non-compliant device", nil, map[string]any{"deviceInfo": map[string]any{"isCompliant": false, "operatingSystem": "Linux"}}, devices, whatIf{false, "devices"}},
		{"no device facts", nil, map[string]any{}, devices, whatIf{false, "notEnoughInformation"}},
		{"high-risk workload", sp, map[string]any{"servicePrincipalRiskLevel": "high"}, spRisk, whatIf{true, "notSet"}},
		{"workload without risk", sp, map[string]any{}, spRisk, whatIf{false, "workloadIdentities"}},
		{"user sign-in to a workload policy", nil, map[string]any{}, spRisk, whatIf{false, "users"}},
	} {
		if got := evaluate(c.identity, c.conditions)[c.policy]; got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}

	// A level outside its enum is refused as Graph refuses a literal.
	for field, value := range map[string]string{"insiderRiskLevel": "high", "signInRiskLevel": "severe", "servicePrincipalRiskLevel": "extreme"} {
		msg := s.call("POST", evaluatePath, map[string]any{
			"signInIdentity":   map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": operatorID},
			"signInContext":    map[string]any{"@odata.type": "#microsoft.graph.applicationContext", "includeApplications": []string{exchangeOnline}},
			"signInConditions": map[string]any{field: value},
		}).graphError(t, http.StatusBadRequest, "")
		if !strings.Contains(msg, "Cannot convert the literal '"+value+"'") {
			t.Errorf("%s %q: %q", field, value, msg)
		}
	}
}
