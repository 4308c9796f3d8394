// Package change is the engine of the safe writes (issue 7): what the
// operator wants the tenant to hold (the desired state, read from a YAML
// file and flags), and later the plan, its application, the journal and
// undo. It knows no UI and, in the files of the desired state, no Graph.
package change

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"mgmtsession/ident"
	"mgmtsession/iprange"
)

// AccountMode says which account the management session uses.
type AccountMode string

const (
	// ServiceAccount: the product creates a dedicated account with the
	// least-privilege roles.
	ServiceAccount AccountMode = "serviceAccount"
	// GlobalAdmin: an existing Global Administrator is used and protected;
	// nothing is created and no role is assigned.
	GlobalAdmin AccountMode = "globalAdmin"
)

// PolicyState is the state of the policy that demands MFA of the account
// outside the allowed IPs.
type PolicyState string

const (
	// PolicyEnabled enforces it, the default: it targets the management
	// account only, and report-only would leave that account with MFA
	// nowhere once it is excluded from the tenant's policies.
	PolicyEnabled PolicyState = "enabled"
	// PolicyReportOnly is for a trial: MFA is then not enforced outside
	// the allowed IPs, and plan, apply and status say so.
	PolicyReportOnly PolicyState = "reportOnly"
)

// GraphState is the policy's state as Graph writes it.
func (s PolicyState) GraphState() string {
	if s == PolicyReportOnly {
		return "enabledForReportingButNotEnforced"
	}
	return "enabled"
}

// DefaultUPNLocalPart is the name the platform gives its service account,
// before the tenant's initial domain.
const DefaultUPNLocalPart = "coreview.admin"

// Account is the management account.
type Account struct {
	Mode AccountMode
	// UPN is empty for a service account named by default: its domain is
	// the tenant's initial domain, known only once the tenant is read
	// (see Desired.DefaultUPN).
	UPN string
	// Roles are assigned to a service account; in Global Admin mode there
	// are none.
	Roles []RoleRef
}

// ExcludeFrom says which tenant policies get the account's exclusion.
type ExcludeFrom struct {
	// Auto: the policies the local What If shows would demand MFA or
	// another control of the account, or block it, from the allowed IPs.
	Auto bool
	// PolicyIDs is the explicit list when Auto is false (possibly empty:
	// exclude from none).
	PolicyIDs []string
}

func (e ExcludeFrom) String() string {
	if e.Auto {
		return "auto"
	}
	if len(e.PolicyIDs) == 0 {
		return "none"
	}
	return strings.Join(e.PolicyIDs, ", ")
}

// Desired is what the operator wants the tenant to hold, from the file and
// the flags, with defaults filled in and every value checked.
type Desired struct {
	Account     Account
	AllowedIPs  []netip.Prefix
	PolicyState PolicyState
	AutoEnable  bool
	ExcludeFrom ExcludeFrom
	// ResetPassword gives an existing service account a new password: a
	// run that created it and stopped before handing its password out is
	// resumed so (the front ends set it from the journal).
	ResetPassword bool
	// Notes report how the allowed ranges were normalised (host bits
	// cleared, duplicates and nested ranges merged), for the operator to
	// see before anything is written.
	Notes []Note
}

// DefaultUPN is the account's user principal name: the one given, or
// coreview.admin@ the tenant's initial domain.
func (d Desired) DefaultUPN(initialDomain string) (string, error) {
	if d.Account.UPN != "" {
		return d.Account.UPN, nil
	}
	upn := DefaultUPNLocalPart + "@" + initialDomain
	if err := ident.CheckUPN(upn); err != nil {
		return "", fmt.Errorf("naming the service account after the initial domain %q: %w", initialDomain, err)
	}
	return upn, nil
}

// Note is one normalisation of an allowed range, with where the range was
// written (a file's line and column, or the flag).
type Note struct {
	Where string
	iprange.Note
}

func (n Note) String() string {
	return fmt.Sprintf("%s: %q: %s", n.Where, n.Token, n.What())
}

// ErrInvalidInput is matched (errors.Is) by every InputError, so a front end
// can map them all to its usage exit code.
var ErrInvalidInput = errors.New("invalid input")

