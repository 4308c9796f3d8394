package tenantsim_test

import (
	"crypto/tls"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mgmtsession/graph/tenantsim"
)

func TestBatch(t *testing.T) {
	s := newSim(t, "")

	// A failed item fails the items that depend on it with 424, inside a
	// 200 answer; independent items still run.
	a := s.call("POST", "/$batch", map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "GET", "url": "/users/nobody@" + initialDomain},
		map[string]any{"id": "2", "method": "GET", "url": "/users/" + meganID, "dependsOn": []string{"1"}},
		map[string]any{"id": "3", "method": "GET", "url": "/organization"},
		map[string]any{"id": "4", "method": "POST", "url": "/users", "headers": map[string]string{"Content-Type": "application/json"},
			"body": newUserBody("batched@"+initialDomain, nil)},
	}}).want(t, http.StatusOK)
	byID := map[string]map[string]any{}
	for _, r := range a.Body["responses"].([]any) {
		m := r.(map[string]any)
		byID[m["id"].(string)] = m
	}
	status := func(id string) int {
		f, _ := byID[id]["status"].(float64)
		return int(f)
	}
	if status("1") != 404 || status("2") != 424 || status("3") != 200 || status("4") != 201 {
		t.Fatalf("statuses 1:%d 2:%d 3:%d 4:%d, want 404 424 200 201\n%s", status("1"), status("2"), status("3"), status("4"), a.Raw)
	}
	for _, id := range []string{"1", "2"} {
		e, _ := byID[id]["body"].(map[string]any)["error"].(map[string]any)
		if e["code"] == "" || e["code"] == nil || e["message"] == "" || e["message"] == nil {
			t.Errorf("item %s: error without code and message: %v", id, byID[id]["body"])
		}
	}
	// Each item has its own request id, which its error body carries.
	hdrs, _ := byID["1"]["headers"].(map[string]any)
	inner := byID["1"]["body"].(map[string]any)["error"].(map[string]any)["innerError"].(map[string]any)
	if rid, _ := hdrs["Request-Id"].(string); !guidRE.MatchString(rid) || inner["request-id"] != rid {
		t.Errorf("item request-id header %v, innerError %v", hdrs, inner["request-id"])
	}
	// The batched create happened.
	s.call("GET", "/users/batched@"+initialDomain, nil).want(t, http.StatusOK)

	// A batch travels gzip-compressed like any other body.
	gz := s.call("POST", "/$batch", gzipped(t, `{"requests":[{"id":"1","method":"GET","url":"/organization"}]}`),
		"Content-Encoding", "gzip").want(t, http.StatusOK)
	if len(gz.Body["responses"].([]any)) != 1 {
		t.Errorf("gzip batch: %s", gz.Raw)
	}
}

func TestCAThrottle(t *testing.T) {
	s := newSim(t, "")
	s.srv.SetCAThrottle(true)
	s.call("GET", policiesPath, nil).want(t, http.StatusOK)
	a := s.call("GET", namedLocations, nil)
	a.graphError(t, http.StatusTooManyRequests, "")
	if ra := a.Header.Get("Retry-After"); ra != "" {
		t.Errorf("the CA throttle sends no Retry-After, got %q", ra)
	}
	// Other workloads are not throttled with it.
	s.call("GET", "/users/"+meganID, nil).want(t, http.StatusOK)
	// A second later the budget is back.
	time.Sleep(1100 * time.Millisecond)
	s.call("GET", namedLocations, nil).want(t, http.StatusOK)

	// The "throttled" scenario turns it on.
	th := newSim(t, "throttled")
	th.call("POST", evaluatePath, map[string]any{
		"signInIdentity":   map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": operatorID},
		"signInContext":    map[string]any{"@odata.type": "#microsoft.graph.applicationContext", "includeApplications": []string{exchangeOnline}},
		"signInConditions": map[string]any{"ipAddress": outsideIP, "country": "GB", "clientAppType": "browser", "devicePlatform": "windows"},
	}).want(t, http.StatusOK)
	th.call("GET", policiesPath, nil).graphError(t, http.StatusTooManyRequests, "")
}

