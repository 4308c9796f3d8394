package tenantsim_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mgmtsession/assets"
	"mgmtsession/graph/tenantsim"
)

// demoState is the embedded demo tenant as generic JSON, for tests that
// write a broken state file.
func demoState(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(assets.DemoTenant, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func list(m map[string]any, key string) []any { return m[key].([]any) }
func obj(v any) map[string]any                { return v.(map[string]any) }

// A state file with a null entry made the token handler panic while it held
// the server lock, and every later request hung. The file is checked on
// load, and the error names the JSON path of what is wrong.
func TestStateFileIsValidatedOnLoad(t *testing.T) {
	cases := []struct {
		name string
		edit func(m map[string]any)
		raw  string // used instead of the edited demo tenant when set
		want string // part of the error
	}{
		{name: "null user", edit: func(m map[string]any) { list(m, "users")[2] = nil }, want: "users[2]"},
		{name: "null group", edit: func(m map[string]any) { list(m, "groups")[1] = nil }, want: "groups[1]"},
		{name: "null policy", edit: func(m map[string]any) { list(m, "policies")[0] = nil }, want: "policies[0]"},
		{name: "null named location", edit: func(m map[string]any) { list(m, "namedLocations")[1] = nil }, want: "namedLocations[1]"},
		{name: "null role assignment", edit: func(m map[string]any) { list(m, "roleAssignments")[3] = nil }, want: "roleAssignments[3]"},
		{name: "null domain", edit: func(m map[string]any) { list(m, "domains")[0] = nil }, want: "domains[0]"},
		{name: "null sku", edit: func(m map[string]any) { list(m, "subscribedSkus")[0] = nil }, want: "subscribedSkus[0]"},
		{name: "null group member", edit: func(m map[string]any) { obj(list(m, "groups")[0])["members"] = []any{nil} }, want: "groups[0].members[0]"},
		{name: "null extension", edit: func(m map[string]any) { obj(list(m, "users")[1])["extensions"] = []any{nil} }, want: "users[1].extensions[0]"},
		{name: "extension without a name", edit: func(m map[string]any) {
			obj(list(m, "users")[1])["extensions"] = []any{map[string]any{"id": "x"}}
		}, want: "users[1].extensions[0].extensionName"},
		{name: "null sign-in", edit: func(m map[string]any) { m["signIns"] = []any{nil} }, want: "signIns[0]"},
		{name: "user without an id", edit: func(m map[string]any) { delete(obj(list(m, "users")[4]), "id") }, want: "users[4].id"},
		{name: "user without a UPN", edit: func(m map[string]any) { obj(list(m, "users")[4])["userPrincipalName"] = "" }, want: "users[4].userPrincipalName"},
		{name: "two users with one id", edit: func(m map[string]any) {
			obj(list(m, "users")[3])["id"] = obj(list(m, "users")[0])["id"]
		}, want: "users[3].id"},
		{name: "unknown method", edit: func(m map[string]any) { obj(list(m, "users")[0])["methods"] = []any{"password", "carrierPigeon"} }, want: "users[0].methods[1]"},
		{name: "unknown per-user MFA state", edit: func(m map[string]any) { obj(list(m, "users")[0])["perUserMfaState"] = "on" }, want: "users[0].perUserMfaState"},
		{name: "role assignment without a principal", edit: func(m map[string]any) { delete(obj(list(m, "roleAssignments")[0]), "principalId") }, want: "roleAssignments[0].principalId"},
		{name: "policy Graph could not read", edit: func(m map[string]any) { obj(list(m, "policies")[2])["conditions"] = "all" }, want: "policies[2].conditions"},
		{name: "policy with a property Graph does not have", edit: func(m map[string]any) { obj(list(m, "policies")[2])["colour"] = "blue" }, want: "policies[2].colour"},
		{name: "named location Graph could not read", edit: func(m map[string]any) { obj(list(m, "namedLocations")[0])["ipRanges"] = "x" }, want: "namedLocations[0].ipRanges"},
		{name: "no tenant id", edit: func(m map[string]any) { delete(m, "tenantId") }, want: "tenantId"},
		{name: "wrong type", edit: func(m map[string]any) { obj(list(m, "users")[0])["accountEnabled"] = "yes" }, want: "users[0].accountEnabled"},
		{name: "not JSON", raw: "{\n  \"tenantId\": \"x\",\n  \"users\": [,]\n}", want: "line 3"},
		{name: "null", raw: "null", want: "not a JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := []byte(c.raw)
			if c.raw == "" {
				m := demoState(t)
				c.edit(m)
				var err error
				if data, err = json.Marshal(m); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			srv, err := tenantsim.New(tenantsim.Options{StatePath: path})
			if err == nil {
				srv.Close()
				t.Fatalf("a state file with a %s was accepted", c.name)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %q and the file", err, c.want)
			}
		})
	}
	// The demo tenant itself, written out, loads.
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, assets.DemoTenant, 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := tenantsim.New(tenantsim.Options{StatePath: path})
	if err != nil {
		t.Fatalf("the demo tenant as a state file: %v", err)
	}
	srv.Close()
}

// A handler that panics must not leave the server lock held: the panic
// becomes a 500 and the next request is answered.
func TestPanicDoesNotHoldTheLock(t *testing.T) {
	s := newSim(t, "")
	s.srv.InjectNilUserForTest()
	done := make(chan *answer, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", s.srv.GraphURL()+"/users", nil)
		req.Header.Set("Authorization", "Bearer "+s.token)
		resp, err := s.hc.Do(req)
		if err != nil {
			done <- nil
			return
		}
		resp.Body.Close()
		req, _ = http.NewRequestWithContext(ctx, "GET", s.srv.GraphURL()+"/organization", nil)
		req.Header.Set("Authorization", "Bearer "+s.token)
		resp2, err := s.hc.Do(req)
		if err != nil {
			done <- nil
			return
		}
		resp2.Body.Close()
		done <- &answer{Status: resp.StatusCode*1000 + resp2.StatusCode}
	}()
	select {
	case a := <-done:
		if a == nil || a.Status != 500*1000+200 {
			t.Fatalf("after a handler panic: %v, want 500 then 200", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server hangs after a handler panic")
	}
}

// Every lock in the package is released by a defer placed right after it,
// so that no panic can leave it held.
func TestEveryLockIsReleasedByDefer(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var stmts []ast.Stmt
			switch b := n.(type) {
			case *ast.BlockStmt:
				stmts = b.List
			case *ast.CaseClause:
				stmts = b.Body
			case *ast.CommClause:
				stmts = b.Body
			default:
				return true
			}
			for i, st := range stmts {
				recv, ok := lockCall(st, "Lock")
				if !ok {
					continue
				}
				checked++
				var next ast.Stmt
				if i+1 < len(stmts) {
					next = stmts[i+1]
				}
				d, ok := next.(*ast.DeferStmt)
				if !ok || exprString(d.Call.Fun) != recv+".Unlock" {
					t.Errorf("%s: %s.Lock() is not followed by defer %s.Unlock()", fset.Position(st.Pos()), recv, recv)
				}
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no Lock call found: the check reads nothing")
	}
}

func lockCall(st ast.Stmt, method string) (recv string, ok bool) {
	es, ok := st.(*ast.ExprStmt)
	if !ok {
		return "", false
	}
	call, ok := es.X.(*ast.CallExpr)
	if !ok {
		return "", false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != method {
		return "", false
	}
	return exprString(sel.X), true
}

func exprString(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return exprString(x.X) + "." + x.Sel.Name
	}
	return "?"
}

// The simulated tenant hands out tokens to anyone who asks, so it serves
// only on loopback: a name is resolved and every address it stands for must
// be a loopback one, and the server binds the address, not the name.
func TestListensOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0"} {
		if srv, err := tenantsim.New(tenantsim.Options{Listen: addr}); err == nil {
			srv.Close()
			t.Errorf("New(Listen %q) served", addr)
		} else if !strings.Contains(err.Error(), "loopback") {
			t.Errorf("New(Listen %q): %v, want an error saying it serves only on loopback", addr, err)
		}
	}

	// localhost as the hosts file normally has it: bound by address.
	restore := tenantsim.SetResolverForTest(func(host string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}, nil
	})
	srv, err := tenantsim.New(tenantsim.Options{Listen: "localhost:0"})
	restore()
	if err != nil {
		t.Fatalf("localhost: %v", err)
	}
	host := strings.TrimPrefix(srv.BaseURL(), "https://")
	srv.Close()
	if ap, err := netip.ParseAddrPort(host); err != nil || !ap.Addr().IsLoopback() {
		t.Errorf("localhost was served at %s, want a loopback address", host)
	}

	// A hosts file mapping localhost to every interface is refused.
	for _, bad := range [][]string{{"0.0.0.0"}, {"127.0.0.1", "192.0.2.7"}, {"::"}} {
		restore := tenantsim.SetResolverForTest(func(host string) ([]netip.Addr, error) {
			var out []netip.Addr
			for _, a := range bad {
				out = append(out, netip.MustParseAddr(a))
			}
			return out, nil
		})
		srv, err := tenantsim.New(tenantsim.Options{Listen: "localhost:0"})
		restore()
		if err == nil {
			srv.Close()
			t.Errorf("localhost resolving to %v was served", bad)
		} else if !strings.Contains(err.Error(), "loopback") {
			t.Errorf("localhost resolving to %v: %v", bad, err)
		}
	}
}

// operatorTokens signs the operator in with the device code flow and
// returns the token answer.
func (s *sim) operatorTokens(t *testing.T) *answer {
	t.Helper()
	device, user := s.deviceCode(t)
	if !s.srv.ApproveDeviceCode(user) {
		t.Fatal("the pending code was not accepted")
	}
	return s.pollDeviceCode(device).want(t, http.StatusOK)
}

func (s *sim) tokenRequest(v url.Values) *answer {
	s.t.Helper()
	return s.form("/"+s.srv.TenantID()+"/oauth2/v2.0/token", v)
}

// As Entra and Graph do: a token is for the resource its scope named, and
// Graph takes only its own; an id_token is not an access token; a refresh
// token is bound to its client and dies with a session revocation; the
// bearer scheme is case-insensitive.
func TestTokensAreCheckedAsEntraAndGraphDo(t *testing.T) {
	s := newSim(t, "")
	appForm := func(scope string) url.Values {
		v := url.Values{"client_id": {tenantsim.DemoAppClientID}, "client_secret": {s.srv.ClientSecret()}, "grant_type": {"client_credentials"}}
		if scope != "" {
			v.Set("scope", scope)
		}
		return v
	}
	graphCall := func(tok, scheme, path string) *answer {
		return s.call("GET", path, nil, "Authorization", scheme+" "+tok)
	}

	// A token for another resource does not open Graph.
	arm := s.tokenRequest(appForm("https://management.azure.com/.default")).want(t, http.StatusOK)
	graphCall(arm.str("access_token"), "Bearer", "/organization").graphError(t, http.StatusUnauthorized, "InvalidAuthenticationToken")
	// A resource the tenant does not know, no scope, a scope without
	// /.default for an app, two resources at once: refused as Entra does.
	if c := oauthError(t, s.tokenRequest(appForm("https://nothing.example/.default")), http.StatusBadRequest, "invalid_resource"); c[0] != 500011 {
		t.Errorf("unknown resource: AADSTS%d, want 500011", c[0])
	}
	if c := oauthError(t, s.tokenRequest(appForm("")), http.StatusBadRequest, "invalid_request"); c[0] != 90014 {
		t.Errorf("no scope: AADSTS%d, want 90014", c[0])
	}
	if c := oauthError(t, s.tokenRequest(appForm(s.srv.BaseURL()+"/User.Read.All")), http.StatusBadRequest, "invalid_scope"); c[0] != 1002012 {
		t.Errorf("app scope without /.default: AADSTS%d, want 1002012", c[0])
	}
	if c := oauthError(t, s.tokenRequest(appForm(s.srv.BaseURL()+"/.default https://management.azure.com/.default")), http.StatusBadRequest, "invalid_scope"); c[0] != 28000 {
		t.Errorf("two resources: AADSTS%d, want 28000", c[0])
	}

	tok := s.operatorTokens(t)
	// The id_token is signed by the same authority but is no access token.
	graphCall(tok.str("id_token"), "Bearer", "/me").graphError(t, http.StatusUnauthorized, "InvalidAuthenticationToken")
	// The scheme is case-insensitive (RFC 9110).
	for _, scheme := range []string{"bearer", "BEARER", "Bearer"} {
		graphCall(tok.str("access_token"), scheme, "/me").want(t, http.StatusOK)
	}
	graphCall(tok.str("access_token"), "Basic", "/me").graphError(t, http.StatusUnauthorized, "InvalidAuthenticationToken")

	refresh := func(rt, clientID, scope string) *answer {
		return s.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {rt}, "scope": {scope}})
	}
	graphScope := s.srv.BaseURL() + "/.default offline_access openid profile"
	// A delegated token asked for one permission carries only that one.
	narrow := refresh(tok.str("refresh_token"), tenantsim.PublicClientID, s.srv.BaseURL()+"/User.Read offline_access").want(t, http.StatusOK)
	graphCall(narrow.str("access_token"), "Bearer", "/me").want(t, http.StatusOK)
	graphCall(narrow.str("access_token"), "Bearer", "/users").graphError(t, http.StatusForbidden, "Authorization_RequestDenied")
	// One that was never consented is refused.
	if c := oauthError(t, refresh(tok.str("refresh_token"), tenantsim.PublicClientID, s.srv.BaseURL()+"/Mail.Send"), http.StatusBadRequest, "invalid_grant"); c[0] != 65001 {
		t.Errorf("unconsented scope: AADSTS%d, want 65001", c[0])
	}
	// A refresh token is bound to the client it was issued to.
	if c := oauthError(t, refresh(tok.str("refresh_token"), tenantsim.DemoAppClientID, graphScope), http.StatusBadRequest, "invalid_grant"); c[0] != 70000 {
		t.Errorf("another client: AADSTS%d, want 70000", c[0])
	}
	// Entra does not revoke a refresh token when it is used ("Refresh
	// tokens replace themselves with a fresh token upon every use. The
	// Microsoft identity platform doesn't revoke old refresh tokens",
	// learn.microsoft.com/entra/identity-platform/refresh-tokens) ...
	fresh := refresh(tok.str("refresh_token"), tenantsim.PublicClientID, graphScope).want(t, http.StatusOK)
	if fresh.str("refresh_token") == "" || fresh.str("refresh_token") == tok.str("refresh_token") {
		t.Errorf("a refresh answers with a new refresh token: %s", fresh.Raw)
	}
	refresh(tok.str("refresh_token"), tenantsim.PublicClientID, graphScope).want(t, http.StatusOK)
	// ... but revoking the user's sessions revokes every one of them.
	s.call("POST", "/users/"+operatorID+"/revokeSignInSessions", nil).want(t, http.StatusOK)
	time.Sleep(1100 * time.Millisecond) // the revocation time has a resolution of a second
	for _, rt := range []string{tok.str("refresh_token"), fresh.str("refresh_token")} {
		if c := oauthError(t, refresh(rt, tenantsim.PublicClientID, graphScope), http.StatusBadRequest, "invalid_grant"); c[0] != 50173 {
			t.Errorf("after revocation: AADSTS%d, want 50173", c[0])
		}
	}
	// A new sign-in works again.
	again := s.operatorTokens(t)
	refresh(again.str("refresh_token"), tenantsim.PublicClientID, graphScope).want(t, http.StatusOK)
}

