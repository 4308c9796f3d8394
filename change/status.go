package change

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"mgmtsession/ca"
	"mgmtsession/graph"
	"mgmtsession/whatif"
)

// Status is the management session as the tenant holds it (SPEC section 8),
// with every difference between the session record and the tenant.
type Status struct {
	Session       string         `json:"session"` // on, off or absent
	Mode          string         `json:"mode,omitempty"`
	AutoEnable    bool           `json:"autoEnable"`
	Account       *StatusAccount `json:"account"`
	AllowedIPs    []string       `json:"allowedIPs"`
	NamedLocation *StatusObject  `json:"namedLocation"`
	Policy        *StatusPolicy  `json:"policy"`
	ExcludedFrom  []string       `json:"excludedFrom"`
	Since         string         `json:"since,omitempty"`
	By            string         `json:"by,omitempty"`
	Drift         []Drift        `json:"drift"`
	// Notes say what a person should know that is not drift (no record on
	// an existing account, report-only protection).
	Notes []string `json:"notes"`
	// Sweep is the What If sweep's two answers over the tenant as it now
	// stands (whatif.Sweep.Headlines): from the allowed IPs, is the account
	// challenged or blocked anywhere; from outside, does it sign in without
	// MFA anywhere. Absent when there is no record with allowed ranges.
	Sweep []string `json:"sweep,omitempty"`
}

// StatusAccount is the management account.
type StatusAccount struct {
	ID                string   `json:"id"`
	UserPrincipalName string   `json:"userPrincipalName"`
	AccountEnabled    bool     `json:"accountEnabled"`
	Roles             []string `json:"roles"` // display names where known
}

// StatusObject names an object this product owns.
type StatusObject struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
}

// StatusPolicy is the account's policy.
type StatusPolicy struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
	State       string `json:"state"`
}

// Drift is one difference between the record and the tenant, with its fix.
type Drift struct {
	What string `json:"what"`
	Fix  string `json:"fix"`
}

const fixApply = "mgmtsession apply (with the same settings) converges it"

