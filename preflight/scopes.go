package preflight

import "slices"

// Need is one permission the product needs, satisfied by any of the listed
// delegated scopes (or application permissions).
type Need struct {
	Step     string   // the wizard step that needs it
	For      string   // what that step does with it
	AnyOf    []string // scopes any one of which grants it; the first is the one requested by name
	Optional bool     // only some paths need it
}

// The wizard's steps, as the scope check names them.
const (
	StepPreflight = "Preflight"
	StepWhatIf    = "What If"
	StepCreate    = "Create"
	StepTurnOn    = "Turn on"
)

// Needs lists what the later steps need, in the order the wizard uses them.
// The first scope of each is the least privilege that covers it, and the
// one the README lists for an administrator to consent.
var Needs = []Need{
	{Step: StepPreflight, For: "read the tenant, its licences and domains", AnyOf: []string{"Organization.Read.All", "Directory.Read.All"}},
	{Step: StepPreflight, For: "read and create the management account", AnyOf: []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}},
	{Step: StepPreflight, For: "read Conditional Access policies and named locations", AnyOf: []string{"Policy.Read.All"}},
	{Step: StepPreflight, For: "read registered MFA methods and per-user MFA", AnyOf: []string{"UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"}},
	{Step: StepWhatIf, For: "resolve the applications a policy names", AnyOf: []string{"Application.Read.All", "Directory.Read.All"}},
	{Step: StepCreate, For: "create and change Conditional Access policies and named locations", AnyOf: []string{"Policy.ReadWrite.ConditionalAccess"}},
	{Step: StepCreate, For: "assign the account's directory roles", AnyOf: []string{"RoleManagement.ReadWrite.Directory"}},
	{Step: StepCreate, For: "turn security defaults off, if they are on", AnyOf: []string{"Policy.ReadWrite.SecurityDefaults"}, Optional: true},
	{Step: StepTurnOn, For: "read the sign-in log for the live probe", AnyOf: []string{"AuditLog.Read.All"}, Optional: true},
}

// Missing returns the needs the granted scopes do not cover.
func Missing(granted []string) []Need {
	var out []Need
	for _, n := range Needs {
		if !n.grantedBy(granted) {
			out = append(out, n)
		}
	}
	return out
}

func (n Need) grantedBy(granted []string) bool {
	return slices.ContainsFunc(n.AnyOf, func(s string) bool { return slices.Contains(granted, s) })
}

// Requested is the delegated scopes the product asks for by name when it
// signs in interactively, so that Entra asks for any consent up front
// (rather than a later step failing): the first scope of every need, in
// the order of Needs.
func Requested() []string {
	var out []string
	for _, n := range Needs {
		if !slices.Contains(out, n.AnyOf[0]) {
			out = append(out, n.AnyOf[0])
		}
	}
	return out
}

// StepScopes is one step's needs split into granted and missing.
type StepScopes struct {
	Step    string
	Granted []Need
	Missing []Need
}

// ByStep splits the needs by wizard step, in the wizard's order, into
// what the granted scopes cover and what they do not.
func ByStep(granted []string) []StepScopes {
	var out []StepScopes
	for _, n := range Needs {
		if len(out) == 0 || out[len(out)-1].Step != n.Step {
			out = append(out, StepScopes{Step: n.Step})
		}
		s := &out[len(out)-1]
		if n.grantedBy(granted) {
			s.Granted = append(s.Granted, n)
		} else {
			s.Missing = append(s.Missing, n)
		}
	}
	return out
}
