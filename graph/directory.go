package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

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
	orgs, err := listAll[models.Organizationable, Organization](ctx, c, "reading the organization", "/organization", nil,
		models.CreateOrganizationCollectionResponseFromDiscriminatorValue)
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
	return listAll[models.SubscribedSkuable, SKU](ctx, c, "reading the licences", "/subscribedSkus", nil,
		models.CreateSubscribedSkuCollectionResponseFromDiscriminatorValue)
}

const securityDefaultsPath = "/policies/identitySecurityDefaultsEnforcementPolicy"

// SecurityDefaults reports whether security defaults are on.
func (c *Client) SecurityDefaults(ctx context.Context) (bool, error) {
	res, err := c.get(ctx, "reading security defaults", securityDefaultsPath, nil,
		models.CreateIdentitySecurityDefaultsEnforcementPolicyFromDiscriminatorValue)
	if err != nil {
		return false, err
	}
	return deref(res.(models.IdentitySecurityDefaultsEnforcementPolicyable).GetIsEnabled()), nil
}

// SetSecurityDefaults turns security defaults on or off.
func (c *Client) SetSecurityDefaults(ctx context.Context, on bool) error {
	body := models.NewIdentitySecurityDefaultsEnforcementPolicy()
	body.SetIsEnabled(&on)
	_, err := c.send(ctx, "changing security defaults", abs.PATCH, securityDefaultsPath, body, nil)
	return err
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
	res, err := c.get(ctx, op, path, withUserProperties(nil), models.CreateUserFromDiscriminatorValue)
	if err != nil {
		return User{}, err
	}
	var u User
	return u, toDomain(res, &u)
}

// User reads a user by object id or UPN.
func (c *Client) User(ctx context.Context, idOrUPN string) (User, error) {
	return c.getUser(ctx, "reading user "+idOrUPN, "/users/"+url.PathEscape(idOrUPN))
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
	return listAll[models.Userable, User](ctx, c, "looking for management accounts", "/users", q,
		models.CreateUserCollectionResponseFromDiscriminatorValue)
}

// GroupMembers lists the users in a group, directly or through nested
// groups (transitiveMembers cast to users).
func (c *Client) GroupMembers(ctx context.Context, groupID string) ([]User, error) {
	return listAll[models.Userable, User](ctx, c, "reading the members of group "+groupID,
		"/groups/"+url.PathEscape(groupID)+"/transitiveMembers/microsoft.graph.user", withUserProperties(nil),
		models.CreateUserCollectionResponseFromDiscriminatorValue)
}

// UsersByID reads several users in one request (at most 15 ids per $filter
// "in" clause on Graph, so larger sets are split).
func (c *Client) UsersByID(ctx context.Context, ids []string) ([]User, error) {
	var out []User
	for chunk := range slices.Chunk(ids, 15) {
		quoted := make([]string, len(chunk))
		for i, id := range chunk {
			quoted[i] = quoteOData(id)
		}
		q := withUserProperties(url.Values{"$filter": {"id in (" + strings.Join(quoted, ",") + ")"}})
		users, err := listAll[models.Userable, User](ctx, c, "reading users", "/users", q,
			models.CreateUserCollectionResponseFromDiscriminatorValue)
		if err != nil {
			return nil, err
		}
		out = append(out, users...)
	}
	return out, nil
}

// CreateUser creates a user whose password never expires and need not be
// changed at first sign-in (a service account signs in non-interactively).
// CreatedDateTime is empty in what it returns: Graph's answer to a create
// leaves it out.
func (c *Client) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	body := models.NewUser()
	body.SetAccountEnabled(&nu.Enabled)
	body.SetDisplayName(&nu.DisplayName)
	body.SetMailNickname(&nu.MailNickname)
	body.SetUserPrincipalName(&nu.UserPrincipalName)
	policies := "DisablePasswordExpiration"
	body.SetPasswordPolicies(&policies)
	pp := models.NewPasswordProfile()
	no := false
	pp.SetPassword(&nu.Password)
	pp.SetForceChangePasswordNextSignIn(&no)
	body.SetPasswordProfile(pp)
	res, err := c.send(ctx, "creating user "+nu.UserPrincipalName, abs.POST, "/users", body, models.CreateUserFromDiscriminatorValue)
	if err != nil {
		return User{}, err
	}
	var u User
	if err := toDomain(res, &u); err != nil {
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
	body := models.NewUser()
	body.SetAccountEnabled(p.AccountEnabled)
	body.SetDisplayName(p.DisplayName)
	if p.Password != nil {
		pp := models.NewPasswordProfile()
		pp.SetPassword(p.Password)
		no := false
		pp.SetForceChangePasswordNextSignIn(&no)
		body.SetPasswordProfile(pp)
	}
	return c.replicated(ctx, func() error {
		_, err := c.send(ctx, "updating user "+id, abs.PATCH, "/users/"+url.PathEscape(id), body, nil)
		return err
	})
}

