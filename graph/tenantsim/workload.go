package tenantsim

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	"mgmtsession/ca"
)

// signInIdentity is who an evaluate request asks about.
type signInIdentity struct {
	id               string // the user's id or UPN, or the service principal's app id
	servicePrincipal bool
}

// externalUserTypes are conditionalAccessGuestOrExternalUserTypes' members,
// the values of userSignIn.externalUserType.
var externalUserTypes = []string{"none", "internalGuest", "b2bCollaborationGuest", "b2bCollaborationMember",
	"b2bDirectConnectUser", "otherExternalUser", "serviceProvider", "unknownFutureValue"}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// signInIdentityOf decodes evaluate's signInIdentity strictly as the type
// its @odata.type names, so that an unknown property is reported on that
// type (not on the request), and an unknown type as Graph reports one.
func signInIdentityOf(raw json.RawMessage) (signInIdentity, *graphError) {
	var head struct {
		ODataType string `json:"@odata.type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return signInIdentity{}, errBadRequest("BadRequest", "signInIdentity must be an object: %v", err)
	}
	switch head.ODataType {
	case "#microsoft.graph.userSignIn":
		var u struct {
			ODataType        string `json:"@odata.type"`
			UserID           string `json:"userId"`
			ExternalTenantID string `json:"externalTenantId"`
			ExternalUserType string `json:"externalUserType"`
		}
		if gerr := decodeInto(raw, &u, "microsoft.graph.userSignIn"); gerr != nil {
			return signInIdentity{}, gerr
		}
		if u.ExternalTenantID != "" && !guidPattern.MatchString(u.ExternalTenantID) {
			return signInIdentity{}, errBadRequest("BadRequest", "Invalid value for 'signInIdentity.externalTenantId': '%s' is not a tenant id.", u.ExternalTenantID)
		}
		if u.ExternalUserType != "" && !slices.Contains(externalUserTypes, u.ExternalUserType) {
			return signInIdentity{}, errBadRequest("BadRequest", "Cannot convert the literal '%s' to the expected type 'microsoft.graph.conditionalAccessGuestOrExternalUserTypes'.", u.ExternalUserType)
		}
		// The directory says who the user is (member or guest); the
		// external facts are accepted as Graph accepts them, but the
		// local evaluator has no finer notion of guests to apply them to.
		return signInIdentity{id: u.UserID}, nil
	case "#microsoft.graph.servicePrincipalSignIn":
		var sp struct {
			ODataType          string `json:"@odata.type"`
			ServicePrincipalID string `json:"servicePrincipalId"`
		}
		if gerr := decodeInto(raw, &sp, "microsoft.graph.servicePrincipalSignIn"); gerr != nil {
			return signInIdentity{}, gerr
		}
		if !guidPattern.MatchString(sp.ServicePrincipalID) {
			return signInIdentity{}, errBadRequest("BadRequest", "Invalid value for 'signInIdentity.servicePrincipalId': '%s' is not an application id.", sp.ServicePrincipalID)
		}
		return signInIdentity{id: sp.ServicePrincipalID, servicePrincipal: true}, nil
	case "":
		return signInIdentity{}, errBadRequest("BadRequest", "signInIdentity needs an @odata.type: #microsoft.graph.userSignIn or #microsoft.graph.servicePrincipalSignIn.")
	}
	return signInIdentity{}, errBadRequest("BadRequest", "A type named '%s' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.", strings.TrimPrefix(head.ODataType, "#"))
}

// evaluateWorkload evaluates a service principal's sign-in. The ca
// evaluator knows users only, so the workload part is decided here, as
// Conditional Access for workload identities documents it: a policy
// applies only when its clientApplications include the service principal
// (by id, or ServicePrincipalsInMyTenant) and do not exclude it, and when
// its servicePrincipalRiskLevels, if any, hold the sign-in's risk. The users
// condition does not apply to a workload identity; every other condition
// (applications, locations, ...) is left to the ca evaluator, on a copy of
// the policy whose users condition includes everyone.
func evaluateWorkload(policies []ca.Policy, locations []ca.NamedLocation, in ca.SignIn, appID, risk string) ca.Result {
	rest := make([]ca.Policy, len(policies))
	for i, p := range policies {
		p.Conditions.Users = &ca.Users{IncludeUsers: []string{ca.All}}
		p.Conditions.ClientApplications = nil
		p.Conditions.ServicePrincipalRiskLevels = nil
		rest[i] = p
	}
	res := ca.Evaluate(rest, locations, in)
	for i, p := range policies {
		if workloadTargeted(p, appID, risk) {
			continue
		}
		pr := &res.Policies[i]
		pr.Applies = false
		pr.Reasons = append([]string{"workloadIdentities"}, slices.DeleteFunc(pr.Reasons, func(r string) bool { return r == "workloadIdentities" })...)
	}
	return res
}

func workloadTargeted(p ca.Policy, appID, risk string) bool {
	c := p.Conditions.ClientApplications
	if c == nil {
		return false
	}
	is := func(id string) bool { return strings.EqualFold(id, appID) }
	included := slices.Contains(c.IncludeServicePrincipals, "ServicePrincipalsInMyTenant") || slices.ContainsFunc(c.IncludeServicePrincipals, is)
	if !included || slices.ContainsFunc(c.ExcludeServicePrincipals, is) {
		return false
	}
	if levels := p.Conditions.ServicePrincipalRiskLevels; len(levels) > 0 {
		if risk == "" {
			risk = "none"
		}
		return slices.Contains(levels, risk)
	}
	return true
}
