package change

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"mgmtsession/ca"
	"mgmtsession/graph"
	"mgmtsession/whatif"
)

// Kinds of object a change touches.
const (
	ObjAccount        = "account"
	ObjRole           = "roleAssignment"
	ObjNamedLocation  = "namedLocation"
	ObjPolicy         = "policy"
	ObjExclusion      = "exclusion"
	ObjSessionRecord  = "sessionRecord"
	ObjAccountEnabled = "accountEnabled"
	ObjPassword       = "password"
)

// Actions.
const (
	ActCreate  = "create"
	ActUpdate  = "update"
	ActAssign  = "assign"
	ActExclude = "exclude"
	ActRecord  = "record"
	ActEnable  = "enable"
	ActReset   = "reset"
)

// Change is one write of a plan, in the order the plan makes them.
type Change struct {
	Action string `json:"action"`
	Object string `json:"object"`
	// ID is the object's id when it exists (a policy getting an exclusion,
	// a location updated); empty for a create.
	ID string `json:"id,omitempty"`
	// Name says which object, for people: a UPN, a role, a policy name.
	Name string `json:"name"`
	// Ref is the role template id of an assignment.
	Ref string `json:"ref,omitempty"`
	// What lists what an update changes, for people.
	What []string `json:"what,omitempty"`
	// Why says why the change is needed (the What If behind an exclusion).
	Why    string          `json:"why,omitempty"`
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
	// RequestID is Graph's id for the write, once made (for Microsoft
	// support).
	RequestID string `json:"requestId,omitempty"`
}

// Plan is the ordered list of changes that make the tenant hold the desired
// state, with what the operator must know before approving it.
type Plan struct {
	TenantID   string   `json:"tenantId"`
	TenantName string   `json:"tenantName,omitempty"`
	Mode       string   `json:"mode"`
	UPN        string   `json:"userPrincipalName"`
	AllowedIPs []string `json:"allowedIPs"`
	Changes    []Change `json:"changes"`
	Warnings   []string `json:"warnings"`
	// Exclusions are the tenant policies the account is (or will be)
	// excluded from, with why.
	Exclusions []Exclusion `json:"exclusions"`
	// Record is the session record the tenant holds once the plan is
	// applied (Since and By are set when it is written).
	Record Record `json:"record"`

	desired Desired
	facts   *Facts
}

// Exclusion is a tenant policy the management account is excluded from.
type Exclusion struct {
	PolicyID    string `json:"policyId"`
	DisplayName string `json:"displayName"`
	State       string `json:"state"`
	// Why names what the policy would do to the account from the allowed
	// IPs; empty for a policy given explicitly.
	Why     string `json:"why,omitempty"`
	Present bool   `json:"present"` // the exclusion is already in place
}

// Empty reports whether the tenant already holds the desired state.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Desired is the desired state the plan was made for.
func (p *Plan) Desired() Desired { return p.desired }

// Facts are the facts the plan was made from.
func (p *Plan) Facts() *Facts { return p.facts }

// RefusedError is a plan refused by a guard: nothing may be written. Cause
// says what is wrong and Fix what to do.
type RefusedError struct {
	Cause, Fix string
}

func (e *RefusedError) Error() string {
	return "refused, nothing written: " + e.Cause + ". Fix: " + e.Fix
}

// Limits of the tenant this plan checks before writing (GRAPH-NOTES sections
// 2 and 3): the IP named location limit is documented; the policy limit is
// not certain, so it only warns and the create's own error is reported.
const (
	maxNamedLocations  = 195
	policyLimitWarning = 195
)

// placeholderAccountID stands for the account's object id before it exists:
// the What If of the planned policy set needs the account in the policy it
// will be in.
const placeholderAccountID = "00000000-0000-4000-8000-00000000acc7"

