package graph_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"mgmtsession/graph"
)

// SignInLog reads one account's sign-ins by UPN since a time, newest
// first, with the application, the Conditional Access status and the
// policies applied (report-only results included: it sends the Prefer
// header Graph needs for them).
func TestSignInLog(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	u := newAccount(t, c, "signinlog")
	start := time.Now().Add(-time.Second)
	passwordSignIn(t, srv, u.UserPrincipalName, strongPassword, outsideIP)
	passwordSignIn(t, srv, u.UserPrincipalName, "Wrong-"+strongPassword, outsideIP)
	passwordSignIn(t, srv, operatorUPN, "wrong", outsideIP) // someone else's

	got, err := c.SignInLog(ctx, graph.SignInQuery{UPN: strings.ToUpper(u.UserPrincipalName), Since: start})
	must(t, err)
	if len(got) != 2 {
		t.Fatalf("%d entries, want the account's 2: %+v", len(got), got)
	}
	bad, mfa := got[0], got[1]
	if bad.Status.ErrorCode != 50126 || mfa.Status.ErrorCode != 50076 || mfa.IPAddress != outsideIP {
		t.Errorf("entries %+v", got)
	}
	if mfa.CreatedDateTime.Before(start.Truncate(time.Second)) || mfa.AppDisplayName == "" || mfa.UserID != u.ID {
		t.Errorf("entry %+v", mfa)
	}
	if mfa.ConditionalAccessStatus != "failure" || bad.ConditionalAccessStatus != "notApplied" {
		t.Errorf("CA status %q, %q", mfa.ConditionalAccessStatus, bad.ConditionalAccessStatus)
	}
	results := map[string]string{}
	for _, p := range mfa.AppliedPolicies {
		results[p.DisplayName] = p.Result
	}
	if results["CA002: Require MFA for all users"] != "failure" || results["CA005: Require compliant device for Office 365"] != "reportOnlyNotApplied" {
		t.Errorf("policies %v", results)
	}
	q, _ := url.ParseQuery(lastRequest(t, srv, "GET", "/auditLogs/signIns").Query)
	if f := q.Get("$filter"); !strings.Contains(f, "userPrincipalName eq '") || !strings.Contains(f, " and createdDateTime ge 20") || q.Get("$top") != "10" {
		t.Errorf("query %v", q)
	}

	// Nothing after now.
	later, err := c.SignInLog(ctx, graph.SignInQuery{UserID: u.ID, Since: time.Now().Add(time.Minute)})
	must(t, err)
	if len(later) != 0 {
		t.Errorf("since a minute ahead: %+v", later)
	}

	_, err = appClient(t, tenant(t, "no-p1")).SignInLog(ctx, graph.SignInQuery{UserID: u.ID})
	if !graph.IsNoPremium(err) {
		t.Errorf("without P1: %v", err)
	}
	if graph.IsNoPremium(nil) {
		t.Error("IsNoPremium(nil)")
	}
}