// SessionStatus judges the facts against the account's session record.
func SessionStatus(f *Facts) *Status {
	s := &Status{Session: SessionAbsent, AllowedIPs: []string{}, ExcludedFrom: []string{}, Drift: []Drift{}, Notes: []string{}}
	a := f.Account
	if a == nil {
		return s
	}
	s.Account = &StatusAccount{ID: a.User.ID, UserPrincipalName: a.User.UserPrincipalName, AccountEnabled: a.User.AccountEnabled, Roles: assignedRoleNames(a.Roles)}
	if a.Record == nil {
		s.Notes = append(s.Notes, "The account exists but holds no session record (an earlier, manual setup, or a run interrupted before recording): mgmtsession apply adopts it.")
		return s
	}
	rec := *a.Record
	s.Session, s.Mode, s.AutoEnable, s.Since, s.By = rec.Session, string(rec.Mode), rec.AutoEnable, rec.Since, rec.By
	if s.Session == "" {
		s.Session = SessionOff
	}
	s.AllowedIPs = append(s.AllowedIPs, rec.AllowedIPs...)
	s.ExcludedFrom = append(s.ExcludedFrom, rec.ExcludedFrom...)
	drift := func(fix, format string, args ...any) {
		s.Drift = append(s.Drift, Drift{What: fmt.Sprintf(format, args...), Fix: fix})
	}
	upn := a.User.UserPrincipalName

	// The account's enabled state against the session.
	if rec.Mode != GlobalAdmin {
		switch {
		case rec.Session == SessionOn && !a.User.AccountEnabled:
			drift("mgmtsession on", "the session is recorded on but the account is disabled")
		case rec.Session != SessionOn && a.User.AccountEnabled && !rec.AutoEnable:
			drift("mgmtsession off", "the session is recorded off but the account is enabled")
		}
	}

	// The location.
	var ranges []netip.Prefix
	for _, r := range rec.AllowedIPs {
		if p, err := netip.ParsePrefix(r); err == nil {
			ranges = append(ranges, p)
		}
	}
	loc := findLocation(f.Locations, rec.NamedLocationID, LocationName(upn))
	locationID := rec.NamedLocationID
	if loc == nil {
		drift(fixApply, "the named location of the allowed IPs (%s) no longer exists", orID(rec.NamedLocationID))
	} else {
		locationID = loc.ID
		s.NamedLocation = &StatusObject{ID: loc.ID, DisplayName: loc.DisplayName}
		for _, what := range locationDiffers(*loc, desiredLocation(upn, ranges), ranges) {
			switch what {
			case "allowed ranges":
				got, _ := locationRanges(*loc)
				drift(fixApply, "the allowed ranges were edited: the location holds %s, the record says %s", strings.Join(prefixStrings(got), ", "), strings.Join(rec.AllowedIPs, ", "))
			case "marked trusted":
				drift(fixApply, "the named location was marked trusted, so it now counts in other policies' \"all trusted locations\"")
			case "name":
				drift(fixApply, "the named location was renamed to %q", loc.DisplayName)
			default:
				drift(fixApply, "the named location: %s", what)
			}
		}
	}

	// The policy.
	state := rec.PolicyState
	if state == "" {
		state = PolicyEnabled
	}
	pol := findPolicy(f.Policies, rec.PolicyID, PolicyName(upn))
	if pol == nil {
		drift(fixApply, "the policy requiring MFA outside the allowed IPs (%s) no longer exists: MFA is not mandatory for the account anywhere it is excluded", orID(rec.PolicyID))
	} else {
		s.Policy = &StatusPolicy{ID: pol.ID, DisplayName: pol.DisplayName, State: pol.State}
		want := desiredPolicy(upn, a.User.ID, locationID, state)
		want.ID = pol.ID
		for _, what := range policyDiffers(*pol, want) {
			if what == "state" {
				drift(fixApply, "the account's policy is %s, not %s", stateWord(pol.State), stateWord(state.GraphState()))
				continue
			}
			drift(fixApply, "the account's policy was edited (%s)", what)
		}
		if pol.State == ca.StateReportOnly && state == PolicyReportOnly {
			s.Notes = append(s.Notes, "The account's policy is report-only: MFA is not enforced for the account outside the allowed IPs.")
		}
	}

	// Exclusions this product made.
	for _, id := range rec.ExcludedFrom {
		p := policyByID(f.Policies, id)
		switch {
		case p == nil:
			s.Notes = append(s.Notes, fmt.Sprintf("Policy %s, which the account was excluded from, no longer exists.", id))
		case !excludes(*p, a.User.ID):
			drift(fixApply, "the account's exclusion was taken out of %q: that policy now applies to the account from the allowed IPs", p.DisplayName)
		}
	}

	// Roles.
	if rec.Mode != GlobalAdmin {
		for _, ra := range a.Roles {
			if ra.DirectoryScopeID != "/" && ra.DirectoryScopeID != "" {
				continue
			}
			if !containsFold(rec.Roles, ra.RoleDefinitionID) {
				drift("remove the role in the Entra admin center, or apply with it in roles", "the account holds a role it was not given: %s", roleName(ra.RoleDefinitionID))
			}
		}
		for _, id := range rec.Roles {
			if !hasRole(a.Roles, id) {
				drift(fixApply, "the account lost the role %s", roleName(id))
			}
		}
	}

	// A policy that would now challenge or block the account from the
	// allowed IPs.
	d := Desired{Account: Account{Mode: rec.Mode, UPN: upn}, AllowedIPs: ranges, PolicyState: state, ExcludeFrom: ExcludeFrom{Auto: true}}
	for _, id := range rec.Roles {
		d.Account.Roles = append(d.Account.Roles, RoleRef{TemplateID: id})
	}
	own := desiredPolicy(upn, a.User.ID, locationID, state)
	if pol != nil {
		own.ID = pol.ID
	}
	if excl, err := chooseExclusions(d, f, a.User.ID, upn, own); err == nil {
		for _, e := range excl {
			if !e.Present && !containsFold(rec.ExcludedFrom, e.PolicyID) {
				drift(fixApply, "%q %s", e.DisplayName, e.Why)
			}
		}
	}

	// The sweep of every application, client, platform and place, over
	// the tenant as it stands: the two answers an admin wants at a glance.
	if len(ranges) > 0 {
		ps := whatif.NewPolicySet(f.Policies, f.Locations)
		if sw, err := ps.Sweep(whatif.SweepInput{Subject: accountSubject(Desired{}, f, a.User.ID), Allowed: ranges}); err == nil {
			h := sw.Headlines()
			s.Sweep = h[:]
		} else {
			s.Notes = append(s.Notes, "The What If sweep could not run: "+err.Error())
		}
	}
	return s
}

