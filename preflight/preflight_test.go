package preflight_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"mgmtsession/ca"
	"mgmtsession/connect"
	"mgmtsession/graph"
	"mgmtsession/preflight"
)

// find returns the first check with the id (and title prefix, when given).
func find(t *testing.T, r *preflight.Report, id, title string) preflight.Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.ID == id && strings.HasPrefix(c.Title, title) {
			return c
		}
	}
	t.Fatalf("no check %q %q in %+v", id, title, r.Checks)
	return preflight.Check{}
}

// tenant is what a read set answers, as plain values, with the reads that
// failed in Errors; build turns it into graph.TenantFacts the way
// ReadTenant fills them, so that each case changes one fact.
type tenant struct {
	sess                 graph.Session
	Org                  graph.Organization
	SKUs                 []graph.SKU
	SecurityDefaults     bool
	OperatorMemberships  graph.Memberships
	RoleDefinitions      []graph.RoleDefinition
	Accounts             []account
	Policies             []ca.Policy
	NamedLocations       []ca.NamedLocation
	ExcludedUsers        []graph.User
	ExcludedMemberships  map[string]graph.Memberships
	ExcludedGroupMembers map[string][]graph.User
	Errors               map[string]error // by graph.Read* name
}

// account is one management account's facts, its failed reads in Errors.
type account struct {
	User        graph.User
	Memberships graph.Memberships
	PerUserMFA  string
	Methods     []graph.AuthMethod
	State       map[string]any
	Errors      map[string]error
}

// read is v as read, or the failure errs holds for name.
func read[T any](errs map[string]error, name string, v T) graph.Read[T] {
	if err, ok := errs[name]; ok {
		return graph.Failed[T](err)
	}
	return graph.Known(v)
}

func (t *tenant) facts() *graph.TenantFacts {
	e := t.Errors
	accounts := make([]graph.AccountFacts, len(t.Accounts))
	for i, a := range t.Accounts {
		accounts[i] = graph.AccountFacts{User: a.User,
			Memberships: read(a.Errors, graph.ReadMemberships, a.Memberships),
			PerUserMFA:  read(a.Errors, graph.ReadPerUserMFA, a.PerUserMFA),
			Methods:     read(a.Errors, graph.ReadAuthMethods, a.Methods),
			State:       read(a.Errors, graph.ReadSessionState, a.State)}
	}
	return &graph.TenantFacts{
		Org:                  read(e, graph.ReadOrganization, t.Org),
		SKUs:                 read(e, graph.ReadSubscribedSKUs, t.SKUs),
		SecurityDefaults:     read(e, graph.ReadSecurityDefaults, t.SecurityDefaults),
		Operator:             read(e, graph.ReadOperator, graph.User{ID: "op", UserPrincipalName: t.sess.UPN}),
		OperatorMemberships:  read(e, graph.ReadOperatorMemberships, t.OperatorMemberships),
		Accounts:             read(e, graph.ReadAccounts, accounts),
		Policies:             read(e, graph.ReadPolicies, t.Policies),
		NamedLocations:       read(e, graph.ReadNamedLocations, t.NamedLocations),
		RoleDefinitions:      read(e, graph.ReadRoleDefinitions, t.RoleDefinitions),
		ExcludedUsers:        read(e, graph.ReadExcludedUsers, t.ExcludedUsers),
		ExcludedMemberships:  read(e, graph.ReadExcludedMemberships, t.ExcludedMemberships),
		ExcludedGroupMembers: read(e, graph.ReadExcludedGroups, t.ExcludedGroupMembers),
	}
}

