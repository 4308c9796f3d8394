package tenantsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"time"

	"mgmtsession/ca"
)

// Tenant limits on Conditional Access objects.
const (
	maxPolicies        = 240
	maxIPLocations     = 195
	maxRangesPerLocale = 2000
)

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	var items []any
	s.locked(func() {
		items = make([]any, len(s.st.Policies))
		for i, p := range s.st.Policies {
			cp := *p // a PATCH replaces the policy while the page is written
			items[i] = &cp
		}
	})
	writeJSON(w, http.StatusOK, s.page(r, items))
	return nil
}

func (s *Server) findPolicy(id string) (*ca.Policy, *graphError) {
	for _, p := range s.st.Policies {
		if p.ID == id && s.visible(p.ID) {
			return p, nil
		}
	}
	return nil, errNotFound("conditionalAccessPolicy", id)
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, gerr := s.findPolicy(r.PathValue("id"))
	if gerr != nil {
		return gerr
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// caBadRequest turns a decoding or validation error of the ca package into
// Graph's 400, naming the JSON path.
func caBadRequest(err error) *graphError {
	var de *ca.DecodeError
	if errors.As(err, &de) {
		return errBadRequest("BadRequest", "Invalid value at '%s': %s", de.Path, de.Reason)
	}
	return errBadRequest("BadRequest", "%v", err)
}

// checkPolicyRefs applies what Graph checks beyond the shape: security
// defaults, licence, and that every referenced user, group, role and
// location exists (a user created moments ago may not have replicated yet).
// prev is the policy before a PATCH (nil on create): an id it already held
// is not checked again, because Graph leaves the id of a deleted user or
// group in the policies that named it, and a PATCH that sends the list
// back with one more exclusion must not fail on it. Callers hold s.mu.
func (s *Server) checkPolicyRefs(p, prev *ca.Policy) *graphError {
	if p.State == ca.StateEnabled && s.st.SecurityDefaults {
		return errBadRequest("BadRequest", "You must disable Security defaults before enabling a Conditional Access policy.")
	}
	var held []string
	if prev != nil {
		if u := prev.Conditions.Users; u != nil {
			held = slices.Concat(u.IncludeUsers, u.ExcludeUsers, u.IncludeGroups, u.ExcludeGroups)
		}
	}
	if p.Conditions.Users != nil {
		u := p.Conditions.Users
		for _, id := range slices.Concat(u.IncludeUsers, u.ExcludeUsers) {
			if id == ca.All || id == ca.None || id == ca.GuestsOrExternalUsers || slices.Contains(held, id) {
				continue
			}
			if x := s.st.userByIDOrUPN(id); x == nil || !s.visible(x.ID) {
				return errBadRequest("Request_BadRequest", "Not a valid reference update. User '%s' does not exist.", id)
			}
		}
		for _, id := range slices.Concat(u.IncludeGroups, u.ExcludeGroups) {
			if s.st.groupByID(id) == nil && !slices.Contains(held, id) {
				return errBadRequest("Request_BadRequest", "Not a valid reference update. Group '%s' does not exist.", id)
			}
		}
		for _, id := range slices.Concat(u.IncludeRoles, u.ExcludeRoles) {
			if !slices.ContainsFunc(s.roles, func(rd roleDefinition) bool { return rd.ID == id }) {
				return errBadRequest("BadRequest", "Invalid role template id '%s'.", id)
			}
		}
	}
	if p.Conditions.Locations != nil {
		l := p.Conditions.Locations
		for _, id := range slices.Concat(l.IncludeLocations, l.ExcludeLocations) {
			if id == ca.All || id == ca.AllTrusted || id == ca.LegacyMFATrustedIPsID {
				continue
			}
			if !slices.ContainsFunc(s.st.NamedLocations, func(x *ca.NamedLocation) bool { return x.ID == id && s.visible(x.ID) }) {
				return errBadRequest("BadRequest", "1040: The location '%s' referenced by the policy is invalid.", id)
			}
		}
	}
	return nil
}

func (s *Server) createPolicy(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	if !s.hasP1() {
		return &graphError{Status: http.StatusForbidden, Code: "AccessDenied",
			Message: "Conditional Access requires a Microsoft Entra ID P1 or P2 licence in the tenant."}
	}
	data, gerr := readBody(r)
	if gerr != nil {
		return gerr
	}
	p, err := ca.DecodePolicy(data)
	if err != nil {
		return caBadRequest(err)
	}
	emptyLists(reflect.ValueOf(&p))
	if err := ca.ValidatePolicy(p); err != nil {
		return caBadRequest(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.st.Policies) >= maxPolicies {
		return errBadRequest("BadRequest", "The tenant has reached the maximum number of Conditional Access policies (%d).", maxPolicies)
	}
	if gerr := s.checkPolicyRefs(&p, nil); gerr != nil {
		return gerr
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	p.ID, p.CreatedDateTime, p.ModifiedDateTime = newGUID(), &now, nil
	s.st.Policies = append(s.st.Policies, &p)
	s.created(p.ID)
	return s.commit(w, http.StatusCreated, p)
}

// mergePatch applies a PATCH body onto an object's JSON: objects merge
// property by property, anything else (lists included) is replaced.
func mergePatch(dst, patch map[string]any) {
	for k, v := range patch {
		if pm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergePatch(dm, pm)
				continue
			}
		}
		dst[k] = v
	}
}

// patched returns the object with the request body merged onto it.
func patched(current any, data []byte) ([]byte, *graphError) {
	patch, gerr := decodeObject(data)
	if gerr != nil {
		return nil, gerr
	}
	raw, _ := json.Marshal(current)
	var obj map[string]any
	_ = json.Unmarshal(raw, &obj)
	for _, ro := range []string{"id", "createdDateTime", "modifiedDateTime"} {
		delete(patch, ro)
	}
	mergePatch(obj, patch)
	out, _ := json.Marshal(obj)
	return out, nil
}

// patchPolicy merges the body onto the policy as Graph documents it:
// properties the body leaves out keep their values, complex properties
// merge recursively and collections are replaced whole. The merge happens
// under the lock, so that two PATCHes of different properties both stay.
func (s *Server) patchPolicy(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	data, gerr := readBody(r)
	if gerr != nil {
		return gerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, gerr := s.findPolicy(r.PathValue("id"))
	if gerr != nil {
		return gerr
	}
	merged, gerr := patched(cur, data)
	if gerr != nil {
		return gerr
	}
	p, err := ca.DecodePolicy(merged)
	if err != nil {
		return caBadRequest(err)
	}
	emptyLists(reflect.ValueOf(&p))
	if err := ca.ValidatePolicy(p); err != nil {
		return caBadRequest(err)
	}
	// Microsoft-managed policies keep their names (their state and
	// exclusions are the tenant's to edit).
	if strings.HasPrefix(cur.DisplayName, ca.ManagedPolicyPrefix) && p.DisplayName != cur.DisplayName {
		return errBadRequest("BadRequest", "Microsoft-managed policies cannot be renamed.")
	}
	if gerr := s.checkPolicyRefs(&p, cur); gerr != nil {
		return gerr
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	p.ModifiedDateTime = &now
	*cur = p
	return s.commit(w, http.StatusNoContent, nil)
}

func (s *Server) deletePolicy(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, gerr := s.findPolicy(r.PathValue("id"))
	if gerr != nil {
		return gerr
	}
	if strings.HasPrefix(p.DisplayName, ca.ManagedPolicyPrefix) {
		return errBadRequest("BadRequest", "Microsoft-managed policies cannot be deleted. Disable the policy instead.")
	}
	s.st.Policies = slices.DeleteFunc(s.st.Policies, func(x *ca.Policy) bool { return x == p })
	return s.commit(w, http.StatusNoContent, nil)
}

func (s *Server) listLocations(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	var items []any
	s.locked(func() {
		items = make([]any, len(s.st.NamedLocations))
		for i, l := range s.st.NamedLocations {
			items[i] = locationJSON(l)
		}
	})
	writeJSON(w, http.StatusOK, s.page(r, items))
	return nil
}

func (s *Server) findLocation(id string) (*ca.NamedLocation, *graphError) {
	for _, l := range s.st.NamedLocations {
		if l.ID == id && s.visible(l.ID) {
			return l, nil
		}
	}
	return nil, errNotFound("namedLocation", id)
}

func (s *Server) getLocation(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, gerr := s.findLocation(r.PathValue("id"))
	if gerr != nil {
		return gerr
	}
	writeJSON(w, http.StatusOK, locationJSON(l))
	return nil
}

// checkLocation applies the service's limits on IP named locations: at most
// 2000 ranges, and no private, loopback or otherwise non-public range.
func checkLocation(l *ca.NamedLocation) *graphError {
	if !l.IsIP() {
		return nil
	}
	if len(l.IPRanges) == 0 {
		return errBadRequest("BadRequest", "An IP named location needs at least one range in 'ipRanges'.")
	}
	if len(l.IPRanges) > maxRangesPerLocale {
		return errBadRequest("BadRequest", "An IP named location holds at most %d ranges.", maxRangesPerLocale)
	}
	for i, rg := range l.IPRanges {
		p, err := netip.ParsePrefix(rg.CIDRAddress)
		if err != nil {
			return errBadRequest("BadRequest", "Invalid value at 'ipRanges[%d].cidrAddress': %v", i, err)
		}
		a := p.Addr()
		if a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsMulticast() || a.IsUnspecified() {
			return errBadRequest("BadRequest", "Invalid value at 'ipRanges[%d].cidrAddress': private and reserved ranges are not allowed in an IP named location.", i)
		}
	}
	return nil
}

func (s *Server) createLocation(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	data, gerr := readBody(r)
	if gerr != nil {
		return gerr
	}
	l, err := ca.DecodeNamedLocation(data)
	if err != nil {
		return caBadRequest(err)
	}
	if err := ca.ValidateNamedLocation(l); err != nil {
		return caBadRequest(err)
	}
	if gerr := checkLocation(&l); gerr != nil {
		return gerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.IsIP() {
		n := 0
		for _, x := range s.st.NamedLocations {
			if x.IsIP() {
				n++
			}
		}
		if n >= maxIPLocations {
			return errBadRequest("BadRequest", "The tenant has reached the maximum number of IP named locations (%d).", maxIPLocations)
		}
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	l.ID, l.CreatedDateTime, l.ModifiedDateTime = newGUID(), &now, &now
	s.st.NamedLocations = append(s.st.NamedLocations, &l)
	s.created(l.ID)
	return s.commit(w, http.StatusCreated, locationJSON(&l))
}

func (s *Server) patchLocation(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	data, gerr := readBody(r)
	if gerr != nil {
		return gerr
	}
	// Graph needs @odata.type on a named location PATCH too, and it must
	// be the location's own type.
	var head struct {
		ODataType string `json:"@odata.type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return errBadRequest("BadRequest", "Unable to read JSON request payload: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, gerr := s.findLocation(r.PathValue("id"))
	if gerr != nil {
		return gerr
	}
	if head.ODataType != cur.ODataType {
		return errBadRequest("BadRequest", "The @odata.type '%s' does not match the named location's type '%s'; it is required on PATCH.", head.ODataType, cur.ODataType)
	}
	merged, gerr := patched(cur, data)
	if gerr != nil {
		return gerr
	}
	l, err := ca.DecodeNamedLocation(merged)
	if err != nil {
		return caBadRequest(err)
	}
	if err := ca.ValidateNamedLocation(l); err != nil {
		return caBadRequest(err)
	}
	if gerr := checkLocation(&l); gerr != nil {
		return gerr
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	l.ModifiedDateTime = &now
	*cur = l
	return s.commit(w, http.StatusNoContent, nil)
}

func (s *Server) deleteLocation(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, gerr := s.findLocation(r.PathValue("id"))
	if gerr != nil {
		return gerr
	}
	if l.IsTrusted {
		return errBadRequest("BadRequest", "A trusted named location cannot be deleted. Mark it as not trusted first.")
	}
	for _, p := range s.st.Policies {
		if loc := p.Conditions.Locations; loc != nil && (slices.Contains(loc.IncludeLocations, l.ID) || slices.Contains(loc.ExcludeLocations, l.ID)) {
			return errBadRequest("BadRequest", "The named location is referenced by the policy '%s'; remove the reference first.", p.DisplayName)
		}
	}
	s.st.NamedLocations = slices.DeleteFunc(s.st.NamedLocations, func(x *ca.NamedLocation) bool { return x == l })
	return s.commit(w, http.StatusNoContent, nil)
}

// includeInManagedPolicies adds a new user to the Microsoft-managed
// policies that target a list of users: Microsoft keeps them covering
// newly created eligible (member) users, and keeps the exclusions admins
// made (GRAPH-NOTES section 2). A managed policy that includes All, or
// targets roles only, covers the user without a change. Callers hold s.mu.
func (s *Server) includeInManagedPolicies(u *user) {
	if u.UserType == "Guest" {
		return
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for i, p := range s.st.Policies {
		users := p.Conditions.Users
		if !strings.HasPrefix(p.DisplayName, ca.ManagedPolicyPrefix) || users == nil || len(users.IncludeUsers) == 0 ||
			slices.ContainsFunc(users.IncludeUsers, func(id string) bool {
				return id == ca.All || id == ca.None || id == ca.GuestsOrExternalUsers
			}) || slices.Contains(users.IncludeUsers, u.ID) {
			continue
		}
		// A copy is changed and put in place: a list being written out
		// holds copies of the policies, which share their conditions.
		raw, _ := json.Marshal(p)
		var np ca.Policy
		if err := json.Unmarshal(raw, &np); err != nil {
			continue
		}
		np.Conditions.Users.IncludeUsers = append(np.Conditions.Users.IncludeUsers, u.ID)
		np.ModifiedDateTime = &now
		s.st.Policies[i] = &np
	}
}

// evaluateBody is the documented request of POST
// /identity/conditionalAccess/evaluate.
type evaluateBody struct {
	// SignInIdentity is polymorphic (userSignIn or servicePrincipalSignIn):
	// decoded by signInIdentityOf, so that an error names the right type.
	SignInIdentity json.RawMessage `json:"signInIdentity"`
	SignInContext  *struct {
		ODataType           string   `json:"@odata.type"`
		IncludeApplications []string `json:"includeApplications"`
		UserAction          string   `json:"userAction"`
		AuthenticationCtx   string   `json:"authenticationContextValue"`
	} `json:"signInContext"`
	SignInConditions *struct {
		ODataType                 string `json:"@odata.type"`
		IPAddress                 string `json:"ipAddress"`
		Country                   string `json:"country"`
		ClientAppType             string `json:"clientAppType"`
		DevicePlatform            string `json:"devicePlatform"`
		SignInRiskLevel           string `json:"signInRiskLevel"`
		UserRiskLevel             string `json:"userRiskLevel"`
		ServicePrincipalRiskLevel string `json:"servicePrincipalRiskLevel"`
		InsiderRiskLevel          string `json:"insiderRiskLevel"`
		AuthenticationFlow        *struct {
			ODataType      string `json:"@odata.type"`
			TransferMethod string `json:"transferMethod"`
		} `json:"authenticationFlow"`
		DeviceInfo map[string]any `json:"deviceInfo"`
	} `json:"signInConditions"`
	AppliedPoliciesOnly bool `json:"appliedPoliciesOnly"`
}

// levelMembers are the members of the risk enums signInConditions uses.
var levelMembers = map[string][]string{
	"riskLevel":        {"low", "medium", "high", "hidden", "none", "unknownFutureValue"},
	"insiderRiskLevel": {"none", "minor", "moderate", "elevated", "unknownFutureValue"},
}

// analysisReasonOrder is the order of whatIfAnalysisReasons members; Graph
// reports the first unmet condition.
var analysisReasonOrder = []string{"notEnoughInformation", "invalidCondition", "users", "workloadIdentities", "application",
	"userActions", "authenticationContext", "devicePlatform", "devices", "clientApps", "location", "signInRisk",
	"emptyPolicy", "invalidPolicy", "policyNotEnabled", "userRisk", "time", "insiderRisk", "authenticationFlow"}

func (s *Server) evaluate(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	data, gerr := readBody(r)
	if gerr != nil {
		return gerr
	}
	var b evaluateBody
	if gerr := decodeInto(data, &b, "microsoft.graph.evaluateRequest"); gerr != nil {
		return gerr
	}
	if len(b.SignInIdentity) == 0 || string(b.SignInIdentity) == "null" || b.SignInContext == nil || b.SignInConditions == nil {
		return errBadRequest("BadRequest", "signInIdentity, signInContext and signInConditions are required.")
	}
	// signInConditions is not polymorphic: its own type name, or none.
	if t := b.SignInConditions.ODataType; t != "" && t != "#microsoft.graph.signInConditions" {
		return errBadRequest("BadRequest", "A type named '%s' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.", strings.TrimPrefix(t, "#"))
	}
	who, gerr := signInIdentityOf(b.SignInIdentity)
	if gerr != nil {
		return gerr
	}
	in := ca.SignIn{
		ClientAppType:  b.SignInConditions.ClientAppType,
		DevicePlatform: b.SignInConditions.DevicePlatform,
		Country:        strings.ToUpper(b.SignInConditions.Country),
		SignInRisk:     b.SignInConditions.SignInRiskLevel,
		UserRisk:       b.SignInConditions.UserRiskLevel,
		InsiderRisk:    b.SignInConditions.InsiderRiskLevel,

		ServicePrincipalRisk: b.SignInConditions.ServicePrincipalRiskLevel,
	}
	// Each level is an enum member; Graph refuses a literal it does not know.
	for _, lv := range []struct{ field, value, enum string }{
		{"signInRiskLevel", in.SignInRisk, "riskLevel"}, {"userRiskLevel", in.UserRisk, "riskLevel"},
		{"servicePrincipalRiskLevel", in.ServicePrincipalRisk, "riskLevel"}, {"insiderRiskLevel", in.InsiderRisk, "insiderRiskLevel"},
	} {
		if lv.value != "" && !slices.Contains(levelMembers[lv.enum], lv.value) {
			return errBadRequest("BadRequest", "Cannot convert the literal '%s' to the expected type 'microsoft.graph.%s'.", lv.value, lv.enum)
		}
	}
	if b.SignInConditions.IPAddress != "" {
		ip, err := netip.ParseAddr(b.SignInConditions.IPAddress)
		if err != nil {
			return errBadRequest("BadRequest", "Invalid value for 'signInConditions.ipAddress': '%s'.", b.SignInConditions.IPAddress)
		}
		in.IP = ip
	}
	if f := b.SignInConditions.AuthenticationFlow; f != nil {
		in.AuthFlow = f.TransferMethod
	}
	if d := b.SignInConditions.DeviceInfo; d != nil {
		in.Device = deviceFacts(d)
	}
	var apps []string
	switch b.SignInContext.ODataType {
	case "#microsoft.graph.applicationContext":
		apps = b.SignInContext.IncludeApplications
		if len(apps) == 0 {
			return errBadRequest("BadRequest", "signInContext.includeApplications needs at least one application id.")
		}
	case "#microsoft.graph.userActionContext":
		// The request names the action with the userAction enum; policies
		// name it with a urn.
		switch b.SignInContext.UserAction {
		case "registerSecurityInformation":
			in.UserAction = ca.UserActionRegisterInfo
		case "registerOrJoinDevices":
			in.UserAction = ca.UserActionRegisterDev
		default:
			return errBadRequest("BadRequest", "Cannot convert the literal '%s' to the expected type 'microsoft.graph.userAction'.", b.SignInContext.UserAction)
		}
		apps = []string{""}
	case "#microsoft.graph.authContext":
		in.AuthContext = b.SignInContext.AuthenticationCtx
		apps = []string{""}
	default:
		return errBadRequest("BadRequest", "Unknown signInContext type '%s'.", b.SignInContext.ODataType)
	}

	var policies []ca.Policy
	var locations []ca.NamedLocation
	s.locked(func() {
		if who.servicePrincipal {
			// A workload identity is not a directory user the tenant
			// keeps; the policies decide by its id alone.
			in.ServicePrincipal = who.id
		} else {
			var u *user
			if u, gerr = s.lookupUser(who.id); gerr != nil {
				return
			}
			in.Subject = s.st.subject(u)
			in.Subject.ExternalUserType, in.Subject.HomeTenant = who.externalUserType, who.externalTenantID
		}
		for _, p := range s.st.Policies {
			// Graph's What If evaluates enabled and report-only policies only.
			if p.State != ca.StateDisabled {
				policies = append(policies, *p)
			}
		}
		for _, l := range s.st.NamedLocations {
			locations = append(locations, *l)
		}
	})
	if gerr != nil {
		return errBadRequest("BadRequest", "The user '%s' in signInIdentity does not exist.", who.id)
	}

	// A sign-in context with several applications applies a policy when it
	// applies to any of them.
	results := make([]ca.PolicyResult, len(policies))
	for i, app := range apps {
		in.Application = app
		res := ca.Evaluate(policies, locations, in)
		for j, pr := range res.Policies {
			if i == 0 || pr.Applies {
				results[j] = pr
			}
		}
	}
	items := []any{}
	for i, pr := range results {
		if b.AppliedPoliciesOnly && !pr.Applies {
			continue
		}
		raw, _ := json.Marshal(policies[i])
		var obj map[string]any
		_ = json.Unmarshal(raw, &obj)
		obj["policyApplies"] = pr.Applies
		obj["analysisReasons"] = "notSet"
		for _, reason := range analysisReasonOrder {
			if slices.Contains(pr.Reasons, reason) {
				obj["analysisReasons"] = reason
				break
			}
		}
		items = append(items, obj)
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": items})
	return nil
}

// deviceFacts turns the What If request's deviceInfo into the properties a
// device filter rule reads: device.<property>, booleans as True/False and
// collections comma-separated.
func deviceFacts(info map[string]any) *ca.DeviceFacts {
	d := &ca.DeviceFacts{Attributes: map[string]string{}}
	for k, v := range info {
		if strings.HasPrefix(k, "@odata.") {
			continue
		}
		var val string
		switch x := v.(type) {
		case nil:
			continue
		case bool:
			val = "False"
			if x {
				val = "True"
			}
		case []any:
			parts := make([]string, 0, len(x))
			for _, e := range x {
				parts = append(parts, fmt.Sprint(e))
			}
			val = strings.Join(parts, ",")
		default:
			val = fmt.Sprint(x)
		}
		d.Attributes["device."+k] = val
	}
	return d
}

// emptyLists replaces every nil list in a policy with an empty one: Graph
// answers [] for a list the request left out, never null.
func emptyLists(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			emptyLists(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				emptyLists(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.IsNil() && v.CanSet() {
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		}
	}
}

// locationJSON is a named location as Graph returns it: every property of
// its kind is present, false and empty ones included (ca.NamedLocation
// leaves them out, as it serves both kinds).
func locationJSON(l *ca.NamedLocation) map[string]any {
	raw, _ := json.Marshal(l)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	switch l.ODataType {
	case ca.ODataIPNamedLocation:
		m["isTrusted"] = l.IsTrusted
		if l.IPRanges == nil {
			m["ipRanges"] = []any{}
		}
	case ca.ODataCountryLocation:
		m["includeUnknownCountriesAndRegions"] = l.IncludeUnknownCountriesAndRegions
		if l.CountriesAndRegions == nil {
			m["countriesAndRegions"] = []any{}
		}
		if l.CountryLookupMethod == "" {
			m["countryLookupMethod"] = "clientIpAddress"
		}
	}
	for _, k := range []string{"createdDateTime", "modifiedDateTime"} {
		if _, ok := m[k]; !ok {
			m[k] = nil
		}
	}
	return m
}
