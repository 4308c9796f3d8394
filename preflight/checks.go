package preflight

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"mgmtsession/ca"
	"mgmtsession/graph"
)

// Directory role template ids the checks refer to (GRAPH-NOTES section 6).
const (
	RoleGlobalAdmin          = "62e90394-69f5-4237-9190-012177145e10"
	RoleUserAdmin            = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	RolePrivAuthAdmin        = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
	RoleCAAdmin              = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"
	RoleSecurityAdmin        = "194ae4cb-b126-40b2-bd5b-6091b380977d"
	RolePrivilegedRoleAdmin  = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	RoleAuthenticationAdmin  = "c4e39bd9-1100-46d3-8c65-fb160da0071f"
	policyLimit              = 195 // historic; some tenants report 240 (GRAPH-NOTES 2)
	ipLocationLimit          = 195
	deviceCodePolicyTemplate = "Block device code flow"
)

// AccountPrefixes are the UPN prefixes of management accounts: CoreView's
// convention and the older 4ward365 one.
var AccountPrefixes = []string{"coreview.admin", "4ward365.admin"}

// capability is something the later steps do, and the roles that allow it.
type capability struct {
	what  string
	roles []string
}

var capabilities = []capability{
	{"create the management account", []string{RoleGlobalAdmin, RoleUserAdmin, RolePrivAuthAdmin}},
	{"create and change Conditional Access policies and named locations", []string{RoleGlobalAdmin, RoleCAAdmin, RoleSecurityAdmin}},
	{"assign the account's directory roles", []string{RoleGlobalAdmin, RolePrivilegedRoleAdmin}},
	{"turn per-user MFA off for the account", []string{RoleGlobalAdmin, RoleAuthenticationAdmin, RolePrivAuthAdmin}},
}

// readLabels name graph.ReadTenant's reads for the operator.
var readLabels = map[string]string{
	graph.ReadOrganization:        "the organization",
	graph.ReadSubscribedSKUs:      "the licences",
	graph.ReadSecurityDefaults:    "security defaults",
	graph.ReadOperator:            "the signed-in user",
	graph.ReadOperatorMemberships: "your roles",
	graph.ReadAccounts:            "the management accounts",
	graph.ReadPolicies:            "the Conditional Access policies",
	graph.ReadNamedLocations:      "the named locations",
	graph.ReadRoleDefinitions:     "the directory roles",
	graph.ReadExcludedUsers:       "the accounts policies exclude",
	graph.ReadExcludedMemberships: "the groups of the accounts policies exclude",
	graph.ReadExcludedGroups:      "the members of the groups policies exclude",
	graph.ReadMemberships:         "its roles",
	graph.ReadPerUserMFA:          "its per-user MFA state",
	graph.ReadAuthMethods:         "its authentication methods",
	graph.ReadSessionState:        "its recorded session state",
}

// Run reads the tenant (every read concurrent, see graph.ReadTenant) and
// judges it: the preflight step and the status command.
func Run(ctx context.Context, client *graph.Client, sess graph.Session) (*Report, error) {
	f, err := client.ReadTenant(ctx, AccountPrefixes)
	if err != nil {
		return nil, err
	}
	return Build(sess, f), nil
}

// facts is what Build judges: the tenant as read, and who signed in.
type facts struct {
	*graph.TenantFacts
	sess      graph.Session
	roleNames map[string]string // template id -> display name
}

