package preflight_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mgmtsession/assets"
	"mgmtsession/connect"
	"mgmtsession/graph"
	"mgmtsession/preflight"
)

// Ids of the demo tenant the large tenants reuse.
const (
	demoEmergencyGroup = "9b8a7c6d-0004-4000-8000-0000000000a4" // holds the two break-glass accounts
	roleDirSync        = "d29b2b05-8046-44ba-8758-1e26182fcf32" // Directory Synchronization Accounts
)

// shape is a large tenant: users, groups of ten (every tenth nesting the
// group before it), policies in all (the demo's eight included), and the
// users the policies exclude by id: excluded of the tenant's users, and
// missing ids of users deleted since.
type shape struct {
	users, groups, policies int
	excluded, missing       int
}

// writeTenant writes the demo tenant grown to s as a state file. Every
// added policy is enabled for all users and excludes the emergency-access
// group (the usual break-glass set-up) and a few users by id; one also
// excludes the directory-synchronisation role, as tenants with Entra
// Connect do, so that the excluded users' memberships are read too.
func writeTenant(t testing.TB, s shape) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(assets.DemoTenant, &m); err != nil {
		t.Fatal(err)
	}
	domain := "contosodemo.onmicrosoft.com"
	users := m["users"].([]any)
	userIDs := make([]string, s.users)
	for i := range s.users {
		userIDs[i] = fmt.Sprintf("5a000000-0000-4000-8000-%012d", i)
		users = append(users, map[string]any{"id": userIDs[i], "userPrincipalName": fmt.Sprintf("user%d@%s", i, domain),
			"displayName": fmt.Sprintf("User %d", i), "userType": "Member", "accountEnabled": true, "perUserMfaState": "disabled",
			"methods": []any{"password"}})
	}
	groups := m["groups"].([]any)
	var groupIDs []string
	for g := range s.groups {
		id := fmt.Sprintf("6b000000-0000-4000-8000-%012d", g)
		groupIDs = append(groupIDs, id)
		members := []any{}
		for i := range 10 {
			members = append(members, userIDs[(g*10+i)%s.users])
		}
		if g%10 == 1 {
			members = append(members, groupIDs[g-1])
		}
		groups = append(groups, map[string]any{"id": id, "displayName": fmt.Sprintf("Group %d", g), "members": members})
	}
	var excluded []string
	for i := range s.excluded {
		excluded = append(excluded, userIDs[(i*7919)%s.users])
	}
	for i := range s.missing {
		excluded = append(excluded, fmt.Sprintf("7c000000-0000-4000-8000-%012d", i))
	}
	policies := m["policies"].([]any)
	template, err := json.Marshal(policies[1]) // enabled, all users, excludes the emergency group
	if err != nil {
		t.Fatal(err)
	}
	added := s.policies - len(policies)
	for k := range added {
		var p map[string]any
		if err := json.Unmarshal(template, &p); err != nil {
			t.Fatal(err)
		}
		p["id"] = fmt.Sprintf("c1000000-0000-4000-8000-%012d", k)
		p["displayName"] = fmt.Sprintf("CA%03d: Generated policy %d", 100+k, k)
		u := p["conditions"].(map[string]any)["users"].(map[string]any)
		u["excludeGroups"] = []any{demoEmergencyGroup, groupIDs[k%len(groupIDs)]}
		// Spread the excluded ids over the policies, every one named once.
		var ids []any
		for i := k; i < len(excluded); i += added {
			ids = append(ids, excluded[i])
		}
		u["excludeUsers"] = ids
		if k == 0 {
			u["excludeRoles"] = []any{roleDirSync}
		}
		policies = append(policies, p)
	}
	m["users"], m["groups"], m["policies"] = users, groups, policies
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tenant.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// openTenant starts the simulated tenant from a state file and signs in
// as the operator, as status does.
func openTenant(t testing.TB, path string) (*connect.Env, *graph.Client, graph.Session) {
	t.Helper()
	env, err := connect.Open(connect.Options{Demo: true, DemoState: path})
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
	return env, client, sess
}

// TestManyExcludedIDsCostFewRequests: 10,000 excluded ids of users that no
// longer exist cost status 10,682 requests, one membership read each. They
// are now looked up 15 to a read and 20 reads to a $batch, and the ids
// found not to exist are not read again.
func TestManyExcludedIDsCostFewRequests(t *testing.T) {
	env, client, sess := openTenant(t, writeTenant(t, shape{users: 100, groups: 10, policies: 20, excluded: 40, missing: 10000}))
	env.Sim.ResetRequests()
	r, err := preflight.Run(context.Background(), client, sess)
	if err != nil {
		t.Fatal(err)
	}
	if n := r.Counts(); n.Unknown != 0 {
		t.Fatalf("reads failed: %+v", r.Checks)
	}
	reqs := env.Sim.Requests()
	batches, memberships := 0, 0
	for _, q := range reqs {
		switch {
		case q.Path == "/v1.0/$batch":
			batches++
		case len(q.Path) > 19 && q.Path[len(q.Path)-19:] == "/transitiveMemberOf":
			memberships++
		}
	}
	// With the demo's two break-glass ids, ceil(10,042 / 15) = 670 reads
	// in 34 batches, then the memberships of the 42 users that exist in 3;
	// the 21 excluded groups in 1 more; the only membership read of its
	// own is the operator's.
	if batches != 38 || memberships != 1 || len(reqs) > 60 {
		t.Errorf("%d requests (%d $batch, %d single membership reads), want 38 $batch, 1 membership read, at most 60 in all",
			len(reqs), batches, memberships)
	}
	if got := find(t, r, "break-glass", ""); got.Result != preflight.Pass {
		t.Errorf("break-glass %s %q", got.Result, got.Reason)
	}
}

// BenchmarkStatusScale runs what status does after sign-in (every read of
// the read set, then the judgement) against a simulated tenant of 20,000
// users, 2,000 groups and 195 policies that exclude the emergency-access
// group, a group each, 200 of the users and 20 deleted users by id, one a
// directory role; and at a tenth of that size, to show the cost is linear.
// It reports requests/op beside ns/op.
func BenchmarkStatusScale(b *testing.B) {
	for _, s := range []struct {
		name  string
		shape shape
	}{
		{"users=2000", shape{users: 2000, groups: 200, policies: 28, excluded: 20, missing: 2}},
		{"users=20000", shape{users: 20000, groups: 2000, policies: 195, excluded: 200, missing: 20}},
	} {
		b.Run(s.name, func(b *testing.B) {
			env, client, sess := openTenant(b, writeTenant(b, s.shape))
			ctx := context.Background()
			requests := 0
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				env.Sim.ResetRequests()
				b.StartTimer()
				r, err := preflight.Run(ctx, client, sess)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				if n := r.Counts(); n.Unknown != 0 {
					b.Fatalf("reads failed: %+v", r.Checks)
				}
				requests += len(env.Sim.Requests())
				b.StartTimer()
			}
			b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
		})
	}
}
