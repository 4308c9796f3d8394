package tenantsim

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
)

// signInIdentity is who an evaluate request asks about.
type signInIdentity struct {
	id               string // the user's id or UPN, or the service principal's app id
	servicePrincipal bool
	// externalUserType and externalTenantID are userSignIn's facts about an
	// external user, passed to the evaluator as given.
	externalUserType, externalTenantID string
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
		// external facts say which kind of external user and from where.
		return signInIdentity{id: u.UserID, externalUserType: u.ExternalUserType, externalTenantID: u.ExternalTenantID}, nil
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