func TestGzipRequestBodies(t *testing.T) {
	s := newSim(t, "")
	body := `{"accountEnabled":true,"displayName":"Zipped","mailNickname":"zipped","userPrincipalName":"zipped@` + initialDomain +
		`","passwordProfile":{"password":"` + goodPassword + `"}}`
	s.call("POST", "/users", gzipped(t, body), "Content-Encoding", "gzip").want(t, http.StatusCreated)
	s.call("GET", "/users/zipped@"+initialDomain, nil).want(t, http.StatusOK)

	var saw string
	for _, r := range s.srv.Requests() {
		if r.Method == "POST" && r.Path == "/v1.0/users" {
			saw = r.ContentEncoding
		}
	}
	if saw != "gzip" {
		t.Errorf("the request log shows Content-Encoding %q for the gzip POST", saw)
	}
	// A PATCH too.
	s.call("PATCH", "/users/zipped@"+initialDomain, gzipped(t, `{"displayName":"Unzipped"}`), "Content-Encoding", "gzip").want(t, http.StatusNoContent)
	got := s.call("GET", "/users/zipped@"+initialDomain, nil).want(t, http.StatusOK)
	if got.str("displayName") != "Unzipped" {
		t.Errorf("gzip PATCH not applied: %s", got.Raw)
	}
}

func TestPaging(t *testing.T) {
	s := newSim(t, "")
	s.srv.SetPageSize(3)
	var ids []string
	next := s.srv.GraphURL() + "/users?$filter=" + url.QueryEscape("startswith(userPrincipalName,'bg.') or startswith(userPrincipalName,'adele') or startswith(userPrincipalName,'megan') or startswith(userPrincipalName,'lee')")
	pages := 0
	for next != "" {
		pages++
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		a := s.call("GET", strings.TrimPrefix(next, s.srv.BaseURL()), nil).want(t, http.StatusOK)
		for _, u := range a.Body["value"].([]any) {
			ids = append(ids, u.(map[string]any)["id"].(string))
		}
		next = a.str("@odata.nextLink")
		if next != "" && !strings.HasPrefix(next, s.srv.BaseURL()+"/v1.0/users?") {
			t.Fatalf("nextLink %q is not an absolute link to the same collection", next)
		}
	}
	if len(ids) != 5 || pages != 2 {
		t.Errorf("%d users over %d pages, want 5 over 2 (the filter must survive paging): %v", len(ids), pages, ids)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("user %s on two pages", id)
		}
		seen[id] = true
	}

	// An empty collection is [], not null.
	empty := s.call("GET", "/users?$filter="+url.QueryEscape("startswith(userPrincipalName,'coreview.admin')"), nil).want(t, http.StatusOK)
	if v, ok := empty.Body["value"].([]any); !ok || len(v) != 0 {
		t.Errorf("empty collection: %s", empty.Raw)
	}
}

// deviceCode starts a device code sign-in for the public client.
func (s *sim) deviceCode(t *testing.T) (device, user string) {
	t.Helper()
	a := s.form("/organizations/oauth2/v2.0/devicecode", url.Values{
		"client_id": {tenantsim.PublicClientID}, "scope": {s.srv.BaseURL() + "/.default offline_access openid profile"},
	}).want(t, http.StatusOK)
	for _, k := range []string{"device_code", "user_code", "verification_uri", "message"} {
		if a.str(k) == "" {
			t.Fatalf("%s missing: %s", k, a.Raw)
		}
	}
	if !strings.Contains(a.str("message"), a.str("user_code")) {
		t.Errorf("the message does not show the code: %q", a.str("message"))
	}
	return a.str("device_code"), a.str("user_code")
}

func (s *sim) pollDeviceCode(device string) *answer {
	s.t.Helper()
	return s.form("/organizations/oauth2/v2.0/token", url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {tenantsim.PublicClientID}, "device_code": {device},
	})
}

