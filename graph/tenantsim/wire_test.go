package tenantsim_test

import (
	"net/http"
	"net/url"
	"testing"

	"mgmtsession/graph/tenantsim"
)

// The tenant writes what Graph writes: @odata.context on its server's base
// URL, Graph's Content-Type byte for byte, Location on a created user, the
// security-defaults policy's fixed id, GUIDs for directory roles, and
// authentication methods with their fixed ids and their type's properties.
func TestAnswersAsGraphWritesThem(t *testing.T) {
	s := newSim(t, "")
	meta := s.srv.BaseURL() + "/v1.0/$metadata#"
	for _, c := range []struct{ method, path, context string }{
		{"GET", "/users/" + meganID, "users/$entity"},
		{"GET", "/users", "users"},
		{"GET", "/users?$select=id,displayName", "users(id,displayName)"},
		{"GET", "/organization", "organization"},
		{"GET", "/users/" + meganID + "/transitiveMemberOf", "directoryObjects"},
		{"GET", "/users/" + operatorID + "/authentication/methods", "users('" + operatorID + "')/authentication/methods"},
		{"GET", policiesPath, "identity/conditionalAccess/policies"},
		{"GET", policiesPath + "/" + policyMFAAll, "identity/conditionalAccess/policies/$entity"},
		{"GET", roleAssignments, "roleManagement/directory/roleAssignments"},
		{"GET", "/policies/identitySecurityDefaultsEnforcementPolicy", "policies/identitySecurityDefaultsEnforcementPolicy"},
	} {
		a := s.call(c.method, c.path, nil).want(t, http.StatusOK)
		if got := a.str("@odata.context"); got != meta+c.context {
			t.Errorf("%s %s: @odata.context %q, want %q", c.method, c.path, got, meta+c.context)
		}
		if ct := a.Header.Get("Content-Type"); ct != "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8" {
			t.Errorf("%s %s: Content-Type %q", c.method, c.path, ct)
		}
	}
	// Errors carry no context.
	if e := s.call("GET", "/users/"+tenantsim.PublicClientID, nil); e.Body["@odata.context"] != nil {
		t.Errorf("an error body carries @odata.context: %s", e.Raw)
	}

	created := s.call("POST", "/users", newUserBody("located@"+initialDomain, nil)).want(t, http.StatusCreated)
	if got, want := created.str("@odata.context"), meta+"users/$entity"; got != want {
		t.Errorf("POST /users: @odata.context %q, want %q", got, want)
	}
	if got, want := created.Header.Get("Location"), s.srv.BaseURL()+"/v2/"+s.srv.TenantID()+"/directoryObjects/"+created.str("id")+"/Microsoft.DirectoryServices.User"; got != want {
		t.Errorf("POST /users: Location %q, want %q", got, want)
	}

	if id := s.call("GET", "/policies/identitySecurityDefaultsEnforcementPolicy", nil).str("id"); id != "00000000-0000-0000-0000-000000000005" {
		t.Errorf("security defaults policy id %q", id)
	}

	roleIDs := func() map[string]string {
		out := map[string]string{}
		for _, v := range list(s.call("GET", "/users/"+operatorID+"/transitiveMemberOf", nil).Body, "value") {
			if m := obj(v); m["@odata.type"] == "#microsoft.graph.directoryRole" {
				id, _ := m["id"].(string)
				tmpl, _ := m["roleTemplateId"].(string)
				if !guidRE.MatchString(id) || id == tmpl {
					t.Errorf("directory role id %q (template %q): want a GUID of its own", id, tmpl)
				}
				out[tmpl] = id
			}
		}
		return out
	}
	first, again := roleIDs(), roleIDs()
	if len(first) == 0 {
		t.Fatal("the operator holds no directory role")
	}
	for tmpl, id := range first {
		if again[tmpl] != id {
			t.Errorf("directory role %s: id %s, then %s", tmpl, id, again[tmpl])
		}
	}

	methods := map[string]map[string]any{}
	for _, v := range list(s.call("GET", "/users/"+operatorID+"/authentication/methods", nil).Body, "value") {
		m := obj(v)
		methods[m["@odata.type"].(string)] = m
	}
	want := map[string][]string{
		"#microsoft.graph.passwordAuthenticationMethod":               {"createdDateTime"},
		"#microsoft.graph.microsoftAuthenticatorAuthenticationMethod": {"displayName", "deviceTag", "phoneAppVersion", "createdDateTime"},
		"#microsoft.graph.phoneAuthenticationMethod":                  {"phoneNumber", "phoneType", "smsSignInState"},
	}
	for typ, props := range want {
		m, ok := methods[typ]
		if !ok {
			t.Errorf("no %s in %v", typ, methods)
			continue
		}
		if id, _ := m["id"].(string); !guidRE.MatchString(id) {
			t.Errorf("%s: id %q is not a GUID", typ, id)
		}
		for _, p := range props {
			if v, _ := m[p].(string); v == "" {
				t.Errorf("%s: %s missing: %v", typ, p, m)
			}
		}
	}
	if id := methods["#microsoft.graph.passwordAuthenticationMethod"]["id"]; id != "28c10230-6103-485e-b985-444c60001490" {
		t.Errorf("password method id %v, want Graph's fixed 28c10230-6103-485e-b985-444c60001490", id)
	}
	if id := methods["#microsoft.graph.phoneAuthenticationMethod"]["id"]; id != "3179e48a-750b-4051-897c-87b9720928f7" {
		t.Errorf("mobile phone method id %v, want Graph's fixed 3179e48a-750b-4051-897c-87b9720928f7", id)
	}
}

// A $batch item's body carries its own @odata.context, as Graph's do.
func TestBatchItemsCarryTheirContext(t *testing.T) {
	s := newSim(t, "")
	a := s.call("POST", "/$batch", map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "GET", "url": "/users/" + url.PathEscape(meganID)},
	}}).want(t, http.StatusOK)
	body := obj(obj(list(a.Body, "responses")[0])["body"])
	if got, want := body["@odata.context"], s.srv.BaseURL()+"/v1.0/$metadata#users/$entity"; got != want {
		t.Errorf("batch item @odata.context %v, want %s", got, want)
	}
}

// The authority writes plain JSON, as Entra's endpoints do; Graph's OData
// media type is Graph's own.
func TestAuthorityWritesPlainJSON(t *testing.T) {
	s := newSim(t, "")
	a := s.tokenRequest(url.Values{"grant_type": {"client_credentials"}, "client_id": {tenantsim.DemoAppClientID},
		"client_secret": {s.srv.ClientSecret()}, "scope": {s.srv.BaseURL() + "/.default"}}).want(t, http.StatusOK)
	if ct := a.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("token endpoint Content-Type %q", ct)
	}
}
