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
	// reported holds the reads an Unknown check already names, so that
	// each failed read is shown once.
	reported map[string]bool
}

// Build judges what was read. It is pure. A check whose input could not be
// read is Unknown and names the read; a failed read no check names gets a
// check of its own, so that no failure goes unsaid.
func Build(sess graph.Session, tf *graph.TenantFacts) *Report {
	f := &facts{TenantFacts: tf, sess: sess, roleNames: map[string]string{}, reported: map[string]bool{}}
	roleDefs, _ := tf.RoleDefinitions.Get()
	for _, rd := range roleDefs {
		f.roleNames[rd.TemplateID] = rd.DisplayName
	}
	r := &Report{
		TenantID:   f.sess.TenantID,
		Operator:   f.sess.UPN,
		Management: ManagementOff,
	}
	if org, ok := f.Org.Get(); ok {
		r.TenantID, r.TenantName, r.InitialDomain = org.ID, org.DisplayName, org.InitialDomain()
		if r.TenantID == "" {
			r.TenantID = f.sess.TenantID
		}
	}
	if f.sess.AppOnly {
		r.Operator = "an application (app-only sign-in)"
		// An app-only sign-in has no signed-in user to read.
		f.reported[graph.ReadOperator], f.reported[graph.ReadOperatorMemberships] = true, true
	}
	if skus, ok := f.SKUs.Get(); ok {
		p1, p2 := graph.EntraPremium(skus)
		r.EntraP1, r.EntraP2 = &p1, &p2
	}
	if on, ok := f.SecurityDefaults.Get(); ok {
		r.SecurityDefaults = &on
	}
	if locs, ok := f.NamedLocations.Get(); ok {
		n := len(locs)
		r.NamedLocations = &n
	}
	if m, ok := f.OperatorMemberships.Get(); ok {
		r.OperatorRoles = f.names(m.RoleTemplateIDs())
	}
	if policies, ok := f.Policies.Get(); ok {
		r.Policies = []Policy{}
		for _, p := range policies {
			r.Policies = append(r.Policies, Policy{ID: p.ID, DisplayName: p.DisplayName, State: p.State, Managed: isManaged(p)})
		}
	}
	var checks []Check
	add := func(c ...Check) { checks = append(checks, c...) }

	add(tenantCheck(f, r))
	add(licenceCheck(f, r))
	add(securityDefaultsCheck(f))
	add(operatorRolesCheck(f))
	add(scopesCheck(f.sess))
	add(accountChecks(f, r)...)
	add(policyCountCheck(f))
	add(locationCountCheck(f))
	add(managedPolicyChecks(f)...)
	add(breakGlassCheck(f, r))
	add(Check{ID: "mandatory-mfa", Title: "Microsoft's mandatory MFA", Result: Warn,
		Reason: "Microsoft demands MFA, whatever Conditional Access says, for the Azure portal, the Entra, Intune and Microsoft 365 admin centres (phase 1) and for creating, changing and deleting through Azure CLI, Azure PowerShell, the Azure mobile app, infrastructure-as-code tools and the ARM REST API (phase 2, from 1 October 2025; a tenant may postpone it to 1 July 2026). The management account will never use those portals, nor write to Azure resources with those tools.",
		Fix:    "Nothing to change: the platform works through Microsoft Graph and Exchange Online PowerShell, which are on neither list."})

	// Reads no check named come first: they make the rest uncertain.
	for _, fl := range f.Failures() {
		if !f.reported[fl.Read] {
			r.Checks = append(r.Checks, readFailure("read", "Could not read "+readLabels[fl.Read], fl.Read, fl.Err))
		}
	}
	r.Checks = append(r.Checks, checks...)
	return r
}

// unknown is the check id/title when read, which it needs, failed with
// err: it says which read failed and why, with Graph's request id.
func (f *facts) unknown(id, title, read string, err error) Check {
	f.reported[read] = true
	return readFailure(id, title, read, err)
}