// healthy is a tenant with nothing wrong: P1, security defaults off, a
// Global Administrator operator with every scope, two break-glass accounts.
func healthy() *tenant {
	bg := func(id string) graph.User {
		return graph.User{ID: id, UserPrincipalName: id + "@contoso.com", AccountEnabled: true}
	}
	return &tenant{
		sess: graph.Session{UPN: "op@contoso.com", Scopes: []string{"Directory.Read.All", "User.ReadWrite.All", "Policy.Read.All",
			"Policy.ReadWrite.ConditionalAccess", "RoleManagement.ReadWrite.Directory", "UserAuthenticationMethod.Read.All",
			"Policy.ReadWrite.SecurityDefaults", "AuditLog.Read.All"}},
		Org: graph.Organization{ID: "t1", DisplayName: "Contoso", VerifiedDomains: []graph.VerifiedDomain{{Name: "contoso.onmicrosoft.com", IsInitial: true}}},
		SKUs: []graph.SKU{{CapabilityStatus: "Enabled", ServicePlans: []graph.ServicePlan{
			{ServicePlanID: graph.PlanP1, ServicePlanName: "AAD_PREMIUM", ProvisioningStatus: "Success"}}}},
		OperatorMemberships: graph.Memberships{Roles: []graph.DirectoryObject{{RoleTemplateID: preflight.RoleGlobalAdmin}}},
		RoleDefinitions: []graph.RoleDefinition{{TemplateID: preflight.RoleGlobalAdmin, DisplayName: "Global Administrator"},
			{TemplateID: "f2ef992c-3afb-46b9-b7cf-a126ee74c451", DisplayName: "Global Reader"}},
		Accounts: []account{},
		Policies: []ca.Policy{{ID: "p1", DisplayName: "MFA all", State: ca.StateEnabled,
			Conditions: ca.Conditions{Users: &ca.Users{IncludeUsers: []string{"All"}, ExcludeUsers: []string{"bg1", "bg2"}}}}},
		NamedLocations:       []ca.NamedLocation{},
		ExcludedUsers:        []graph.User{bg("bg1"), bg("bg2")},
		ExcludedMemberships:  map[string]graph.Memberships{},
		ExcludedGroupMembers: map[string][]graph.User{},
		Errors:               map[string]error{},
	}
}

func (t *tenant) build() *preflight.Report { return preflight.Build(t.sess, t.facts()) }

