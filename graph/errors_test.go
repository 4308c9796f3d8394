package graph_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"mgmtsession/ca"
	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
)

// TestErrorMapping checks that every kind of failure reaches the caller as a
// *graph.Error with Graph's status, code, detail codes and the request id the
// tenant sent, which is what a support ticket needs.
func TestErrorMapping(t *testing.T) {
	type tc struct {
		name     string
		scenario string
		call     func(t *testing.T, srv *tenantsim.Server) error
		method   string // of the logged request the error comes from ("" any)
		path     string // the logged request the error comes from
		status   int
		code     string
		details  []string
		attempts int // requests sent (the SDK retries 429, 503 and 504)
		is       func(error) bool
	}
	cases := []tc{
		{name: "400 validation", path: "/namedLocations", status: 400, code: "BadRequest", attempts: 1,
			call: func(t *testing.T, srv *tenantsim.Server) error {
				_, err := appClient(t, srv).CreateNamedLocation(testCtx(t), allowedIPs("10.20.0.0/16"))
				return err
			}},
		{name: "400 password complexity", path: "/v1.0/users", status: 400, code: "Request_BadRequest", details: []string{"PasswordComplexity"}, attempts: 1,
			call: func(t *testing.T, srv *tenantsim.Server) error {
				_, err := appClient(t, srv).CreateUser(testCtx(t), graph.NewUser{UserPrincipalName: "weak@" + tenantInitialDomain,
					DisplayName: "Weak", MailNickname: "weak", Password: "password", Enabled: true})
				return err
			}},
		{name: "403 operator lacks a role", scenario: "operator-lacks-role", method: "POST", path: "/policies", status: 403, code: "Authorization_RequestDenied", attempts: 1,
			is: graph.IsForbidden,
			call: func(t *testing.T, srv *tenantsim.Server) error {
				c, sess := operatorClient(t, srv)
				if sess.UPN != "lee.gu@contoso-demo.com" {
					t.Fatalf("signed in as %s", sess.UPN)
				}
				// Reading is allowed; the change is not.
				if _, err := c.Policies(testCtx(t)); err != nil {
					t.Fatalf("a Global Reader can read policies: %v", err)
				}
				_, err := c.CreatePolicy(testCtx(t), mfaOutside(meganID, headOfficeID, ca.StateReportOnly))
				return err
			}},
		{name: "404", path: "/users/nobody@" + tenantInitialDomain, status: 404, code: "Request_ResourceNotFound", attempts: 1, is: graph.IsNotFound,
			call: func(t *testing.T, srv *tenantsim.Server) error {
				_, err := appClient(t, srv).User(testCtx(t), "nobody@"+tenantInitialDomain)
				return err
			}},
		{name: "duplicate UPN", path: "/v1.0/users", status: 400, code: "Request_BadRequest", details: []string{"ObjectConflict"}, attempts: 1, is: graph.IsConflict,
			call: func(t *testing.T, srv *tenantsim.Server) error {
				_, err := appClient(t, srv).CreateUser(testCtx(t), graph.NewUser{UserPrincipalName: operatorUPN,
					DisplayName: "Again", MailNickname: "again", Password: strongPassword, Enabled: true})
				return err
			}},
		{name: "409 role already assigned", path: "/roleAssignments", status: 409, details: []string{"ObjectConflict"}, attempts: 1, is: graph.IsConflict,
			call: func(t *testing.T, srv *tenantsim.Server) error {
				_, err := appClient(t, srv).AssignRole(testCtx(t), operatorID, roleGlobalAdmin)
				return err
			}},
		{name: "429 retries exhausted", path: "/organization", status: 429, code: "TooManyRequests", attempts: 4,
			call: func(t *testing.T, srv *tenantsim.Server) error {
				srv.InjectFault(tenantsim.Fault{Path: "/organization", Status: 429, RetryAfter: "0", Times: 4})
				_, err := appClient(t, srv).Organization(testCtx(t))
				return err
			}},
		{name: "500 on a read, retries exhausted", path: "/subscribedSkus", status: 500, code: "generalException", attempts: 4,
			call: func(t *testing.T, srv *tenantsim.Server) error {
				srv.InjectFault(tenantsim.Fault{Path: "/subscribedSkus", Status: 500, RetryAfter: "0", Times: 4})
				_, err := appClient(t, srv).SubscribedSKUs(testCtx(t))
				return err
			}},
		{name: "503 retries exhausted", path: "/transitiveMemberOf", status: 503, code: "serviceNotAvailable", attempts: 4,
			call: func(t *testing.T, srv *tenantsim.Server) error {
				srv.InjectFault(tenantsim.Fault{Path: "/transitiveMemberOf", Status: 503, RetryAfter: "0", Times: 4})
				_, err := appClient(t, srv).UserMemberships(testCtx(t), meganID)
				return err
			}},
		{name: "503 on a hand-built beta request", path: "/authentication/requirements", status: 503, code: "serviceNotAvailable", attempts: 4,
			call: func(t *testing.T, srv *tenantsim.Server) error {
				srv.InjectFault(tenantsim.Fault{Path: "/authentication/requirements", Status: 503, RetryAfter: "0", Times: 4})
				_, err := appClient(t, srv).PerUserMFA(testCtx(t), meganID)
				return err
			}},
		{name: "400 from What If", path: "/evaluate", status: 400, code: "BadRequest", attempts: 1,
			call: func(t *testing.T, srv *tenantsim.Server) error {
				_, err := appClient(t, srv).Evaluate(testCtx(t), graph.WhatIfSignIn{UserID: "nobody", Applications: []string{appExchangeOnline}})
				return err
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := tenant(t, c.scenario)
			err := c.call(t, srv)
			if err == nil {
				t.Fatal("the call succeeded")
			}
			text := safeError(t, err)
			ge := asGraphError(t, err)
			if ge.Status != c.status || (c.code != "" && ge.Code != c.code) {
				t.Errorf("status %d code %q, want %d %q (%s)", ge.Status, ge.Code, c.status, c.code, text)
			}
			for _, d := range c.details {
				if !ge.HasDetail(d) {
					t.Errorf("detail codes %v lack %s", ge.DetailCodes, d)
				}
			}
			if ge.Message == "" || ge.Op == "" || ge.Date == "" {
				t.Errorf("message %q, op %q, date %q: all should be set", ge.Message, ge.Op, ge.Date)
			}
			last := lastRequest(t, srv, c.method, c.path)
			if !guidRE.MatchString(ge.RequestID) || ge.RequestID != last.RequestID {
				t.Errorf("RequestID %q, the tenant sent %q", ge.RequestID, last.RequestID)
			}
			if !strings.Contains(text, ge.RequestID) || !strings.Contains(text, ge.Op) {
				t.Errorf("Error() = %q should name what failed and the request id", text)
			}
			if n := countRequests(srv, c.method, c.path); n != c.attempts {
				t.Errorf("%d requests to %s, want %d", n, c.path, c.attempts)
			}
			if c.is != nil && !c.is(err) {
				t.Errorf("the predicate does not recognise %v", err)
			}
		})
	}
}

