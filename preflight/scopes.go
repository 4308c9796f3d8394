package preflight

import "slices"

// Need is one permission the product needs, satisfied by any of the listed
// delegated scopes (or application permissions).
type Need struct {
	For      string   // what the later steps do with it
	AnyOf    []string // scopes any one of which grants it
	Optional bool     // only some paths need it
}

// Needs lists what the later steps need, in the order the wizard uses them.
var Needs = []Need{
	{For: "read the tenant, its licences and domains", AnyOf: []string{"Organization.Read.All", "Directory.Read.All"}},
	{For: "read and create the management account", AnyOf: []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}},
	{For: "read Conditional Access policies and named locations", AnyOf: []string{"Policy.Read.All"}},
	{For: "create and change Conditional Access policies and named locations", AnyOf: []string{"Policy.ReadWrite.ConditionalAccess"}},
	{For: "resolve the applications a policy names", AnyOf: []string{"Application.Read.All", "Directory.Read.All"}},
	{For: "assign the account's directory roles", AnyOf: []string{"RoleManagement.ReadWrite.Directory"}},
	{For: "read registered MFA methods and per-user MFA", AnyOf: []string{"UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"}},
	{For: "turn security defaults off, if they are on", AnyOf: []string{"Policy.ReadWrite.SecurityDefaults"}, Optional: true},
	{For: "read the sign-in log for the live probe", AnyOf: []string{"AuditLog.Read.All"}, Optional: true},
}

// Missing returns the needs the granted scopes do not cover.
func Missing(granted []string) []Need {
	var out []Need
	for _, n := range Needs {
		if !slices.ContainsFunc(n.AnyOf, func(s string) bool { return slices.Contains(granted, s) }) {
			out = append(out, n)
		}
	}
	return out
}