// What Graph refuses in a $batch is refused as a whole with 400: an item
// URL climbing out of its version with "..", a nested $batch, a body
// without Content-Type, ids that differ only in case (ids are
// case-insensitive and must be unique), an absolute URL.
func TestBatchRefusesWhatGraphRefuses(t *testing.T) {
	s := newSim(t, "")
	item := func(id, method, u string, extra ...any) map[string]any {
		m := map[string]any{"id": id, "method": method, "url": u}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i].(string)] = extra[i+1]
		}
		return m
	}
	cases := []struct {
		name  string
		items []any
	}{
		{"dot-dot in the url", []any{item("1", "GET", "/users/../organization")}},
		{"dot-dot at the start", []any{item("1", "GET", "../beta/organization")}},
		{"encoded dot-dot", []any{item("1", "GET", "/users/%2e%2e/organization")}},
		{"a nested batch", []any{item("1", "POST", "/$batch", "headers", map[string]string{"Content-Type": "application/json"},
			"body", map[string]any{"requests": []any{item("1", "GET", "/organization")}})}},
		{"a nested batch in another case", []any{item("1", "POST", "/$BATCH", "headers", map[string]string{"Content-Type": "application/json"},
			"body", map[string]any{"requests": []any{item("1", "GET", "/organization")}})}},
		{"a body without Content-Type", []any{item("1", "POST", "/users", "body", newUserBody("nobatch@"+initialDomain, nil))}},
		{"ids differing only in case", []any{item("a", "GET", "/organization"), item("A", "GET", "/domains")}},
		{"an absolute url", []any{item("1", "GET", "https://example.com/v1.0/organization")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.call("POST", "/$batch", map[string]any{"requests": c.items}).graphError(t, http.StatusBadRequest, "BadRequest")
		})
	}
	// Nothing of a refused batch ran.
	s.call("GET", "/users/nobatch@"+initialDomain, nil).graphError(t, http.StatusNotFound, "Request_ResourceNotFound")
	// The header's name is case-insensitive, like any header's.
	ok := s.call("POST", "/$batch", map[string]any{"requests": []any{item("1", "POST", "/users",
		"headers", map[string]string{"content-type": "application/json"}, "body", newUserBody("batched2@"+initialDomain, nil))}}).want(t, http.StatusOK)
	if st := obj(list(ok.Body, "responses")[0])["status"]; st != float64(201) {
		t.Errorf("item status %v: %s", st, ok.Raw)
	}
}