// DeleteUser deletes a user; one already gone counts as deleted.
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	_, err := c.send(ctx, "deleting user "+id, abs.DELETE, "/users/"+url.PathEscape(id), nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// RevokeSessions ends the user's existing sign-in sessions.
func (c *Client) RevokeSessions(ctx context.Context, id string) error {
	ri, err := c.request(abs.POST, "/users/"+url.PathEscape(id)+"/revokeSignInSessions", nil)
	if err != nil {
		return err
	}
	_, err = c.adapter.SendPrimitive(ctx, ri, "[]byte", c.errMapping)
	return wrapErr("revoking the sessions of "+id, err)
}

// memberships reads transitiveMemberOf at path and splits groups from roles.
func (c *Client) memberships(ctx context.Context, op, path string) (Memberships, error) {
	objs, err := listAll[models.DirectoryObjectable, DirectoryObject](ctx, c, op, path, nil,
		models.CreateDirectoryObjectCollectionResponseFromDiscriminatorValue)
	if err != nil {
		return Memberships{}, err
	}
	var m Memberships
	for _, o := range objs {
		switch o.ODataType {
		case "#microsoft.graph.group":
			m.Groups = append(m.Groups, o)
		case "#microsoft.graph.directoryRole":
			m.Roles = append(m.Roles, o)
		}
	}
	return m, nil
}

// MyMemberships reads the signed-in user's groups and directory roles.
func (c *Client) MyMemberships(ctx context.Context) (Memberships, error) {
	return c.memberships(ctx, "reading the signed-in user's roles", "/me/transitiveMemberOf")
}

// UserMemberships reads a user's transitive groups and directory roles.
func (c *Client) UserMemberships(ctx context.Context, id string) (Memberships, error) {
	return c.memberships(ctx, "reading the memberships of "+id, "/users/"+url.PathEscape(id)+"/transitiveMemberOf")
}

// AuthMethods lists a user's registered authentication methods.
func (c *Client) AuthMethods(ctx context.Context, id string) ([]AuthMethod, error) {
	return listAll[models.AuthenticationMethodable, AuthMethod](ctx, c, "reading the authentication methods of "+id,
		"/users/"+url.PathEscape(id)+"/authentication/methods", nil,
		models.CreateAuthenticationMethodCollectionResponseFromDiscriminatorValue)
}

// PerUserMFA reads the legacy per-user MFA state (disabled, enabled or
// enforced). It is beta-only and absent from the v1.0 SDK, so the request is
// built by hand and sent through the same adapter.
func (c *Client) PerUserMFA(ctx context.Context, id string) (string, error) {
	op := "reading the per-user MFA state of " + id
	ri, err := c.request(abs.GET, c.beta+"/users/"+url.PathEscape(id)+"/authentication/requirements", nil)
	if err != nil {
		return "", err
	}
	res, err := c.adapter.SendPrimitive(ctx, ri, "[]byte", c.errMapping)
	if err != nil {
		return "", wrapErr(op, err)
	}
	var body struct {
		PerUserMfaState string `json:"perUserMfaState"`
	}
	if data, ok := res.([]byte); ok {
		if err := json.Unmarshal(data, &body); err != nil {
			return "", fmt.Errorf("%s: %w", op, err)
		}
	}
	return body.PerUserMfaState, nil
}

// SetPerUserMFA changes the legacy per-user MFA state (beta, hand-built).
func (c *Client) SetPerUserMFA(ctx context.Context, id, state string) error {
	op := "changing the per-user MFA state of " + id
	ri, err := c.request(abs.PATCH, c.beta+"/users/"+url.PathEscape(id)+"/authentication/requirements", nil)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"perUserMfaState": state})
	ri.SetStreamContentAndContentType(body, "application/json")
	return wrapErr(op, c.adapter.SendNoContent(ctx, ri, c.errMapping))
}

// Extension reads an open extension of a user; found is false when absent.
func (c *Client) Extension(ctx context.Context, userID, name string) (data map[string]any, found bool, err error) {
	res, err := c.get(ctx, "reading the "+name+" extension", "/users/"+url.PathEscape(userID)+"/extensions/"+url.PathEscape(name), nil,
		models.CreateExtensionFromDiscriminatorValue)
	if IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if err := toDomain(res, &data); err != nil {
		return nil, false, err
	}
	for _, k := range []string{"@odata.type", "id", "extensionName"} {
		delete(data, k)
	}
	return data, true, nil
}

