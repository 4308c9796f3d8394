package graph_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"mgmtsession/graph"
)

// Contract tests: the real adapter, msgraph-sdk-go and azidentity against
// the simulated tenant over loopback, one test per group of operations.

func TestOrganization(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	org, err := c.Organization(testCtx(t))
	must(t, err)
	if org.ID != srv.TenantID() || org.DisplayName != "Contoso Demo Ltd" {
		t.Errorf("organization %+v, want the tenant %s", org, srv.TenantID())
	}
	if got := org.InitialDomain(); got != tenantInitialDomain {
		t.Errorf("InitialDomain() = %q, want %q", got, tenantInitialDomain)
	}
	if len(org.VerifiedDomains) != 2 {
		t.Errorf("verified domains %+v", org.VerifiedDomains)
	}
	if (graph.Organization{}).InitialDomain() != "" {
		t.Errorf("an organization without domains has no initial domain")
	}
}

func TestSubscribedSKUs(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		p1       bool
	}{{"", true}, {"no-p1", false}} {
		t.Run("scenario="+tc.scenario, func(t *testing.T) {
			srv := tenant(t, tc.scenario)
			skus, err := appClient(t, srv).SubscribedSKUs(testCtx(t))
			must(t, err)
			if len(skus) == 0 || skus[0].SkuPartNumber == "" || len(skus[0].ServicePlans) == 0 {
				t.Fatalf("skus %+v", skus)
			}
			if p1, _ := graph.EntraPremium(skus); p1 != tc.p1 {
				t.Errorf("EntraPremium p1 = %v, want %v (skus %+v)", p1, tc.p1, skus)
			}
		})
	}
}

func TestEntraPremium(t *testing.T) {
	plan := func(id, status string) graph.ServicePlan {
		return graph.ServicePlan{ServicePlanID: id, ProvisioningStatus: status}
	}
	for _, tc := range []struct {
		name   string
		skus   []graph.SKU
		p1, p2 bool
	}{
		{"none", nil, false, false},
		{"P1", []graph.SKU{{CapabilityStatus: "Enabled", ServicePlans: []graph.ServicePlan{plan(graph.PlanP1, "Success")}}}, true, false},
		{"P2 implies P1", []graph.SKU{{CapabilityStatus: "Enabled", ServicePlans: []graph.ServicePlan{plan(graph.PlanP2, "Success")}}}, true, true},
		{"upper-case id", []graph.SKU{{CapabilityStatus: "Enabled", ServicePlans: []graph.ServicePlan{plan("41781FB2-BC02-4B7C-BD55-B576C07BB09D", "Success")}}}, true, false},
		{"suspended SKU", []graph.SKU{{CapabilityStatus: "Suspended", ServicePlans: []graph.ServicePlan{plan(graph.PlanP1, "Success")}}}, false, false},
		{"plan pending", []graph.SKU{{CapabilityStatus: "Enabled", ServicePlans: []graph.ServicePlan{plan(graph.PlanP1, "PendingActivation")}}}, false, false},
	} {
		if p1, p2 := graph.EntraPremium(tc.skus); p1 != tc.p1 || p2 != tc.p2 {
			t.Errorf("%s: EntraPremium = %v, %v; want %v, %v", tc.name, p1, p2, tc.p1, tc.p2)
		}
	}
}

func TestSecurityDefaults(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	on, err := c.SecurityDefaults(ctx)
	must(t, err)
	if on {
		t.Fatal("the default tenant has security defaults off")
	}
	must(t, c.SetSecurityDefaults(ctx, true))
	if on, err = c.SecurityDefaults(ctx); err != nil || !on {
		t.Errorf("after turning on: %v, %v", on, err)
	}
	// Turning off must send isEnabled:false, not leave it out.
	must(t, c.SetSecurityDefaults(ctx, false))
	if on, err = c.SecurityDefaults(ctx); err != nil || on {
		t.Errorf("after turning off: %v, %v", on, err)
	}

	sd := tenant(t, "security-defaults-on")
	if on, err := appClient(t, sd).SecurityDefaults(ctx); err != nil || !on {
		t.Errorf("scenario security-defaults-on: %v, %v", on, err)
	}
}