// TestErrorsNeverPanic renders every error the adapter can return for bad
// input and failing calls: rendering must never panic (the SDK's own
// ODataError.Error() does when a body lacks error.message).
func TestErrorsNeverPanic(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	c.SetReplicationPolicy(100*time.Millisecond, 20*time.Millisecond)
	ctx := testCtx(t)
	calls := map[string]func() error{
		"malformed range": func() error {
			_, err := c.CreateNamedLocation(ctx, allowedIPs("not-an-address"))
			return err
		},
		"wrong range type": func() error {
			l := allowedIPs("198.51.100.0/24")
			l.IPRanges[0].ODataType = ca.ODataIPv6CidrRange
			_, err := c.CreateNamedLocation(ctx, l)
			return err
		},
		"location without a type": func() error {
			_, err := c.CreateNamedLocation(ctx, ca.NamedLocation{DisplayName: "no type", IPRanges: []ca.IPRange{{CIDRAddress: "198.51.100.0/24"}}})
			return err
		},
		"unknown policy state": func() error {
			_, err := c.CreatePolicy(ctx, mfaOutside(meganID, headOfficeID, "on"))
			return err
		},
		"unknown client app type": func() error {
			p := mfaOutside(meganID, headOfficeID, ca.StateReportOnly)
			p.Conditions.ClientAppTypes = []string{"fax"}
			_, err := c.CreatePolicy(ctx, p)
			return err
		},
		"policy without conditions": func() error {
			_, err := c.CreatePolicy(ctx, ca.Policy{DisplayName: "empty", State: ca.StateDisabled})
			return err
		},
		"update of a missing policy": func() error {
			p := mfaOutside(meganID, headOfficeID, ca.StateReportOnly)
			p.ID = "c0a1b2c3-9999-4000-8000-00000000c999"
			return c.UpdatePolicy(ctx, p)
		},
		"bad per-user MFA state": func() error { return c.SetPerUserMFA(ctx, meganID, "sometimes") },
		"missing user":           func() error { _, err := c.User(ctx, "no-such-user"); return err },
		"What If without apps": func() error {
			_, err := c.Evaluate(ctx, graph.WhatIfSignIn{UserID: meganID})
			return err
		},
		"bad What If address": func() error {
			_, err := c.Evaluate(ctx, graph.WhatIfSignIn{UserID: meganID, Applications: []string{appExchangeOnline}, IPAddress: "999.1.1.1"})
			return err
		},
		"user on a foreign domain": func() error {
			_, err := c.CreateUser(ctx, graph.NewUser{UserPrincipalName: "x@example.com", DisplayName: "x", MailNickname: "x", Password: strongPassword})
			return err
		},
		"bad mail nickname": func() error {
			_, err := c.CreateUser(ctx, graph.NewUser{UserPrincipalName: "y@" + tenantInitialDomain, DisplayName: "y", MailNickname: "a b", Password: strongPassword})
			return err
		},
		"role for a missing principal": func() error {
			_, err := c.AssignRole(ctx, "0a1b2c3d-9999-4000-8000-000000009999", roleGlobalReader)
			return err
		},
		"injected 500 on a write": func() error {
			srv.InjectFault(tenantsim.Fault{Method: "PATCH", Path: "/policies/", Status: 500})
			p, err := c.Policy(ctx, policyMFAAll)
			if err != nil {
				return err
			}
			return c.UpdatePolicy(ctx, p)
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			if err == nil {
				t.Fatal("the call succeeded")
			}
			text := safeError(t, err)
			ge := asGraphError(t, err)
			if ge.Status < 400 || ge.Code == "" || ge.Message == "" || ge.RequestID == "" {
				t.Errorf("%+v (%s)", ge, text)
			}
		})
	}
}