// outsideProbes are the addresses used for "a sign-in from outside the
// allowed IPs": the What If sweep's documentation addresses, which no
// allowed range may hold (SPEC section 7 refuses reserved ranges), so the
// first always serves, and the pictures of the wizard, plan and sweep name
// the same place.
var outsideProbes = func() []netip.Addr {
	var out []netip.Addr
	for _, c := range whatif.OutsideCandidates {
		out = append(out, netip.MustParseAddr(c))
	}
	return append(out, netip.MustParseAddr("2001:db8::77"))
}()

// MakePlan compares the desired state with the tenant and lists the changes,
// in dependency order, that make the tenant hold it. It is pure: the facts
// were read before, and nothing is written. Guards that refuse return a
// *RefusedError; an explicit policy id that does not exist is an
// *InputError.
func MakePlan(d Desired, f *Facts) (*Plan, error) {
	upn, err := d.DefaultUPN(f.InitialDomain)
	if err != nil {
		return nil, err
	}
	p := &Plan{TenantID: f.TenantID, TenantName: f.TenantName, Mode: string(d.Account.Mode), UPN: upn,
		AllowedIPs: prefixStrings(d.AllowedIPs), Changes: []Change{}, Warnings: []string{}, Exclusions: []Exclusion{},
		desired: d, facts: f}
	if err := guardTenant(f); err != nil {
		return nil, err
	}
	acct := f.Account
	var rec Record
	if acct != nil && acct.Record != nil {
		rec = *acct.Record
	}
	if err := guardAccount(d, f, upn); err != nil {
		return nil, err
	}
	rec.Mode = d.Account.Mode
	rec.AutoEnable = d.AutoEnable
	rec.AllowedIPs = p.AllowedIPs
	rec.PolicyState = d.PolicyState
	rec.Roles = []string{}
	for _, r := range d.Account.Roles {
		rec.Roles = append(rec.Roles, r.TemplateID)
	}
	accountID := placeholderAccountID
	switch {
	case acct != nil:
		accountID = acct.User.ID
		if acct.Record == nil && d.Account.Mode == ServiceAccount && acct.User.DisplayName == AccountDisplayName {
			// No record, but our name: made by a run of this product that
			// stopped before recording it, so remove may delete it.
			rec.CreatedAccount = true
		}
	default: // service account to create (guardAccount refused Global Admin mode without one)
		rec.CreatedAccount = true
		after, _ := json.Marshal(map[string]any{"userPrincipalName": upn, "displayName": AccountDisplayName,
			"accountEnabled": false, "passwordPolicies": "DisablePasswordExpiration", "passwordProfile": "(generated, shown once)"})
		p.add(Change{Action: ActCreate, Object: ObjAccount, Name: upn, After: after,
			Why: "the platform's own account, created disabled until its protection is in place"})
	}

	if d.ResetPassword && acct != nil && d.Account.Mode == ServiceAccount {
		p.add(Change{Action: ActReset, Object: ObjPassword, ID: acct.User.ID, Name: upn,
			Why: "a run that created the account stopped before its password was handed out"})
	}

	// Roles: a service account gets the roles it lacks; extra roles are
	// left alone (status reports them).
	if d.Account.Mode == ServiceAccount {
		for _, r := range d.Account.Roles {
			if acct != nil && hasRole(acct.Roles, r.TemplateID) {
				continue
			}
			after, _ := json.Marshal(map[string]any{"principalId": idOrPending(acct), "roleDefinitionId": r.TemplateID, "directoryScopeId": "/"})
			p.add(Change{Action: ActAssign, Object: ObjRole, Name: r.String(), Ref: r.TemplateID, After: after})
		}
	}

	// The named location: the record's, else the one carrying our name.
	wantLoc := desiredLocation(upn, d.AllowedIPs)
	loc := findLocation(f.Locations, rec.NamedLocationID, wantLoc.DisplayName)
	locationID := "(the new named location)"
	switch {
	case loc == nil:
		if countIPLocations(f.Locations) >= maxNamedLocations {
			return nil, &RefusedError{Cause: fmt.Sprintf("the tenant holds %d IP named locations, the most Entra ID allows", countIPLocations(f.Locations)),
				Fix: "delete an unused IP named location, then run again"}
		}
		after, _ := json.Marshal(wantLoc)
		p.add(Change{Action: ActCreate, Object: ObjNamedLocation, Name: wantLoc.DisplayName, After: after})
	default:
		locationID = loc.ID
		if what := locationDiffers(*loc, wantLoc, d.AllowedIPs); len(what) > 0 {
			before, _ := json.Marshal(loc)
			w := wantLoc
			w.ID = loc.ID
			after, _ := json.Marshal(w)
			p.add(Change{Action: ActUpdate, Object: ObjNamedLocation, ID: loc.ID, Name: wantLoc.DisplayName, What: what, Before: before, After: after})
		}
	}
	rec.NamedLocationID = ""
	if loc != nil {
		rec.NamedLocationID = loc.ID
	}

	// The policy requiring MFA outside the allowed IPs: created and read
	// back before any exclusion (protection before exclusion).
	wantPol := desiredPolicy(upn, accountID, locationID, d.PolicyState)
	pol := findPolicy(f.Policies, rec.PolicyID, wantPol.DisplayName)
	switch {
	case pol == nil:
		if len(f.Policies) >= policyLimitWarning {
			p.Warnings = append(p.Warnings, fmt.Sprintf("The tenant holds %d Conditional Access policies; Entra ID allows about %d, so creating one more may be refused.", len(f.Policies), policyLimitWarning))
		}
		after, _ := json.Marshal(wantPol)
		p.add(Change{Action: ActCreate, Object: ObjPolicy, Name: wantPol.DisplayName, After: after,
			Why: "MFA stays mandatory for the account everywhere but the allowed IPs"})
	default:
		wantPol.ID = pol.ID
		if what := policyDiffers(*pol, wantPol); len(what) > 0 {
			before, _ := json.Marshal(pol)
			after, _ := json.Marshal(wantPol)
			p.add(Change{Action: ActUpdate, Object: ObjPolicy, ID: pol.ID, Name: wantPol.DisplayName, What: what, Before: before, After: after})
		}
	}
	rec.PolicyID = ""
	if pol != nil {
		rec.PolicyID = pol.ID
	}
	if d.PolicyState == PolicyReportOnly {
		p.Warnings = append(p.Warnings, "The account's policy is report-only: MFA is NOT enforced for the account outside the allowed IPs, and once it is excluded from the tenant's policies it has MFA nowhere. Use report-only for a trial only.")
	}

	// Exclusions.
	excl, err := chooseExclusions(d, f, accountID, upn, wantPol)
	if err != nil {
		return nil, err
	}
	p.Exclusions = excl
	excludedFrom := slices.Clone(rec.ExcludedFrom)
	for _, e := range excl {
		if !containsFold(excludedFrom, e.PolicyID) && !e.Present {
			excludedFrom = append(excludedFrom, e.PolicyID)
		}
	}
	rec.ExcludedFrom = excludedFrom
	var exclusionChanges []Change
	for _, e := range excl {
		if e.Present {
			continue
		}
		tp := policyByID(f.Policies, e.PolicyID)
		before, _ := json.Marshal(tp.Conditions.Users.ExcludeUsers)
		after, _ := json.Marshal(append(slices.Clone(tp.Conditions.Users.ExcludeUsers), idOrPending(acct)))
		exclusionChanges = append(exclusionChanges, Change{Action: ActExclude, Object: ObjExclusion, ID: e.PolicyID,
			Name: e.DisplayName, Why: e.Why, Before: before, After: after})
	}

	// The record of the objects goes in before the exclusions, so that a
	// run interrupted among them leaves the tenant saying what it owns.
	final := rec
	final.Session = SessionOn // apply ends with the session on, as the wizard's Turn on step does
	objectsChanged := len(p.Changes) > 0 || len(exclusionChanges) > 0
	current := Record{}
	if acct != nil && acct.Record != nil {
		current = *acct.Record
	}
	if objectsChanged {
		mid := rec
		mid.Session = current.Session
		if mid.Session == "" {
			mid.Session = SessionOff
		}
		p.addRecord(current, mid, acct)
	}
	for _, c := range exclusionChanges {
		p.add(c)
	}
	// The session on: the account enabled, then the state recorded.
	if d.Account.Mode == ServiceAccount && (acct == nil || !acct.User.AccountEnabled) {
		p.add(Change{Action: ActEnable, Object: ObjAccountEnabled, ID: idOrEmpty(acct), Name: upn,
			Before: json.RawMessage(`false`), After: json.RawMessage(`true`), Why: "the session on: the platform can sign in from the allowed IPs"})
	}
	last := current
	if objectsChanged {
		last = p.lastRecord()
	}
	if !last.Equal(final) || (!objectsChanged && (acct == nil || acct.Record == nil)) {
		p.addRecord(last, final, acct)
	}
	p.Record = final
	p.Warnings = append(p.Warnings, operatorWarnings(d, f, upn)...)
	return p, nil
}