func TestMeAndMyMemberships(t *testing.T) {
	srv := tenant(t, "")
	c, sess := operatorClient(t, srv)
	ctx := testCtx(t)
	if sess.ObjectID != operatorID || sess.UPN != operatorUPN || sess.AppOnly || !slices.Contains(sess.Scopes, "Policy.ReadWrite.ConditionalAccess") {
		t.Errorf("session %+v", sess)
	}
	me, err := c.Me(ctx)
	must(t, err)
	if me.ID != operatorID || me.UserPrincipalName != operatorUPN || !me.AccountEnabled || me.UserType != "Member" {
		t.Errorf("Me() = %+v", me)
	}
	m, err := c.MyMemberships(ctx)
	must(t, err)
	if !slices.Contains(m.RoleTemplateIDs(), roleGlobalAdmin) {
		t.Errorf("the operator's roles %v lack Global Administrator", m.RoleTemplateIDs())
	}
	if g := m.GroupIDs(); !slices.Contains(g, groupAllStaff) || !slices.Contains(g, groupITDepartment) {
		t.Errorf("the operator's groups %v", g)
	}
	for _, r := range m.Roles {
		if r.DisplayName != "Global Administrator" && r.RoleTemplateID == roleGlobalAdmin {
			t.Errorf("role %+v has no display name", r)
		}
	}

	// App-only sign-ins have no /me: the call fails with Graph's answer.
	_, err = appClient(t, srv).Me(ctx)
	if ge := asGraphError(t, err); ge.Status != 400 {
		t.Errorf("app-only Me(): %v", ge)
	}
}

func TestUserMembershipsAreTransitive(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	// Lee is in IT Helpdesk, which is itself a member of IT Department.
	m, err := c.UserMemberships(testCtx(t), leeID)
	must(t, err)
	for _, g := range []string{groupAllStaff, groupITHelpdesk, groupITDepartment} {
		if !slices.Contains(m.GroupIDs(), g) {
			t.Errorf("Lee's groups %v lack %s", m.GroupIDs(), g)
		}
	}
	bg, err := c.UserMemberships(testCtx(t), breakGlass1)
	must(t, err)
	if !slices.Contains(bg.GroupIDs(), groupEmergency) || !slices.Contains(bg.RoleTemplateIDs(), roleGlobalAdmin) {
		t.Errorf("break-glass memberships %+v", bg)
	}
	if _, err := c.UserMemberships(testCtx(t), "0a1b2c3d-9999-4000-8000-000000009999"); !graph.IsNotFound(err) {
		t.Errorf("memberships of a missing user: %v", err)
	}
}

func TestUserLookups(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	byUPN, err := c.User(ctx, operatorUPN)
	must(t, err)
	byID, err := c.User(ctx, operatorID)
	must(t, err)
	if byUPN.ID != operatorID || byID.UserPrincipalName != operatorUPN {
		t.Errorf("by UPN %+v, by id %+v", byUPN, byID)
	}
	// A guest's UPN has a # and must be escaped in the path.
	guest, err := c.User(ctx, "pat.partner_fabrikam.com#EXT#@contosodemo.onmicrosoft.com")
	must(t, err)
	if guest.UserType != "Guest" {
		t.Errorf("guest %+v", guest)
	}
	_, err = c.User(ctx, "nobody@"+tenantInitialDomain)
	if !graph.IsNotFound(err) {
		t.Errorf("a missing user: %v", err)
	}

	users, err := c.UsersByID(ctx, []string{breakGlass1, breakGlass2, "0a1b2c3d-9999-4000-8000-000000009999"})
	must(t, err)
	if len(users) != 2 || !slices.ContainsFunc(users, func(u graph.User) bool { return u.ID == breakGlass2 }) {
		t.Errorf("UsersByID = %+v, want the two break-glass accounts", users)
	}
	none, err := c.UsersByID(ctx, nil)
	if err != nil || len(none) != 0 {
		t.Errorf("UsersByID(nil) = %v, %v", none, err)
	}

	// More ids than one $filter may hold go out in several requests, and
	// every user found comes back.
	ids := []string{meganID}
	for i := range 20 {
		ids = append(ids, "0a1b2c3d-9999-4000-8000-0000000099"+string(rune('a'+i%6))+string(rune('0'+i%10)))
	}
	ids = append(ids, leeID)
	srv.ResetRequests()
	users, err = c.UsersByID(ctx, ids)
	must(t, err)
	if len(users) != 2 {
		t.Errorf("UsersByID over %d ids found %d users, want 2", len(ids), len(users))
	}
	// Two reads of 15 ids at most, in one $batch.
	if n, b := countRequests(srv, "GET", "/v1.0/users"), countRequests(srv, "POST", "/v1.0/$batch"); n != 0 || b != 1 {
		t.Errorf("%d requests and %d $batch for %d ids, want one $batch (15 ids per read)", n, b, len(ids))
	}
}