func TestPaging(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	srv.SetPageSize(2)
	srv.ResetRequests()
	ps, err := c.Policies(ctx)
	must(t, err)
	if len(ps) != 8 {
		t.Errorf("%d policies over pages of 2, want 8", len(ps))
	}
	ids := map[string]bool{}
	for _, p := range ps {
		ids[p.ID] = true
	}
	if len(ids) != 8 {
		t.Errorf("%d distinct policies, want 8", len(ids))
	}
	pages, withToken := 0, 0
	for _, r := range srv.Requests() {
		if r.Path == "/v1.0/identity/conditionalAccess/policies" {
			pages++
			if strings.Contains(r.Query, "$skiptoken=") || strings.Contains(r.Query, "%24skiptoken=") {
				withToken++
			}
		}
	}
	if pages != 4 || withToken != 3 {
		t.Errorf("%d page requests, %d with $skiptoken; want 4 and 3", pages, withToken)
	}

	// The $filter survives the nextLink.
	srv.SetPageSize(1)
	found, err := c.FindUsersByPrefix(ctx, "bg.emergency", "megan")
	must(t, err)
	if len(found) != 3 {
		t.Errorf("found %d users over pages of 1, want 3", len(found))
	}
	srv.SetPageSize(3)
	defs, err := c.RoleDefinitions(ctx)
	must(t, err)
	srv.SetPageSize(1000)
	all, err := c.RoleDefinitions(ctx)
	must(t, err)
	if len(defs) != len(all) || len(all) < 10 {
		t.Errorf("%d role definitions over pages of 3, %d in one page", len(defs), len(all))
	}
}