// firstFailure returns the first of reads (name, error pairs) that failed.
func firstFailure(reads ...graph.Failure) (graph.Failure, bool) {
	for _, r := range reads {
		if r.Err != nil {
			return r, true
		}
	}
	return graph.Failure{}, false
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

// readFailure is an Unknown check: the check id/title could not be judged
// because read failed with err (whose text says what was being read, the
// status and the request id). A read no other check names has a check of
// its own, id "read", titled with it.
func readFailure(id, title, read string, err error) Check {
	reason := "Unknown: " + err.Error()
	if id == "read" {
		reason = err.Error()
	}
	c := Check{ID: id, Title: title, Result: Unknown, Read: read, RequestID: graph.RequestIDOf(err), Reason: reason,
		Fix: "Run the checks again; if it persists, give the request id to Microsoft support."}
	if graph.IsForbidden(err) {
		c.Fix = "The signed-in account lacks a role or scope for this read: sign in as a Global Administrator, or grant the missing scope."
	}
	return c
}

func tenantCheck(f *facts, r *Report) Check {
	if err := f.Org.Err(); err != nil {
		return f.unknown("tenant", "Tenant", graph.ReadOrganization, err)
	}
	return Check{ID: "tenant", Title: "Tenant", Result: Info,
		Reason: fmt.Sprintf("%s, initial domain %s", orUnknown(r.TenantName), orUnknown(r.InitialDomain))}
}

func licenceCheck(f *facts, r *Report) Check {
	const title = "Entra ID P1 licence"
	if err := f.SKUs.Err(); err != nil {
		return f.unknown("licence", title, graph.ReadSubscribedSKUs, err)
	}
	c := Check{ID: "licence", Title: title}
	switch {
	case *r.EntraP2:
		c.Result, c.Reason = Pass, "Entra ID P2 is present, so Conditional Access is available."
	case *r.EntraP1:
		c.Result, c.Reason = Pass, "Entra ID P1 is present, so Conditional Access is available."
	default:
		c.Result = Fail
		c.Reason = "No enabled subscription carries Entra ID P1 or P2, and Conditional Access needs one: allowed-IP protection cannot be set up."
		c.Fix = "Add a licence that includes Entra ID P1 (Microsoft 365 Business Premium, E3, E5, or Entra ID P1 itself), then run preflight again."
	}
	return c
}

func securityDefaultsCheck(f *facts) Check {
	const title = "Security defaults"
	on, ok := f.SecurityDefaults.Get()
	switch {
	case !ok:
		return f.unknown("security-defaults", title, graph.ReadSecurityDefaults, f.SecurityDefaults.Err())
	case !on:
		return Check{ID: "security-defaults", Title: title, Result: Pass,
			Reason: "Off, so Conditional Access decides when MFA is needed."}
	}
	return Check{ID: "security-defaults", Title: title, Result: Fail,
		Reason: "On: they demand MFA of every privileged role at every sign-in, which the management account cannot do, and no Conditional Access policy can be enforced while they are on.",
		Fix:    "Turn security defaults off after Conditional Access policies requiring MFA are in place (Entra admin centre > Overview > Properties > Manage security defaults)."}
}

func operatorRolesCheck(f *facts) Check {
	const title = "Your directory roles"
	if f.sess.AppOnly {
		return Check{ID: "operator-roles", Title: title, Result: Info,
			Reason: "Signed in as an application: its application permissions decide what it may do (see Granted scopes)."}
	}
	m, ok := f.OperatorMemberships.Get()
	if !ok {
		return f.unknown("operator-roles", title, graph.ReadOperatorMemberships, f.OperatorMemberships.Err())
	}
	held := m.RoleTemplateIDs()
	var missing []string
	for _, cap := range capabilities {
		if !slices.ContainsFunc(cap.roles, func(r string) bool { return slices.Contains(held, r) }) {
			missing = append(missing, fmt.Sprintf("%s (needs %s)", cap.what, strings.Join(f.names(cap.roles), " or ")))
		}
	}
	c := Check{ID: "operator-roles", Title: title}
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
	// Granted and missing per later step, so that the operator sees which
	// step a missing scope would stop.
	var required, optional []string
	for _, st := range ByStep(s.Scopes) {
		var req, opt []string
		for _, m := range st.Missing {
			item := strings.Join(m.AnyOf, " or ") + " (" + m.For + ")"
			if m.Optional {
				opt = append(opt, item)
			} else {
				req = append(req, item)
			}
		}
		if len(req) > 0 {
			required = append(required, st.Step+" needs "+strings.Join(req, ", "))
		}
		if len(opt) > 0 {
			optional = append(optional, st.Step+" would use "+strings.Join(opt, ", "))
		}
	}
	c := Check{ID: "scopes", Title: "Granted scopes"}
	switch {
	case len(required) > 0:
		c.Result = Fail
		c.Reason = "Missing: " + strings.Join(append(required, optional...), "; ") + "."
		c.Fix = "An administrator grants consent to these scopes for the app you sign in with."
	case len(optional) > 0:
		c.Result = Warn
		c.Reason = "Missing: " + strings.Join(optional, "; ") + ", which only some paths need."
		c.Fix = "Grant them if you want those paths (turning security defaults off, the live sign-in probe)."
	default:
		c.Result, c.Reason = Pass, "Every scope the later steps need was granted."
	}
	return c
}

func accountChecks(f *facts, r *Report) []Check {
	accounts, ok := f.Accounts.Get()
	if !ok {
		r.Management = ManagementUnknown
		return []Check{f.unknown("accounts", "Management account", graph.ReadAccounts, f.Accounts.Err())}
	}
	r.Accounts = []Account{}
	if len(accounts) == 0 {
		return []Check{{ID: "accounts", Title: "Management account", Result: Info,
			Reason: "None exists yet (looked for " + strings.Join(AccountPrefixes, "*, ") + "*).",
			Fix:    "The Create step makes " + accountName(r.InitialDomain) + "."}}
	}
	var out []Check
	stateUnknown := false
	for _, a := range accounts {
		upn := a.User.UserPrincipalName
		// Each account's reads are named with the account; reported
		// here, they need no check of their own.
		accountUnknown := readFailure
		acc := Account{ID: a.User.ID, UPN: upn, Enabled: a.User.AccountEnabled,
			PasswordExpiry: !strings.Contains(a.User.PasswordPolicies, "DisablePasswordExpiration")}
		state := "disabled"
		if acc.Enabled {
			state = "enabled"
		}
		if m, ok := a.Memberships.Get(); ok {
			acc.Roles = f.names(m.RoleTemplateIDs())
			out = append(out, Check{ID: "account", Title: "Management account", Result: Info,
				Reason: fmt.Sprintf("%s exists (%s) with roles: %s.", upn, state, strings.Join(nonEmpty(acc.Roles), ", "))})
		} else {
			out = append(out, accountUnknown("account-roles", "Roles of "+upn, graph.ReadMemberships, a.Memberships.Err()))
		}
		if st, ok := a.State.Get(); ok {
			// The session record (change.Record) says "session": "on"; in
			// Global Admin mode the account stays enabled either way.
			if on, _ := st["session"].(string); on == "on" && a.User.AccountEnabled {
				r.Management = ManagementOn
			}
		} else if a.User.AccountEnabled {
			stateUnknown = true
			out = append(out, accountUnknown("session-state", "Management session of "+upn, graph.ReadSessionState, a.State.Err()))
		}
		switch mfa, ok := a.PerUserMFA.Get(); {
		case !ok:
			out = append(out, accountUnknown("per-user-mfa", "Per-user MFA of "+upn, graph.ReadPerUserMFA, a.PerUserMFA.Err()))
		case mfa == "enabled" || mfa == "enforced":
			acc.PerUserMFA = mfa
			out = append(out, Check{ID: "per-user-mfa", Title: "Per-user MFA of " + upn, Result: Fail,
				Reason: "Per-user MFA is " + mfa + ": it demands MFA at every sign-in, whatever Conditional Access says.",
				Fix:    "Set per-user MFA to disabled for this account (the Create step does it)."})
		case mfa == "disabled":
			acc.PerUserMFA = mfa
			out = append(out, Check{ID: "per-user-mfa", Title: "Per-user MFA of " + upn, Result: Pass, Reason: "Disabled."})
		default:
			acc.PerUserMFA = mfa
		}
		if methods, ok := a.Methods.Get(); !ok {
			out = append(out, accountUnknown("mfa-methods", "MFA methods of "+upn, graph.ReadAuthMethods, a.Methods.Err()))
		} else {
			for _, m := range methods {
				if m.IsMFA() {
					acc.MFAMethods = append(acc.MFAMethods, m.Kind())
				}
			}
			if len(acc.MFAMethods) > 0 {
				out = append(out, Check{ID: "mfa-methods", Title: "MFA methods of " + upn, Result: Warn,
					Reason: "Registered: " + strings.Join(acc.MFAMethods, ", ") + ". A non-interactive account cannot answer them if a policy asks.",
					Fix:    "Remove the methods, or make sure no policy demands MFA from the allowed IPs (mgmtsession whatif shows this)."})
			}
		}
		if acc.PasswordExpiry {
			out = append(out, Check{ID: "password-expiry", Title: "Password expiry of " + upn, Result: Warn,
				Reason: "The password expires, and the platform would lose access when it does.",
				Fix:    "Set passwordPolicies to DisablePasswordExpiration (the Create step does it)."})
		}
		r.Accounts = append(r.Accounts, acc)
	}
	if stateUnknown && r.Management != ManagementOn {
		r.Management = ManagementUnknown
	}
	return out
}

// accountName is the management account the Create step makes, named on
// the initial domain when it was read.
func accountName(domain string) string {
	if domain == "" {
		return "coreview.admin on the tenant's initial domain"
	}
	return "coreview.admin@" + domain
}

func nonEmpty(xs []string) []string {
	if len(xs) == 0 {
		return []string{"none"}
	}
	return xs
}

func policyCountCheck(f *facts) Check {
	const title = "Conditional Access policies"
	policies, ok := f.Policies.Get()
	if !ok {
		return f.unknown("policy-count", title, graph.ReadPolicies, f.Policies.Err())
	}
	n := len(policies)
	c := Check{ID: "policy-count", Title: title, Result: Pass,
		Reason: fmt.Sprintf("%d policies (enabled, report-only and disabled all count) of the tenant limit of about %d; the setup adds 1.", n, policyLimit)}
	if n+1 > policyLimit-5 {
		c.Result = Warn
		c.Fix = "Delete unused disabled policies before creating the allowed-IP policy."
	}
	return c
}

func locationCountCheck(f *facts) Check {
	const title = "Named locations"
	locations, ok := f.NamedLocations.Get()
	if !ok {
		return f.unknown("location-count", title, graph.ReadNamedLocations, f.NamedLocations.Err())
	}
	n := 0
	for _, l := range locations {
		if l.IsIP() {
			n++
		}
	}
	c := Check{ID: "location-count", Title: title, Result: Pass,
		Reason: fmt.Sprintf("%s of the limit of %d; the setup adds 1.", ipLocations(n), ipLocationLimit)}
	if n+1 > ipLocationLimit {
		c.Result = Fail
		c.Fix = "Delete an unused IP named location first."
	}
	return c
}

func isManaged(p ca.Policy) bool { return strings.HasPrefix(p.DisplayName, ca.ManagedPolicyPrefix) }

// excludedAccounts names the management accounts when p excludes every one
// of them by id; nil when there is none, one is not excluded, or the
// accounts could not be read.
func excludedAccounts(f *facts, p ca.Policy) []string {
	accounts, ok := f.Accounts.Get()
	if !ok || len(accounts) == 0 || p.Conditions.Users == nil {
		return nil
	}
	var names []string
	for _, a := range accounts {
		if !slices.ContainsFunc(p.Conditions.Users.ExcludeUsers, func(id string) bool { return strings.EqualFold(id, a.User.ID) }) {
			return nil
		}
		names = append(names, a.User.UserPrincipalName)
	}
	return names
}

// managedPolicyChecks judges Microsoft-managed policies; none when the
// policies could not be read (policyCountCheck says so).
func managedPolicyChecks(f *facts) []Check {
	var out []Check
	policies, _ := f.Policies.Get()
	for _, p := range policies {
		if !isManaged(p) {
			continue
		}
		c := Check{ID: "managed-policy", Title: p.DisplayName}
		blocksDeviceCode := strings.Contains(p.DisplayName, deviceCodePolicyTemplate)
		excluded := excludedAccounts(f, p)
		switch {
		case blocksDeviceCode && p.State == ca.StateEnabled:
			c.Result = Warn
			c.Reason = "Enabled: device code sign-in (this tool's default over SSH) is blocked for everyone it covers."
			c.Fix = "Sign in with the browser, a certificate or a client secret, or exclude the operators who use device code."
		case p.State == ca.StateReportOnly && !blocksDeviceCode && len(excluded) > 0:
			c.Result = Pass
			c.Reason = "Report-only for now; when Microsoft switches it on it will not affect the platform: " + strings.Join(excluded, ", ") + " is excluded from it."
		case p.State == ca.StateReportOnly:
			c.Result = Warn
			c.Reason = "Report-only for now; Microsoft may switch it on by itself about 45 days after it appeared."
			c.Fix = "Decide before then: exclude the management account if it covers it (mgmtsession whatif shows whether it does)."
			if blocksDeviceCode {
				c.Reason += " Once on, it blocks device code sign-in, this tool's default over SSH."
			}
		case p.State == ca.StateEnabled && len(excluded) > 0:
			c.Result, c.Reason = Info, "Enabled (Microsoft-managed); "+strings.Join(excluded, ", ")+" is excluded from it."
		case p.State == ca.StateEnabled:
			c.Result, c.Reason = Info, "Enabled (Microsoft-managed): mgmtsession whatif shows whether it covers the management account."
		default:
			c.Result, c.Reason = Pass, "Disabled."
		}
		out = append(out, c)
	}
	return out
}

// exclusions is what breakGlassCheck judges, all of it read.
type exclusions struct {
	users       []graph.User
	memberships map[string]graph.Memberships
	groups      map[string][]graph.User
}

// excludedFrom reports whether a policy excludes the user: by id, through
// an excluded group (read as that group's members), or through a role (known
// for the users excluded by id).
func (e exclusions) excludedFrom(p ca.Policy, id string) bool {
	u := p.Conditions.Users
	if u == nil {
		return false
	}
	inGroup := func(g string) bool {
		return slices.ContainsFunc(e.groups[g], func(m graph.User) bool { return m.ID == id })
	}
	roles := e.memberships[id].RoleTemplateIDs()
	return slices.Contains(u.ExcludeUsers, id) || slices.ContainsFunc(u.ExcludeGroups, inGroup) ||
		slices.ContainsFunc(u.ExcludeRoles, func(r string) bool { return slices.Contains(roles, r) })
}

// breakGlassCheck finds the enabled accounts excluded from every enabled
// policy. The candidates are the users policies exclude by id and the
// members of the groups they exclude; an account excluded only through a
// role, never by id or group, is not found. It needs every one of those
// reads: a group that could not be read may hold the break-glass accounts.
func breakGlassCheck(f *facts, r *Report) Check {
	const title = "Break-glass accounts"
	inputs := []graph.Failure{
		{Read: graph.ReadPolicies, Err: f.Policies.Err()},
		{Read: graph.ReadExcludedUsers, Err: f.ExcludedUsers.Err()},
		{Read: graph.ReadExcludedGroups, Err: f.ExcludedGroupMembers.Err()},
		{Read: graph.ReadExcludedMemberships, Err: f.ExcludedMemberships.Err()},
	}
	if failed, ok := firstFailure(inputs...); ok {
		// The reads after a failed one depend on it or on the same
		// policies: one Unknown check says it all.
		for _, in := range inputs {
			f.reported[in.Read] = true
		}
		return f.unknown("break-glass", title, failed.Read, failed.Err)
	}
	policies, _ := f.Policies.Get()
	var e exclusions
	e.users, _ = f.ExcludedUsers.Get()
	e.memberships, _ = f.ExcludedMemberships.Get()
	e.groups, _ = f.ExcludedGroupMembers.Get()
	r.BreakGlass = []string{}
	var enabled []ca.Policy
	for _, p := range policies {
		if p.State == ca.StateEnabled {
			enabled = append(enabled, p)
		}
	}
	c := Check{ID: "break-glass", Title: title}
	if len(enabled) == 0 {
		c.Result, c.Reason = Info, "No enabled policy, so no account can be locked out by Conditional Access yet."
		return c
	}
	candidates := slices.Clone(e.users)
	for _, members := range e.groups {
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
			all = all && e.excludedFrom(p, u.ID)
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

// ipLocations says "1 IP named location", "2 IP named locations".
func ipLocations(n int) string {
	if n == 1 {
		return "1 IP named location"
	}
	return fmt.Sprintf("%d IP named locations", n)
}
