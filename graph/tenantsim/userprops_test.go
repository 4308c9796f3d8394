package tenantsim_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"mgmtsession/graph/tenantsim"
)

// The documented writable properties of a user are accepted by POST and
// PATCH and read back; what Graph's user does not have is refused.
func TestUserProfileProperties(t *testing.T) {
	s := newSim(t, "")
	profile := map[string]any{
		"givenName": "Ada", "surname": "Lovelace", "jobTitle": "Analyst", "department": "Engines",
		"usageLocation": "GB", "officeLocation": "12/1110", "mobilePhone": "+44 20 7946 0000",
		"businessPhones": []any{"+44 20 7946 0001"}, "city": "London", "country": "United Kingdom",
		"companyName": "Contoso", "employeeId": "E1815", "preferredLanguage": "en-GB",
		"employeeHireDate": "2024-03-01T00:00:00Z", "otherMails": []any{"ada@example.com"},
	}
	created := s.call("POST", "/users", newUserBody("ada@"+initialDomain, func(u map[string]any) {
		for k, v := range profile {
			u[k] = v
		}
	})).want(t, http.StatusCreated)
	id := created.str("id")
	if created.str("givenName") != "Ada" || created.str("jobTitle") != "Analyst" {
		t.Errorf("the create's answer lacks the default properties written: %s", created.Raw)
	}
	names := make([]string, 0, len(profile))
	for k := range profile {
		names = append(names, k)
	}
	got := s.call("GET", "/users/"+id+"?$select="+strings.Join(names, ","), nil).want(t, http.StatusOK)
	for k, want := range profile {
		if g := got.Body[k]; !equalJSON(g, want) {
			t.Errorf("%s read back as %v, want %v", k, g, want)
		}
	}

	s.call("PATCH", "/users/"+id, map[string]any{"department": "Analytical Engines", "jobTitle": nil, "businessPhones": []any{}}).want(t, http.StatusNoContent)
	got = s.call("GET", "/users/"+id+"?$select=department,jobTitle,businessPhones,usageLocation", nil).want(t, http.StatusOK)
	if got.str("department") != "Analytical Engines" || got.Body["jobTitle"] != nil || len(got.Body["businessPhones"].([]any)) != 0 || got.str("usageLocation") != "GB" {
		t.Errorf("after PATCH: %s", got.Raw)
	}

	// What Graph refuses, on create and on update; a refused PATCH changes
	// nothing, not even the properties it would have set before the one
	// that is wrong.
	for _, c := range []struct {
		name string
		body map[string]any
		code string
	}{
		{"unknown property", map[string]any{"shoeSize": "9"}, "Request_BadRequest"},
		{"read-only property", map[string]any{"createdDateTime": "2024-01-01T00:00:00Z"}, "Request_BadRequest"},
		{"usage location not a country code", map[string]any{"usageLocation": "gb"}, "Request_BadRequest"},
		{"two business phones", map[string]any{"businessPhones": []any{"1", "2"}}, "Request_BadRequest"},
		{"employee id too long", map[string]any{"employeeId": strings.Repeat("9", 17)}, "Request_BadRequest"},
		{"job title not a string", map[string]any{"jobTitle": 7}, "BadRequest"},
		{"weak password after a good change", map[string]any{"displayName": "Changed", "givenName": "Changed",
			"passwordProfile": map[string]any{"password": "weak"}}, "Request_BadRequest"},
	} {
		s.call("PATCH", "/users/"+id, c.body).graphError(t, http.StatusBadRequest, c.code)
		create := newUserBody("refused@"+initialDomain, func(u map[string]any) {
			for k, v := range c.body {
				u[k] = v
			}
		})
		s.call("POST", "/users", create).graphError(t, http.StatusBadRequest, c.code)
	}
	after := s.call("GET", "/users/"+id+"?$select=displayName,givenName", nil).want(t, http.StatusOK)
	if after.str("displayName") != "Test user" || after.str("givenName") != "Ada" {
		t.Errorf("a refused PATCH changed the user: %s", after.Raw)
	}
	s.call("GET", "/users/refused@"+initialDomain, nil).graphError(t, http.StatusNotFound, "Request_ResourceNotFound")
}