func TestReplicationDelay(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	srv.SetReplicationDelay(2 * time.Second)

	start := time.Now()
	u := newAccount(t, c, "coreview.admin")
	// The new account is not readable yet...
	if _, err := c.User(ctx, u.ID); !graph.IsNotFound(err) {
		t.Fatalf("right after the create: %v, want 404", err)
	}
	// ...and a role assignment is refused until it replicates; the adapter
	// retries and succeeds.
	srv.ResetRequests()
	ra, err := c.AssignRole(ctx, u.ID, roleGlobalReader)
	must(t, err)
	if ra.PrincipalID != u.ID {
		t.Errorf("assignment %+v", ra)
	}
	if time.Since(start) < 1500*time.Millisecond {
		t.Errorf("succeeded after %v, before the replication delay ended", time.Since(start))
	}
	refused, created := 0, 0
	for _, r := range srv.Requests() {
		if r.Method == "POST" && r.Path == "/v1.0/roleManagement/directory/roleAssignments" {
			switch r.Status {
			case 400:
				refused++
			case 201:
				created++
			}
		}
	}
	if refused == 0 || created != 1 {
		t.Errorf("%d refused (400 Not a valid reference update) and %d created role assignment requests; want >0 and 1", refused, created)
	}

	// A policy naming the account, and a location created moments ago,
	// also waits for them (Graph answers 1040 for a location it cannot see
	// yet).
	srv.SetReplicationDelay(500 * time.Millisecond)
	srv.ResetRequests()
	loc, err := c.CreateNamedLocation(ctx, allowedIPs("198.51.100.0/24"))
	must(t, err)
	p, err := c.CreatePolicy(ctx, mfaOutside(u.ID, loc.ID, ca.StateReportOnly))
	must(t, err)
	if p.ID == "" {
		t.Errorf("policy %+v", p)
	}
	if n := countRequests(srv, "POST", "/policies"); n < 2 {
		t.Errorf("%d policy create requests: the location was visible at once, so this tested nothing", n)
	}

	// With a deadline shorter than the delay, the caller learns that
	// replication did not catch up, and still sees Graph's answer.
	late := newAccount(t, c, "late")
	c.SetReplicationPolicy(300*time.Millisecond, 50*time.Millisecond)
	_, err = c.AssignRole(ctx, late.ID, roleGlobalReader)
	if !errors.Is(err, graph.ErrReplicationTimeout) {
		t.Fatalf("AssignRole: %v, want ErrReplicationTimeout", err)
	}
	if ge := asGraphError(t, err); ge.Status != 400 || ge.RequestID == "" {
		t.Errorf("the Graph error behind the timeout: %+v", ge)
	}
	if err := c.UpdateUser(ctx, late.ID, graph.UserPatch{DisplayName: new(string)}); !errors.Is(err, graph.ErrReplicationTimeout) || !graph.IsNotFound(err) {
		t.Errorf("UpdateUser on an unreplicated user: %v", err)
	}
}

