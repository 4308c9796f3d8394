package tenantsim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"mgmtsession/assets"
	"mgmtsession/ca"
)

// state is everything the simulated tenant knows. It is also the shape of
// assets/demo-tenant.json and of the --demo-state file, so that a persisted
// tenant is just this struct written out.
type state struct {
	TenantID         string              `json:"tenantId"`
	DisplayName      string              `json:"displayName"`
	Operator         string              `json:"operator"` // UPN that approves device codes
	Domains          []domain            `json:"domains"`
	SubscribedSkus   []json.RawMessage   `json:"subscribedSkus"`
	SecurityDefaults bool                `json:"securityDefaults"`
	Users            []*user             `json:"users"`
	Groups           []*group            `json:"groups"`
	RoleAssignments  []*roleAssignment   `json:"roleAssignments"`
	NamedLocations   []*ca.NamedLocation `json:"namedLocations"`
	Policies         []*ca.Policy        `json:"policies"`
	SignIns          []map[string]any    `json:"signIns,omitempty"`
	// CAThrottle makes the tenant enforce Conditional Access's documented
	// limit of one request per second (the "throttled" scenario).
	CAThrottle bool `json:"caThrottle,omitempty"`

	// idx finds users and groups by id and memberships without scanning;
	// nil until first needed, and again after Users or Groups change
	// (callers of st.changedDirectory).
	idx *dirIndex
}

// dirIndex is the directory by key. Ids and UPNs are case-insensitive.
type dirIndex struct {
	users    map[string]*user    // by lower-case id
	pos      map[string]int      // lower-case user id -> index in st.Users
	upns     map[string]*user    // by lower-case UPN
	groups   map[string]*group   // by lower-case id
	memberOf map[string][]string // lower-case member id -> ids of the groups holding it directly, in group order
}

func (st *state) index() *dirIndex {
	if st.idx != nil {
		return st.idx
	}
	x := &dirIndex{users: map[string]*user{}, pos: map[string]int{}, upns: map[string]*user{}, groups: map[string]*group{}, memberOf: map[string][]string{}}
	for i, u := range st.Users {
		if u == nil {
			continue
		}
		x.users[strings.ToLower(u.ID)] = u
		x.pos[strings.ToLower(u.ID)] = i
		x.upns[strings.ToLower(u.UserPrincipalName)] = u
	}
	for _, g := range st.Groups {
		x.groups[strings.ToLower(g.ID)] = g
		for _, m := range g.Members {
			k := strings.ToLower(m)
			if n := len(x.memberOf[k]); n == 0 || x.memberOf[k][n-1] != g.ID {
				x.memberOf[k] = append(x.memberOf[k], g.ID)
			}
		}
	}
	st.idx = x
	return x
}

// changedDirectory forgets the index after users or groups changed.
func (st *state) changedDirectory() { st.idx = nil }

func (st *state) groupByID(id string) *group { return st.index().groups[strings.ToLower(id)] }

type domain struct {
	ID         string `json:"id"`
	IsInitial  bool   `json:"isInitial"`
	IsDefault  bool   `json:"isDefault"`
	IsVerified bool   `json:"isVerified"`
}

// user carries Graph's user fields plus what only the directory knows: the
// password (for password sign-ins), per-user MFA, registered methods and
// open extensions.
type user struct {
	ID                string           `json:"id"`
	UserPrincipalName string           `json:"userPrincipalName"`
	DisplayName       string           `json:"displayName"`
	MailNickname      string           `json:"mailNickname,omitempty"`
	UserType          string           `json:"userType"`
	AccountEnabled    bool             `json:"accountEnabled"`
	PasswordPolicies  string           `json:"passwordPolicies,omitempty"`
	CreatedDateTime   string           `json:"createdDateTime,omitempty"`
	Password          string           `json:"password,omitempty"`
	PerUserMFAState   string           `json:"perUserMfaState"`
	Methods           []string         `json:"methods"`
	Extensions        []map[string]any `json:"extensions,omitempty"`
	SessionsValidFrom string           `json:"signInSessionsValidFromDateTime,omitempty"`
	// MustChangePassword is passwordProfile.forceChangePasswordNextSignIn:
	// a password sign-in is refused (AADSTS50055) until it is changed.
	MustChangePassword bool `json:"forceChangePasswordNextSignIn,omitempty"`
	// Profile holds the directory's profile properties (givenName,
	// department, usageLocation, ...) by Graph name, as written.
	Profile map[string]any `json:"profile,omitempty"`
}

type group struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName"`
	Members     []string `json:"members"`
}