func (p *Plan) add(c Change) { p.Changes = append(p.Changes, c) }

// addRecord adds the write of the session record.
func (p *Plan) addRecord(before, after Record, acct *AccountFacts) {
	c := Change{Action: ActRecord, Object: ObjSessionRecord, ID: idOrEmpty(acct), Name: graph.StateExtension}
	if (acct != nil && acct.Record != nil) || len(p.recordChanges()) > 0 {
		c.Before, _ = json.Marshal(before)
	}
	c.After, _ = json.Marshal(after)
	p.add(c)
}

func (p *Plan) recordChanges() []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Object == ObjSessionRecord {
			out = append(out, c)
		}
	}
	return out
}

func (p *Plan) lastRecord() Record {
	rc := p.recordChanges()
	if len(rc) == 0 {
		return Record{}
	}
	var r Record
	_ = json.Unmarshal(rc[len(rc)-1].After, &r)
	return r
}

// guardTenant refuses tenants where Conditional Access cannot work.
func guardTenant(f *Facts) error {
	if f.SecurityDefaults {
		return &RefusedError{Cause: "security defaults are on: they demand MFA of every administrator and Conditional Access cannot be enforced beside them",
			Fix: "turn security defaults off (Entra admin center > Overview > Properties > Manage security defaults) once Conditional Access policies protect the tenant, then run again"}
	}
	if !f.HasP1 {
		return &RefusedError{Cause: "the tenant has no Entra ID P1 licence, which Conditional Access needs",
			Fix: "add Entra ID P1 (or a suite that includes it, such as Microsoft 365 Business Premium or E3), then run again"}
	}
	return nil
}