func TestFindUsersByPrefix(t *testing.T) {
	ctx := testCtx(t)
	c := appClient(t, tenant(t, ""))
	found, err := c.FindUsersByPrefix(ctx, "coreview.admin", "4ward365.admin")
	must(t, err)
	if len(found) != 0 {
		t.Errorf("the default tenant has no management account, found %+v", found)
	}
	// Prefixes match case-insensitively and an apostrophe is quoted.
	bg, err := c.FindUsersByPrefix(ctx, "BG.Emergency", "o'brien")
	must(t, err)
	if len(bg) != 2 {
		t.Errorf("prefix bg.emergency found %+v", bg)
	}
	// No prefix finds nobody (and must not list the whole directory).
	all, err := c.FindUsersByPrefix(ctx)
	if err != nil || len(all) != 0 {
		t.Errorf("FindUsersByPrefix() = %d users, %v; want none", len(all), err)
	}

	existing := appClient(t, tenant(t, "account-exists"))
	found, err = existing.FindUsersByPrefix(ctx, "coreview.admin", "4ward365.admin")
	must(t, err)
	if len(found) != 1 || found[0].ID != existingAccountID || found[0].UserPrincipalName != existingAccountUPN ||
		found[0].PasswordPolicies != "DisablePasswordExpiration" {
		t.Errorf("account-exists: found %+v", found)
	}
}

func TestUserLifecycle(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	u := newAccount(t, c, "coreview.admin")
	if !guidRE.MatchString(u.ID) || u.UserPrincipalName != "coreview.admin@"+tenantInitialDomain || !u.AccountEnabled ||
		u.PasswordPolicies != "DisablePasswordExpiration" || u.UserType != "Member" {
		t.Errorf("created %+v", u)
	}
	got, err := c.User(ctx, u.ID)
	must(t, err)
	if got.CreatedDateTime == "" {
		t.Errorf("read back without createdDateTime: %+v", got)
	}
	// Graph answers a create with its default properties; the account
	// the caller gets must still be the one it will read back.
	// Raw is each answer's own JSON, which is not the point here.
	got.CreatedDateTime, got.Raw = u.CreatedDateTime, u.Raw
	if !reflect.DeepEqual(got, u) {
		t.Errorf("read back %+v, created %+v", got, u)
	}
	found, err := c.FindUsersByPrefix(ctx, "coreview.admin")
	must(t, err)
	if len(found) != 1 || found[0].ID != u.ID {
		t.Errorf("the new account is not found by prefix: %+v", found)
	}

	// Disable it (the false must be sent), rename it, change its password.
	off, name, pw := false, "CoreView management (off)", "N3w-Pa55word!x"
	must(t, c.UpdateUser(ctx, u.ID, graph.UserPatch{AccountEnabled: &off, DisplayName: &name, Password: &pw}))
	got, err = c.User(ctx, u.ID)
	must(t, err)
	if got.AccountEnabled || got.DisplayName != name {
		t.Errorf("after update %+v", got)
	}
	// Leaving a property nil leaves it alone.
	on := true
	must(t, c.UpdateUser(ctx, u.ID, graph.UserPatch{AccountEnabled: &on}))
	if got, _ = c.User(ctx, u.ID); !got.AccountEnabled || got.DisplayName != name {
		t.Errorf("after enabling %+v", got)
	}

	must(t, c.RevokeSessions(ctx, u.ID))
	if err := c.RevokeSessions(ctx, "0a1b2c3d-9999-4000-8000-000000009999"); !graph.IsNotFound(err) {
		t.Errorf("revoking a missing user's sessions: %v", err)
	}

	must(t, c.DeleteUser(ctx, u.ID))
	if _, err := c.User(ctx, u.ID); !graph.IsNotFound(err) {
		t.Errorf("after delete: %v, want 404", err)
	}
	// Deleting again is not an error: the account is gone either way.
	must(t, c.DeleteUser(ctx, u.ID))
}

