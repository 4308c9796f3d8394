package graph_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"testing"
	"time"

	"mgmtsession/ca"
	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
)

var managementPrefixes = []string{"coreview.admin", "4ward365.admin"}

// get returns a read's value, failing the test when the read failed.
func get[T any](t testing.TB, what string, r graph.Read[T]) T {
	t.Helper()
	v, ok := r.Get()
	if !ok {
		t.Fatalf("read %s failed: %v", what, r.Err())
	}
	return v
}

// failed maps the names of the reads that failed, the tenant's and every
// account's, to their errors.
func failed(f *graph.TenantFacts) map[string]error {
	out := map[string]error{}
	for _, fl := range f.Failures() {
		out[fl.Read] = fl.Err
	}
	accounts, _ := f.Accounts.Get()
	for _, a := range accounts {
		for _, fl := range a.Failures() {
			out[a.User.ID+"/"+fl.Read] = fl.Err
		}
	}
	return out
}

func TestReadTenant(t *testing.T) {
	srv := tenant(t, "")
	c, _ := operatorClient(t, srv)
	f, err := c.ReadTenant(testCtx(t), managementPrefixes)
	must(t, err)
	for name, err := range failed(f) {
		t.Errorf("read %s failed: %v", name, err)
	}
	if org := get(t, "organization", f.Org); org.InitialDomain() != tenantInitialDomain {
		t.Errorf("organization %+v", org)
	}
	if p1, _ := graph.EntraPremium(get(t, "skus", f.SKUs)); !p1 {
		t.Errorf("no P1 among the licences")
	}
	if get(t, "security defaults", f.SecurityDefaults) {
		t.Errorf("security defaults read as on")
	}
	op, roles := get(t, "me", f.Operator), get(t, "my memberships", f.OperatorMemberships).RoleTemplateIDs()
	if op.ID != operatorID || !slices.Contains(roles, roleGlobalAdmin) {
		t.Errorf("operator %+v, roles %v", op, roles)
	}
	if accounts := get(t, "accounts", f.Accounts); len(accounts) != 0 {
		t.Errorf("accounts %+v in a tenant without one", accounts)
	}
	policies, locations, roleDefs := get(t, "policies", f.Policies), get(t, "locations", f.NamedLocations), get(t, "roles", f.RoleDefinitions)
	if len(policies) != 8 || len(locations) != 2 || len(roleDefs) < 10 {
		t.Errorf("%d policies, %d locations, %d roles", len(policies), len(locations), len(roleDefs))
	}
	// The break-glass accounts CA001 excludes, with the group that
	// excludes them from the other policies.
	var ids []string
	excluded := get(t, "excluded users", f.ExcludedUsers)
	for _, u := range excluded {
		ids = append(ids, u.ID)
	}
	sort.Strings(ids)
	if !slices.Equal(ids, []string{breakGlass1, breakGlass2}) {
		t.Errorf("excluded users %v, want the two break-glass accounts", ids)
	}
	for _, u := range excluded {
		if !u.AccountEnabled || u.UserType != "Member" {
			t.Errorf("excluded user %+v: enabled and userType must be read", u)
		}
	}
	// No policy of the demo tenant excludes a role: the excluded users'
	// memberships are not needed, so not read.
	if m := get(t, "excluded memberships", f.ExcludedMemberships); len(m) != 0 {
		t.Errorf("memberships %v read although no policy excludes a role", m)
	}
	if n := countRequests(srv, "GET", "/transitiveMemberOf"); n != 1 {
		t.Errorf("%d membership reads, want the operator's only", n)
	}
	// The emergency-access group the other policies exclude, read as its
	// members.
	var members []string
	groups := get(t, "excluded groups", f.ExcludedGroupMembers)
	for _, u := range groups[groupEmergency] {
		members = append(members, u.ID)
	}
	sort.Strings(members)
	if len(groups) != 1 || !slices.Equal(members, []string{breakGlass1, breakGlass2}) {
		t.Errorf("excluded group members %v", groups)
	}
}

func TestReadTenantFindsTheExistingAccount(t *testing.T) {
	srv := tenant(t, "account-exists")
	f, err := appClient(t, srv).ReadTenant(testCtx(t), managementPrefixes)
	must(t, err)
	accounts := get(t, "accounts", f.Accounts)
	if len(accounts) != 1 {
		t.Fatalf("accounts %+v", accounts)
	}
	a := accounts[0]
	if fl := a.Failures(); len(fl) != 0 {
		t.Errorf("account reads failed: %v", fl)
	}
	if a.User.ID != existingAccountID || get(t, "per-user MFA", a.PerUserMFA) != "enforced" ||
		!slices.ContainsFunc(get(t, "methods", a.Methods), func(m graph.AuthMethod) bool { return m.Kind() == "microsoftAuthenticator" }) {
		t.Errorf("account %+v", a)
	}
	if roles := get(t, "memberships", a.Memberships).RoleTemplateIDs(); !slices.Contains(roles, roleGlobalReader) || !slices.Contains(roles, roleExchangeAdmin) {
		t.Errorf("account roles %v", roles)
	}
	// An app-only sign-in has no operator: those reads fail, nothing else.
	errs := failed(f)
	for _, name := range []string{graph.ReadOperator, graph.ReadOperatorMemberships} {
		if errs[name] == nil {
			t.Errorf("read %s did not fail for an app-only sign-in", name)
		}
	}
	if len(errs) != 2 {
		t.Errorf("errors %v, want only the operator's two", errs)
	}
}