// guardAccount refuses an account that is not the management account.
func guardAccount(d Desired, f *Facts, upn string) error {
	acct := f.Account
	switch d.Account.Mode {
	case GlobalAdmin:
		if acct == nil {
			return &RefusedError{Cause: fmt.Sprintf("there is no user %s to protect", upn),
				Fix: "give the user principal name of an existing Global Administrator (--upn), or use a service account (--mode serviceAccount)"}
		}
		if !hasRoleMembership(acct.Memberships, GlobalAdministratorID) {
			return &RefusedError{Cause: fmt.Sprintf("%s does not hold Global Administrator", upn),
				Fix: "give a Global Administrator's user principal name, or use a service account (--mode serviceAccount)"}
		}
		if isBreakGlass(f.Policies, acct) {
			return &RefusedError{Cause: fmt.Sprintf("%s is excluded from every enabled policy, like a break-glass account: requiring MFA of it outside the allowed IPs could lock out emergency access", upn),
				Fix: "use a service account (--mode serviceAccount), or another Global Administrator"}
		}
	case ServiceAccount:
		if acct == nil {
			return nil
		}
		if acct.Record != nil && acct.Record.Mode == GlobalAdmin {
			return &RefusedError{Cause: fmt.Sprintf("%s is protected in Global Admin mode by an earlier run", upn),
				Fix: "run with --mode globalAdmin, or remove the earlier setup first (mgmtsession remove)"}
		}
		if f.Operator != nil && strings.EqualFold(f.Operator.ID, acct.User.ID) {
			return &RefusedError{Cause: fmt.Sprintf("%s is the account you are signed in with", upn),
				Fix: "choose another user principal name for the service account (--upn)"}
		}
		if acct.Record == nil && !looksLikeManagementAccount(acct.User) {
			return &RefusedError{Cause: fmt.Sprintf("the user %s exists and is not a management account (no session record, not named like one)", upn),
				Fix: "choose another user principal name (--upn), or protect that user as a Global Admin (--mode globalAdmin)"}
		}
	}
	return nil
}

