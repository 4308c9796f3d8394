package tenantsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"mgmtsession/assets"
)

func loadRoleDefinitions() ([]roleDefinition, error) {
	var roles []roleDefinition
	err := json.Unmarshal(assets.RoleDefinitions, &roles)
	return roles, err
}

func (s *Server) getOrganization(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	s.mu.Lock()
	defer s.mu.Unlock()
	var verified []any
	for _, d := range s.st.Domains {
		verified = append(verified, map[string]any{"name": d.ID, "isInitial": d.IsInitial, "isDefault": d.IsDefault, "type": "Managed", "capabilities": "Email, OfficeCommunicationsOnline"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": []any{map[string]any{
		"id": s.st.TenantID, "displayName": s.st.DisplayName, "verifiedDomains": verified,
		"tenantType": "AAD", "countryLetterCode": "GB",
	}}})
	return nil
}

func (s *Server) listDomains(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	var items []any
	s.locked(func() {
		for _, d := range s.st.Domains {
			items = append(items, map[string]any{"id": d.ID, "isInitial": d.IsInitial, "isDefault": d.IsDefault, "isVerified": d.IsVerified, "authenticationType": "Managed"})
		}
	})
	writeJSON(w, http.StatusOK, s.page(r, items))
	return nil
}

func (s *Server) listSkus(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	var items []any
	s.locked(func() {
		for _, sku := range s.st.SubscribedSkus {
			items = append(items, sku)
		}
	})
	writeJSON(w, http.StatusOK, s.page(r, items))
	return nil
}

func (s *Server) securityDefaultsBody() map[string]any {
	return map[string]any{
		"id": "00000000-0000-0000-0000-000000000005", "displayName": "Security Defaults",
		"description": "Security defaults is a set of basic identity security mechanisms recommended by Microsoft.",
		"isEnabled":   s.st.SecurityDefaults,
	}
}