func TestWaitUntil(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	srv.SetReplicationDelay(time.Second)
	u := newAccount(t, c, "coreview.admin")
	start := time.Now()
	var reads []bool
	err := c.WaitUntil(ctx, "the new account", 3, func(ctx context.Context) (bool, error) {
		got, err := c.User(ctx, u.ID)
		reads = append(reads, err == nil && got.ID == u.ID)
		return err == nil && got.ID == u.ID, err
	})
	must(t, err)
	if time.Since(start) < 900*time.Millisecond {
		t.Errorf("done after %v, before the account replicated", time.Since(start))
	}
	n := len(reads)
	if n < 4 || reads[0] || !reads[n-1] || !reads[n-2] || !reads[n-3] {
		t.Errorf("reads %v: want failures first, then three good reads in a row", reads)
	}

	// A check that never passes ends at the deadline.
	c.SetReplicationPolicy(300*time.Millisecond, 50*time.Millisecond)
	err = c.WaitUntil(ctx, "a change that never comes", 2, func(context.Context) (bool, error) { return false, nil })
	if !errors.Is(err, graph.ErrReplicationTimeout) || !strings.Contains(err.Error(), "a change that never comes") {
		t.Errorf("never: %v", err)
	}
	// A good read followed by a bad one starts the count again.
	calls := 0
	must(t, c.WaitUntil(ctx, "flapping", 2, func(context.Context) (bool, error) {
		calls++
		return calls != 2, nil // good, bad, good, good
	}))
	if calls != 4 {
		t.Errorf("%d reads, want 4 (the count restarts after a bad read)", calls)
	}
	// An error that is not replication lag ends the wait at once.
	calls = 0
	forbidden := &graph.Error{Op: "reading", Status: 403, Code: "Authorization_RequestDenied"}
	err = c.WaitUntil(ctx, "x", 3, func(context.Context) (bool, error) { calls++; return false, forbidden })
	if !errors.Is(err, forbidden) || calls != 1 {
		t.Errorf("a 403: %v after %d reads", err, calls)
	}
	// So does the context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.WaitUntil(cctx, "x", 3, func(context.Context) (bool, error) { return false, nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestThrottlingWithoutRetryAfter is the one slow test: Conditional Access
// answers 429 without Retry-After, and the SDK then waits its documented
// default of 3 seconds (plus jitter) before retrying.
func TestThrottlingWithoutRetryAfter(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	srv.InjectFault(tenantsim.Fault{Path: "/identity/conditionalAccess/namedLocations", Status: 429})
	start := time.Now()
	locs, err := c.NamedLocations(testCtx(t))
	must(t, err)
	if len(locs) != 2 {
		t.Errorf("%d locations", len(locs))
	}
	if d := time.Since(start); d < 2900*time.Millisecond {
		t.Errorf("retried after %v, sooner than the SDK's 3 s default", d)
	}
	var statuses []int
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/namedLocations") {
			statuses = append(statuses, r.Status)
		}
	}
	if !slices.Equal(statuses, []int{429, 200}) {
		t.Errorf("statuses %v, want 429 then 200", statuses)
	}
}

func TestThrottlingWithRetryAfter(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	srv.InjectFault(tenantsim.Fault{Path: "/organization", Status: 429, RetryAfter: "1"})
	start := time.Now()
	_, err := c.Organization(testCtx(t))
	must(t, err)
	if d := time.Since(start); d < 900*time.Millisecond || d > 2500*time.Millisecond {
		t.Errorf("retried after %v, want about the 1 s Retry-After", d)
	}
}

// TestWritesSurviveThrottling: a POST or PATCH retried after a 429 or 503
// must resend the same compressed body. kiota-http-go orders its default
// middleware at random, and with retry outside compression the retry went
// out as "Content-Encoding: gzip" over a plain body and Graph refused it.
// Several clients are built so that a bad order would show.
func TestWritesSurviveThrottling(t *testing.T) {
	srv := tenant(t, "")
	ctx := testCtx(t)
	for i := range 8 {
		c := appClient(t, srv)
		srv.InjectFault(tenantsim.Fault{Method: "POST", Path: "/v1.0/users", Status: 429, RetryAfter: "0"})
		local := "retried" + string(rune('a'+i))
		u, err := c.CreateUser(ctx, graph.NewUser{UserPrincipalName: local + "@" + tenantInitialDomain, DisplayName: local,
			MailNickname: local, Password: strongPassword, Enabled: true})
		if err != nil {
			t.Fatalf("client %d: create retried after a 429: %s", i, safeError(t, err))
		}
		srv.InjectFault(tenantsim.Fault{Method: "PATCH", Path: "/users/" + u.ID, Status: 503, RetryAfter: "0"})
		name := "Renamed " + local
		if err := c.UpdateUser(ctx, u.ID, graph.UserPatch{DisplayName: &name}); err != nil {
			t.Fatalf("client %d: update retried after a 503: %s", i, safeError(t, err))
		}
		if got, _ := c.User(ctx, u.ID); got.DisplayName != name {
			t.Errorf("client %d: the retried update was not applied: %+v", i, got)
		}
	}
	for _, r := range srv.Requests() {
		if r.Method == "POST" && r.Path == "/v1.0/users" && r.ContentEncoding != "gzip" {
			t.Errorf("a create went out with Content-Encoding %q", r.ContentEncoding)
		}
	}
}