// $filter is parsed in linear time: 100,000 parentheses took 16 s. What it
// cannot read, however long, is a quick 400.
func TestFilterParsesInLinearTime(t *testing.T) {
	s := newSim(t, "")
	for name, f := range map[string]string{
		"parentheses":  strings.Repeat("(", 100000),
		"nested":       strings.Repeat("(", 50000) + "displayName eq 'x'" + strings.Repeat(")", 50000),
		"long or":      strings.Repeat("displayName eq 'x' or ", 20000) + "displayName eq 'y'",
		"long literal": "displayName eq '" + strings.Repeat("''", 100000) + "'",
	} {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", s.srv.GraphURL()+"/users?$filter="+url.QueryEscape(f), nil)
		req.Header.Set("Authorization", "Bearer "+s.token)
		resp, err := s.hc.Do(req)
		cancel()
		if err != nil {
			t.Errorf("%s: no answer within 5 s", name)
			continue
		}
		resp.Body.Close()
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: answered in %v", name, d)
		}
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d", name, resp.StatusCode)
		}
	}
}

// $filter as Graph reads it: and, or, not and parentheses, eq and ne, in,
// startswith, and literals other than strings (accountEnabled eq true).
func TestFilterAsGraphReadsIt(t *testing.T) {
	s := newSim(t, "")
	ids := func(f string) []string {
		t.Helper()
		a := s.call("GET", "/users?$select=id&$filter="+url.QueryEscape(f), nil).want(t, http.StatusOK)
		var out []string
		for _, u := range list(a.Body, "value") {
			out = append(out, obj(u)["id"].(string))
		}
		return out
	}
	s.call("PATCH", "/users/"+meganID, map[string]any{"accountEnabled": false}).want(t, http.StatusNoContent)
	if got := ids("accountEnabled eq false"); len(got) != 1 || got[0] != meganID {
		t.Errorf("accountEnabled eq false: %v", got)
	}
	if got := ids("accountEnabled eq true"); len(got) != 5 {
		t.Errorf("accountEnabled eq true: %d users, want 5", len(got))
	}
	if got := ids("userType eq 'Guest' or (startswith(displayName,'Break') and not (displayName eq 'Break glass 2'))"); len(got) != 2 {
		t.Errorf("and/or/not: %v", got)
	}
	if got := ids("userType ne 'Member'"); len(got) != 1 {
		t.Errorf("ne: %v", got)
	}
	if got := ids("mail eq null"); len(got) != 6 {
		t.Errorf("eq null: %v", got)
	}
	s.call("GET", "/users?$filter="+url.QueryEscape("accountEnabled eq 'true'"), nil).graphError(t, http.StatusBadRequest, "BadRequest")
	s.call("GET", "/users?$filter="+url.QueryEscape("accountEnabled eq true and"), nil).graphError(t, http.StatusBadRequest, "BadRequest")
}