// One refused read must not hide the others: preflight shows each check
// with its own cause.
func TestReadTenantKeepsEachFailureApart(t *testing.T) {
	srv := tenant(t, "account-exists")
	// The app was consented without the policy permissions.
	srv.SetConsentedScopes("Organization.Read.All", "User.Read.All", "Directory.Read.All", "RoleManagement.Read.Directory",
		"UserAuthenticationMethod.Read.All")
	c := appClient(t, srv)
	srv.InjectFault(tenantsim.Fault{Path: "/authentication/requirements", Status: 500, RetryAfter: "0", Times: 4})
	f, err := c.ReadTenant(testCtx(t), managementPrefixes)
	must(t, err)
	for name, err := range map[string]error{graph.ReadPolicies: f.Policies.Err(), graph.ReadNamedLocations: f.NamedLocations.Err(),
		graph.ReadSecurityDefaults: f.SecurityDefaults.Err()} {
		if !graph.IsForbidden(err) {
			t.Errorf("read %s: %v, want 403", name, err)
		}
	}
	get(t, "organization", f.Org)
	get(t, "skus", f.SKUs)
	get(t, "roles", f.RoleDefinitions)
	accounts := get(t, "accounts", f.Accounts)
	if len(accounts) != 1 {
		t.Fatalf("accounts %+v", accounts)
	}
	a := accounts[0]
	var ge *graph.Error
	if !errors.As(a.PerUserMFA.Err(), &ge) || ge.Status != 500 || a.PerUserMFA.RequestID() == "" {
		t.Errorf("per-user MFA read: %v, want the 500 with its request id", a.PerUserMFA.Err())
	}
	if mfa, ok := a.PerUserMFA.Get(); ok || mfa != "" {
		t.Errorf("a failed read gave a value: %q", mfa)
	}
	get(t, "methods", a.Methods)
	get(t, "memberships", a.Memberships)
	// What the policies exclude cannot be known without them: unread, not
	// empty, and the failure says why.
	for name, err := range map[string]error{graph.ReadExcludedUsers: f.ExcludedUsers.Err(),
		graph.ReadExcludedGroups: f.ExcludedGroupMembers.Err(), graph.ReadExcludedMemberships: f.ExcludedMemberships.Err()} {
		if !graph.IsForbidden(err) {
			t.Errorf("%s: %v, want the policies' 403", name, err)
		}
	}
}

func TestReadTenantRoundTrips(t *testing.T) {
	srv := tenant(t, "account-exists")
	c, _ := operatorClient(t, srv)
	srv.SetLatency(100 * time.Millisecond)
	srv.ResetRequests()
	start := time.Now()
	f, err := c.ReadTenant(testCtx(t), managementPrefixes)
	must(t, err)
	elapsed := time.Since(start)
	if errs := failed(f); len(errs) != 0 {
		t.Fatalf("errors %v", errs)
	}
	reqs := srv.Requests()
	if rt := tenantsim.RoundTrips(reqs); rt > 3 {
		t.Errorf("%d sequential round trips (%d requests in %v), want at most 3", rt, len(reqs), elapsed)
	}
	if elapsed > 600*time.Millisecond {
		t.Errorf("took %v with 100 ms per request: the reads are not concurrent", elapsed)
	}
}

func TestReadTenantStopsWithTheContext(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	srv.SetLatency(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	f, err := c.ReadTenant(ctx, managementPrefixes)
	if !errors.Is(err, context.DeadlineExceeded) || f == nil {
		t.Fatalf("err %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("returned after %v", time.Since(start))
	}
	if f.Org.Err() == nil {
		t.Errorf("the unfinished reads have no error: %v", failed(f))
	}
}

func TestExcludedUserIDs(t *testing.T) {
	pol := func(state string, exclude ...string) ca.Policy {
		return ca.Policy{State: state, Conditions: ca.Conditions{Users: &ca.Users{IncludeUsers: []string{ca.All}, ExcludeUsers: exclude}}}
	}
	got := graph.ExcludedUserIDs([]ca.Policy{
		pol(ca.StateEnabled, "b", "a", ca.GuestsOrExternalUsers),
		pol(ca.StateReportOnly, "a", "c"),
		pol(ca.StateDisabled, "d"),
		{State: ca.StateEnabled}, // no users condition
	})
	if !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("ExcludedUserIDs = %v, want [a b c]", got)
	}
}