// oauthError checks the Entra error shape and returns its AADSTS codes.
func oauthError(t *testing.T, a *answer, status int, errCode string) []int {
	t.Helper()
	a.want(t, status)
	if a.str("error") != errCode {
		t.Errorf("error %q, want %q: %s", a.str("error"), errCode, a.Raw)
	}
	var codes []int
	for _, c := range a.Body["error_codes"].([]any) {
		codes = append(codes, int(c.(float64)))
	}
	if len(codes) == 0 || !strings.HasPrefix(a.str("error_description"), "AADSTS") {
		t.Errorf("no AADSTS code: %s", a.Raw)
	}
	return codes
}

func TestDeviceCodeFlow(t *testing.T) {
	s := newSim(t, "")
	device, user := s.deviceCode(t)
	if codes := oauthError(t, s.pollDeviceCode(device), http.StatusBadRequest, "authorization_pending"); len(codes) != 1 || codes[0] != 70016 {
		t.Errorf("pending: error_codes %v, want [70016]", codes)
	}
	if !s.srv.ApproveDeviceCode(strings.ToLower(user)) {
		t.Fatal("the pending code was not accepted")
	}
	tok := s.pollDeviceCode(device).want(t, http.StatusOK)
	for _, k := range []string{"access_token", "refresh_token", "id_token", "client_info"} {
		if tok.str(k) == "" {
			t.Errorf("%s missing from the token answer", k)
		}
	}
	// The operator's token works for Graph, as the operator.
	s.token = tok.str("access_token")
	me := s.call("GET", "/me", nil).want(t, http.StatusOK)
	if me.str("id") != operatorID {
		t.Errorf("/me is %s", me.Raw)
	}
	// A code is used once.
	oauthError(t, s.pollDeviceCode(device), http.StatusBadRequest, "invalid_grant")
	if s.srv.ApproveDeviceCode(user) {
		t.Errorf("a used code was approved again")
	}
	// The refresh token gives a new access token.
	r := s.form("/organizations/oauth2/v2.0/token", url.Values{
		"grant_type": {"refresh_token"}, "client_id": {tenantsim.PublicClientID}, "refresh_token": {tok.str("refresh_token")},
	}).want(t, http.StatusOK)
	if r.str("access_token") == "" {
		t.Errorf("refresh: %s", r.Raw)
	}
}

func TestDeviceCodeBlockedByConditionalAccess(t *testing.T) {
	s := newSim(t, "device-code-blocked")
	device, user := s.deviceCode(t)
	if !s.srv.ApproveDeviceCode(user) {
		t.Fatal("the pending code was not accepted")
	}
	a := s.pollDeviceCode(device)
	codes := oauthError(t, a, http.StatusBadRequest, "invalid_grant")
	if len(codes) != 1 || codes[0] != 53003 || !strings.HasPrefix(a.str("error_description"), "AADSTS53003") {
		t.Errorf("error_codes %v, description %q, want AADSTS53003", codes, a.str("error_description"))
	}
}