// roleDefinitions honours $filter: a client asking for Exchange
// Administrator and taking the first answer got Global Administrator.
func TestRoleDefinitionsFilter(t *testing.T) {
	s := newSim(t, "")
	a := s.call("GET", "/roleManagement/directory/roleDefinitions?$filter="+url.QueryEscape("displayName eq 'Exchange Administrator'"), nil).want(t, http.StatusOK)
	v := list(a.Body, "value")
	if len(v) != 1 || obj(v[0])["id"] != "29232cdf-9323-42fd-ade2-1d097af3e4de" {
		t.Fatalf("displayName eq 'Exchange Administrator': %s", a.Raw)
	}
	a = s.call("GET", "/roleManagement/directory/roleDefinitions?$filter="+url.QueryEscape("templateId eq '"+globalReader+"'"), nil).want(t, http.StatusOK)
	if v := list(a.Body, "value"); len(v) != 1 || obj(v[0])["displayName"] != "Global Reader" {
		t.Errorf("templateId eq: %s", a.Raw)
	}
	a = s.call("GET", "/roleManagement/directory/roleDefinitions?$filter="+url.QueryEscape("displayName eq 'No Such Role'"), nil).want(t, http.StatusOK)
	if v := list(a.Body, "value"); len(v) != 0 {
		t.Errorf("no match: %s", a.Raw)
	}
	s.call("GET", "/roleManagement/directory/roleDefinitions?$filter="+url.QueryEscape("colour eq 'red'"), nil).graphError(t, http.StatusBadRequest, "BadRequest")
}

