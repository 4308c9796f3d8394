package tenantsim_test

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"mgmtsession/graph/tenantsim"
)

// passwordGrant runs the resource-owner password grant as MSAL sends it,
// from the tenant's configured origin.
func (s *sim) passwordGrant(clientID, upn, password string) *answer {
	s.t.Helper()
	return s.form("/"+s.srv.TenantID()+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"password"}, "client_id": {clientID}, "username": {upn}, "password": {password},
		"scope": {s.srv.BaseURL() + "/.default offline_access openid profile"},
	})
}

func (s *sim) signInLog(query string, hdr ...string) []map[string]any {
	s.t.Helper()
	a := s.call("GET", "/auditLogs/signIns"+query, nil, hdr...).want(s.t, http.StatusOK)
	var out []map[string]any
	for _, e := range a.Body["value"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

// Each refusal of the password grant has Entra's code, in Entra's order,
// and each is in the sign-in log.
func TestPasswordGrantRefusals(t *testing.T) {
	s := newSim(t, "")
	upn := "ropc@" + initialDomain
	created := s.call("POST", "/users", newUserBody(upn, nil)).want(t, http.StatusCreated)
	mustChange := "must.change@" + initialDomain
	s.call("POST", "/users", newUserBody(mustChange, func(u map[string]any) {
		u["passwordProfile"] = map[string]any{"password": goodPassword, "forceChangePasswordNextSignIn": true}
	})).want(t, http.StatusCreated)

	codeOf := func(a *answer) int {
		t.Helper()
		codes, _ := a.Body["error_codes"].([]any)
		if len(codes) == 0 {
			t.Fatalf("no error_codes: %d %s", a.Status, a.Raw)
		}
		return int(codes[0].(float64))
	}
	// The demo app is confidential: the password grant needs a public
	// client (or the app's secret).
	if c := codeOf(s.passwordGrant(tenantsim.DemoAppClientID, upn, goodPassword)); c != 7000218 {
		t.Errorf("confidential client: %d, want 7000218", c)
	}
	if c := codeOf(s.passwordGrant("11111111-2222-3333-4444-555555555555", upn, goodPassword)); c != 700016 {
		t.Errorf("unknown client: %d, want 700016", c)
	}
	if c := codeOf(s.passwordGrant(tenantsim.PublicClientID, mustChange, goodPassword)); c != 50055 {
		t.Errorf("must change the password: %d, want 50055", c)
	}
	// Changing it (forceChangePasswordNextSignIn false) lets it past.
	mc := s.call("GET", "/users/"+url.PathEscape(mustChange), nil).want(t, http.StatusOK)
	s.call("PATCH", "/users/"+mc.str("id"), map[string]any{"passwordProfile": map[string]any{"password": goodPassword + "2", "forceChangePasswordNextSignIn": false}}).want(t, http.StatusNoContent)
	if c := codeOf(s.passwordGrant(tenantsim.PublicClientID, mustChange, goodPassword+"2")); c != 50076 {
		t.Errorf("after the change: %d, want 50076 (MFA for all users, from outside)", c)
	}

	// Smart lockout: the tenth wrong password locks, and then even the
	// right one is refused.
	for i := range 10 {
		if c := codeOf(s.passwordGrant(tenantsim.PublicClientID, upn, "Wrong-"+goodPassword)); c != 50126 {
			t.Fatalf("wrong password %d: %d, want 50126", i+1, c)
		}
	}
	if c := codeOf(s.passwordGrant(tenantsim.PublicClientID, upn, goodPassword)); c != 50053 {
		t.Errorf("after ten wrong passwords: %d, want 50053", c)
	}

	log := s.signInLog("?$filter=" + url.QueryEscape("userId eq '"+created.str("id")+"'"))
	if len(log) != 11 {
		t.Fatalf("%d log entries, want 11", len(log))
	}
	if code := log[0]["status"].(map[string]any)["errorCode"].(float64); code != 50053 {
		t.Errorf("newest entry %v", log[0])
	}
	// Before Conditional Access is reached, no policy is applied.
	if log[0]["conditionalAccessStatus"] != "notApplied" || len(log[0]["appliedConditionalAccessPolicies"].([]any)) != 0 {
		t.Errorf("a lockout shows Conditional Access: %v", log[0])
	}
}

// Sign-ins come from the tenant's origin: by default an address outside
// any range an operator may allow; SetClientIP moves it. The log records
// it with the application and the policies applied.
func TestSignInOrigin(t *testing.T) {
	s := newSim(t, "")
	if got := s.srv.ClientIP(); got != tenantsim.DefaultClientIP || got.IsPrivate() || got.IsLoopback() {
		t.Fatalf("default origin %s", got)
	}
	upn := "origin@" + initialDomain
	s.call("POST", "/users", newUserBody(upn, nil)).want(t, http.StatusCreated)
	s.passwordGrant(tenantsim.PublicClientID, upn, goodPassword).want(t, http.StatusBadRequest)
	s.srv.SetClientIP(netip.MustParseAddr("51.140.12.7"), "GB") // the demo's trusted head office
	ok := s.passwordGrant(tenantsim.PublicClientID, upn, goodPassword).want(t, http.StatusOK)
	if ok.str("access_token") == "" {
		t.Fatalf("no token: %s", ok.Raw)
	}

	log := s.signInLog("?$filter="+url.QueryEscape("userPrincipalName eq '"+upn+"'"), "Prefer", "include-unknown-enum-members")
	if len(log) != 2 {
		t.Fatalf("%d entries", len(log))
	}
	in, out := log[0], log[1]
	if in["ipAddress"] != "51.140.12.7" || out["ipAddress"] != tenantsim.DefaultClientIP.String() {
		t.Errorf("addresses %v, %v", in["ipAddress"], out["ipAddress"])
	}
	if out["appId"] != tenantsim.PublicClientID || out["appDisplayName"] != "Microsoft Graph Command Line Tools" {
		t.Errorf("application %v %v", out["appId"], out["appDisplayName"])
	}
	results := func(e map[string]any) map[string]string {
		m := map[string]string{}
		for _, p := range e["appliedConditionalAccessPolicies"].([]any) {
			p := p.(map[string]any)
			m[p["displayName"].(string)] = p["result"].(string)
		}
		return m
	}
	if r := results(out); r["CA002: Require MFA for all users"] != "failure" || out["conditionalAccessStatus"] != "failure" {
		t.Errorf("from outside: %v %v", out["conditionalAccessStatus"], r)
	}
	r := results(in)
	if r["CA002: Require MFA for all users"] != "notApplied" || in["conditionalAccessStatus"] == "failure" {
		t.Errorf("from the trusted location: %v %v", in["conditionalAccessStatus"], r)
	}
	if r["Pilot: Terms of use for guests (old)"] != "notEnabled" {
		t.Errorf("the disabled policy: %v", r)
	}
	if !strings.HasPrefix(r["CA005: Require compliant device for Office 365"], "reportOnly") {
		t.Errorf("the report-only policy: %v", r)
	}

	// Without Prefer: include-unknown-enum-members, Graph hides the
	// report-only results behind unknownFutureValue.
	plain := s.signInLog("?$filter=" + url.QueryEscape("userPrincipalName eq '"+upn+"'"))
	if got := results(plain[0])["CA005: Require compliant device for Office 365"]; got != "unknownFutureValue" {
		t.Errorf("without the Prefer header the report-only result reads %q", got)
	}
}

// The log filters on createdDateTime (unquoted DateTimeOffset, with and),
// and lists newest first with $top.
func TestSignInLogFilters(t *testing.T) {
	s := newSim(t, "")
	upn := "filter@" + initialDomain
	s.call("POST", "/users", newUserBody(upn, nil)).want(t, http.StatusCreated)
	for range 3 {
		s.passwordGrant(tenantsim.PublicClientID, upn, "Wrong-"+goodPassword)
	}
	now := time.Now().UTC()
	past := now.Add(-time.Hour).Format(time.RFC3339)
	future := now.Add(time.Hour).Format(time.RFC3339)
	byUser := "userPrincipalName eq '" + upn + "'"
	if n := len(s.signInLog("?$filter=" + url.QueryEscape(byUser+" and createdDateTime ge "+past))); n != 3 {
		t.Errorf("since an hour ago: %d, want 3", n)
	}
	if n := len(s.signInLog("?$filter=" + url.QueryEscape("createdDateTime ge "+future+" and "+byUser))); n != 0 {
		t.Errorf("since an hour ahead: %d, want 0", n)
	}
	if n := len(s.signInLog("?$filter=" + url.QueryEscape(byUser+" and createdDateTime lt "+future) + "&$top=2")); n != 2 {
		t.Errorf("$top=2: %d", n)
	}
	s.call("GET", "/auditLogs/signIns?$filter="+url.QueryEscape("createdDateTime ge 2026-13-45T99:00:00Z"), nil).graphError(t, http.StatusBadRequest, "BadRequest")
}

// A 401 from Graph carries WWW-Authenticate naming the authority, as
// Graph's does.
func TestUnauthorizedCarriesWWWAuthenticate(t *testing.T) {
	s := newSim(t, "")
	a := s.call("GET", "/users", nil, "Authorization", "")
	a.graphError(t, http.StatusUnauthorized, "InvalidAuthenticationToken")
	h := a.Header.Get("WWW-Authenticate")
	if !strings.HasPrefix(h, "Bearer ") || !strings.Contains(h, "authorization_uri=") || !strings.Contains(h, `client_id="00000003-0000-0000-c000-000000000000"`) {
		t.Errorf("WWW-Authenticate %q", h)
	}
	if s.call("GET", "/users", nil).want(t, http.StatusOK).Header.Get("WWW-Authenticate") != "" {
		t.Error("a 200 carries WWW-Authenticate")
	}
}

// MSAL asks the user realm before a password grant: Managed for the
// tenant's domains, Unknown otherwise.
func TestUserRealm(t *testing.T) {
	s := newSim(t, "")
	get := func(name string) string {
		req, _ := http.NewRequest(http.MethodGet, s.srv.BaseURL()+"/common/UserRealm/"+url.PathEscape(name)+"?api-version=1.0", nil)
		return s.send(req).want(t, http.StatusOK).str("account_type")
	}
	if k := get("someone@" + initialDomain); k != "Managed" {
		t.Errorf("tenant domain: %s", k)
	}
	if k := get("someone@fabrikam.example"); k != "Unknown" {
		t.Errorf("other domain: %s", k)
	}
}
