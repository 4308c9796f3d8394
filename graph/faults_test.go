package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"mgmtsession/assets"
	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
)

// faultTenant is the demo tenant with a management account (whose four
// reads make ReadTenant's second round), 20 more users excluded by id from
// a policy that also excludes a directory role, so that the read set takes
// every path it has: plain reads, users and memberships in $batch, group
// members.
func faultTenant(t testing.TB) *tenantsim.Server {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(assets.DemoTenant, &m); err != nil {
		t.Fatal(err)
	}
	users := m["users"].([]any)
	users = append(users, map[string]any{"id": existingAccountID, "userPrincipalName": existingAccountUPN,
		"displayName": "CoreView management account", "userType": "Member", "accountEnabled": true,
		"passwordPolicies": "DisablePasswordExpiration", "perUserMfaState": "enforced", "methods": []any{"password", "microsoftAuthenticator"}})
	m["roleAssignments"] = append(m["roleAssignments"].([]any), map[string]any{"id": "ra-f1", "principalId": existingAccountID,
		"roleDefinitionId": roleGlobalReader, "directoryScopeId": "/"})
	var excluded []any
	for i := range 20 {
		id := fmt.Sprintf("5a000000-0000-4000-8000-%012d", i)
		excluded = append(excluded, id)
		users = append(users, map[string]any{"id": id, "userPrincipalName": fmt.Sprintf("svc%d@%s", i, tenantInitialDomain),
			"displayName": fmt.Sprintf("Service %d", i), "userType": "Member", "accountEnabled": true, "perUserMfaState": "disabled",
			"methods": []any{"password"}})
	}
	m["users"] = users
	policies := m["policies"].([]any)
	p := policies[1].(map[string]any) // enabled, all users, excludes the emergency-access group
	u := p["conditions"].(map[string]any)["users"].(map[string]any)
	u["excludeUsers"] = excluded
	u["excludeRoles"] = []any{"d29b2b05-8046-44ba-8758-1e26182fcf32"} // Directory Synchronization Accounts
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tenant.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return tenantWith(t, tenantsim.Options{StatePath: path})
}

// loggedOperatorClient is operatorClient with a debug log.
func loggedOperatorClient(t testing.TB, srv *tenantsim.Server, log *slog.Logger) *graph.Client {
	t.Helper()
	cred, err := graph.NewCredential(graph.AuthOptions{
		Method: graph.AuthDeviceCode, TenantID: srv.TenantID(), Cloud: simCloud(srv), Transport: srv.Transport(),
		DisableInstanceDiscovery: true,
		OnDeviceCode: func(_ context.Context, dc graph.DeviceCode) error {
			srv.ApproveDeviceCode(dc.UserCode)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := graph.SignIn(testCtx(t), cred, simCloud(srv)); err != nil {
		t.Fatal(err)
	}
	c, err := graph.New(graph.Config{Cloud: simCloud(srv), Credential: cred, Transport: srv.Transport(), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestReadTenantConvergesAfterDroppedConnections drops the connection of
// every Graph request of the read set once (one blip used to turn a read
// into "0 policies") and shows the product reads the same facts as
// without faults, each read sent again on a fresh connection after the
// SDK's backoff, with one debug-log line per retry and no header or body.
func TestReadTenantConvergesAfterDroppedConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the retry backoff (about 12 s)")
	}
	srv := faultTenant(t)
	var logBuf bytes.Buffer
	c := loggedOperatorClient(t, srv, slog.New(slog.NewTextHandler(&logBuf, nil)))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	srv.ResetRequests()
	want, err := c.ReadTenant(ctx, managementPrefixes)
	must(t, err)
	if errs := failed(want); len(errs) != 0 {
		t.Fatalf("the unfaulted reads failed: %v", errs)
	}
	perPath := map[string]int{}
	for _, r := range srv.Requests() {
		perPath[r.Path]++
	}
	for _, path := range []string{"/v1.0/$batch", "/v1.0/organization", "/identity/conditionalAccess/policies", "/authentication/requirements"} {
		if !strings.Contains(fmt.Sprint(perPath), path) {
			t.Fatalf("the read set made no request to %s: %v", path, perPath)
		}
	}
	drops := 0
	for path, n := range perPath {
		srv.InjectFault(tenantsim.Fault{Path: path, Drop: true, Times: n})
		drops += n
	}

	logBuf.Reset()
	srv.ResetRequests()
	got, err := c.ReadTenant(ctx, managementPrefixes)
	must(t, err)
	if errs := failed(got); len(errs) != 0 {
		t.Fatalf("reads failed after dropped connections: %v", errs)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the facts read through dropped connections differ from those read without")
	}
	dropped := 0
	for _, r := range srv.Requests() {
		if r.Status == 0 {
			dropped++
		}
	}
	if dropped != drops {
		t.Errorf("%d requests dropped, want %d (every request of the read set once)", dropped, drops)
	}
	// net/http itself sends a GET again when a connection it reused
	// drops before answering; every other drop is safeReadRetry's, one
	// line each. A $batch is a POST, which net/http never sends again:
	// each of its drops is in the log.
	log := logBuf.String()
	if n := strings.Count(log, "msg=retry"); n < 1 || n > drops {
		t.Errorf("%d retry lines in the debug log, want 1 to %d:\n%s", n, drops, log)
	}
	if n := strings.Count(log, "msg=retry method=POST path=/v1.0/$batch "); n != perPath["/v1.0/$batch"] {
		t.Errorf("%d $batch retries logged, want %d:\n%s", n, perPath["/v1.0/$batch"], log)
	}
	for _, secret := range []string{"Bearer", "eyJ", "Authorization"} {
		if strings.Contains(log, secret) {
			t.Errorf("the debug log holds %q", secret)
		}
	}
}

// TestServerErrorOnAReadIsRetried: a 500 or 502 on a GET is sent again
// (Retry-After honoured), not on a write.
func TestServerErrorOnAReadIsRetried(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	srv.InjectFault(tenantsim.Fault{Path: "/subscribedSkus", Status: 500, RetryAfter: "0"})
	srv.InjectFault(tenantsim.Fault{Path: "/subscribedSkus", Status: 502, RetryAfter: "0"})
	skus, err := c.SubscribedSKUs(ctx)
	must(t, err)
	if p1, _ := graph.EntraPremium(skus); !p1 || countRequests(srv, "GET", "/subscribedSkus") != 3 {
		t.Errorf("P1 %v after %d requests, want it read on the third", p1, countRequests(srv, "GET", "/subscribedSkus"))
	}
	srv.InjectFault(tenantsim.Fault{Method: "PATCH", Path: "/users/" + meganID, Status: 500, RetryAfter: "0"})
	name := "Megan renamed"
	if err := c.UpdateUser(ctx, meganID, graph.UserPatch{DisplayName: &name}); err == nil {
		t.Error("a write answered 500 was sent again")
	}
	if n := countRequests(srv, "PATCH", "/users/"+meganID); n != 1 {
		t.Errorf("the write was sent %d times, want once", n)
	}
}