// bigTenant writes a state file of n users and n/10 groups of ten members,
// every tenth group nested in the one before, and returns its path.
func bigTenant(t testing.TB, n int) (path string, userIDs, groupIDs []string) {
	t.Helper()
	m := demoState(t)
	users := list(m, "users")
	var groups []any
	for i := range n {
		id := fmt.Sprintf("5a000000-0000-4000-8000-%012d", i)
		userIDs = append(userIDs, id)
		users = append(users, map[string]any{"id": id, "userPrincipalName": fmt.Sprintf("user%d@%s", i, initialDomain),
			"displayName": fmt.Sprintf("User %d", i), "userType": "Member", "accountEnabled": true, "perUserMfaState": "disabled", "methods": []any{"password"}})
	}
	for g := range n / 10 {
		id := fmt.Sprintf("6b000000-0000-4000-8000-%012d", g)
		groupIDs = append(groupIDs, id)
		members := []any{}
		for i := range 10 {
			members = append(members, userIDs[g*10+i])
		}
		if g%10 == 1 {
			members = append(members, groupIDs[g-1])
		}
		groups = append(groups, map[string]any{"id": id, "displayName": fmt.Sprintf("Group %d", g), "members": members})
	}
	m["users"], m["groups"] = users, append(list(m, "groups"), groups...)
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, userIDs, groupIDs
}

