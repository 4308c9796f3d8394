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

func TestReadTenant(t *testing.T) {
	srv := tenant(t, "")
	c, _ := operatorClient(t, srv)
	f, err := c.ReadTenant(testCtx(t), managementPrefixes)
	must(t, err)
	for name, err := range f.Errors {
		t.Errorf("read %s failed: %v", name, err)
	}
	if f.Org.InitialDomain() != tenantInitialDomain {
		t.Errorf("organization %+v", f.Org)
	}
	if p1, _ := graph.EntraPremium(f.SKUs); !p1 {
		t.Errorf("no P1 among %+v", f.SKUs)
	}
	if f.SecurityDefaults {
		t.Errorf("security defaults read as on")
	}
	if f.Operator.ID != operatorID || !slices.Contains(f.OperatorMemberships.RoleTemplateIDs(), roleGlobalAdmin) {
		t.Errorf("operator %+v, roles %v", f.Operator, f.OperatorMemberships.RoleTemplateIDs())
	}
	if len(f.Accounts) != 0 {
		t.Errorf("accounts %+v in a tenant without one", f.Accounts)
	}
	if len(f.Policies) != 8 || len(f.NamedLocations) != 2 || len(f.RoleDefinitions) < 10 {
		t.Errorf("%d policies, %d locations, %d roles", len(f.Policies), len(f.NamedLocations), len(f.RoleDefinitions))
	}
	// The break-glass accounts CA001 excludes, with the group that
	// excludes them from the other policies.
	var ids []string
	for _, u := range f.ExcludedUsers {
		ids = append(ids, u.ID)
	}
	sort.Strings(ids)
	if !slices.Equal(ids, []string{breakGlass1, breakGlass2}) {
		t.Errorf("excluded users %v, want the two break-glass accounts", ids)
	}
	for _, u := range f.ExcludedUsers {
		if !u.AccountEnabled || u.UserType != "Member" {
			t.Errorf("excluded user %+v: enabled and userType must be read", u)
		}
	}
	for _, id := range []string{breakGlass1, breakGlass2} {
		if m, ok := f.ExcludedMemberships[id]; !ok || !slices.Contains(m.GroupIDs(), groupEmergency) {
			t.Errorf("memberships of %s: %+v", id, m)
		}
	}
	// The emergency-access group the other policies exclude, read as its
	// members.
	var members []string
	for _, u := range f.ExcludedGroupMembers[groupEmergency] {
		members = append(members, u.ID)
	}
	sort.Strings(members)
	if len(f.ExcludedGroupMembers) != 1 || !slices.Equal(members, []string{breakGlass1, breakGlass2}) {
		t.Errorf("excluded group members %v", f.ExcludedGroupMembers)
	}
}

func TestReadTenantFindsTheExistingAccount(t *testing.T) {
	srv := tenant(t, "account-exists")
	f, err := appClient(t, srv).ReadTenant(testCtx(t), managementPrefixes)
	must(t, err)
	if len(f.Accounts) != 1 {
		t.Fatalf("accounts %+v", f.Accounts)
	}
	a := f.Accounts[0]
	if len(a.Errors) != 0 {
		t.Errorf("account reads failed: %v", a.Errors)
	}
	if a.User.ID != existingAccountID || a.PerUserMFA != "enforced" ||
		!slices.ContainsFunc(a.Methods, func(m graph.AuthMethod) bool { return m.Kind() == "microsoftAuthenticator" }) {
		t.Errorf("account %+v", a)
	}
	if roles := a.Memberships.RoleTemplateIDs(); !slices.Contains(roles, roleGlobalReader) || !slices.Contains(roles, roleExchangeAdmin) {
		t.Errorf("account roles %v", roles)
	}
	// An app-only sign-in has no operator: those reads fail, nothing else.
	for _, name := range []string{graph.ReadOperator, graph.ReadOperatorMemberships} {
		if f.Err(name) == nil {
			t.Errorf("read %s did not fail for an app-only sign-in", name)
		}
	}
	if len(f.Errors) != 2 {
		t.Errorf("errors %v, want only the operator's two", f.Errors)
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
	srv.InjectFault(tenantsim.Fault{Path: "/authentication/requirements", Status: 500})
	f, err := c.ReadTenant(testCtx(t), managementPrefixes)
	must(t, err)
	for _, name := range []string{graph.ReadPolicies, graph.ReadNamedLocations, graph.ReadSecurityDefaults} {
		if !graph.IsForbidden(f.Err(name)) {
			t.Errorf("read %s: %v, want 403", name, f.Err(name))
		}
	}
	if f.Org.ID == "" || len(f.SKUs) == 0 || len(f.RoleDefinitions) == 0 || len(f.Accounts) != 1 {
		t.Errorf("the reads that were allowed are missing: org %q, %d skus, %d roles, %d accounts",
			f.Org.ID, len(f.SKUs), len(f.RoleDefinitions), len(f.Accounts))
	}
	a := f.Accounts[0]
	var ge *graph.Error
	if !errors.As(a.Err(graph.ReadPerUserMFA), &ge) || ge.Status != 500 {
		t.Errorf("per-user MFA read: %v, want the 500", a.Err(graph.ReadPerUserMFA))
	}
	if a.PerUserMFA != "" || len(a.Methods) == 0 || len(a.Memberships.Roles) == 0 {
		t.Errorf("account facts %+v", a)
	}
	if f.ExcludedUsers != nil || f.Err(graph.ReadExcludedUsers) != nil {
		t.Errorf("excluded users are read from the policies, which failed: %v", f.ExcludedUsers)
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
	if len(f.Errors) != 0 || len(f.Accounts) != 1 || len(f.Accounts[0].Errors) != 0 {
		t.Fatalf("errors %v, accounts %+v", f.Errors, f.Accounts)
	}
	reqs := srv.Requests()
	if rt := roundTrips(reqs); rt > 3 {
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
	if f.Err(graph.ReadOrganization) == nil {
		t.Errorf("the unfinished reads have no error: %v", f.Errors)
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

// roundTrips is the length of the longest chain of requests each of which
// started after the previous one ended: the sequential round trips a
// reader paid for, whatever ran alongside.
func roundTrips(reqs []tenantsim.RequestRecord) int {
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].Start.Before(reqs[j].Start) })
	chain := make([]int, len(reqs))
	longest := 0
	for i, r := range reqs {
		chain[i] = 1
		for j := range i {
			if !reqs[j].End.After(r.Start) && chain[j]+1 > chain[i] {
				chain[i] = chain[j] + 1
			}
		}
		longest = max(longest, chain[i])
	}
	return longest
}