func TestAuthMethods(t *testing.T) {
	c := appClient(t, tenant(t, ""))
	methods, err := c.AuthMethods(testCtx(t), operatorID)
	must(t, err)
	var kinds []string
	mfa := 0
	for _, m := range methods {
		kinds = append(kinds, m.Kind())
		if m.IsMFA() {
			mfa++
		}
	}
	if !slices.Equal(kinds, []string{"password", "microsoftAuthenticator", "phone"}) || mfa != 2 {
		t.Errorf("methods %v (%d MFA), want password, microsoftAuthenticator, phone", kinds, mfa)
	}

	existing := appClient(t, tenant(t, "account-exists"))
	methods, err = existing.AuthMethods(testCtx(t), existingAccountID)
	must(t, err)
	if !slices.ContainsFunc(methods, graph.AuthMethod.IsMFA) {
		t.Errorf("the existing account has MFA registered: %+v", methods)
	}
}

func TestPerUserMFA(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	for id, want := range map[string]string{leeID: "enforced", meganID: "disabled"} {
		got, err := c.PerUserMFA(ctx, id)
		must(t, err)
		if got != want {
			t.Errorf("PerUserMFA(%s) = %q, want %q", id, got, want)
		}
	}
	must(t, c.SetPerUserMFA(ctx, leeID, "disabled"))
	if got, err := c.PerUserMFA(ctx, leeID); err != nil || got != "disabled" {
		t.Errorf("after disabling: %q, %v", got, err)
	}
	// It goes to beta: v1.0 has no such endpoint.
	if r := lastRequest(t, srv, "PATCH", "/authentication/requirements"); r.Path != "/beta/users/"+leeID+"/authentication/requirements" || r.Status != 204 {
		t.Errorf("PATCH went to %s (%d)", r.Path, r.Status)
	}
	err := c.SetPerUserMFA(ctx, leeID, "on")
	if ge := asGraphError(t, err); ge.Status != 400 || ge.Code == "" {
		t.Errorf("an unknown state: %v", ge)
	}
	if _, err := c.PerUserMFA(ctx, "0a1b2c3d-9999-4000-8000-000000009999"); !graph.IsNotFound(err) {
		t.Errorf("a missing user: %v", err)
	}
}

func TestExtension(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	const name = "com.coreview.mgmtsession"
	_, found, err := c.Extension(ctx, meganID, name)
	if err != nil || found {
		t.Fatalf("before: found %v, %v", found, err)
	}

	must(t, c.SetExtension(ctx, meganID, name, map[string]any{"state": "on", "autoEnable": true, "version": 1}))
	data, found, err := c.Extension(ctx, meganID, name)
	must(t, err)
	if !found || data["state"] != "on" || data["autoEnable"] != true || data["version"] != float64(1) {
		t.Errorf("after create: found %v, %#v", found, data)
	}
	for _, k := range []string{"@odata.type", "id", "extensionName"} {
		if _, ok := data[k]; ok {
			t.Errorf("the extension's own property %s is among the data", k)
		}
	}

	// Setting it again takes the update path.
	srv.ResetRequests()
	must(t, c.SetExtension(ctx, meganID, name, map[string]any{"state": "off", "autoEnable": false, "version": 1}))
	if n := countRequests(srv, "PATCH", "/extensions/"+name); n != 1 {
		t.Errorf("%d PATCH requests for the update, want 1", n)
	}
	data, _, err = c.Extension(ctx, meganID, name)
	must(t, err)
	if data["state"] != "off" || data["autoEnable"] != false {
		t.Errorf("after update: %#v", data)
	}

	must(t, c.DeleteExtension(ctx, meganID, name))
	if _, found, err := c.Extension(ctx, meganID, name); err != nil || found {
		t.Errorf("after delete: found %v, %v", found, err)
	}
	must(t, c.DeleteExtension(ctx, meganID, name)) // already gone is fine

	// On a user that does not exist (or not yet replicated) the write is
	// retried, then fails with both causes visible.
	c.SetReplicationPolicy(300*time.Millisecond, 50*time.Millisecond)
	err = c.SetExtension(ctx, "0a1b2c3d-9999-4000-8000-000000009999", name, map[string]any{"state": "on"})
	if !errors.Is(err, graph.ErrReplicationTimeout) || !graph.IsNotFound(err) {
		t.Errorf("SetExtension on a missing user: %v", err)
	}
}

