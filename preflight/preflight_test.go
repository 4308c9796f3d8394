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

// healthy is a tenant with nothing wrong: P1, security defaults off, a
// Global Administrator operator with every scope, two break-glass accounts.
type tenant struct {
	sess graph.Session
	*graph.TenantFacts
}

func healthy() *tenant {
	bg := func(id string) graph.User {
		return graph.User{ID: id, UserPrincipalName: id + "@contoso.com", AccountEnabled: true}
	}
	return &tenant{
		sess: graph.Session{UPN: "op@contoso.com", Scopes: []string{"Directory.Read.All", "User.ReadWrite.All", "Policy.Read.All",
			"Policy.ReadWrite.ConditionalAccess", "RoleManagement.ReadWrite.Directory", "UserAuthenticationMethod.Read.All",
			"Policy.ReadWrite.SecurityDefaults", "AuditLog.Read.All"}},
		TenantFacts: &graph.TenantFacts{
			Org: graph.Organization{ID: "t1", DisplayName: "Contoso", VerifiedDomains: []graph.VerifiedDomain{{Name: "contoso.onmicrosoft.com", IsInitial: true}}},
			SKUs: []graph.SKU{{CapabilityStatus: "Enabled", ServicePlans: []graph.ServicePlan{
				{ServicePlanID: graph.PlanP1, ServicePlanName: "AAD_PREMIUM", ProvisioningStatus: "Success"}}}},
			OperatorMemberships: graph.Memberships{Roles: []graph.DirectoryObject{{RoleTemplateID: preflight.RoleGlobalAdmin}}},
			RoleDefinitions: []graph.RoleDefinition{{TemplateID: preflight.RoleGlobalAdmin, DisplayName: "Global Administrator"},
				{TemplateID: "f2ef992c-3afb-46b9-b7cf-a126ee74c451", DisplayName: "Global Reader"}},
			Policies: []ca.Policy{{ID: "p1", DisplayName: "MFA all", State: ca.StateEnabled,
				Conditions: ca.Conditions{Users: &ca.Users{IncludeUsers: []string{"All"}, ExcludeUsers: []string{"bg1", "bg2"}}}}},
			ExcludedUsers:        []graph.User{bg("bg1"), bg("bg2")},
			ExcludedMemberships:  map[string]graph.Memberships{},
			ExcludedGroupMembers: map[string][]graph.User{},
			Errors:               map[string]error{},
		},
	}
}

func (t *tenant) build() *preflight.Report { return preflight.Build(t.sess, t.TenantFacts) }

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
			f.Accounts = []graph.AccountFacts{{User: graph.User{ID: "a", UserPrincipalName: "coreview.admin@contoso.com", PasswordPolicies: "DisablePasswordExpiration"}, PerUserMFA: "enforced"}}
		}, "per-user-mfa", "", preflight.Fail, "enforced", "disabled"},
		{"an expiring password warns", func(f *tenant) {
			f.Accounts = []graph.AccountFacts{{User: graph.User{ID: "a", UserPrincipalName: "coreview.admin@contoso.com"}, PerUserMFA: "disabled"}}
		}, "password-expiry", "", preflight.Warn, "expires", "DisablePasswordExpiration"},
		{"registered MFA methods warn, a password does not count", func(f *tenant) {
			f.Accounts = []graph.AccountFacts{{User: graph.User{ID: "a", UserPrincipalName: "x", PasswordPolicies: "DisablePasswordExpiration"}, PerUserMFA: "disabled",
				Methods: []graph.AuthMethod{{ODataType: "#microsoft.graph.passwordAuthenticationMethod"}, {ODataType: "#microsoft.graph.phoneAuthenticationMethod"}}}}
		}, "mfa-methods", "", preflight.Warn, "Registered: phone.", ""},
		{"the device code block policy switched on warns", func(f *tenant) {
			f.Policies = append(f.Policies, ca.Policy{DisplayName: "Microsoft-managed: Block device code flow", State: ca.StateEnabled})
		}, "managed-policy", "Microsoft-managed: Block device code flow", preflight.Warn, "blocked", "Sign in with the browser"},
		{"a forbidden read fails first with the role fix", func(f *tenant) {
			f.Errors[graph.ReadSubscribedSKUs] = &graph.Error{Op: "reading the licences", Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges", RequestID: "rid-1"}
		}, "read", "Could not read the licences", preflight.Fail, "rid-1", "lacks a role or scope"},
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
	f.Accounts = []graph.AccountFacts{{User: graph.User{ID: "a", UserPrincipalName: "coreview.admin@contoso.com", AccountEnabled: true},
		State: map[string]any{"sessionOn": true}}}
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