// Build judges what was read. It is pure.
func Build(sess graph.Session, tf *graph.TenantFacts) *Report {
	f := &facts{TenantFacts: tf, sess: sess, roleNames: map[string]string{}}
	for _, rd := range tf.RoleDefinitions {
		f.roleNames[rd.TemplateID] = rd.DisplayName
	}
	r := &Report{
		TenantID:         f.Org.ID,
		TenantName:       f.Org.DisplayName,
		InitialDomain:    f.Org.InitialDomain(),
		Operator:         f.sess.UPN,
		SecurityDefaults: f.SecurityDefaults,
		NamedLocations:   len(f.NamedLocations),
		Management:       "OFF",
		Accounts:         []Account{},
		BreakGlass:       []string{},
		Policies:         []Policy{},
	}
	if r.TenantID == "" {
		r.TenantID = f.sess.TenantID
	}
	if f.sess.AppOnly {
		r.Operator = "an application (app-only sign-in)"
	}
	r.EntraP1, r.EntraP2 = graph.EntraPremium(f.SKUs)
	r.OperatorRoles = f.names(f.OperatorMemberships.RoleTemplateIDs())
	for _, p := range f.Policies {
		r.Policies = append(r.Policies, Policy{ID: p.ID, DisplayName: p.DisplayName, State: p.State, Managed: isManaged(p)})
	}
	add := func(c Check) { r.Checks = append(r.Checks, c) }

	// Reads that failed come first: they make later checks uncertain.
	names := make([]string, 0, len(f.Errors))
	for n := range f.Errors {
		// An app-only sign-in has no signed-in user to read.
		if !(f.sess.AppOnly && (n == graph.ReadOperator || n == graph.ReadOperatorMemberships)) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		add(readFailure(readLabels[n], f.Errors[n]))
	}

	add(Check{ID: "tenant", Title: "Tenant", Result: Info,
		Reason: fmt.Sprintf("%s, initial domain %s", orUnknown(r.TenantName), orUnknown(r.InitialDomain))})
	add(licenceCheck(f, r))
	add(securityDefaultsCheck(f))
	add(operatorRolesCheck(f))
	add(scopesCheck(f.sess))
	for _, c := range accountChecks(f, r) {
		add(c)
	}
	add(policyCountCheck(f))
	add(locationCountCheck(f))
	for _, c := range managedPolicyChecks(f) {
		add(c)
	}
	add(breakGlassCheck(f, r))
	add(Check{ID: "mandatory-mfa", Title: "Microsoft's mandatory MFA", Result: Warn,
		Reason: "Microsoft demands MFA for the Azure portal, the Entra, Intune and Microsoft 365 admin centres whatever Conditional Access says, so the management account will never use those portals.",
		Fix:    "Nothing to change: the platform works through Microsoft Graph and Exchange Online PowerShell, which are not on that list."})
	return r
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// names turns role template ids into sorted role names.
func (f *facts) names(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if n, ok := f.roleNames[id]; ok {
			out = append(out, n)
		} else {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func readFailure(what string, err error) Check {
	c := Check{ID: "read", Title: "Could not read " + what, Result: Fail, Reason: err.Error(),
		Fix: "Read again; if it persists, give the request id to Microsoft support."}
	if graph.IsForbidden(err) {
		c.Fix = "The signed-in account lacks a role or scope for this read: sign in as a Global Administrator, or grant the missing scope."
	}
	return c
}

func licenceCheck(f *facts, r *Report) Check {
	c := Check{ID: "licence", Title: "Entra ID P1 licence"}
	switch {
	case r.EntraP2:
		c.Result, c.Reason = Pass, "Entra ID P2 is present, so Conditional Access is available."
	case r.EntraP1:
		c.Result, c.Reason = Pass, "Entra ID P1 is present, so Conditional Access is available."
	case f.Err(graph.ReadSubscribedSKUs) != nil:
		c.Result, c.Reason = Warn, "The licences could not be read."
	default:
		c.Result = Fail
		c.Reason = "No enabled subscription carries Entra ID P1 or P2, and Conditional Access needs one: allowed-IP protection cannot be set up."
		c.Fix = "Add a licence that includes Entra ID P1 (Microsoft 365 Business Premium, E3, E5, or Entra ID P1 itself), then run preflight again."
	}
	return c
}

func securityDefaultsCheck(f *facts) Check {
	if !f.SecurityDefaults {
		return Check{ID: "security-defaults", Title: "Security defaults", Result: Pass,
			Reason: "Off, so Conditional Access decides when MFA is needed."}
	}
	return Check{ID: "security-defaults", Title: "Security defaults", Result: Fail,
		Reason: "On: they demand MFA of every privileged role at every sign-in, which the management account cannot do, and no Conditional Access policy can be enforced while they are on.",
		Fix:    "Turn security defaults off after Conditional Access policies requiring MFA are in place (Entra admin centre > Overview > Properties > Manage security defaults)."}
}

func operatorRolesCheck(f *facts) Check {
	if f.sess.AppOnly {
		return Check{ID: "operator-roles", Title: "Your directory roles", Result: Info,
			Reason: "Signed in as an application: its application permissions decide what it may do (see Granted scopes)."}
	}
	held := f.OperatorMemberships.RoleTemplateIDs()
	var missing []string
	for _, cap := range capabilities {
		if !slices.ContainsFunc(cap.roles, func(r string) bool { return slices.Contains(held, r) }) {
			missing = append(missing, fmt.Sprintf("%s (needs %s)", cap.what, strings.Join(f.names(cap.roles), " or ")))
		}
	}
	c := Check{ID: "operator-roles", Title: "Your directory roles"}
	names := f.names(held)
	if len(names) == 0 {
		names = []string{"none"}
	}
	if len(missing) == 0 {
		c.Result = Pass
		c.Reason = "You hold " + strings.Join(names, ", ") + ": enough for every step."
		return c
	}
	c.Result = Fail
	c.Reason = "You hold " + strings.Join(names, ", ") + "; you cannot " + strings.Join(missing, "; ") + "."
	c.Fix = "Sign in as a Global Administrator, or have one assign you the roles named above."
	return c
}

func scopesCheck(s graph.Session) Check {
	missing := Missing(s.Scopes)
	var required, optional []string
	for _, m := range missing {
		if m.Optional {
			optional = append(optional, strings.Join(m.AnyOf, " or "))
		} else {
			required = append(required, strings.Join(m.AnyOf, " or "))
		}
	}
	c := Check{ID: "scopes", Title: "Granted scopes"}
	switch {
	case len(required) > 0:
		c.Result = Fail
		c.Reason = "Missing " + strings.Join(required, ", ") + "."
		c.Fix = "An administrator grants consent to these scopes for the app you sign in with."
	case len(optional) > 0:
		c.Result = Warn
		c.Reason = "Missing " + strings.Join(optional, ", ") + ", which only some paths need."
		c.Fix = "Grant them if you want those paths (turning security defaults off, the live sign-in probe)."
	default:
		c.Result, c.Reason = Pass, "Every scope the later steps need was granted."
	}
	return c
}

func accountChecks(f *facts, r *Report) []Check {
	if len(f.Accounts) == 0 {
		domain := orUnknown(r.InitialDomain)
		return []Check{{ID: "accounts", Title: "Management account", Result: Info,
			Reason: "None exists yet (looked for " + strings.Join(AccountPrefixes, "*, ") + "*).",
			Fix:    "The Create step makes coreview.admin@" + domain + "."}}
	}
	var out []Check
	for _, a := range f.Accounts {
		acc := Account{ID: a.User.ID, UPN: a.User.UserPrincipalName, Enabled: a.User.AccountEnabled,
			Roles: f.names(a.Memberships.RoleTemplateIDs()), PerUserMFA: a.PerUserMFA,
			PasswordExpiry: !strings.Contains(a.User.PasswordPolicies, "DisablePasswordExpiration")}
		for _, m := range a.Methods {
			if m.IsMFA() {
				acc.MFAMethods = append(acc.MFAMethods, m.Kind())
			}
		}
		r.Accounts = append(r.Accounts, acc)
		if on, _ := a.State["sessionOn"].(bool); on && a.User.AccountEnabled {
			r.Management = "ON"
		}
		upn := a.User.UserPrincipalName
		state := "disabled"
		if acc.Enabled {
			state = "enabled"
		}
		out = append(out, Check{ID: "account", Title: "Management account", Result: Info,
			Reason: fmt.Sprintf("%s exists (%s) with roles: %s.", upn, state, strings.Join(nonEmpty(acc.Roles), ", "))})
		reads := make([]string, 0, len(a.Errors))
		for n := range a.Errors {
			reads = append(reads, n)
		}
		slices.Sort(reads)
		for _, n := range reads {
			out = append(out, readFailure(readLabels[n]+" of "+upn, a.Errors[n]))
		}
		switch a.PerUserMFA {
		case "enabled", "enforced":
			out = append(out, Check{ID: "per-user-mfa", Title: "Per-user MFA of " + upn, Result: Fail,
				Reason: "Per-user MFA is " + a.PerUserMFA + ": it demands MFA at every sign-in, whatever Conditional Access says.",
				Fix:    "Set per-user MFA to disabled for this account (the Create step does it)."})
		case "disabled":
			out = append(out, Check{ID: "per-user-mfa", Title: "Per-user MFA of " + upn, Result: Pass, Reason: "Disabled."})
		}
		if len(acc.MFAMethods) > 0 {
			out = append(out, Check{ID: "mfa-methods", Title: "MFA methods of " + upn, Result: Warn,
				Reason: "Registered: " + strings.Join(acc.MFAMethods, ", ") + ". A non-interactive account cannot answer them if a policy asks.",
				Fix:    "Remove the methods, or make sure no policy demands MFA from the allowed IPs (the What If step shows this)."})
		}
		if acc.PasswordExpiry {
			out = append(out, Check{ID: "password-expiry", Title: "Password expiry of " + upn, Result: Warn,
				Reason: "The password expires, and the platform would lose access when it does.",
				Fix:    "Set passwordPolicies to DisablePasswordExpiration (the Create step does it)."})
		}
	}
	return out
}

func nonEmpty(xs []string) []string {
	if len(xs) == 0 {
		return []string{"none"}
	}
	return xs
}

func policyCountCheck(f *facts) Check {
	n := len(f.Policies)
	c := Check{ID: "policy-count", Title: "Conditional Access policies", Result: Pass,
		Reason: fmt.Sprintf("%d policies (enabled, report-only and disabled all count) of the tenant limit of about %d; the setup adds 1.", n, policyLimit)}
	if n+1 > policyLimit-5 {
		c.Result = Warn
		c.Fix = "Delete unused disabled policies before creating the allowed-IP policy."
	}
	return c
}

func locationCountCheck(f *facts) Check {
	n := 0
	for _, l := range f.NamedLocations {
		if l.IsIP() {
			n++
		}
	}
	c := Check{ID: "location-count", Title: "Named locations", Result: Pass,
		Reason: fmt.Sprintf("%d IP named locations of the limit of %d; the setup adds 1.", n, ipLocationLimit)}
	if n+1 > ipLocationLimit {
		c.Result = Fail
		c.Fix = "Delete an unused IP named location first."
	}
	return c
}

func isManaged(p ca.Policy) bool { return strings.HasPrefix(p.DisplayName, ca.ManagedPolicyPrefix) }

func managedPolicyChecks(f *facts) []Check {
	var out []Check
	for _, p := range f.Policies {
		if !isManaged(p) {
			continue
		}
		c := Check{ID: "managed-policy", Title: p.DisplayName}
		blocksDeviceCode := strings.Contains(p.DisplayName, deviceCodePolicyTemplate)
		switch {
		case blocksDeviceCode && p.State == ca.StateEnabled:
			c.Result = Warn
			c.Reason = "Enabled: device code sign-in (this tool's default over SSH) is blocked for everyone it covers."
			c.Fix = "Sign in with the browser, a certificate or a client secret, or exclude the operators who use device code."
		case p.State == ca.StateReportOnly:
			c.Result = Warn
			c.Reason = "Report-only for now; Microsoft may switch it on by itself about 45 days after it appeared."
			c.Fix = "Decide before then: exclude the management account if it covers it (the What If step shows whether it does)."
			if blocksDeviceCode {
				c.Reason += " Once on, it blocks device code sign-in, this tool's default over SSH."
			}
		case p.State == ca.StateEnabled:
			c.Result, c.Reason = Info, "Enabled (Microsoft-managed): the What If step shows whether it covers the management account."
		default:
			c.Result, c.Reason = Pass, "Disabled."
		}
		out = append(out, c)
	}
	return out
}

// excludedFrom reports whether a policy excludes the user: by id, through
// an excluded group (read as that group's members), or through a role (known
// for the users excluded by id).
func (f *facts) excludedFrom(p ca.Policy, id string) bool {
	u := p.Conditions.Users
	if u == nil {
		return false
	}
	inGroup := func(g string) bool {
		return slices.ContainsFunc(f.ExcludedGroupMembers[g], func(m graph.User) bool { return m.ID == id })
	}
	roles := f.ExcludedMemberships[id].RoleTemplateIDs()
	return slices.Contains(u.ExcludeUsers, id) || slices.ContainsFunc(u.ExcludeGroups, inGroup) ||
		slices.ContainsFunc(u.ExcludeRoles, func(r string) bool { return slices.Contains(roles, r) })
}

// breakGlassCheck finds the enabled accounts excluded from every enabled
// policy. The candidates are the users policies exclude by id and the
// members of the groups they exclude; an account excluded only through a
// role, never by id or group, is not found.
func breakGlassCheck(f *facts, r *Report) Check {
	var enabled []ca.Policy
	for _, p := range f.Policies {
		if p.State == ca.StateEnabled {
			enabled = append(enabled, p)
		}
	}
	c := Check{ID: "break-glass", Title: "Break-glass accounts"}
	if len(enabled) == 0 {
		c.Result, c.Reason = Info, "No enabled policy, so no account can be locked out by Conditional Access yet."
		return c
	}
	candidates := slices.Clone(f.ExcludedUsers)
	for _, members := range f.ExcludedGroupMembers {
		candidates = append(candidates, members...)
	}
	seen := map[string]bool{}
	for _, u := range candidates {
		if seen[u.ID] || !u.AccountEnabled {
			continue
		}
		seen[u.ID] = true
		all := true
		for _, p := range enabled {
			all = all && f.excludedFrom(p, u.ID)
		}
		if all {
			r.BreakGlass = append(r.BreakGlass, u.UserPrincipalName)
		}
	}
	slices.Sort(r.BreakGlass)
	switch len(r.BreakGlass) {
	case 0:
		c.Result = Warn
		c.Reason = fmt.Sprintf("No enabled account is excluded from all %d enabled policies: a wrong policy could lock every administrator out.", len(enabled))
		c.Fix = "Create two emergency access accounts and exclude them from every Conditional Access policy (Microsoft's guidance)."
	case 1:
		c.Result = Warn
		c.Reason = r.BreakGlass[0] + " is excluded from every enabled policy; Microsoft recommends two."
		c.Fix = "Add a second emergency access account, excluded the same way."
	default:
		c.Result = Pass
		c.Reason = strings.Join(r.BreakGlass, ", ") + " are excluded from every enabled policy; the setup keeps them excluded."
	}
	return c
}