func TestBuild(t *testing.T) {
	cases := []struct {
		name        string
		change      func(f *tenant)
		id, title   string
		want        preflight.Result
		reason, fix string // substrings
	}{
		{"healthy tenant passes the licence check", func(*tenant) {}, "licence", "", preflight.Pass, "P1 is present", ""},
		{"no P1 fails with how to get it", func(f *tenant) { f.SKUs = nil }, "licence", "", preflight.Fail, "Conditional Access needs one", "Entra ID P1"},
		{"a suspended SKU does not count", func(f *tenant) { f.SKUs[0].CapabilityStatus = "Suspended" }, "licence", "", preflight.Fail, "", ""},
		{"security defaults on fail", func(f *tenant) { f.SecurityDefaults = true }, "security-defaults", "", preflight.Fail, "every privileged role", "Manage security defaults"},
		{"a Global Reader operator cannot do the steps", func(f *tenant) {
			f.OperatorMemberships.Roles[0].RoleTemplateID = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
		}, "operator-roles", "", preflight.Fail, "cannot create the management account", "Global Administrator"},
		{"a missing required scope fails", func(f *tenant) { f.sess.Scopes = f.sess.Scopes[1:] }, "scopes", "", preflight.Fail, "Organization.Read.All or Directory.Read.All", "consent"},
		{"a missing optional scope only warns", func(f *tenant) {
			f.sess.Scopes = f.sess.Scopes[:len(f.sess.Scopes)-1]
		}, "scopes", "", preflight.Warn, "AuditLog.Read.All", ""},
		{"one break-glass account warns", func(f *tenant) { f.ExcludedUsers = f.ExcludedUsers[:1] }, "break-glass", "", preflight.Warn, "recommends two", "second"},
		{"no break-glass account warns", func(f *tenant) { f.ExcludedUsers = nil }, "break-glass", "", preflight.Warn, "lock every administrator out", "emergency access"},
		{"a disabled excluded account is no break-glass", func(f *tenant) { f.ExcludedUsers[1].AccountEnabled = false }, "break-glass", "", preflight.Warn, "recommends two", ""},
		{"exclusion through a group counts", func(f *tenant) {
			f.Policies = append(f.Policies, ca.Policy{State: ca.StateEnabled, Conditions: ca.Conditions{Users: &ca.Users{IncludeUsers: []string{"All"}, ExcludeGroups: []string{"g-bg"}}}})
			f.ExcludedGroupMembers["g-bg"] = f.ExcludedUsers
		}, "break-glass", "", preflight.Pass, "bg1@contoso.com, bg2@contoso.com", ""},
		{"accounts excluded only through a group are found", func(f *tenant) {
			// The usual setup: an emergency-access group excluded from every
			// policy, no account named by id.
			f.Policies[0].Conditions.Users.ExcludeUsers = nil
			f.Policies[0].Conditions.Users.ExcludeGroups = []string{"g-bg"}
			f.ExcludedGroupMembers["g-bg"] = f.ExcludedUsers
			f.ExcludedUsers = nil
		}, "break-glass", "", preflight.Pass, "bg1@contoso.com, bg2@contoso.com", ""},
		{"excluded by role counts for accounts named by id", func(f *tenant) {
			f.Policies = append(f.Policies, ca.Policy{State: ca.StateEnabled, Conditions: ca.Conditions{Users: &ca.Users{IncludeUsers: []string{"All"}, ExcludeRoles: []string{"r-bg"}}}})
			for _, u := range f.ExcludedUsers {
				f.ExcludedMemberships[u.ID] = graph.Memberships{Roles: []graph.DirectoryObject{{RoleTemplateID: "r-bg"}}}
			}
		}, "break-glass", "", preflight.Pass, "bg1@contoso.com, bg2@contoso.com", ""},
		{"an account not excluded from one enabled policy is no break-glass", func(f *tenant) {
			f.Policies = append(f.Policies, ca.Policy{State: ca.StateEnabled, Conditions: ca.Conditions{Users: &ca.Users{IncludeUsers: []string{"All"}}}})
		}, "break-glass", "", preflight.Warn, "excluded from all 2 enabled policies", ""},
		{"per-user MFA enforced on the account fails", func(f *tenant) {
			f.Accounts = []account{{User: graph.User{ID: "a", UserPrincipalName: "coreview.admin@contoso.com", PasswordPolicies: "DisablePasswordExpiration"}, PerUserMFA: "enforced"}}
		}, "per-user-mfa", "", preflight.Fail, "enforced", "disabled"},
		{"an expiring password warns", func(f *tenant) {
			f.Accounts = []account{{User: graph.User{ID: "a", UserPrincipalName: "coreview.admin@contoso.com"}, PerUserMFA: "disabled"}}
		}, "password-expiry", "", preflight.Warn, "expires", "DisablePasswordExpiration"},
		{"registered MFA methods warn, a password does not count", func(f *tenant) {
			f.Accounts = []account{{User: graph.User{ID: "a", UserPrincipalName: "x", PasswordPolicies: "DisablePasswordExpiration"}, PerUserMFA: "disabled",
				Methods: []graph.AuthMethod{{ODataType: "#microsoft.graph.passwordAuthenticationMethod"}, {ODataType: "#microsoft.graph.phoneAuthenticationMethod"}}}}
		}, "mfa-methods", "", preflight.Warn, "Registered: phone.", ""},
		{"the device code block policy switched on warns", func(f *tenant) {
			f.Policies = append(f.Policies, ca.Policy{DisplayName: "Microsoft-managed: Block device code flow", State: ca.StateEnabled})
		}, "managed-policy", "Microsoft-managed: Block device code flow", preflight.Warn, "blocked", "Sign in with the browser"},
		{"a report-only managed policy warns while it covers the account", func(f *tenant) {
			f.Accounts = []account{{User: graph.User{ID: "a", UserPrincipalName: "coreview.admin@contoso.com"}, PerUserMFA: "disabled"}}
			f.Policies = append(f.Policies, ca.Policy{DisplayName: "Microsoft-managed: Multifactor authentication for admins accessing Microsoft Admin Portals", State: ca.StateReportOnly,
				Conditions: ca.Conditions{Users: &ca.Users{IncludeRoles: []string{preflight.RoleGlobalAdmin}}}})
		}, "managed-policy", "Microsoft-managed: Multifactor authentication for admins accessing Microsoft Admin Portals", preflight.Warn, "45 days", "exclude the management account"},
		{"a report-only managed policy the account is excluded from passes", func(f *tenant) {
			f.Accounts = []account{{User: graph.User{ID: "a", UserPrincipalName: "coreview.admin@contoso.com"}, PerUserMFA: "disabled"}}
			f.Policies = append(f.Policies, ca.Policy{DisplayName: "Microsoft-managed: Multifactor authentication for admins accessing Microsoft Admin Portals", State: ca.StateReportOnly,
				Conditions: ca.Conditions{Users: &ca.Users{IncludeRoles: []string{preflight.RoleGlobalAdmin}, ExcludeUsers: []string{"A"}}}})
		}, "managed-policy", "Microsoft-managed: Multifactor authentication for admins accessing Microsoft Admin Portals", preflight.Pass, "coreview.admin@contoso.com is excluded from it", ""},
		{"a forbidden read is unknown with the role fix", func(f *tenant) {
			f.Errors[graph.ReadSubscribedSKUs] = &graph.Error{Op: "reading the licences", Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges", RequestID: "rid-1"}
		}, "licence", "", preflight.Unknown, "rid-1", "lacks a role or scope"},
		{"a read no check needs is unknown, first", func(f *tenant) {
			f.Errors[graph.ReadRoleDefinitions] = &graph.Error{Op: "reading the directory roles", Status: 500, Code: "generalException", Message: "boom", RequestID: "rid-2"}
		}, "read", "Could not read the directory roles", preflight.Unknown, "rid-2", "request id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := healthy()
			c.change(f)
			r := f.build()
			got := find(t, r, c.id, c.title)
			if got.Result != c.want || !strings.Contains(got.Reason, c.reason) || !strings.Contains(got.Fix, c.fix) {
				t.Errorf("got %s %q (fix %q), want %s containing %q (fix %q)", got.Result, got.Reason, got.Fix, c.want, c.reason, c.fix)
			}
			if c.id == "read" && r.Checks[0].ID != "read" {
				t.Errorf("a failed read should come first, got %s", r.Checks[0].ID)
			}
		})
	}
}