// InputError is one bad value: where it was written, the setting, the
// value and why it is refused.
type InputError struct {
	// Where is file:line:column, a flag name, or empty.
	Where string
	// Setting is the key as the file names it (account.upn, allowedIPs).
	Setting string
	// Value is the bad value as written; empty when the problem is that a
	// value is missing.
	Value  string
	Reason string
}

func (e *InputError) Error() string {
	var b strings.Builder
	if e.Where != "" {
		b.WriteString(e.Where)
		b.WriteString(": ")
	}
	if e.Setting != "" {
		b.WriteString(e.Setting)
		b.WriteString(": ")
	}
	if e.Value != "" {
		fmt.Fprintf(&b, "%q: ", shorten(e.Value))
	}
	b.WriteString(e.Reason)
	return b.String()
}

// maxValueLength bounds a bad value quoted in a message: a pasted
// certificate or an expanded YAML alias would otherwise fill the screen.
const maxValueLength = 80

func shorten(s string) string {
	if utf8.RuneCountInString(s) <= maxValueLength {
		return s
	}
	r := []rune(s)
	return string(r[:maxValueLength-1]) + "…"
}

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// Overrides are the values given as flags; nil means not given. They win
// over the file.
type Overrides struct {
	Mode        *string  // --mode
	UPN         *string  // --upn
	Roles       []string // --role, repeatable
	AllowedIPs  []string // --allowed-ip, repeatable, each possibly a list
	PolicyState *string  // --policy-state
	AutoEnable  *bool    // --auto-enable
	ExcludeFrom []string // --exclude-from: auto, or policy ids
}

// Resolve makes the desired state from the file's settings and the flags:
// a flag wins over the file, and what neither gives takes its default
// (service account, the least-privilege roles, policy enabled, exclusions
// chosen automatically, the default UPN). Every bad value is reported, each
// naming where it was given.
func Resolve(cfg Config, o Overrides) (Desired, error) {
	var errs []error
	fail := func(where, setting, value, reason string) {
		errs = append(errs, &InputError{Where: where, Setting: setting, Value: value, Reason: reason})
	}

	mode := cfg.Mode
	if o.Mode != nil {
		m, reason := parseMode(*o.Mode)
		if reason != "" {
			fail("--mode", "", *o.Mode, reason)
		}
		mode = Setting[AccountMode]{Value: m, Set: true, Where: "--mode"}
	}
	if !mode.Set {
		mode.Value = ServiceAccount
	}

	upn := cfg.UPN
	if o.UPN != nil {
		upn = Setting[string]{Value: strings.TrimSpace(*o.UPN), Set: true, Where: "--upn"}
		if err := ident.CheckUPN(upn.Value); err != nil {
			fail("--upn", "", "", err.Error())
		}
	}

	roles := cfg.Roles
	if o.Roles != nil {
		refs, err := LookupRoles(o.Roles)
		if err != nil {
			fail("--role", "", "", err.Error())
		}
		roles = Setting[[]RoleRef]{Value: refs, Set: true, Where: "--role"}
	}

	ips, notes := cfg.AllowedIPs, cfg.Notes
	if o.AllowedIPs != nil {
		res, problems := iprange.ParseList(o.AllowedIPs)
		for _, p := range problems {
			fail("--allowed-ip", "", p.Token, p.Reason)
		}
		ips = Setting[[]netip.Prefix]{Value: res.Prefixes, Set: true, Where: "--allowed-ip"}
		notes = nil
		for _, n := range res.Notes {
			notes = append(notes, Note{Where: "--allowed-ip", Note: n})
		}
	}

	state := cfg.PolicyState
	if o.PolicyState != nil {
		s, reason := parsePolicyState(*o.PolicyState)
		if reason != "" {
			fail("--policy-state", "", *o.PolicyState, reason)
		}
		state = Setting[PolicyState]{Value: s, Set: true, Where: "--policy-state"}
	}
	if !state.Set {
		state.Value = PolicyEnabled
	}

	autoEnable := cfg.AutoEnable
	if o.AutoEnable != nil {
		autoEnable = Setting[bool]{Value: *o.AutoEnable, Set: true, Where: "--auto-enable"}
	}

	exclude := cfg.ExcludeFrom
	if o.ExcludeFrom != nil {
		var items []string
		for _, v := range o.ExcludeFrom {
			for _, item := range strings.Split(v, ",") {
				if item = strings.TrimSpace(item); item != "" {
					items = append(items, item)
				}
			}
		}
		e, err := parseExcludeFrom(items)
		if err != nil {
			fail("--exclude-from", "", "", err.Error())
		}
		exclude = Setting[ExcludeFrom]{Value: e, Set: true, Where: "--exclude-from"}
	}
	if !exclude.Set {
		exclude.Value = ExcludeFrom{Auto: true}
	}

	// The rules between settings: these name both the setting that makes
	// the other wrong and where each was given.
	switch mode.Value {
	case GlobalAdmin:
		if upn.Value == "" {
			fail(mode.Where, "account.upn", "", "Global Admin mode protects an existing Global Administrator: "+
				"give its user principal name (account.upn in the file, or --upn)")
		}
		if roles.Set {
			fail(roles.Where, "account.roles", "", fmt.Sprintf("Global Admin mode assigns no roles (the admin keeps "+
				"the ones it holds); remove the roles, or use mode %s (mode set at %s)", ServiceAccount, orDefault(mode.Where)))
		}
		roles.Value = nil
	case ServiceAccount:
		if !roles.Set {
			def, err := DefaultRoles()
			if err != nil {
				return Desired{}, err
			}
			roles.Value = def
		} else if len(roles.Value) == 0 {
			fail(roles.Where, "account.roles", "", "a service account needs at least one role; leave the roles out for the least-privilege set")
		}
	}
	if len(ips.Value) == 0 && len(errs) == 0 {
		fail(ips.Where, "allowedIPs", "", "no allowed IP range: give the public ranges the platform signs in from "+
			"(allowedIPs in the file, or --allowed-ip)")
	}
	if len(errs) > 0 {
		return Desired{}, errors.Join(errs...)
	}
	return Desired{
		Account:     Account{Mode: mode.Value, UPN: upn.Value, Roles: roles.Value},
		AllowedIPs:  ips.Value,
		PolicyState: state.Value,
		AutoEnable:  autoEnable.Value,
		ExcludeFrom: exclude.Value,
		Notes:       notes,
	}, nil
}