// $select knows every property of Graph's user, set or not (unset ones
// read as null, or [] for collections).
func TestSelectKnowsEveryUserProperty(t *testing.T) {
	s := newSim(t, "")
	props := []string{"aboutMe", "accountEnabled", "ageGroup", "assignedLicenses", "assignedPlans", "businessPhones", "city",
		"companyName", "consentProvidedForMinor", "country", "createdDateTime", "creationType", "department", "displayName",
		"employeeHireDate", "employeeId", "employeeType", "externalUserState", "faxNumber", "givenName", "identities",
		"imAddresses", "jobTitle", "lastPasswordChangeDateTime", "mail", "mailNickname", "mobilePhone", "officeLocation",
		"onPremisesImmutableId", "onPremisesSyncEnabled", "otherMails", "passwordPolicies", "postalCode", "preferredLanguage",
		"proxyAddresses", "state", "streetAddress", "surname", "usageLocation", "userPrincipalName", "userType"}
	props = slices.DeleteFunc(props, func(p string) bool { return p == "aboutMe" }) // SharePoint's, not the directory's
	a := s.call("GET", "/users/"+meganID+"?$select="+strings.Join(props, ","), nil).want(t, http.StatusOK)
	for _, p := range props {
		if _, ok := a.Body[p]; !ok {
			t.Errorf("$select=%s: not in %s", p, a.Raw)
		}
	}
	if v, ok := a.Body["proxyAddresses"].([]any); !ok || len(v) != 0 {
		t.Errorf("an unset collection reads as %v, want []", a.Body["proxyAddresses"])
	}
}

// $filter takes unquoted booleans and numbers where Graph does.
func TestFilterTakesBooleansAndNumbers(t *testing.T) {
	s := newSim(t, "")
	s.call("PATCH", "/users/"+meganID, map[string]any{"accountEnabled": false, "department": "Sales"}).want(t, http.StatusNoContent)
	disabled := s.call("GET", "/users?$select=id&$filter="+url.QueryEscape("accountEnabled eq false"), nil).want(t, http.StatusOK)
	if ids := ids(disabled); !slices.Equal(ids, []string{meganID}) {
		t.Errorf("accountEnabled eq false: %v", ids)
	}
	enabled := s.call("GET", "/users?$select=id&$filter="+url.QueryEscape("accountEnabled eq true and department eq null"), nil).want(t, http.StatusOK)
	if ids := ids(enabled); len(ids) == 0 || slices.Contains(ids, meganID) {
		t.Errorf("accountEnabled eq true and department eq null: %v", ids)
	}
	sales := s.call("GET", "/users?$select=id&$filter="+url.QueryEscape("department eq 'sales'"), nil).want(t, http.StatusOK)
	if ids := ids(sales); !slices.Equal(ids, []string{meganID}) {
		t.Errorf("department eq 'sales': %v", ids)
	}
	privileged := s.call("GET", "/roleManagement/directory/roleDefinitions?$filter="+url.QueryEscape("isPrivileged eq true"), nil).want(t, http.StatusOK)
	for _, v := range list(privileged.Body, "value") {
		if obj(v)["isPrivileged"] != true {
			t.Errorf("isPrivileged eq true returned %v", v)
		}
	}
	s.tokenRequest(url.Values{"grant_type": {"password"}, "client_id": {tenantsim.PublicClientID},
		"username": {"lee.gu@contoso-demo.com"}, "password": {"wrong"}, "scope": {s.srv.BaseURL() + "/.default"}}).want(t, http.StatusBadRequest)
	failed := s.call("GET", "/auditLogs/signIns?$filter="+url.QueryEscape("status/errorCode eq 50126"), nil).want(t, http.StatusOK)
	if n := len(list(failed.Body, "value")); n != 1 {
		t.Errorf("status/errorCode eq 50126: %d sign-ins, want 1", n)
	}
}

func ids(a *answer) []string {
	var out []string
	for _, v := range list(a.Body, "value") {
		out = append(out, obj(v)["id"].(string))
	}
	return out
}

func equalJSON(a, b any) bool {
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok && bok {
		return slices.EqualFunc(as, bs, func(x, y any) bool { return x == y })
	}
	return a == b
}
