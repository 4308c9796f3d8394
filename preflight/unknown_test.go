package preflight_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"mgmtsession/connect"
	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
	"mgmtsession/preflight"
)

// Checks each read of the read set feeds: when the read fails, none of
// them may pass, and at least one is Unknown and names the read.
var dependents = map[string][]string{
	graph.ReadOrganization:        {"tenant"},
	graph.ReadSubscribedSKUs:      {"licence"},
	graph.ReadSecurityDefaults:    {"security-defaults"},
	graph.ReadOperator:            {"read"},
	graph.ReadOperatorMemberships: {"operator-roles"},
	graph.ReadAccounts:            {"accounts"},
	graph.ReadPolicies:            {"policy-count", "break-glass", "managed-policy"},
	graph.ReadNamedLocations:      {"location-count"},
	graph.ReadRoleDefinitions:     {"read"},
	graph.ReadExcludedUsers:       {"break-glass"},
	graph.ReadExcludedMemberships: {"break-glass"},
	graph.ReadExcludedGroups:      {"break-glass"},
	graph.ReadMemberships:         {"account-roles", "account"},
	graph.ReadPerUserMFA:          {"per-user-mfa"},
	graph.ReadAuthMethods:         {"mfa-methods"},
	graph.ReadSessionState:        {"session-state"},
}

// assertUnknown fails unless a check of ids is Unknown, naming read with
// one of requestIDs (when given), and none of ids passes.
func assertUnknown(t *testing.T, r *preflight.Report, read string, requestIDs []string, ids []string) {
	t.Helper()
	found := false
	for _, c := range r.Checks {
		if !slices.Contains(ids, c.ID) {
			continue
		}
		if c.Result == preflight.Pass {
			t.Errorf("%s passes although %s failed: %+v", c.ID, read, c)
		}
		if c.Result == preflight.Unknown && c.Read == read {
			found = true
			if requestIDs != nil && !slices.Contains(requestIDs, c.RequestID) {
				t.Errorf("%s: request id %q, want one of the failed requests' %v", c.ID, c.RequestID, requestIDs)
			}
		}
	}
	if !found {
		t.Errorf("no unknown check among %v names the failed read %s: %+v", ids, read, r.Checks)
	}
	if n := r.Counts(); n.Unknown == 0 {
		t.Errorf("counts %+v: no unknown check, so status would exit 0", n)
	}
}

// TestBuildEveryFailedReadIsUnknown fails each read of the read set in
// turn, with a management account present so that its reads count too.
func TestBuildEveryFailedReadIsUnknown(t *testing.T) {
	for read, ids := range dependents {
		t.Run(read, func(t *testing.T) {
			f := healthy()
			f.Accounts = []account{{User: graph.User{ID: "a", UserPrincipalName: "coreview.admin@contoso.com", AccountEnabled: true,
				PasswordPolicies: "DisablePasswordExpiration"}, PerUserMFA: "disabled", State: map[string]any{}, Errors: map[string]error{}}}
			err := &graph.Error{Op: "reading", Status: 503, Code: "serviceNotAvailable", Message: "try later", RequestID: "rid-" + read}
			switch read {
			case graph.ReadMemberships, graph.ReadPerUserMFA, graph.ReadAuthMethods, graph.ReadSessionState:
				f.Accounts[0].Errors[read] = err
			default:
				f.Errors[read] = err
			}
			r := f.build()
			assertUnknown(t, r, read, []string{"rid-" + read}, ids)
			if read == graph.ReadSessionState && r.Management != preflight.ManagementUnknown {
				t.Errorf("management %q with the session state unread", r.Management)
			}
		})
	}
}

// TestBuildPoliciesUnreadIsNoZero: the policy read dropped once made status
// say "0 policies" and "no enabled policy, so no account can be locked out".
func TestBuildPoliciesUnreadIsNoZero(t *testing.T) {
	f := healthy()
	f.Policies = nil
	f.Errors[graph.ReadPolicies] = fmt.Errorf("reading the policies: EOF")
	f.Errors[graph.ReadExcludedUsers] = fmt.Errorf("depends on the policies")
	r := f.build()
	if r.Policies != nil || r.BreakGlass != nil {
		t.Errorf("policies %v, break-glass %v: unread is not empty", r.Policies, r.BreakGlass)
	}
	for _, c := range r.Checks {
		if c.ID == "read" {
			t.Errorf("a read the break-glass check already names is repeated: %+v", c)
		}
		if c.ID == "break-glass" && c.Read != graph.ReadPolicies {
			t.Errorf("break-glass names %q, want the policies", c.Read)
		}
	}
}