// Membership queries answer right on a large tenant (their cost, once
// users x groups x members under the lock, is BenchmarkMembershipQueries).
func TestMembershipQueriesScale(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a tenant of 20,000 users")
	}
	path, users, groups := bigTenant(t, 20000)
	s := newSimWith(t, tenantsim.Options{StatePath: path})
	for i := range 5 {
		g := groups[i*10+1] // a group with a nested group: 20 users
		a := s.call("GET", "/groups/"+g+"/transitiveMembers/microsoft.graph.user?$select=id", nil).want(t, http.StatusOK)
		got := list(a.Body, "value")
		if len(got) != 20 {
			t.Fatalf("group %s: %d users, want 20", g, len(got))
		}
		// In directory order: the nested group's users come first.
		if id := obj(got[0])["id"]; id != users[(i*10)*10] {
			t.Errorf("group %s: first user %v, want %s", g, id, users[(i*10)*10])
		}
		u := users[i*100]
		m := s.call("GET", "/users/"+u+"/transitiveMemberOf", nil).want(t, http.StatusOK)
		if n := len(list(m.Body, "value")); n < 1 {
			t.Fatalf("user %s: no memberships", u)
		}
	}
}

// BenchmarkMembershipQueries: one group's transitive users and one user's
// transitive groups, at 2,000 and 20,000 users; the cost per query follows
// what it returns, not the size of the tenant.
func BenchmarkMembershipQueries(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			path, users, groups := bigTenant(b, n)
			s := newSimWith(b, tenantsim.Options{StatePath: path})
			b.ResetTimer()
			for i := range b.N {
				g := groups[(i*10+1)%len(groups)]
				s.call("GET", "/groups/"+g+"/transitiveMembers/microsoft.graph.user?$select=id", nil).want(b, http.StatusOK)
				s.call("GET", "/users/"+users[(i*37)%len(users)]+"/transitiveMemberOf", nil).want(b, http.StatusOK)
			}
		})
	}
}