// looksLikeManagementAccount tells an account an earlier, manual setup made
// (the platform's names) from any other user.
func looksLikeManagementAccount(u graph.User) bool {
	local, _, _ := strings.Cut(strings.ToLower(u.UserPrincipalName), "@")
	return strings.HasPrefix(local, "coreview.admin") || strings.HasPrefix(local, "4ward365.admin") || u.DisplayName == AccountDisplayName
}

// isBreakGlass reports whether every enabled policy excludes the user by id
// (at least one enabled policy existing).
func isBreakGlass(policies []ca.Policy, a *AccountFacts) bool {
	n := 0
	for _, p := range policies {
		if p.State != ca.StateEnabled {
			continue
		}
		n++
		if !excludes(p, a.User.ID) && !excludesGroupOf(p, a.Memberships) {
			return false
		}
	}
	return n > 0
}

func excludesGroupOf(p ca.Policy, m graph.Memberships) bool {
	if p.Conditions.Users == nil {
		return false
	}
	for _, g := range m.Groups {
		if containsFold(p.Conditions.Users.ExcludeGroups, g.ID) {
			return true
		}
	}
	return false
}

// chooseExclusions lists the tenant policies the account must be excluded
// from: with excludeFrom auto, every policy (enforced, report-only or
// Microsoft-managed) that the local What If over the planned policy set
// shows would demand MFA or another control of the account, or block it,
// from an allowed IP to one of the platform's applications, or that might
// depending on facts the What If does not have (the country of the allowed
// IPs, say). Excluding is safe because the account's own policy demands MFA
// everywhere else.
func chooseExclusions(d Desired, f *Facts, accountID, upn string, own ca.Policy) ([]Exclusion, error) {
	var out []Exclusion
	if !d.ExcludeFrom.Auto {
		for _, id := range d.ExcludeFrom.PolicyIDs {
			tp := policyByID(f.Policies, id)
			if tp == nil {
				return nil, &InputError{Setting: "excludeFrom", Value: id, Reason: "no Conditional Access policy has this id in the tenant"}
			}
			if strings.EqualFold(tp.DisplayName, own.DisplayName) {
				return nil, &InputError{Setting: "excludeFrom", Value: id, Reason: "this is the account's own policy"}
			}
			out = append(out, Exclusion{PolicyID: tp.ID, DisplayName: tp.DisplayName, State: tp.State, Present: excludes(*tp, accountID)})
		}
		return out, nil
	}
	if len(d.AllowedIPs) == 0 {
		return out, nil
	}
	// The planned policy set: the tenant's, with ours as planned (or as it
	// stands) in place of the existing one.
	planned := make([]ca.Policy, 0, len(f.Policies)+1)
	for _, p := range f.Policies {
		if strings.EqualFold(p.DisplayName, own.DisplayName) || (own.ID != "" && p.ID == own.ID) {
			continue
		}
		planned = append(planned, p)
	}
	planned = append(planned, own)
	ps := whatif.NewPolicySet(planned, f.Locations)
	subject := accountSubject(d, f, accountID)
	why := map[string]string{}
	var order []string
	for _, pre := range d.AllowedIPs {
		addr := representative(pre)
		for _, client := range []string{"mobileAppsAndDesktopClients", "browser"} {
			c := whatif.Case{Label: "allowed IP", Apps: whatif.PlatformApps(), Conditions: whatif.Conditions{
				IP: addr.String(), ClientAppType: client, DevicePlatform: whatif.DefaultDevicePlatform}}
			r := ps.Evaluate(subject, c)
			for _, o := range r.Policies {
				if o.State == ca.StateDisabled || strings.EqualFold(o.DisplayName, own.DisplayName) || len(o.Controls) == 0 {
					continue
				}
				if !o.Applies && len(o.Undecided) == 0 {
					continue
				}
				if _, seen := why[o.ID]; seen {
					continue
				}
				verb := "demand " + controlWords(o.Controls, o.Operator) + " of"
				if slices.Contains(o.Controls, "block") {
					verb = "block"
				}
				how := fmt.Sprintf("would %s the account from %s", verb, pre)
				if !o.Applies {
					how = fmt.Sprintf("might %s the account from %s, depending on %s, which the What If cannot know", verb, pre, undecidedWords(o.Undecided))
				}
				switch {
				case strings.HasPrefix(o.DisplayName, ca.ManagedPolicyPrefix):
					how += " (Microsoft-managed: it switches itself on and includes new users)"
				case o.State == ca.StateReportOnly:
					how += " (report-only now: once enforced)"
				}
				why[o.ID] = how
				order = append(order, o.ID)
			}
		}
	}
	for _, id := range order {
		tp := policyByID(f.Policies, id)
		if tp == nil {
			continue
		}
		out = append(out, Exclusion{PolicyID: tp.ID, DisplayName: tp.DisplayName, State: tp.State, Why: why[id], Present: excludes(*tp, accountID)})
	}
	// Policies already excluding the account (from an earlier run, or by
	// hand) do not apply to it and so are not found above; they stay listed
	// when the record says this product excluded it there.
	if f.Account != nil && f.Account.Record != nil {
		for _, id := range f.Account.Record.ExcludedFrom {
			if slices.ContainsFunc(out, func(e Exclusion) bool { return strings.EqualFold(e.PolicyID, id) }) {
				continue
			}
			if tp := policyByID(f.Policies, id); tp != nil && excludes(*tp, accountID) {
				out = append(out, Exclusion{PolicyID: tp.ID, DisplayName: tp.DisplayName, State: tp.State, Present: true,
					Why: "excluded by an earlier run"})
			}
		}
	}
	return out, nil
}