func orDefault(where string) string {
	if where == "" {
		return "the default"
	}
	return where
}

func parseMode(s string) (AccountMode, string) {
	for _, m := range []AccountMode{ServiceAccount, GlobalAdmin} {
		if strings.EqualFold(strings.TrimSpace(s), string(m)) {
			return m, ""
		}
	}
	return "", fmt.Sprintf("expected %s or %s", ServiceAccount, GlobalAdmin)
}

func parsePolicyState(s string) (PolicyState, string) {
	for _, m := range []PolicyState{PolicyEnabled, PolicyReportOnly} {
		if strings.EqualFold(strings.TrimSpace(s), string(m)) {
			return m, ""
		}
	}
	return "", fmt.Sprintf("expected %s or %s", PolicyEnabled, PolicyReportOnly)
}

// parseExcludeFrom reads "auto" or a list of Conditional Access policy ids.
func parseExcludeFrom(items []string) (ExcludeFrom, error) {
	if len(items) == 1 && strings.EqualFold(items[0], "auto") {
		return ExcludeFrom{Auto: true}, nil
	}
	e := ExcludeFrom{PolicyIDs: []string{}}
	seen := map[string]bool{}
	for _, item := range items {
		if strings.EqualFold(item, "auto") {
			return ExcludeFrom{}, errors.New("auto cannot be mixed with policy ids: give auto alone, or only ids")
		}
		if err := ident.CheckObjectID(item); err != nil {
			return ExcludeFrom{}, fmt.Errorf("%q is not a policy id (a GUID) nor auto", item)
		}
		id := strings.ToLower(item)
		if !seen[id] {
			seen[id] = true
			e.PolicyIDs = append(e.PolicyIDs, id)
		}
	}
	return e, nil
}