// What the tenant keeps between requests is bounded: device codes, refresh
// tokens, sign-ins and the request log no longer grow with every request.
func TestRetainedStateIsBounded(t *testing.T) {
	restore := tenantsim.SetLimitsForTest(5)
	defer restore()
	s := newSim(t, "")
	s.srv.SetReplicationDelay(10 * time.Millisecond)
	var tok *answer
	for i := range 20 {
		s.deviceCode(t)           // left pending
		tok = s.operatorTokens(t) // a refresh token each
		s.tokenRequest(url.Values{"grant_type": {"password"}, "client_id": {tenantsim.PublicClientID},
			"username": {"megan.bowen@contoso-demo.com"}, "password": {"wrong"}, "scope": {s.srv.BaseURL() + "/.default"}})
		s.call("POST", "/users", newUserBody(fmt.Sprintf("bounded%d@%s", i, initialDomain), nil)).want(t, http.StatusCreated)
	}
	time.Sleep(20 * time.Millisecond)
	s.call("POST", "/users", newUserBody("last@"+initialDomain, nil)).want(t, http.StatusCreated)
	for what, n := range s.srv.RetainedForTest() {
		if n > 5 {
			t.Errorf("%d %s kept, bound 5", n, what)
		}
	}
	if n := len(s.srv.Requests()); n != 5 {
		t.Errorf("Requests() returns %d records, want the newest 5", n)
	} else if last := s.srv.Requests()[4]; last.Method != "POST" || !strings.HasSuffix(last.Path, "/users") {
		t.Errorf("newest record %s %s, want the last POST /users", last.Method, last.Path)
	}
	signIns := s.call("GET", "/auditLogs/signIns", nil).want(t, http.StatusOK)
	if n := len(list(signIns.Body, "value")); n != 5 {
		t.Errorf("%d sign-ins listed, want the newest 5", n)
	}
	// Within the bounds everything still works: the newest refresh token.
	s.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "client_id": {tenantsim.PublicClientID},
		"refresh_token": {tok.str("refresh_token")}, "scope": {s.srv.BaseURL() + "/.default"}}).want(t, http.StatusOK)
}