// accountSubject is the account as the What If sees it: the existing user
// with its groups and roles, or the account to be created with the roles it
// will get, under a placeholder id that the planned policy includes.
func accountSubject(d Desired, f *Facts, accountID string) whatif.Subject {
	if f.Account != nil {
		s := whatif.Subject{ID: f.Account.User.ID, UserPrincipalName: f.Account.User.UserPrincipalName,
			Guest: strings.EqualFold(f.Account.User.UserType, "Guest"), Groups: []string{}, Roles: []string{}}
		for _, g := range f.Account.Memberships.Groups {
			s.Groups = append(s.Groups, g.ID)
		}
		for _, r := range f.Account.Memberships.Roles {
			s.Roles = append(s.Roles, r.RoleTemplateID)
		}
		// Roles about to be assigned count too.
		for _, r := range d.Account.Roles {
			if !containsFold(s.Roles, r.TemplateID) {
				s.Roles = append(s.Roles, r.TemplateID)
			}
		}
		return s
	}
	roles := make([]string, 0, len(d.Account.Roles))
	for _, r := range d.Account.Roles {
		roles = append(roles, r.TemplateID)
	}
	return whatif.Subject{ID: accountID, Groups: []string{}, Roles: roles}
}

// operatorWarnings says what the plan changes for the signed-in operator:
// only in Global Admin mode, when the operator protects their own account,
// does anything change for them.
func operatorWarnings(d Desired, f *Facts, upn string) []string {
	if d.Account.Mode != GlobalAdmin || f.Operator == nil || f.Account == nil || !strings.EqualFold(f.Operator.ID, f.Account.User.ID) {
		return nil
	}
	w := []string{fmt.Sprintf("You are protecting your own account (%s): from outside the allowed IPs you will be asked for MFA.", upn)}
	if !hasMFAMethod(f.Account.Methods) {
		w = append(w, "Your account has no MFA method registered: register one (https://aka.ms/mysecurityinfo) before applying, or you cannot sign in from outside the allowed IPs.")
	}
	return w
}