func TestBuildManagementState(t *testing.T) {
	f := healthy()
	f.Accounts = []account{{User: graph.User{ID: "a", UserPrincipalName: "coreview.admin@contoso.com", AccountEnabled: true},
		State: map[string]any{"session": "on"}}}
	if got := f.build().Management; got != "ON" {
		t.Errorf("enabled account with the session recorded on: Management %s, want ON", got)
	}
	f.Accounts[0].User.AccountEnabled = false
	if got := f.build().Management; got != "OFF" {
		t.Errorf("disabled account: Management %s, want OFF", got)
	}
}

// TestRunAgainstScenarios runs the real read set against the simulated
// tenant, signed in with the real device code flow, for the scenarios the
// wizard must explain.
func TestRunAgainstScenarios(t *testing.T) {
	cases := []struct {
		scenario string
		id       string
		want     preflight.Result
		reason   string
	}{
		{"default", "break-glass", preflight.Pass, "bg.emergency1@contosodemo.onmicrosoft.com, bg.emergency2@contosodemo.onmicrosoft.com"},
		{"default", "operator-roles", preflight.Pass, "Global Administrator"},
		{"security-defaults-on", "security-defaults", preflight.Fail, "On:"},
		{"no-p1", "licence", preflight.Fail, "No enabled subscription"},
		{"operator-lacks-role", "operator-roles", preflight.Fail, "You hold Global Reader"},
		{"account-exists", "per-user-mfa", preflight.Fail, "enforced"},
		{"account-exists", "mfa-methods", preflight.Warn, "microsoftAuthenticator"},
	}
	for _, c := range cases {
		t.Run(c.scenario+"/"+c.id, func(t *testing.T) {
			env, err := connect.Open(connect.Options{Demo: true, DemoScenario: c.scenario})
			if err != nil {
				t.Fatal(err)
			}
			defer env.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			client, sess, err := env.SignIn(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			r, err := preflight.Run(ctx, client, sess)
			if err != nil {
				t.Fatal(err)
			}
			got := find(t, r, c.id, "")
			if got.Result != c.want || !strings.Contains(got.Reason, c.reason) {
				t.Errorf("got %s %q, want %s containing %q", got.Result, got.Reason, c.want, c.reason)
			}
		})
	}
}

// TestBuildAppOnly: an app-only sign-in has no user and no roles to judge.
func TestBuildAppOnly(t *testing.T) {
	f := healthy()
	f.sess.AppOnly = true
	f.OperatorMemberships = graph.Memberships{}
	f.Errors[graph.ReadOperator] = &graph.Error{Status: 400, Code: "BadRequest", Message: "/me request is only valid with delegated authentication flow."}
	r := f.build()
	if r.Operator != "an application (app-only sign-in)" {
		t.Errorf("operator %q", r.Operator)
	}
	if c := find(t, r, "operator-roles", ""); c.Result != preflight.Info {
		t.Errorf("operator roles for an app: %s %q", c.Result, c.Reason)
	}
	for _, c := range r.Checks {
		if c.ID == "read" {
			t.Errorf("reading /me fails for an app by design, not a finding: %+v", c)
		}
	}
}