func orID(id string) string {
	if id == "" {
		return "id not recorded"
	}
	return id
}

func stateWord(s string) string {
	switch s {
	case ca.StateEnabled:
		return "enforced"
	case ca.StateReportOnly:
		return "report-only"
	case ca.StateDisabled:
		return "disabled"
	}
	return s
}

func roleName(templateID string) string {
	if r, err := LookupRole(templateID); err == nil && r.DisplayName != "" {
		return r.DisplayName
	}
	return templateID
}

func assignedRoleNames(as []graph.RoleAssignment) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, roleName(a.RoleDefinitionID))
	}
	slices.Sort(out)
	return out
}

// Verdict is the local What If of the account for one place.
type Verdict struct {
	Label   string   `json:"label"`
	IP      string   `json:"ip"`
	Verdict string   `json:"verdict"`
	By      []string `json:"policies"` // the enforced policies deciding it, by name
}

// WhatIfAfter is the "after" picture: the local What If of the account
// over the planned policy set (the tenant's policies with the planned
// exclusions and the account's policy as planned), from each allowed range
// and from outside. Allowed ranges should say allow; outside, mfa.
func (p *Plan) WhatIfAfter() []Verdict {
	f, d := p.facts, p.desired
	accountID := placeholderAccountID
	if f.Account != nil {
		accountID = f.Account.User.ID
	}
	locID := "planned-location"
	planned := make([]ca.Policy, 0, len(f.Policies)+1)
	own := desiredPolicy(p.UPN, accountID, locID, d.PolicyState)
	for _, tp := range f.Policies {
		if tp.DisplayName == own.DisplayName {
			continue
		}
		if slices.ContainsFunc(p.Exclusions, func(e Exclusion) bool { return strings.EqualFold(e.PolicyID, tp.ID) }) {
			tp.Conditions.Users = cloneUsers(tp.Conditions.Users)
			tp.Conditions.Users.ExcludeUsers = append(tp.Conditions.Users.ExcludeUsers, accountID)
		}
		planned = append(planned, tp)
	}
	planned = append(planned, own)
	locs := slices.Clone(f.Locations)
	l := desiredLocation(p.UPN, d.AllowedIPs)
	l.ID = locID
	locs = slices.DeleteFunc(locs, func(x ca.NamedLocation) bool { return x.DisplayName == l.DisplayName })
	locs = append(locs, l)
	ps := whatif.NewPolicySet(planned, locs)
	subject := accountSubject(d, f, accountID)
	var out []Verdict
	eval := func(label string, addr netip.Addr) {
		r := ps.Evaluate(subject, whatif.Case{Label: label, Apps: whatif.PlatformApps(), Conditions: whatif.Conditions{
			IP: addr.String(), ClientAppType: whatif.DefaultClientAppType, DevicePlatform: whatif.DefaultDevicePlatform}})
		v := Verdict{Label: label, IP: addr.String(), Verdict: r.Verdict, By: []string{}}
		for _, c := range r.Culprits() {
			v.By = append(v.By, c.DisplayName)
		}
		out = append(out, v)
	}
	for _, pre := range d.AllowedIPs {
		eval("from "+pre.String(), representative(pre))
	}
	eval("from outside", OutsideAddress(d.AllowedIPs))
	return out
}

func cloneUsers(u *ca.Users) *ca.Users {
	if u == nil {
		return &ca.Users{}
	}
	c := *u
	c.ExcludeUsers = slices.Clone(u.ExcludeUsers)
	return &c
}