func hasMFAMethod(ms []graph.AuthMethod) bool {
	for _, m := range ms {
		if !strings.EqualFold(m.ODataType, "#microsoft.graph.passwordAuthenticationMethod") {
			return true
		}
	}
	return false
}

// representative is an address inside the range, for the What If.
func representative(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	if p.Bits() < a.BitLen() {
		if n := a.Next(); n.IsValid() && p.Contains(n) {
			return n
		}
	}
	return a
}

// OutsideAddress is a public address outside every allowed range, for the
// "from outside" What If.
func OutsideAddress(allowed []netip.Prefix) netip.Addr {
	for _, a := range outsideProbes {
		if !slices.ContainsFunc(allowed, func(p netip.Prefix) bool { return p.Contains(a) }) {
			return a
		}
	}
	return netip.MustParseAddr("8.8.4.4")
}

func findLocation(ls []ca.NamedLocation, id, name string) *ca.NamedLocation {
	for i := range ls {
		if id != "" && strings.EqualFold(ls[i].ID, id) {
			return &ls[i]
		}
	}
	for i := range ls {
		if ls[i].DisplayName == name {
			return &ls[i]
		}
	}
	return nil
}

func findPolicy(ps []ca.Policy, id, name string) *ca.Policy {
	if p := policyByID(ps, id); p != nil && id != "" {
		return p
	}
	for i := range ps {
		if ps[i].DisplayName == name {
			return &ps[i]
		}
	}
	return nil
}

func policyByID(ps []ca.Policy, id string) *ca.Policy {
	for i := range ps {
		if strings.EqualFold(ps[i].ID, id) {
			return &ps[i]
		}
	}
	return nil
}

func countIPLocations(ls []ca.NamedLocation) int {
	n := 0
	for _, l := range ls {
		if l.IsIP() {
			n++
		}
	}
	return n
}

func hasRole(as []graph.RoleAssignment, templateID string) bool {
	return slices.ContainsFunc(as, func(a graph.RoleAssignment) bool {
		return strings.EqualFold(a.RoleDefinitionID, templateID) && (a.DirectoryScopeID == "/" || a.DirectoryScopeID == "")
	})
}

func hasRoleMembership(m graph.Memberships, templateID string) bool {
	return slices.ContainsFunc(m.Roles, func(r graph.DirectoryObject) bool { return strings.EqualFold(r.RoleTemplateID, templateID) })
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

func idOrEmpty(a *AccountFacts) string {
	if a == nil {
		return ""
	}
	return a.User.ID
}

func idOrPending(a *AccountFacts) string {
	if a == nil {
		return "(the new account)"
	}
	return a.User.ID
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

var controlNames = map[string]string{
	"mfa": "MFA", "compliantDevice": "a compliant device", "domainJoinedDevice": "a hybrid-joined device",
	"approvedApplication": "an approved client app", "compliantApplication": "an app protection policy",
	"passwordChange": "a password change", "authenticationStrength": "an authentication strength",
}

// controlWords says a policy's grant controls for people.
func controlWords(controls []string, operator string) string {
	var out []string
	for _, c := range controls {
		if n, ok := controlNames[c]; ok {
			out = append(out, n)
		} else {
			out = append(out, c)
		}
	}
	sep := " and "
	if strings.EqualFold(operator, "OR") {
		sep = " or "
	}
	return strings.Join(out, sep)
}

// undecidedWords says which facts a policy's outcome depends on.
func undecidedWords(conds []string) string {
	var out []string
	for _, c := range conds {
		switch c {
		case "location":
			out = append(out, "the country the allowed IPs are in")
		case "devicePlatform":
			out = append(out, "the device platform")
		case "devices":
			out = append(out, "the device")
		default:
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return "facts not given"
	}
	return strings.Join(out, " and ")
}