func (s *Server) getSecurityDefaults(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	var body map[string]any
	s.locked(func() { body = s.securityDefaultsBody() })
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) patchSecurityDefaults(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	data, gerr := readBody(r)
	if gerr != nil {
		return gerr
	}
	var body struct {
		ODataType string `json:"@odata.type"`
		IsEnabled *bool  `json:"isEnabled"`
	}
	if gerr := decodeInto(data, &body, "microsoft.graph.identitySecurityDefaultsEnforcementPolicy"); gerr != nil {
		return gerr
	}
	if body.IsEnabled == nil {
		return errBadRequest("BadRequest", "isEnabled is required.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.SecurityDefaults = *body.IsEnabled
	return s.commit(w, http.StatusNoContent, nil)
}

func internal(err error) *graphError {
	return &graphError{Status: http.StatusInternalServerError, Code: "generalException", Message: err.Error()}
}

// graphUser is every property of a user the tenant knows, by Graph v1.0
// name. What a response carries is chosen by userJSON.
func (u *user) graphUser() map[string]any {
	out := map[string]any{
		"id":                u.ID,
		"userPrincipalName": u.UserPrincipalName,
		"displayName":       u.DisplayName,
		"mailNickname":      u.MailNickname,
		"userType":          u.UserType,
		"accountEnabled":    u.AccountEnabled,
		"passwordPolicies":  nullable(u.PasswordPolicies),
		"createdDateTime":   nullable(u.CreatedDateTime),
	}
	for name, v := range readOnlyUserProperties {
		out[name] = v
	}
	out["signInSessionsValidFromDateTime"] = nullable(u.SessionsValidFrom)
	for name := range profileProperties {
		out[name] = u.profileValue(name)
	}
	return out
}

// userDefaultProperties are the properties Graph v1.0 returns for a user
// when the request has no $select; accountEnabled, userType,
// passwordPolicies and the others must be asked for.
var userDefaultProperties = []string{"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail",
	"mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName"}

// userJSON is a user as a response carries it: the properties $select
// names, or Graph's default set.
func userJSON(r *http.Request, u *user) (map[string]any, *graphError) {
	all := u.graphUser()
	props := userDefaultProperties
	if sel := strings.TrimSpace(r.URL.Query().Get("$select")); sel != "" {
		props = nil
		for _, p := range strings.Split(sel, ",") {
			p = strings.TrimSpace(p)
			name := ""
			for k := range all {
				if strings.EqualFold(k, p) {
					name = k
				}
			}
			if name == "" {
				return nil, errBadRequest("BadRequest", "Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.user'.", p)
			}
			props = append(props, name)
		}
	}
	out := make(map[string]any, len(props))
	for _, p := range props {
		out[p] = all[p]
	}
	return out, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// lookupUser finds a user by id or UPN, honouring replication delay.
// Callers hold s.mu.
func (s *Server) lookupUser(key string) (*user, *graphError) {
	u := s.st.userByIDOrUPN(key)
	if u == nil || !s.visible(u.ID) {
		return nil, errNotFound("user", key)
	}
	return u, nil
}

// userBodyOf is the user as a GET answers it.
func (s *Server) userBodyOf(r *http.Request, key string) (body map[string]any, gerr *graphError) {
	s.locked(func() {
		var u *user
		if u, gerr = s.lookupUser(key); gerr == nil {
			body, gerr = userJSON(r, u)
		}
	})
	return body, gerr
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request, c *caller) *graphError {
	if c.App {
		return errBadRequest("BadRequest", "/me request is only valid with delegated authentication flow.")
	}
	body, gerr := s.userBodyOf(r, c.UserID)
	if gerr != nil {
		return gerr
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) myMemberships(w http.ResponseWriter, r *http.Request, c *caller) *graphError {
	if c.App {
		return errBadRequest("BadRequest", "/me request is only valid with delegated authentication flow.")
	}
	return s.memberships(w, r, c.UserID)
}

func (s *Server) userMemberships(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	return s.memberships(w, r, r.PathValue("id"))
}

// memberships answers transitiveMemberOf: groups (nested ones too) and the
// directory roles assigned at tenant scope, as Graph's directoryRole objects.
func (s *Server) memberships(w http.ResponseWriter, r *http.Request, key string) *graphError {
	var items []any
	var gerr *graphError
	s.locked(func() {
		var u *user
		if u, gerr = s.lookupUser(key); gerr != nil {
			return
		}
		for _, gid := range s.st.transitiveGroups(u.ID) {
			if g := s.st.groupByID(gid); g != nil {
				items = append(items, map[string]any{"@odata.type": "#microsoft.graph.group", "id": g.ID, "displayName": g.DisplayName, "securityEnabled": true})
			}
		}
		for _, rt := range s.st.roleTemplates(u.ID) {
			items = append(items, map[string]any{"@odata.type": "#microsoft.graph.directoryRole", "id": s.directoryRoleID(rt), "displayName": s.roleName(rt), "roleTemplateId": rt})
		}
	})
	if gerr != nil {
		return gerr
	}
	writeJSON(w, http.StatusOK, s.page(r, items))
	return nil
}

// groupUsers answers transitiveMembers cast to users: every user in the
// group or in a group nested in it.
func (s *Server) groupUsers(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	id := r.PathValue("id")
	var items []any
	var found bool
	var gerr *graphError
	s.locked(func() {
		if found = s.st.groupByID(id) != nil; !found {
			return
		}
		for _, u := range s.st.transitiveUsers(id) {
			if !s.visible(u.ID) {
				continue
			}
			var shown map[string]any
			if shown, gerr = userJSON(r, u); gerr != nil {
				return
			}
			items = append(items, shown)
		}
	})
	switch {
	case !found:
		return errNotFound("group", id)
	case gerr != nil:
		return gerr
	}
	writeJSON(w, http.StatusOK, s.page(r, items))
	return nil
}

func (s *Server) roleName(templateID string) string {
	for _, rd := range s.roles {
		if rd.ID == templateID {
			return rd.DisplayName
		}
	}
	return templateID
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	f, gerr := parseFilter(r.URL.Query().Get("$filter"))
	if gerr != nil {
		return gerr
	}
	var items []any
	ids := f.idSet()
	s.locked(func() {
		for _, u := range s.st.Users {
			if !s.visible(u.ID) || ids != nil && !ids[strings.ToLower(u.ID)] {
				continue
			}
			g := u.graphUser()
			var ok bool
			ok, gerr = f.match(func(prop string) (any, bool) { return propertyOf(g, prop) })
			var shown map[string]any
			if gerr == nil && ok {
				shown, gerr = userJSON(r, u)
			}
			if gerr != nil {
				return
			}
			if ok {
				items = append(items, shown)
			}
		}
	})
	if gerr != nil {
		return gerr
	}
	writeJSON(w, http.StatusOK, s.page(r, items))
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	body, gerr := s.userBodyOf(r, r.PathValue("id"))
	if gerr != nil {
		return gerr
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// userBody is what POST and PATCH /users accept (the part of the user
// resource the product writes).
type userBody struct {
	ODataType         string           `json:"@odata.type"`
	AccountEnabled    *bool            `json:"accountEnabled"`
	DisplayName       *string          `json:"displayName"`
	MailNickname      *string          `json:"mailNickname"`
	UserPrincipalName *string          `json:"userPrincipalName"`
	PasswordPolicies  *string          `json:"passwordPolicies"`
	PasswordProfile   *passwordProfile `json:"passwordProfile"`
}

type passwordProfile struct {
	ODataType                            string `json:"@odata.type"`
	Password                             string `json:"password"`
	ForceChangePasswordNextSignIn        *bool  `json:"forceChangePasswordNextSignIn"`
	ForceChangePasswordNextSignInWithMfa *bool  `json:"forceChangePasswordNextSignInWithMfa"`
}

var mailNicknameRE = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+\-/=?^_{|}~.]{1,64}$`)

// passwordComplexEnough applies Entra's rule: 8 to 256 characters with
// three of lower case, upper case, digits and symbols.
func passwordComplexEnough(p string) bool {
	if len(p) < 8 || len(p) > 256 {
		return false
	}
	classes := 0
	for _, set := range []string{"abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789"} {
		if strings.ContainsAny(p, set) {
			classes++
		}
	}
	if strings.IndexFunc(p, func(r rune) bool {
		return !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", r)
	}) >= 0 {
		classes++
	}
	return classes >= 3
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	data, gerr := readBody(r)
	if gerr != nil {
		return gerr
	}
	profile, data, gerr := splitProfile(data)
	if gerr != nil {
		return gerr
	}
	var b userBody
	if gerr := decodeInto(data, &b, "microsoft.graph.user"); gerr != nil {
		return gerr
	}
	missing := func(p string) *graphError {
		return errBadRequest("Request_BadRequest", "Property '%s' is required when creating the object.", p)
	}
	switch {
	case b.AccountEnabled == nil:
		return missing("accountEnabled")
	case b.DisplayName == nil || *b.DisplayName == "":
		return missing("displayName")
	case b.MailNickname == nil || *b.MailNickname == "":
		return missing("mailNickname")
	case b.UserPrincipalName == nil || *b.UserPrincipalName == "":
		return missing("userPrincipalName")
	case b.PasswordProfile == nil || b.PasswordProfile.Password == "":
		return missing("passwordProfile")
	}
	if !mailNicknameRE.MatchString(*b.MailNickname) {
		return errBadRequest("Request_BadRequest", "Invalid value specified for property 'mailNickname' of resource 'User'.")
	}
	if !passwordComplexEnough(b.PasswordProfile.Password) {
		return &graphError{Status: http.StatusBadRequest, Code: "Request_BadRequest",
			Message: "The specified password does not comply with password complexity requirements. Please provide a different password.",
			Details: []errorDetail{{Code: "PasswordComplexity", Message: "Password does not meet complexity requirements.", Target: "passwordProfile.password"}}}
	}
	if b.PasswordPolicies != nil && *b.PasswordPolicies != "" {
		for _, p := range strings.Split(*b.PasswordPolicies, ",") {
			if p = strings.TrimSpace(p); p != "DisablePasswordExpiration" && p != "DisableStrongPassword" && p != "None" {
				return errBadRequest("Request_BadRequest", "Invalid value specified for property 'passwordPolicies' of resource 'User'.")
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	local, domainPart, ok := strings.Cut(*b.UserPrincipalName, "@")
	known := ok && local != "" && slices.ContainsFunc(s.st.Domains, func(d domain) bool { return d.IsVerified && strings.EqualFold(d.ID, domainPart) })
	if !known {
		return &graphError{Status: http.StatusBadRequest, Code: "Request_BadRequest",
			Message: "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.",
			Details: []errorDetail{{Code: "InvalidValue", Message: "The domain portion of the userPrincipalName property is invalid.", Target: "userPrincipalName"}}}
	}
	if s.st.userByIDOrUPN(*b.UserPrincipalName) != nil {
		return &graphError{Status: http.StatusBadRequest, Code: "Request_BadRequest",
			Message: "Another object with the same value for property userPrincipalName already exists.",
			Details: []errorDetail{{Code: "ObjectConflict", Message: "Another object with the same value for property userPrincipalName already exists.", Target: "userPrincipalName"}}}
	}
	u := &user{
		ID: newGUID(), UserPrincipalName: *b.UserPrincipalName, DisplayName: *b.DisplayName, MailNickname: *b.MailNickname,
		UserType: "Member", AccountEnabled: *b.AccountEnabled, Password: b.PasswordProfile.Password,
		CreatedDateTime: time.Now().UTC().Format(time.RFC3339), PerUserMFAState: "disabled", Methods: []string{"password"},
	}
	if b.PasswordPolicies != nil {
		u.PasswordPolicies = *b.PasswordPolicies
	}
	u.MustChangePassword = b.PasswordProfile.ForceChangePasswordNextSignIn != nil && *b.PasswordProfile.ForceChangePasswordNextSignIn
	u.applyProfile(profile)
	s.st.Users = append(s.st.Users, u)
	s.st.changedDirectory()
	s.created(u.ID)
	s.includeInManagedPolicies(u)
	if gerr := s.committed(); gerr != nil {
		return gerr
	}
	body, _ := userJSON(&http.Request{URL: &url.URL{}}, u) // the default properties
	// Graph's Location names the new object on its directory endpoint.
	w.Header().Set("Location", s.BaseURL()+"/v2/"+s.st.TenantID+"/directoryObjects/"+u.ID+"/Microsoft.DirectoryServices.User")
	writeJSON(w, http.StatusCreated, body)
	return nil
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	data, gerr := readBody(r)
	if gerr != nil {
		return gerr
	}
	profile, data, gerr := splitProfile(data)
	if gerr != nil {
		return gerr
	}
	var b userBody
	if gerr := decodeInto(data, &b, "microsoft.graph.user"); gerr != nil {
		return gerr
	}
	if b.MailNickname != nil && !mailNicknameRE.MatchString(*b.MailNickname) {
		return errBadRequest("Request_BadRequest", "Invalid value specified for property 'mailNickname' of resource 'User'.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, gerr := s.lookupUser(r.PathValue("id"))
	if gerr != nil {
		return gerr
	}
	// Every check first, then every change: a refused PATCH changes
	// nothing.
	if b.PasswordProfile != nil && !passwordComplexEnough(b.PasswordProfile.Password) {
		return errBadRequest("Request_BadRequest", "The specified password does not comply with password complexity requirements. Please provide a different password.")
	}
	newUPN := b.UserPrincipalName != nil && !strings.EqualFold(*b.UserPrincipalName, u.UserPrincipalName)
	if newUPN && s.st.userByIDOrUPN(*b.UserPrincipalName) != nil {
		return &graphError{Status: http.StatusBadRequest, Code: "Request_BadRequest",
			Message: "Another object with the same value for property userPrincipalName already exists.",
			Details: []errorDetail{{Code: "ObjectConflict", Message: "Another object with the same value for property userPrincipalName already exists.", Target: "userPrincipalName"}}}
	}
	if b.AccountEnabled != nil {
		u.AccountEnabled = *b.AccountEnabled
	}
	if b.DisplayName != nil {
		u.DisplayName = *b.DisplayName
	}
	if b.PasswordPolicies != nil {
		u.PasswordPolicies = *b.PasswordPolicies
	}
	if b.PasswordProfile != nil {
		u.Password = b.PasswordProfile.Password
		u.MustChangePassword = b.PasswordProfile.ForceChangePasswordNextSignIn != nil && *b.PasswordProfile.ForceChangePasswordNextSignIn
	}
	if b.MailNickname != nil {
		u.MailNickname = *b.MailNickname
	}
	if newUPN {
		u.UserPrincipalName = *b.UserPrincipalName
		s.st.changedDirectory()
	}
	u.applyProfile(profile)
	return s.commit(w, http.StatusNoContent, nil)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, gerr := s.lookupUser(r.PathValue("id"))
	if gerr != nil {
		return gerr
	}
	s.st.Users = slices.DeleteFunc(s.st.Users, func(x *user) bool { return x == u })
	s.st.RoleAssignments = slices.DeleteFunc(s.st.RoleAssignments, func(ra *roleAssignment) bool { return ra.PrincipalID == u.ID })
	for _, g := range s.st.Groups {
		g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == u.ID })
	}
	s.st.changedDirectory()
	return s.commit(w, http.StatusNoContent, nil)
}

func (s *Server) revokeSessions(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, gerr := s.lookupUser(r.PathValue("id"))
	if gerr != nil {
		return gerr
	}
	u.SessionsValidFrom = time.Now().UTC().Format(time.RFC3339)
	return s.commit(w, http.StatusOK, map[string]any{"value": true})
}

// methodTypes maps the simulated method names to Graph's derived types.
var methodTypes = map[string]string{
	"password":                "#microsoft.graph.passwordAuthenticationMethod",
	"microsoftAuthenticator":  "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
	"phone":                   "#microsoft.graph.phoneAuthenticationMethod",
	"fido2":                   "#microsoft.graph.fido2AuthenticationMethod",
	"softwareOath":            "#microsoft.graph.softwareOathAuthenticationMethod",
	"email":                   "#microsoft.graph.emailAuthenticationMethod",
	"windowsHelloForBusiness": "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod",
	"temporaryAccessPass":     "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
}

func (s *Server) listMethods(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	var items []any
	var gerr *graphError
	s.locked(func() {
		var u *user
		if u, gerr = s.lookupUser(r.PathValue("id")); gerr != nil {
			return
		}
		for i, m := range u.Methods {
			items = append(items, methodJSON(u, m, i))
		}
	})
	if gerr != nil {
		return gerr
	}
	writeJSON(w, http.StatusOK, s.page(r, items))
	return nil
}

func (s *Server) getRequirements(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	var state string
	var gerr *graphError
	s.locked(func() {
		var u *user
		if u, gerr = s.lookupUser(r.PathValue("id")); gerr == nil {
			state = u.PerUserMFAState
		}
	})
	if gerr != nil {
		return gerr
	}
	writeJSON(w, http.StatusOK, map[string]any{"perUserMfaState": state})
	return nil
}

func (s *Server) patchRequirements(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	data, gerr := readBody(r)
	if gerr != nil {
		return gerr
	}
	var b struct {
		ODataType       string `json:"@odata.type"`
		PerUserMfaState string `json:"perUserMfaState"`
	}
	if gerr := decodeInto(data, &b, "microsoft.graph.strongAuthenticationRequirements"); gerr != nil {
		return gerr
	}
	if !slices.Contains([]string{"disabled", "enabled", "enforced"}, b.PerUserMfaState) {
		return errBadRequest("BadRequest", "Cannot convert the literal '%s' to the expected type 'microsoft.graph.perUserMfaState'.", b.PerUserMfaState)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, gerr := s.lookupUser(r.PathValue("id"))
	if gerr != nil {
		return gerr
	}
	u.PerUserMFAState = b.PerUserMfaState
	return s.commit(w, http.StatusNoContent, nil)
}

func (s *Server) listRoleDefinitions(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	f, gerr := parseFilter(r.URL.Query().Get("$filter"))
	if gerr != nil {
		return gerr
	}
	var items []any
	for _, rd := range s.roles {
		g := map[string]any{"id": rd.ID, "templateId": rd.ID, "displayName": rd.DisplayName, "isBuiltIn": true, "isEnabled": true,
			"isPrivileged": rd.IsPrivileged, "description": nil, "version": "1", "resourceScopes": []any{"/"}}
		ok, gerr := f.match(func(prop string) (any, bool) { return propertyOf(g, prop) })
		if gerr != nil {
			return gerr
		}
		if ok {
			items = append(items, g)
		}
	}
	writeJSON(w, http.StatusOK, s.page(r, items))
	return nil
}

func (ra *roleAssignment) graph() map[string]any {
	return map[string]any{"id": ra.ID, "principalId": ra.PrincipalID, "roleDefinitionId": ra.RoleDefinitionID, "directoryScopeId": ra.DirectoryScopeID}
}

func (s *Server) listRoleAssignments(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	f, gerr := parseFilter(r.URL.Query().Get("$filter"))
	if gerr != nil {
		return gerr
	}
	var items []any
	s.locked(func() {
		for _, ra := range s.st.RoleAssignments {
			g := ra.graph()
			var ok bool
			if ok, gerr = f.match(func(prop string) (any, bool) { return propertyOf(g, prop) }); gerr != nil {
				return
			}
			if ok && s.visible(ra.ID) {
				items = append(items, g)
			}
		}
	})
	if gerr != nil {
		return gerr
	}
	writeJSON(w, http.StatusOK, s.page(r, items))
	return nil
}

func (s *Server) createRoleAssignment(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	data, gerr := readBody(r)
	if gerr != nil {
		return gerr
	}
	var b struct {
		ODataType        string `json:"@odata.type"`
		PrincipalID      string `json:"principalId"`
		RoleDefinitionID string `json:"roleDefinitionId"`
		DirectoryScopeID string `json:"directoryScopeId"`
	}
	if gerr := decodeInto(data, &b, "microsoft.graph.unifiedRoleAssignment"); gerr != nil {
		return gerr
	}
	if b.PrincipalID == "" || b.RoleDefinitionID == "" || b.DirectoryScopeID == "" {
		return errBadRequest("Request_BadRequest", "principalId, roleDefinitionId and directoryScopeId are required.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.ContainsFunc(s.roles, func(rd roleDefinition) bool { return rd.ID == b.RoleDefinitionID }) {
		return errNotFound("roleDefinition", b.RoleDefinitionID)
	}
	u := s.st.userByIDOrUPN(b.PrincipalID)
	if u == nil || !s.visible(u.ID) {
		// Right after a create, the new principal has not replicated yet.
		return errBadRequest("Request_BadRequest", "Not a valid reference update.")
	}
	for _, ra := range s.st.RoleAssignments {
		if ra.PrincipalID == u.ID && ra.RoleDefinitionID == b.RoleDefinitionID && ra.DirectoryScopeID == b.DirectoryScopeID {
			// Microsoft does not document this answer; clients report
			// 409 Conflict and also 400, both with this message. The
			// tenant answers 409 with the ObjectConflict detail, and a
			// client must take either (graph.IsConflict does).
			return &graphError{Status: http.StatusConflict, Code: "Request_BadRequest",
				Message: "A conflicting object with one or more of the specified property values is present in the directory.",
				Details: []errorDetail{{Code: "ObjectConflict", Message: "The role assignment already exists."}}}
		}
	}
	ra := &roleAssignment{ID: newGUID(), PrincipalID: u.ID, RoleDefinitionID: b.RoleDefinitionID, DirectoryScopeID: b.DirectoryScopeID}
	s.st.RoleAssignments = append(s.st.RoleAssignments, ra)
	// A new assignment takes time to appear in lists too: a client that
	// reads back right away may not see it, and must not assign again
	// (which is a conflict) on that ground.
	s.created(ra.ID)
	return s.commit(w, http.StatusCreated, ra.graph())
}

func (s *Server) deleteRoleAssignment(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	if !s.visible(id) {
		return errNotFound("roleAssignment", id)
	}
	n := len(s.st.RoleAssignments)
	s.st.RoleAssignments = slices.DeleteFunc(s.st.RoleAssignments, func(ra *roleAssignment) bool { return ra.ID == id })
	if len(s.st.RoleAssignments) == n {
		return errNotFound("roleAssignment", id)
	}
	return s.commit(w, http.StatusNoContent, nil)
}

// hasP1 reports whether an enabled SKU carries Entra ID P1 or P2.
func (s *Server) hasP1() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, raw := range s.st.SubscribedSkus {
		var sku struct {
			CapabilityStatus string `json:"capabilityStatus"`
			ServicePlans     []struct {
				ServicePlanName    string `json:"servicePlanName"`
				ProvisioningStatus string `json:"provisioningStatus"`
			} `json:"servicePlans"`
		}
		if json.Unmarshal(raw, &sku) != nil || sku.CapabilityStatus != "Enabled" {
			continue
		}
		for _, sp := range sku.ServicePlans {
			if (sp.ServicePlanName == "AAD_PREMIUM" || sp.ServicePlanName == "AAD_PREMIUM_P2") && sp.ProvisioningStatus == "Success" {
				return true
			}
		}
	}
	return false
}
