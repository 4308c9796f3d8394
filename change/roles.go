package change

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"mgmtsession/assets"
	"mgmtsession/ident"
)

// GlobalAdministratorID is the template id of Global Administrator, which
// this product assigns only when an operator names it.
const GlobalAdministratorID = "62e90394-69f5-4237-9190-012177145e10"

// RoleRef names a built-in directory role by its template id, which is the
// same in every tenant, with its display name for people.
type RoleRef struct {
	TemplateID  string `json:"templateId"`
	DisplayName string `json:"displayName,omitempty"`
}

// String is the display name, or the template id of a role this product
// does not know by name.
func (r RoleRef) String() string {
	if r.DisplayName != "" {
		return r.DisplayName
	}
	return r.TemplateID
}

// leastPrivilegeRoleIDs is the platform's "secure by default" set
// (GRAPH-NOTES section 6), in the order the platform documents it.
var leastPrivilegeRoleIDs = []string{
	"f2ef992c-3afb-46b9-b7cf-a126ee74c451", // Global Reader
	"29232cdf-9323-42fd-ade2-1d097af3e4de", // Exchange Administrator
	"69091246-20e8-4a56-aa4d-066075b2a7a8", // Teams Administrator
	"fe930be7-5e62-47db-91af-98c3a49a38b1", // User Administrator
	"c4e39bd9-1100-46d3-8c65-fb160da0071f", // Authentication Administrator
	"f28a1f50-f6e7-4571-818b-6a12f2af6b6c", // SharePoint Administrator
}

var builtinRoles = sync.OnceValues(func() ([]RoleRef, error) {
	var defs []struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
	}
	if err := json.Unmarshal(assets.RoleDefinitions, &defs); err != nil {
		return nil, fmt.Errorf("reading the built-in role list: %w", err)
	}
	roles := make([]RoleRef, len(defs))
	for i, d := range defs {
		roles[i] = RoleRef{TemplateID: strings.ToLower(d.ID), DisplayName: d.DisplayName}
	}
	return roles, nil
})

// BuiltinRoles lists the directory roles this product knows by name.
func BuiltinRoles() ([]RoleRef, error) {
	roles, err := builtinRoles()
	return append([]RoleRef(nil), roles...), err
}

// DefaultRoles is the platform's least-privilege set. It never holds
// Global Administrator.
func DefaultRoles() ([]RoleRef, error) {
	out := make([]RoleRef, 0, len(leastPrivilegeRoleIDs))
	for _, id := range leastPrivilegeRoleIDs {
		r, err := LookupRole(id)
		if err != nil {
			return nil, fmt.Errorf("the least-privilege role set: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// LookupRole finds a role by display name (case and extra spaces do not
// matter) or template id. A name it does not know is refused with the
// closest known name as a suggestion; a well-formed template id it does
// not know is accepted without a display name, because a tenant has more
// built-in roles than this product names, and the plan checks every id
// against the tenant's own role definitions.
func LookupRole(ref string) (RoleRef, error) {
	roles, err := builtinRoles()
	if err != nil {
		return RoleRef{}, err
	}
	name := normaliseRoleName(ref)
	if name == "" {
		return RoleRef{}, fmt.Errorf("empty role name")
	}
	if ident.CheckObjectID(name) == nil {
		for _, r := range roles {
			if r.TemplateID == name {
				return r, nil
			}
		}
		return RoleRef{TemplateID: name}, nil
	}
	for _, r := range roles {
		if normaliseRoleName(r.DisplayName) == name {
			return r, nil
		}
	}
	msg := fmt.Sprintf("unknown role %q", ref)
	if s := suggestRole(name, roles); s != "" {
		msg += fmt.Sprintf(": did you mean %q?", s)
	}
	return RoleRef{}, fmt.Errorf("%s (give a built-in role's display name or template id)", msg)
}

// LookupRoles resolves each reference in order and drops repeats, so that
// "Global Reader" and its template id given together assign it once.
func LookupRoles(refs []string) ([]RoleRef, error) {
	out := make([]RoleRef, 0, len(refs))
	seen := map[string]bool{}
	for _, ref := range refs {
		r, err := LookupRole(ref)
		if err != nil {
			return nil, err
		}
		if !seen[r.TemplateID] {
			seen[r.TemplateID] = true
			out = append(out, r)
		}
	}
	return out, nil
}

func normaliseRoleName(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// suggestRole returns the known display name closest to name: one that
// starts with what was typed ("exchange admin"), or one within a few edits
// of it ("Teams Adminstrator").
func suggestRole(name string, roles []RoleRef) string {
	best, bestDistance := "", -1
	for _, r := range roles {
		known := normaliseRoleName(r.DisplayName)
		if strings.HasPrefix(known, name) {
			return r.DisplayName
		}
		d := editDistance(name, known)
		if bestDistance < 0 || d < bestDistance {
			best, bestDistance = r.DisplayName, d
		}
	}
	// Beyond a third of the length, the "closest" name is a guess that
	// would mislead more than help.
	if bestDistance > max(2, len(name)/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes: role
// names are ASCII.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