// signedIn opens the simulated tenant of a scenario and signs in as the
// wizard does.
func signedIn(t *testing.T, scenario string) (*tenantsim.Server, *graph.Client, graph.Session) {
	t.Helper()
	env, err := connect.Open(connect.Options{Demo: true, DemoScenario: scenario})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, sess, err := env.SignIn(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	return env.Sim, client, sess
}

// TestRunEveryReadFailingInTurn makes each Graph read of the read set fail
// on the simulated tenant (a refusal, a server error or throttling that
// outlasts every retry) and runs the real reads and checks: no check that
// depends on the read passes, and one says which read failed and why.
func TestRunEveryReadFailingInTurn(t *testing.T) {
	const account = "0a1b2c3d-00c0-4000-8000-0000000000c0" // scenario account-exists
	cases := []struct {
		scenario, path string
		status         int
		read           string
	}{
		{"", "/v1.0/organization", 500, graph.ReadOrganization},
		{"", "/v1.0/subscribedSkus", 500, graph.ReadSubscribedSKUs},
		{"", "/identitySecurityDefaultsEnforcementPolicy", 403, graph.ReadSecurityDefaults},
		{"", "/v1.0/me/transitiveMemberOf", 429, graph.ReadOperatorMemberships},
		{"", "/v1.0/me", 502, graph.ReadOperator},
		{"", "/v1.0/users", 403, graph.ReadAccounts},
		{"", "/conditionalAccess/policies", 429, graph.ReadPolicies},
		{"", "/conditionalAccess/namedLocations", 500, graph.ReadNamedLocations},
		{"", "/roleDefinitions", 403, graph.ReadRoleDefinitions},
		// The demo's policies exclude one group, read in the read set's
		// only $batch (its two users excluded by id take one plain read).
		{"", "/v1.0/$batch", 500, graph.ReadExcludedGroups},
		{"account-exists", "/users/" + account + "/transitiveMemberOf", 403, graph.ReadMemberships},
		{"account-exists", "/authentication/requirements", 500, graph.ReadPerUserMFA},
		{"account-exists", "/authentication/methods", 503, graph.ReadAuthMethods},
		{"account-exists", "/extensions/", 403, graph.ReadSessionState},
	}
	for _, c := range cases {
		t.Run(c.read, func(t *testing.T) {
			srv, client, sess := signedIn(t, c.scenario)
			// Retry-After 0 keeps the retries (which must all fail too)
			// from costing the test the SDK's backoff.
			srv.InjectFault(tenantsim.Fault{Path: c.path, Status: c.status, RetryAfter: "0", Times: 1000})
			r, err := preflight.Run(context.Background(), client, sess)
			if err != nil {
				t.Fatal(err)
			}
			var rids []string
			for _, rec := range srv.Requests() {
				if rec.Status == c.status {
					rids = append(rids, rec.RequestID)
				}
			}
			assertUnknown(t, r, c.read, rids, dependents[c.read])
		})
	}
}

// TestRunEveryReadThrottled: with every Graph read answering 429, status
// said "Security defaults off" PASS, "Tenant ()" and exited 0. Nothing that
// needs a read may pass now; only the granted scopes, which come with the
// token, are still judged.
func TestRunEveryReadThrottled(t *testing.T) {
	srv, client, sess := signedIn(t, "")
	srv.InjectFault(tenantsim.Fault{Path: "/v1.0/", Status: 429, RetryAfter: "0", Times: 100000})
	r, err := preflight.Run(context.Background(), client, sess)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Checks {
		if c.Result == preflight.Pass && c.ID != "scopes" {
			t.Errorf("%s passes with every read refused: %+v", c.ID, c)
		}
	}
	if r.TenantName != "" || r.SecurityDefaults != nil || r.EntraP1 != nil || r.Policies != nil || r.Management != preflight.ManagementUnknown {
		t.Errorf("unread facts given values: %+v", r)
	}
	if n := r.Counts(); n.Unknown < 8 {
		t.Errorf("counts %+v, want every read-based check unknown", n)
	}
}