func TestRoles(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	defs, err := c.RoleDefinitions(ctx)
	must(t, err)
	i := slices.IndexFunc(defs, func(d graph.RoleDefinition) bool { return d.TemplateID == roleGlobalAdmin })
	if i < 0 || defs[i].DisplayName != "Global Administrator" || !defs[i].IsBuiltIn {
		t.Fatalf("Global Administrator not among %d role definitions", len(defs))
	}

	ras, err := c.RoleAssignments(ctx, operatorID)
	must(t, err)
	if len(ras) != 1 || ras[0].RoleDefinitionID != roleGlobalAdmin || ras[0].PrincipalID != operatorID || ras[0].DirectoryScopeID != "/" {
		t.Errorf("operator's assignments %+v", ras)
	}

	u := newAccount(t, c, "roles.test")
	ra, err := c.AssignRole(ctx, u.ID, roleGlobalReader)
	must(t, err)
	if ra.ID == "" || ra.PrincipalID != u.ID || ra.RoleDefinitionID != roleGlobalReader || ra.DirectoryScopeID != "/" {
		t.Errorf("assignment %+v", ra)
	}
	_, err = c.AssignRole(ctx, u.ID, roleExchangeAdmin)
	must(t, err)
	ras, err = c.RoleAssignments(ctx, u.ID)
	must(t, err)
	if len(ras) != 2 {
		t.Errorf("assignments after two: %+v", ras)
	}
	// Assigning a role twice is a conflict the caller can recognise.
	if _, err := c.AssignRole(ctx, u.ID, roleGlobalReader); !graph.IsConflict(err) {
		t.Errorf("a duplicate assignment: %v, want IsConflict", err)
	}
	m, err := c.UserMemberships(ctx, u.ID)
	must(t, err)
	if !slices.Contains(m.RoleTemplateIDs(), roleGlobalReader) {
		t.Errorf("the role is not among the account's memberships: %v", m.RoleTemplateIDs())
	}

	must(t, c.RemoveRoleAssignment(ctx, ra.ID))
	ras, err = c.RoleAssignments(ctx, u.ID)
	must(t, err)
	if len(ras) != 1 || ras[0].RoleDefinitionID != roleExchangeAdmin {
		t.Errorf("after removing: %+v", ras)
	}
	must(t, c.RemoveRoleAssignment(ctx, ra.ID)) // already gone is fine
}

func TestSignIns(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	u := newAccount(t, c, "probe")
	events, err := c.SignIns(ctx, u.ID, 10)
	must(t, err)
	if len(events) != 0 {
		t.Errorf("a new account has no sign-ins: %+v", events)
	}
	// Two password sign-ins from outside: MFA required (CA002).
	for range 2 {
		passwordSignIn(t, srv, u.UserPrincipalName, strongPassword, outsideIP)
	}
	passwordSignIn(t, srv, operatorUPN, "wrong", outsideIP) // someone else's
	events, err = c.SignIns(ctx, u.ID, 10)
	must(t, err)
	if len(events) != 2 {
		t.Fatalf("%d sign-ins, want the account's 2: %+v", len(events), events)
	}
	if e := events[0]; e.Status.ErrorCode != 50076 || e.IPAddress != outsideIP || e.UserPrincipalName != u.UserPrincipalName || e.CreatedDateTime == "" {
		t.Errorf("newest sign-in %+v", e)
	}
	one, err := c.SignIns(ctx, u.ID, 1)
	must(t, err)
	if len(one) != 1 {
		t.Errorf("top 1 gave %d", len(one))
	}
	if r := lastRequest(t, srv, "GET", "/auditLogs/signIns"); r.Status != 200 {
		t.Errorf("sign-in log read: %+v", r)
	}

	_, err = appClient(t, tenant(t, "no-p1")).SignIns(ctx, u.ID, 10)
	if ge := asGraphError(t, err); ge.Status != 403 || ge.Code != "Authentication_RequestFromNonPremiumTenantOrB2CTenant" {
		t.Errorf("without P1: %v", ge)
	}
}

// TestGroupMembers: transitive members, nested groups included; an unknown
// group is a 404.
func TestGroupMembers(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	// IT Department holds Adele directly and Lee Gu through IT Helpdesk.
	users, err := c.GroupMembers(testCtx(t), "9b8a7c6d-0002-4000-8000-0000000000a2")
	must(t, err)
	var upns []string
	for _, u := range users {
		upns = append(upns, u.UserPrincipalName)
		if !u.AccountEnabled {
			t.Errorf("%s: accountEnabled must be read", u.UserPrincipalName)
		}
	}
	slices.Sort(upns)
	if !slices.Equal(upns, []string{"adele.admin@contoso-demo.com", "lee.gu@contoso-demo.com"}) {
		t.Errorf("members %v", upns)
	}
	if _, err := c.GroupMembers(testCtx(t), "00000000-dead-4000-8000-000000000000"); !graph.IsNotFound(err) {
		t.Errorf("unknown group: %v, want 404", err)
	}
}