// An idle keep-alive connection is closed after a while instead of being
// held open for ever.
func TestIdleConnectionsTimeOut(t *testing.T) {
	restore := tenantsim.SetIdleTimeoutForTest(300 * time.Millisecond)
	s := newSim(t, "")
	restore()
	conn, err := tls.Dial("tcp", strings.TrimPrefix(s.srv.BaseURL(), "https://"), &tls.Config{RootCAs: s.srv.CertPool()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /v1.0/organization HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", s.token)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := br.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the idle connection is still open after 3 s (read: %v)", err)
	}
}

// The state file is written when the tenant changed, and only then: not
// at start for a file that exists, not for a refused sign-in, not for a
// PATCH that changes nothing.
func TestStateIsWrittenOnlyOnChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	first := newSimWith(t, tenantsim.Options{StatePath: path})
	first.call("POST", "/users", newUserBody("written@"+initialDomain, nil)).want(t, http.StatusCreated)
	first.srv.Close()
	stat := func() os.FileInfo {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	before := stat()
	time.Sleep(20 * time.Millisecond)
	s := newSimWith(t, tenantsim.Options{StatePath: path})
	unchanged := func(what string) {
		t.Helper()
		if after := stat(); !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
			t.Errorf("%s rewrote the state file", what)
		}
	}
	unchanged("starting on an existing state")
	s.tokenRequest(url.Values{"grant_type": {"password"}, "client_id": {tenantsim.PublicClientID},
		"username": {"nobody@" + initialDomain}, "password": {"x"}, "scope": {s.srv.BaseURL() + "/.default"}}).want(t, http.StatusBadRequest)
	unchanged("a refused sign-in")
	s.call("PATCH", "/users/"+meganID, map[string]any{"displayName": "Megan Bowen"}).want(t, http.StatusNoContent)
	unchanged("a PATCH that changes nothing")
	s.call("PATCH", "/users/"+meganID, map[string]any{"displayName": "Megan B."}).want(t, http.StatusNoContent)
	if after := stat(); os.SameFile(before, after) && after.ModTime().Equal(before.ModTime()) {
		t.Errorf("a real change was not written")
	}
}

// Two instances have certificates of their own: their own subject, subject
// key id and authority key id, so that one client trusting both reaches
// each (a verifier that looks issuers up by name alone would otherwise
// check one instance's certificate against the other's key).
func TestEachInstanceHasItsOwnCertificate(t *testing.T) {
	a, b := newSim(t, ""), newSim(t, "")
	pool := x509.NewCertPool()
	var certs []*x509.Certificate
	for _, s := range []*sim{a, b} {
		block, _ := pem.Decode(s.srv.CertPEM())
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.SubjectKeyId) == 0 || !bytes.Equal(c.AuthorityKeyId, c.SubjectKeyId) {
			t.Errorf("subject key id %x, authority key id %x: want both, equal (self-signed)", c.SubjectKeyId, c.AuthorityKeyId)
		}
		certs = append(certs, c)
		pool.AddCert(c)
	}
	if certs[0].Subject.String() == certs[1].Subject.String() || bytes.Equal(certs[0].SubjectKeyId, certs[1].SubjectKeyId) ||
		certs[0].SerialNumber.Cmp(certs[1].SerialNumber) == 0 {
		t.Errorf("two instances share a subject %q, key id %x or serial %v", certs[0].Subject, certs[0].SubjectKeyId, certs[0].SerialNumber)
	}
	for _, s := range []*sim{a, b} {
		conn, err := tls.Dial("tcp", strings.TrimPrefix(s.srv.BaseURL(), "https://"), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
		if err != nil {
			t.Errorf("TLS to %s trusting both instances: %v", s.srv.BaseURL(), err)
			continue
		}
		conn.Close()
	}
}