// SetExtension creates a user's open extension, or updates it when it
// exists: the properties given are set, and a property left out keeps its
// value (Graph merges an open extension PATCH). Values must be strings,
// numbers or booleans.
func (c *Client) SetExtension(ctx context.Context, userID, name string, props map[string]any) error {
	ext := models.NewOpenTypeExtension()
	ext.SetExtensionName(&name)
	ext.SetAdditionalData(props)
	path := "/users/" + url.PathEscape(userID) + "/extensions"
	return c.replicated(ctx, func() error {
		_, err := c.send(ctx, "recording the "+name+" extension", abs.POST, path, ext, models.CreateExtensionFromDiscriminatorValue)
		if err == nil || statusOf(err) != 409 {
			return err
		}
		_, err = c.send(ctx, "updating the "+name+" extension", abs.PATCH, path+"/"+url.PathEscape(name), ext, nil)
		return err
	})
}

// DeleteExtension removes a user's open extension; absent counts as done.
func (c *Client) DeleteExtension(ctx context.Context, userID, name string) error {
	_, err := c.send(ctx, "deleting the "+name+" extension", abs.DELETE, "/users/"+url.PathEscape(userID)+"/extensions/"+url.PathEscape(name), nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// RoleDefinitions lists the directory roles.
func (c *Client) RoleDefinitions(ctx context.Context) ([]RoleDefinition, error) {
	return listAll[models.UnifiedRoleDefinitionable, RoleDefinition](ctx, c, "reading the directory roles",
		"/roleManagement/directory/roleDefinitions", nil, models.CreateUnifiedRoleDefinitionCollectionResponseFromDiscriminatorValue)
}

// RoleAssignments lists the role assignments of one principal.
func (c *Client) RoleAssignments(ctx context.Context, principalID string) ([]RoleAssignment, error) {
	q := url.Values{"$filter": {"principalId eq " + quoteOData(principalID)}}
	return listAll[models.UnifiedRoleAssignmentable, RoleAssignment](ctx, c, "reading the role assignments of "+principalID,
		"/roleManagement/directory/roleAssignments", q, models.CreateUnifiedRoleAssignmentCollectionResponseFromDiscriminatorValue)
}

// AssignRole assigns a directory role (by template id) at tenant scope. It
// retries while a just-created principal replicates.
func (c *Client) AssignRole(ctx context.Context, principalID, roleTemplateID string) (RoleAssignment, error) {
	body := models.NewUnifiedRoleAssignment()
	scope := "/"
	body.SetPrincipalId(&principalID)
	body.SetRoleDefinitionId(&roleTemplateID)
	body.SetDirectoryScopeId(&scope)
	var ra RoleAssignment
	err := c.replicated(ctx, func() error {
		res, err := c.send(ctx, "assigning role "+roleTemplateID, abs.POST, "/roleManagement/directory/roleAssignments", body,
			models.CreateUnifiedRoleAssignmentFromDiscriminatorValue)
		if err != nil {
			return err
		}
		return toDomain(res, &ra)
	})
	return ra, err
}

// RemoveRoleAssignment deletes a role assignment; absent counts as done.
func (c *Client) RemoveRoleAssignment(ctx context.Context, id string) error {
	_, err := c.send(ctx, "removing role assignment "+id, abs.DELETE, "/roleManagement/directory/roleAssignments/"+url.PathEscape(id), nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// SignIns reads the newest sign-in log entries of one user.
func (c *Client) SignIns(ctx context.Context, userID string, top int) ([]SignInEvent, error) {
	q := url.Values{"$filter": {"userId eq " + quoteOData(userID)}, "$top": {fmt.Sprint(top)}}
	ri, err := c.request(abs.GET, "/auditLogs/signIns", q)
	if err != nil {
		return nil, err
	}
	// Report-only CA results are only listed with this preference.
	ri.Headers.TryAdd("Prefer", "include-unknown-enum-members")
	res, err := c.adapter.Send(ctx, ri, models.CreateSignInCollectionResponseFromDiscriminatorValue, c.errMapping)
	if err != nil {
		return nil, wrapErr("reading the sign-in log", err)
	}
	var out []SignInEvent
	for _, it := range res.(models.SignInCollectionResponseable).GetValue() {
		var e SignInEvent
		if err := toDomain(it, &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