func TestPasswordSignIn(t *testing.T) {
	s := newSim(t, "")
	upn := "probe@" + initialDomain
	created := s.call("POST", "/users", newUserBody(upn, nil)).want(t, http.StatusCreated)
	signIn := func(password, ip, country string) *answer {
		return s.form("/"+s.srv.TenantID()+"/oauth2/v2.0/token", url.Values{
			"grant_type": {"password"}, "client_id": {tenantsim.PublicClientID}, "username": {upn}, "password": {password},
			"scope": {s.srv.BaseURL() + "/.default"},
		}, "X-Sim-Client-IP", ip, "X-Sim-Client-Country", country)
	}

	// "CA002: Require MFA for all users" covers the new account.
	a := signIn(goodPassword, outsideIP, "GB")
	if codes := oauthError(t, a, http.StatusBadRequest, "invalid_grant"); len(codes) != 1 || codes[0] != 50076 {
		t.Errorf("outside IP: error_codes %v, want [50076] (MFA required): %s", codes, a.Raw)
	}
	if codes := oauthError(t, signIn("wrong"+goodPassword, outsideIP, "GB"), http.StatusBadRequest, "invalid_grant"); codes[0] != 50126 {
		t.Errorf("bad password: error_codes %v, want [50126]", codes)
	}
	// From a country outside the allowed ones, CA004 blocks.
	if codes := oauthError(t, signIn(goodPassword, outsideIP, "KP"), http.StatusBadRequest, "invalid_grant"); codes[0] != 53003 {
		t.Errorf("blocked country: error_codes %v, want [53003]", codes)
	}

	// Excluding the account from CA002 lets it in with its password alone.
	p := s.call("GET", policiesPath+"/"+policyMFAAll, nil).want(t, http.StatusOK)
	users := p.Body["conditions"].(map[string]any)["users"].(map[string]any)
	users["excludeUsers"] = append(users["excludeUsers"].([]any), created.str("id"))
	s.call("PATCH", policiesPath+"/"+policyMFAAll, map[string]any{"conditions": map[string]any{"users": users}}).want(t, http.StatusNoContent)
	ok := signIn(goodPassword, outsideIP, "GB").want(t, http.StatusOK)
	if ok.str("access_token") == "" {
		t.Errorf("no token: %s", ok.Raw)
	}

	// Each attempt is in the sign-in log, newest first.
	log := s.call("GET", "/auditLogs/signIns?$filter="+url.QueryEscape("userId eq '"+created.str("id")+"'"), nil).want(t, http.StatusOK)
	entries := log.Body["value"].([]any)
	if len(entries) != 4 {
		t.Fatalf("%d sign-in log entries, want 4: %s", len(entries), log.Raw)
	}
	newest := entries[0].(map[string]any)
	if code := newest["status"].(map[string]any)["errorCode"].(float64); code != 0 || newest["ipAddress"] != outsideIP {
		t.Errorf("newest entry %v", newest)
	}
	if code := entries[3].(map[string]any)["status"].(map[string]any)["errorCode"].(float64); code != 50076 {
		t.Errorf("oldest entry has errorCode %v, want 50076", code)
	}
}

func TestStatePersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo-state.json")
	s := newSimWith(t, tenantsim.Options{StatePath: path})
	created := s.call("POST", "/users", newUserBody("kept@"+initialDomain, nil)).want(t, http.StatusCreated)
	s.call("POST", namedLocations, ipLocation("Kept", [2]string{v4, "12.34.0.0/16"})).want(t, http.StatusCreated)
	if err := s.srv.Close(); err != nil {
		t.Fatal(err)
	}

	again := newSimWith(t, tenantsim.Options{StatePath: path})
	defer again.srv.Close()
	got := again.call("GET", "/users/kept@"+initialDomain, nil).want(t, http.StatusOK)
	if got.str("id") != created.str("id") {
		t.Errorf("user id %q after restart, want %q", got.str("id"), created.str("id"))
	}
	locs := again.call("GET", namedLocations, nil).want(t, http.StatusOK)
	found := false
	for _, l := range locs.Body["value"].([]any) {
		found = found || l.(map[string]any)["displayName"] == "Kept"
	}
	if !found {
		t.Errorf("the named location did not persist")
	}
	// A scenario does not override a persisted tenant.
	again.srv.Close()
	third := newSimWith(t, tenantsim.Options{StatePath: path, Scenario: "security-defaults-on"})
	if sd := third.call("GET", "/policies/identitySecurityDefaultsEnforcementPolicy", nil).want(t, http.StatusOK); sd.Body["isEnabled"] != false {
		t.Errorf("the persisted tenant was replaced by the scenario")
	}
}

func TestUnknownScenario(t *testing.T) {
	if _, err := tenantsim.New(tenantsim.Options{Scenario: "no-such-scenario"}); err == nil || !strings.Contains(err.Error(), "default") {
		t.Errorf("err = %v, want one listing the known scenarios", err)
	}
}

