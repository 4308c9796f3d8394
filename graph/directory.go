package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
)

// Directory objects travel as Graph's JSON, like Conditional Access (see
// condaccess.go): each read goes through the SDK's request adapter and
// middleware and is decoded straight into the domain types below, whose
// field names are Graph's own; each write is the JSON body Graph documents.
// The SDK's generated models package is not compiled: it was most of the
// build's time, memory and binary for a couple of dozen identifiers, and its
// enums turn a value they do not know into their first member. Strings stay
// strings here, whatever value Graph sends, and the objects a write may
// change (users, groups and roles, role assignments) keep Graph's JSON as it
// came in Raw, the before-image nothing has reinterpreted.

// Organization is the tenant.
type Organization struct {
	ID              string           `json:"id"`
	DisplayName     string           `json:"displayName"`
	VerifiedDomains []VerifiedDomain `json:"verifiedDomains"`
}

// VerifiedDomain is one of the tenant's domains.
type VerifiedDomain struct {
	Name      string `json:"name"`
	IsInitial bool   `json:"isInitial"`
	IsDefault bool   `json:"isDefault"`
}

// InitialDomain is the tenant's <name>.onmicrosoft.com domain.
func (o Organization) InitialDomain() string {
	for _, d := range o.VerifiedDomains {
		if d.IsInitial {
			return d.Name
		}
	}
	return ""
}

// SKU is a subscribed licence.
type SKU struct {
	SkuPartNumber    string        `json:"skuPartNumber"`
	CapabilityStatus string        `json:"capabilityStatus"`
	ServicePlans     []ServicePlan `json:"servicePlans"`
}

// ServicePlan is one service inside a SKU.
type ServicePlan struct {
	ServicePlanID      string `json:"servicePlanId"`
	ServicePlanName    string `json:"servicePlanName"`
	ProvisioningStatus string `json:"provisioningStatus"`
}

// Entra ID premium service plans (GRAPH-NOTES section 4).
const (
	PlanP1 = "41781fb2-bc02-4b7c-bd55-b576c07bb09d"
	PlanP2 = "eec0eb4f-6444-4f95-aba0-50c24d67f998"
)

// EntraPremium reports whether an enabled SKU provisions Entra ID P1 and P2.
func EntraPremium(skus []SKU) (p1, p2 bool) {
	for _, s := range skus {
		if s.CapabilityStatus != "Enabled" {
			continue
		}
		for _, sp := range s.ServicePlans {
			if sp.ProvisioningStatus != "Success" {
				continue
			}
			switch strings.ToLower(sp.ServicePlanID) {
			case PlanP1:
				p1 = true
			case PlanP2:
				p1, p2 = true, true
			}
		}
	}
	return p1, p2
}

// User is a directory user.
type User struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	DisplayName       string `json:"displayName"`
	UserType          string `json:"userType"`
	AccountEnabled    bool   `json:"accountEnabled"`
	PasswordPolicies  string `json:"passwordPolicies"`
	CreatedDateTime   string `json:"createdDateTime"`
	// Raw is the user exactly as Graph sent it, every property it holds
	// (those the $select asked for; for CreateUser, the create's answer,
	// which has Graph's default properties only); nil for a User built in
	// code. It is not written back by json.Marshal.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a user and keeps its JSON in Raw.
func (u *User) UnmarshalJSON(data []byte) error {
	type plain User
	return decodeKeepingRaw(data, (*plain)(u), &u.Raw)
}

// NewUser is what creating the management account needs. Password is kept in
// memory only and never logged.
type NewUser struct {
	UserPrincipalName string
	DisplayName       string
	MailNickname      string
	Password          string
	Enabled           bool
}