type roleAssignment struct {
	ID               string `json:"id"`
	PrincipalID      string `json:"principalId"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	DirectoryScopeID string `json:"directoryScopeId"`
}

type roleDefinition struct {
	ID           string `json:"id"`
	DisplayName  string `json:"displayName"`
	IsPrivileged bool   `json:"isPrivileged"`
}

// scenario is one entry of assets/scenarios.json: the changes a named
// scenario makes to the demo tenant.
type scenario struct {
	Description           string            `json:"description"`
	Operator              string            `json:"operator"`
	SecurityDefaults      bool              `json:"securityDefaults"`
	ReplaceSkus           []json.RawMessage `json:"replaceSkus"`
	RemovePolicies        []string          `json:"removePolicies"`
	EnablePolicies        []string          `json:"enablePolicies"`
	AddUsers              []*user           `json:"addUsers"`
	AddRoleAssignments    []*roleAssignment `json:"addRoleAssignments"`
	RemoveRoleAssignments []string          `json:"removeRoleAssignments"`
	CAThrottle            bool              `json:"caThrottle"`
}

// Scenarios lists the scenario names with their descriptions, in name order.
func Scenarios() ([][2]string, error) {
	all, err := loadScenarios()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([][2]string, len(names))
	for i, n := range names {
		out[i] = [2]string{n, all[n].Description}
	}
	return out, nil
}

func loadScenarios() (map[string]scenario, error) {
	var all map[string]scenario
	if err := json.Unmarshal(assets.Scenarios, &all); err != nil {
		return nil, fmt.Errorf("reading the embedded scenarios: %w", err)
	}
	return all, nil
}

// loadState builds the starting tenant: the persisted file's content
// (data) when there is one, else the demo tenant with the scenario applied.
func loadState(data []byte, path, scenarioName string) (*state, error) {
	if data != nil {
		st, err := decodeState(data)
		if err != nil {
			return nil, fmt.Errorf("reading the demo state %s: %w (delete it to start afresh)", path, err)
		}
		return st, nil
	}
	st, err := decodeState(assets.DemoTenant)
	if err != nil {
		return nil, fmt.Errorf("reading the embedded demo tenant: %w", err)
	}
	if scenarioName == "" {
		scenarioName = "default"
	}
	all, err := loadScenarios()
	if err != nil {
		return nil, err
	}
	sc, ok := all[scenarioName]
	if !ok {
		names := make([]string, 0, len(all))
		for n := range all {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, fmt.Errorf("unknown demo scenario %q (known: %s)", scenarioName, strings.Join(names, ", "))
	}
	st.apply(sc)
	if err := st.validate(); err != nil {
		return nil, fmt.Errorf("the demo scenario %q: %w", scenarioName, err)
	}
	return st, nil
}

func (st *state) apply(sc scenario) {
	if sc.Operator != "" {
		st.Operator = sc.Operator
	}
	if sc.SecurityDefaults {
		st.SecurityDefaults = true
	}
	if sc.ReplaceSkus != nil {
		st.SubscribedSkus = sc.ReplaceSkus
	}
	st.Policies = slices.DeleteFunc(st.Policies, func(p *ca.Policy) bool { return slices.Contains(sc.RemovePolicies, p.ID) })
	for _, p := range st.Policies {
		if slices.Contains(sc.EnablePolicies, p.ID) {
			p.State = ca.StateEnabled
		}
	}
	st.Users = append(st.Users, sc.AddUsers...)
	st.changedDirectory()
	st.RoleAssignments = slices.DeleteFunc(st.RoleAssignments, func(r *roleAssignment) bool {
		return slices.Contains(sc.RemoveRoleAssignments, r.ID)
	})
	st.RoleAssignments = append(st.RoleAssignments, sc.AddRoleAssignments...)
	st.CAThrottle = sc.CAThrottle
}

func (st *state) userByIDOrUPN(key string) *user {
	x := st.index()
	if u := x.users[strings.ToLower(key)]; u != nil {
		return u
	}
	return x.upns[strings.ToLower(key)]
}

// transitiveGroups returns every group the object is a member of, directly
// or through nested groups.
func (st *state) transitiveGroups(id string) []string {
	x := st.index()
	var out []string
	seen := map[string]bool{}
	frontier := []string{id}
	for len(frontier) > 0 {
		cur := frontier[0]
		frontier = frontier[1:]
		for _, gid := range x.memberOf[strings.ToLower(cur)] {
			if !seen[gid] {
				seen[gid] = true
				out = append(out, gid)
				frontier = append(frontier, gid)
			}
		}
	}
	return out
}

// transitiveUsers returns every user in the group or in a group nested in
// it, in directory order (as a list of users is), at a cost that follows
// the members visited rather than the size of the directory.
func (st *state) transitiveUsers(groupID string) []*user {
	x := st.index()
	var found []string // lower-case user ids
	seen := map[string]bool{strings.ToLower(groupID): true}
	frontier := []string{groupID}
	for len(frontier) > 0 {
		g := x.groups[strings.ToLower(frontier[0])]
		frontier = frontier[1:]
		if g == nil {
			continue
		}
		for _, m := range g.Members {
			k := strings.ToLower(m)
			switch {
			case seen[k]:
			case x.users[k] != nil:
				seen[k] = true
				found = append(found, k)
			case x.groups[k] != nil:
				seen[k] = true
				frontier = append(frontier, m)
			}
		}
	}
	slices.SortFunc(found, func(a, b string) int { return x.pos[a] - x.pos[b] })
	out := make([]*user, len(found))
	for i, k := range found {
		out[i] = x.users[k]
	}
	return out
}

// roleTemplates returns the role template ids assigned to the principal at
// tenant scope (roles scoped to an administrative unit are not CA targets).
func (st *state) roleTemplates(id string) []string {
	var out []string
	for _, ra := range st.RoleAssignments {
		if ra.PrincipalID == id && ra.DirectoryScopeID == "/" && !slices.Contains(out, ra.RoleDefinitionID) {
			out = append(out, ra.RoleDefinitionID)
		}
	}
	return out
}

func (st *state) subject(u *user) ca.Subject {
	return ca.Subject{
		UserID: u.ID,
		Groups: st.transitiveGroups(u.ID),
		Roles:  st.roleTemplates(u.ID),
		Guest:  u.UserType == "Guest",
	}
}