// Close must not wait on connections that never sent a request (HTTP
// clients open spare ones when their requests run concurrently): the demo
// and every test would pause for seconds at exit.
func TestCloseIsPrompt(t *testing.T) {
	s := newSim(t, "")
	conn, err := tls.Dial("tcp", strings.TrimPrefix(s.srv.BaseURL(), "https://"), &tls.Config{RootCAs: s.srv.CertPool()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if err := s.srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Close took %v", d)
	}
}

// Graph returns a user's default properties unless $select asks for
// others: accountEnabled, userType and passwordPolicies are not among them,
// and a client that forgets to ask reads every account as disabled.
func TestUserPropertiesFollowSelect(t *testing.T) {
	s := newSim(t, "")
	plain := s.call("GET", "/users/"+meganID, nil).want(t, http.StatusOK)
	for _, p := range []string{"id", "userPrincipalName", "displayName", "businessPhones", "mail"} {
		if _, ok := plain.Body[p]; !ok {
			t.Errorf("default property %s missing: %s", p, plain.Raw)
		}
	}
	for _, p := range []string{"accountEnabled", "userType", "passwordPolicies", "createdDateTime"} {
		if _, ok := plain.Body[p]; ok {
			t.Errorf("%s is not a default property: %s", p, plain.Raw)
		}
	}
	sel := s.call("GET", "/users/"+meganID+"?$select=id,accountEnabled,userType", nil).want(t, http.StatusOK)
	if len(sel.Body) != 4 || sel.Body["accountEnabled"] != true || sel.str("userType") != "Member" {
		t.Errorf("$select=id,accountEnabled,userType gave %s", sel.Raw)
	}
	list := s.call("GET", "/users?$select=userPrincipalName,accountEnabled&$filter="+url.QueryEscape("startswith(userPrincipalName,'bg.')"), nil).want(t, http.StatusOK)
	for _, u := range list.Body["value"].([]any) {
		if m := u.(map[string]any); len(m) != 2 || m["accountEnabled"] != true {
			t.Errorf("list item %v", m)
		}
	}
	s.call("GET", "/users/"+meganID+"?$select=shoeSize", nil).graphError(t, http.StatusBadRequest, "BadRequest")
	created := s.call("POST", "/users", newUserBody("selected@"+initialDomain, nil)).want(t, http.StatusCreated)
	if _, ok := created.Body["accountEnabled"]; ok || created.str("id") == "" {
		t.Errorf("a create answers with the default properties: %s", created.Raw)
	}
}

// A list filtered by ids alone (what the preflight asks for the accounts
// policies exclude) answers from the ids, whatever their case, and ids the
// tenant does not hold match nothing; combined with another clause, the
// whole filter is still judged.
func TestUsersFilteredByIDs(t *testing.T) {
	s := newSim(t, "")
	in := "id in ('" + strings.ToUpper(meganID) + "', '00000000-0000-4000-8000-000000000000')"
	list := s.call("GET", "/users?$filter="+url.QueryEscape(in), nil).want(t, http.StatusOK)
	got := list.Body["value"].([]any)
	if len(got) != 1 || got[0].(map[string]any)["id"] != meganID {
		t.Errorf("%s gave %s", in, list.Raw)
	}
	eq := s.call("GET", "/users?$filter="+url.QueryEscape("id eq '"+meganID+"'"), nil).want(t, http.StatusOK)
	if n := len(eq.Body["value"].([]any)); n != 1 {
		t.Errorf("id eq gave %d users", n)
	}
	s.call("GET", "/users?$filter="+url.QueryEscape("id eq 3"), nil).graphError(t, http.StatusBadRequest, "BadRequest")
	s.call("GET", "/users?$filter="+url.QueryEscape(in+" and shoeSize eq '9'"), nil).graphError(t, http.StatusBadRequest, "BadRequest")
}