func TestDroppedConnection(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	// A read is sent again after each drop, with the SDK's backoff (3, 6
	// and 12 s): four drops in a row exhaust it.
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	srv.InjectFault(tenantsim.Fault{Path: "/organization", Drop: true, Times: 4})
	_, err := c.Organization(ctx)
	if err == nil {
		t.Fatal("a dropped connection gave no error")
	}
	if ctx.Err() != nil {
		t.Fatal("the call hung until the deadline")
	}
	text := safeError(t, err)
	if !strings.Contains(text, "reading the organization") {
		t.Errorf("error %q does not say what failed", text)
	}
	var ge *graph.Error
	if errors.As(err, &ge) {
		t.Errorf("a dropped connection is not a Graph answer: %+v", ge)
	}
	if n := countRequests(srv, "GET", "/organization"); n != 4 {
		t.Errorf("%d attempts at the read, want 4 (the first and 3 retries)", n)
	}

	// A write is never sent again: the create may have reached Graph.
	srv.InjectFault(tenantsim.Fault{Method: "POST", Path: "/v1.0/users", Drop: true, Times: 5})
	if _, err := c.CreateUser(ctx, graph.NewUser{UserPrincipalName: "dropped@" + tenantInitialDomain, DisplayName: "d",
		MailNickname: "dropped", Password: strongPassword}); err == nil {
		t.Error("a dropped create gave no error")
	}
	if n := countRequests(srv, "POST", "/v1.0/users"); n != 1 {
		t.Errorf("the dropped create was sent %d times, want once", n)
	}
	// The client recovers once the network does.
	for range 6 {
		if _, err := c.Organization(ctx); err == nil {
			return
		}
	}
	t.Error("the client did not recover after the faults")
}

func TestRequestBodiesAreCompressed(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	newAccount(t, c, "zipped")
	if r := lastRequest(t, srv, "POST", "/v1.0/users"); r.ContentEncoding != "gzip" || r.Status != 201 {
		t.Errorf("the create went out with Content-Encoding %q (status %d), want gzip", r.ContentEncoding, r.Status)
	}
	must(t, c.SetPerUserMFA(testCtx(t), meganID, "enabled"))
	if r := lastRequest(t, srv, "PATCH", "/authentication/requirements"); r.ContentEncoding != "gzip" {
		t.Errorf("the hand-built PATCH went out with Content-Encoding %q", r.ContentEncoding)
	}
}

// TestCAPacingAfterThrottle: once the tenant has throttled a Conditional
// Access request, the client spaces the next ones itself instead of meeting
// a 429 (and the SDK's 3 s backoff) on each.
func TestCAPacingAfterThrottle(t *testing.T) {
	srv := tenant(t, "throttled")
	c := appClient(t, srv)
	ctx := testCtx(t)
	for range 2 {
		_, err := c.Policies(ctx)
		must(t, err)
		_, err = c.NamedLocations(ctx)
		must(t, err)
	}
	throttled := 0
	for _, r := range srv.Requests() {
		if strings.Contains(r.Path, "/identity/conditionalAccess/") && r.Status == 429 {
			throttled++
		}
	}
	if throttled != 1 {
		t.Errorf("%d CA requests were throttled, want only the first", throttled)
	}
}