// DirectoryObject is a group or directory role a user is a member of.
type DirectoryObject struct {
	ODataType      string `json:"@odata.type"`
	ID             string `json:"id"`
	DisplayName    string `json:"displayName"`
	RoleTemplateID string `json:"roleTemplateId"`
	// Raw is the object exactly as Graph sent it (a group's or role's
	// other properties included); nil for one built in code.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a directory object and keeps its JSON in Raw.
func (o *DirectoryObject) UnmarshalJSON(data []byte) error {
	type plain DirectoryObject
	return decodeKeepingRaw(data, (*plain)(o), &o.Raw)
}

// Memberships are a user's transitive groups and directory roles.
type Memberships struct {
	Groups []DirectoryObject
	Roles  []DirectoryObject // directoryRole objects; RoleTemplateID is set
}

// GroupIDs lists the group ids.
func (m Memberships) GroupIDs() []string {
	out := make([]string, len(m.Groups))
	for i, g := range m.Groups {
		out[i] = g.ID
	}
	return out
}

// RoleTemplateIDs lists the role template ids.
func (m Memberships) RoleTemplateIDs() []string {
	out := make([]string, len(m.Roles))
	for i, r := range m.Roles {
		out[i] = r.RoleTemplateID
	}
	return out
}

// AuthMethod is a registered authentication method.
type AuthMethod struct {
	ODataType string `json:"@odata.type"`
	ID        string `json:"id"`
}

// Kind is the method's short name, e.g. "microsoftAuthenticator".
func (m AuthMethod) Kind() string {
	k := strings.TrimPrefix(m.ODataType, "#microsoft.graph.")
	return strings.TrimSuffix(k, "AuthenticationMethod")
}

// IsMFA reports whether the method can satisfy MFA (a password cannot).
func (m AuthMethod) IsMFA() bool { return m.Kind() != "password" }

// RoleDefinition is a directory role.
type RoleDefinition struct {
	ID          string `json:"id"`
	TemplateID  string `json:"templateId"`
	DisplayName string `json:"displayName"`
	IsBuiltIn   bool   `json:"isBuiltIn"`
}

// RoleAssignment assigns a role to a principal at a scope.
type RoleAssignment struct {
	ID               string `json:"id"`
	PrincipalID      string `json:"principalId"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	DirectoryScopeID string `json:"directoryScopeId"`
	// Raw is the assignment exactly as Graph sent it; nil for one built
	// in code.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a role assignment and keeps its JSON in Raw.
func (ra *RoleAssignment) UnmarshalJSON(data []byte) error {
	type plain RoleAssignment
	return decodeKeepingRaw(data, (*plain)(ra), &ra.Raw)
}

// decodeKeepingRaw decodes data into dst (a type without this method, or it
// would recurse) and keeps a copy of data in raw: json.Unmarshal lends an
// UnmarshalJSON its bytes for the call only. JSON null leaves both alone,
// as json.Unmarshal does for a struct.
func decodeKeepingRaw(data []byte, dst any, raw *json.RawMessage) error {
	if string(data) == "null" {
		return nil
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return err
	}
	*raw = append(json.RawMessage(nil), data...)
	return nil
}

// SignInEvent is one entry of the sign-in log.
type SignInEvent struct {
	ID                string `json:"id"`
	CreatedDateTime   string `json:"createdDateTime"`
	UserPrincipalName string `json:"userPrincipalName"`
	IPAddress         string `json:"ipAddress"`
	Status            struct {
		ErrorCode     int    `json:"errorCode"`
		FailureReason string `json:"failureReason"`
	} `json:"status"`
}

// Organization reads the tenant and its domains.
func (c *Client) Organization(ctx context.Context) (Organization, error) {
	orgs, err := listJSON[Organization](ctx, c, "reading the organization", "/organization", nil)
	if err != nil {
		return Organization{}, err
	}
	if len(orgs) == 0 {
		return Organization{}, fmt.Errorf("reading the organization: Graph returned none")
	}
	return orgs[0], nil
}

// SubscribedSKUs reads the tenant's licences.
func (c *Client) SubscribedSKUs(ctx context.Context) ([]SKU, error) {
	return listJSON[SKU](ctx, c, "reading the licences", "/subscribedSkus", nil)
}

const securityDefaultsPath = "/policies/identitySecurityDefaultsEnforcementPolicy"

// SecurityDefaults reports whether security defaults are on.
func (c *Client) SecurityDefaults(ctx context.Context) (bool, error) {
	var p struct {
		IsEnabled bool `json:"isEnabled"`
	}
	if err := c.getJSON(ctx, "reading security defaults", securityDefaultsPath, nil, &p); err != nil {
		return false, err
	}
	return p.IsEnabled, nil
}

// SetSecurityDefaults turns security defaults on or off (isEnabled is sent
// even when false).
func (c *Client) SetSecurityDefaults(ctx context.Context, on bool) error {
	return c.sendJSON(ctx, "changing security defaults", abs.PATCH, securityDefaultsPath, map[string]any{"isEnabled": on}, nil)
}

// userProperties are the User fields. Graph returns accountEnabled,
// userType, passwordPolicies and createdDateTime only when asked for them by
// $select (its default set is id, names, mail and phones), so every user
// read asks for exactly these.
const userProperties = "id,userPrincipalName,displayName,userType,accountEnabled,passwordPolicies,createdDateTime"

// withUserProperties adds the $select of userProperties to a query.
func withUserProperties(q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	q.Set("$select", userProperties)
	return q
}

// Me reads the signed-in user.
func (c *Client) Me(ctx context.Context) (User, error) {
	return c.getUser(ctx, "reading the signed-in user", "/me")
}

func (c *Client) getUser(ctx context.Context, op, path string) (User, error) {
	var u User
	if err := c.getJSON(ctx, op, path, withUserProperties(nil), &u); err != nil {
		return User{}, err
	}
	return u, nil
}

// User reads a user by object id or UPN.
func (c *Client) User(ctx context.Context, idOrUPN string) (User, error) {
	path, err := pathf("/users/%s", idOrUPN)
	if err != nil {
		return User{}, fmt.Errorf("reading user: %w", err)
	}
	return c.getUser(ctx, "reading user "+idOrUPN, path)
}

// quoteOData quotes a string literal for $filter.
func quoteOData(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// FindUsersByPrefix lists the users whose UPN starts with any of the
// prefixes, in one request. No prefix finds nobody (an empty $filter would
// list the whole directory).
func (c *Client) FindUsersByPrefix(ctx context.Context, prefixes ...string) ([]User, error) {
	if len(prefixes) == 0 {
		return nil, nil
	}
	clauses := make([]string, len(prefixes))
	for i, p := range prefixes {
		clauses[i] = "startswith(userPrincipalName," + quoteOData(p) + ")"
	}
	q := withUserProperties(url.Values{"$filter": {strings.Join(clauses, " or ")}})
	return listJSON[User](ctx, c, "looking for management accounts", "/users", q)
}

// GroupMembers lists the users in a group, directly or through nested
// groups (transitiveMembers cast to users).
func (c *Client) GroupMembers(ctx context.Context, groupID string) ([]User, error) {
	path, err := pathf("/groups/%s/transitiveMembers/microsoft.graph.user", groupID)
	if err != nil {
		return nil, fmt.Errorf("reading the members of a group: %w", err)
	}
	return listJSON[User](ctx, c, "reading the members of group "+groupID, path, withUserProperties(nil))
}

// UsersByID reads the users with the given ids that exist: 15 ids to a
// $filter "in" clause (Graph's limit), one request for up to 15 ids and
// $batch requests of 20 such reads beyond that, so that thousands of ids
// cost a few dozen round trips, not thousands.
func (c *Client) UsersByID(ctx context.Context, ids []string) ([]User, error) {
	const op = "reading users"
	var paths []string
	for chunk := range slices.Chunk(ids, 15) {
		quoted := make([]string, len(chunk))
		for i, id := range chunk {
			quoted[i] = quoteOData(id)
		}
		paths = append(paths, relativeURL("/users", withUserProperties(url.Values{"$filter": {"id in (" + strings.Join(quoted, ",") + ")"}})))
	}
	switch len(paths) {
	case 0:
		return nil, nil
	case 1:
		return listJSON[User](ctx, c, op, paths[0], nil)
	}
	pages, err := batchLists[User](ctx, c, op, paths)
	if err != nil {
		return nil, err
	}
	var out []User
	for _, p := range pages {
		out = append(out, p...)
	}
	return out, nil
}

// passwordProfile is the passwordProfile of a user write: a service account
// signs in non-interactively, so it is never asked to change the password.
func passwordProfile(password string) map[string]any {
	return map[string]any{"password": password, "forceChangePasswordNextSignIn": false}
}

// CreateUser creates a user whose password never expires and need not be
// changed at first sign-in (a service account signs in non-interactively).
// CreatedDateTime is empty in what it returns: Graph's answer to a create
// leaves it out.
func (c *Client) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	const policies = "DisablePasswordExpiration"
	body := map[string]any{
		"accountEnabled":    nu.Enabled,
		"displayName":       nu.DisplayName,
		"mailNickname":      nu.MailNickname,
		"userPrincipalName": nu.UserPrincipalName,
		"passwordPolicies":  policies,
		"passwordProfile":   passwordProfile(nu.Password),
	}
	var u User
	if err := c.sendJSON(ctx, "creating user "+nu.UserPrincipalName, abs.POST, "/users", body, &u); err != nil {
		return User{}, err
	}
	// Graph answers a create with the default properties only; the others
	// are what was just written.
	u.AccountEnabled, u.PasswordPolicies = nu.Enabled, policies
	if u.UserType == "" {
		u.UserType = "Member"
	}
	return u, nil
}

// UserPatch lists the user properties the product changes; nil leaves one
// alone.
type UserPatch struct {
	AccountEnabled *bool
	DisplayName    *string
	Password       *string
}

// UpdateUser patches a user; it retries while a new user replicates.
func (c *Client) UpdateUser(ctx context.Context, id string, p UserPatch) error {
	body := map[string]any{}
	if p.AccountEnabled != nil {
		body["accountEnabled"] = *p.AccountEnabled
	}
	if p.DisplayName != nil {
		body["displayName"] = *p.DisplayName
	}
	if p.Password != nil {
		body["passwordProfile"] = passwordProfile(*p.Password)
	}
	path, err := pathf("/users/%s", id)
	if err != nil {
		return fmt.Errorf("updating user: %w", err)
	}
	return c.replicated(ctx, func() error {
		return c.sendJSON(ctx, "updating user "+id, abs.PATCH, path, body, nil)
	})
}

// DeleteUser deletes a user; one already gone counts as deleted.
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	path, err := pathf("/users/%s", id)
	if err != nil {
		return fmt.Errorf("deleting user: %w", err)
	}
	err = c.sendJSON(ctx, "deleting user "+id, abs.DELETE, path, nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// RevokeSessions ends the user's existing sign-in sessions.
func (c *Client) RevokeSessions(ctx context.Context, id string) error {
	path, err := pathf("/users/%s/revokeSignInSessions", id)
	if err != nil {
		return fmt.Errorf("revoking the sessions of a user: %w", err)
	}
	ri, err := c.request(abs.POST, path, nil)
	if err != nil {
		return err
	}
	_, err = c.adapter.SendPrimitive(ctx, ri, "[]byte", c.errMapping)
	return wrapErr("revoking the sessions of "+id, err)
}

// memberships reads transitiveMemberOf at path and splits groups from roles
// (other kinds of object, such as administrative units, are left out).
func (c *Client) memberships(ctx context.Context, op, path string) (Memberships, error) {
	objs, err := listJSON[DirectoryObject](ctx, c, op, path, nil)
	if err != nil {
		return Memberships{}, err
	}
	return splitMemberships(objs), nil
}

// splitMemberships sorts a user's transitiveMemberOf into groups and
// directory roles, leaving out other kinds of object.
func splitMemberships(objs []DirectoryObject) Memberships {
	var m Memberships
	for _, o := range objs {
		switch o.ODataType {
		case "#microsoft.graph.group":
			m.Groups = append(m.Groups, o)
		case "#microsoft.graph.directoryRole":
			m.Roles = append(m.Roles, o)
		}
	}
	return m
}

// MyMemberships reads the signed-in user's groups and directory roles.
func (c *Client) MyMemberships(ctx context.Context) (Memberships, error) {
	return c.memberships(ctx, "reading the signed-in user's roles", "/me/transitiveMemberOf")
}

// UserMemberships reads a user's transitive groups and directory roles.
func (c *Client) UserMemberships(ctx context.Context, id string) (Memberships, error) {
	path, err := pathf("/users/%s/transitiveMemberOf", id)
	if err != nil {
		return Memberships{}, fmt.Errorf("reading the memberships of a user: %w", err)
	}
	return c.memberships(ctx, "reading the memberships of "+id, path)
}

// AuthMethods lists a user's registered authentication methods, whatever
// their kind (a kind newer than this code keeps its @odata.type).
func (c *Client) AuthMethods(ctx context.Context, id string) ([]AuthMethod, error) {
	path, err := pathf("/users/%s/authentication/methods", id)
	if err != nil {
		return nil, fmt.Errorf("reading the authentication methods of a user: %w", err)
	}
	return listJSON[AuthMethod](ctx, c, "reading the authentication methods of "+id, path, nil)
}

// PerUserMFA reads the legacy per-user MFA state (disabled, enabled or
// enforced; a newer value comes back as Graph sent it). It is beta-only, so
// the request goes to the beta root through the same adapter.
func (c *Client) PerUserMFA(ctx context.Context, id string) (string, error) {
	var body struct {
		PerUserMfaState string `json:"perUserMfaState"`
	}
	path, err := pathf("/users/%s/authentication/requirements", id)
	if err != nil {
		return "", fmt.Errorf("reading the per-user MFA state of a user: %w", err)
	}
	err = c.getJSON(ctx, "reading the per-user MFA state of "+id, c.beta+path, nil, &body)
	return body.PerUserMfaState, err
}

// SetPerUserMFA changes the legacy per-user MFA state (beta).
func (c *Client) SetPerUserMFA(ctx context.Context, id, state string) error {
	path, err := pathf("/users/%s/authentication/requirements", id)
	if err != nil {
		return fmt.Errorf("changing the per-user MFA state of a user: %w", err)
	}
	return c.sendJSON(ctx, "changing the per-user MFA state of "+id, abs.PATCH,
		c.beta+path, map[string]any{"perUserMfaState": state}, nil)
}

// openTypeExtension is the @odata.type of an open extension.
const openTypeExtension = "#microsoft.graph.openTypeExtension"

// Extension reads an open extension of a user; found is false when absent.
// data holds its properties as Graph sent them (numbers as float64), less
// the extension's own id and extensionName and the @odata annotations
// (@odata.type, @odata.context, @odata.id).
func (c *Client) Extension(ctx context.Context, userID, name string) (data map[string]any, found bool, err error) {
	path, err := pathf("/users/%s/extensions/%s", userID, name)
	if err != nil {
		return nil, false, fmt.Errorf("reading the %s extension: %w", name, err)
	}
	err = c.getJSON(ctx, "reading the "+name+" extension", path, nil, &data)
	if IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if data == nil {
		data = map[string]any{}
	}
	for k := range data {
		if k == "id" || k == "extensionName" || strings.HasPrefix(k, "@odata.") {
			delete(data, k)
		}
	}
	return data, true, nil
}

// SetExtension creates a user's open extension, or updates it when it
// exists: the properties given are set, and a property left out keeps its
// value (Graph merges an open extension PATCH). Values must be strings,
// numbers or booleans.
func (c *Client) SetExtension(ctx context.Context, userID, name string, props map[string]any) error {
	ext := make(map[string]any, len(props)+2)
	for k, v := range props {
		ext[k] = v
	}
	ext["@odata.type"], ext["extensionName"] = openTypeExtension, name
	path, err := pathf("/users/%s/extensions", userID)
	if err != nil {
		return fmt.Errorf("recording the %s extension: %w", name, err)
	}
	extPath, err := pathf("/users/%s/extensions/%s", userID, name)
	if err != nil {
		return fmt.Errorf("recording the %s extension: %w", name, err)
	}
	return c.replicated(ctx, func() error {
		err := c.sendJSON(ctx, "recording the "+name+" extension", abs.POST, path, ext, nil)
		if err == nil || statusOf(err) != 409 {
			return err
		}
		return c.sendJSON(ctx, "updating the "+name+" extension", abs.PATCH, extPath, ext, nil)
	})
}

// DeleteExtension removes a user's open extension; absent counts as done.
func (c *Client) DeleteExtension(ctx context.Context, userID, name string) error {
	path, err := pathf("/users/%s/extensions/%s", userID, name)
	if err != nil {
		return fmt.Errorf("deleting the %s extension: %w", name, err)
	}
	err = c.sendJSON(ctx, "deleting the "+name+" extension", abs.DELETE, path, nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// RoleDefinitions lists the directory roles.
func (c *Client) RoleDefinitions(ctx context.Context) ([]RoleDefinition, error) {
	return listJSON[RoleDefinition](ctx, c, "reading the directory roles", "/roleManagement/directory/roleDefinitions", nil)
}

const roleAssignmentsPath = "/roleManagement/directory/roleAssignments"

// RoleAssignments lists the role assignments of one principal.
func (c *Client) RoleAssignments(ctx context.Context, principalID string) ([]RoleAssignment, error) {
	q := url.Values{"$filter": {"principalId eq " + quoteOData(principalID)}}
	return listJSON[RoleAssignment](ctx, c, "reading the role assignments of "+principalID, roleAssignmentsPath, q)
}

// AssignRole assigns a directory role (by template id) at tenant scope. It
// retries while a just-created principal replicates.
func (c *Client) AssignRole(ctx context.Context, principalID, roleTemplateID string) (RoleAssignment, error) {
	body := map[string]any{
		"@odata.type":      "#microsoft.graph.unifiedRoleAssignment",
		"principalId":      principalID,
		"roleDefinitionId": roleTemplateID,
		"directoryScopeId": "/",
	}
	var ra RoleAssignment
	err := c.replicated(ctx, func() error {
		return c.sendJSON(ctx, "assigning role "+roleTemplateID, abs.POST, roleAssignmentsPath, body, &ra)
	})
	return ra, err
}

// RemoveRoleAssignment deletes a role assignment; absent counts as done.
func (c *Client) RemoveRoleAssignment(ctx context.Context, id string) error {
	path, err := pathf(roleAssignmentsPath+"/%s", id)
	if err != nil {
		return fmt.Errorf("removing a role assignment: %w", err)
	}
	err = c.sendJSON(ctx, "removing role assignment "+id, abs.DELETE, path, nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// SignIns reads the newest sign-in log entries of one user (one page of at
// most top entries).
func (c *Client) SignIns(ctx context.Context, userID string, top int) ([]SignInEvent, error) {
	const op = "reading the sign-in log"
	q := url.Values{"$filter": {"userId eq " + quoteOData(userID)}, "$top": {fmt.Sprint(top)}}
	ri, err := c.request(abs.GET, "/auditLogs/signIns", q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	// Report-only CA results are only listed with this preference.
	ri.Headers.TryAdd("Prefer", "include-unknown-enum-members")
	var page struct {
		Value []SignInEvent `json:"value"`
	}
	if err := c.exchangeJSON(ctx, op, ri, &page); err != nil {
		return nil, err
	}
	return page.Value, nil
}
