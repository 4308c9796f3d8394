// Package ca holds Conditional Access policies and named locations in their
// Microsoft Graph v1.0 JSON shape, and (in evaluate.go) a local What If
// evaluator over them. It does no I/O: the Graph adapter, the simulated
// tenant and the offline snapshot all hand it the same types.
package ca

// Policy states as Graph v1.0 spells them.
const (
	StateEnabled    = "enabled"
	StateDisabled   = "disabled"
	StateReportOnly = "enabledForReportingButNotEnforced"
)

// Special values of the include/exclude lists.
const (
	All                    = "All"
	None                   = "None"
	AllTrusted             = "AllTrusted"
	GuestsOrExternalUsers  = "GuestsOrExternalUsers"
	Office365              = "Office365"
	MicrosoftAdminPortals  = "MicrosoftAdminPortals"
	LegacyMFATrustedIPsID  = "00000000-0000-0000-0000-000000000000"
	ODataIPNamedLocation   = "#microsoft.graph.ipNamedLocation"
	ODataCountryLocation   = "#microsoft.graph.countryNamedLocation"
	ODataIPv4CidrRange     = "#microsoft.graph.iPv4CidrRange"
	ODataIPv6CidrRange     = "#microsoft.graph.iPv6CidrRange"
	ManagedPolicyPrefix    = "Microsoft-managed:"
	UserActionRegisterInfo = "urn:user:registersecurityinfo"
	UserActionRegisterDev  = "urn:user:registerdevice"
)

// Policy is a conditionalAccessPolicy exactly as Graph v1.0 returns it.
// Lists are never omitted (Graph sends [] for an empty list); objects Graph
// may send as null are pointers.
type Policy struct {
	ID               string          `json:"id"`
	TemplateID       *string         `json:"templateId"`
	DisplayName      string          `json:"displayName"`
	CreatedDateTime  *string         `json:"createdDateTime"`
	ModifiedDateTime *string         `json:"modifiedDateTime"`
	State            string          `json:"state"`
	Conditions       Conditions      `json:"conditions"`
	GrantControls    *GrantControls  `json:"grantControls"`
	SessionControls  *SessionControl `json:"sessionControls"`
}

// Conditions is conditionalAccessConditionSet.
type Conditions struct {
	UserRiskLevels             []string             `json:"userRiskLevels"`
	SignInRiskLevels           []string             `json:"signInRiskLevels"`
	ServicePrincipalRiskLevels []string             `json:"servicePrincipalRiskLevels"`
	InsiderRiskLevels          *string              `json:"insiderRiskLevels"`
	ClientAppTypes             []string             `json:"clientAppTypes"`
	Applications               *Applications        `json:"applications"`
	Users                      *Users               `json:"users"`
	Platforms                  *Platforms           `json:"platforms"`
	Locations                  *Locations           `json:"locations"`
	Devices                    *Devices             `json:"devices"`
	ClientApplications         *ClientApplications  `json:"clientApplications"`
	AuthenticationFlows        *AuthenticationFlows `json:"authenticationFlows"`
}

// Applications is conditionalAccessApplications.
type Applications struct {
	IncludeApplications                         []string `json:"includeApplications"`
	ExcludeApplications                         []string `json:"excludeApplications"`
	IncludeUserActions                          []string `json:"includeUserActions"`
	IncludeAuthenticationContextClassReferences []string `json:"includeAuthenticationContextClassReferences"`
	ApplicationFilter                           *Filter  `json:"applicationFilter"`
}

// Users is conditionalAccessUsers.
type Users struct {
	IncludeUsers                 []string        `json:"includeUsers"`
	ExcludeUsers                 []string        `json:"excludeUsers"`
	IncludeGroups                []string        `json:"includeGroups"`
	ExcludeGroups                []string        `json:"excludeGroups"`
	IncludeRoles                 []string        `json:"includeRoles"`
	ExcludeRoles                 []string        `json:"excludeRoles"`
	IncludeGuestsOrExternalUsers *GuestsOrExtern `json:"includeGuestsOrExternalUsers"`
	ExcludeGuestsOrExternalUsers *GuestsOrExtern `json:"excludeGuestsOrExternalUsers"`
}

// GuestsOrExtern is conditionalAccessGuestsOrExternalUsers. The types are a
// comma-separated flags string, as Graph sends them.
type GuestsOrExtern struct {
	GuestOrExternalUserTypes string           `json:"guestOrExternalUserTypes"`
	ExternalTenants          *ExternalTenants `json:"externalTenants"`
}

// ExternalTenants is conditionalAccessExternalTenants (all or enumerated).
type ExternalTenants struct {
	ODataType      string   `json:"@odata.type,omitempty"`
	MembershipKind string   `json:"membershipKind"`
	Members        []string `json:"members,omitempty"`
}

// Platforms is conditionalAccessPlatforms.
type Platforms struct {
	IncludePlatforms []string `json:"includePlatforms"`
	ExcludePlatforms []string `json:"excludePlatforms"`
}

// Locations is conditionalAccessLocations.
type Locations struct {
	IncludeLocations []string `json:"includeLocations"`
	ExcludeLocations []string `json:"excludeLocations"`
}

// Devices is conditionalAccessDevices; only the filter is current.
type Devices struct {
	DeviceFilter *Filter `json:"deviceFilter"`
}

// Filter is conditionalAccessFilter (device or application filter).
type Filter struct {
	Mode string `json:"mode"` // include | exclude
	Rule string `json:"rule"`
}

// ClientApplications targets workload identities (service principals).
type ClientApplications struct {
	IncludeServicePrincipals []string `json:"includeServicePrincipals"`
	ExcludeServicePrincipals []string `json:"excludeServicePrincipals"`
}

// AuthenticationFlows is conditionalAccessAuthenticationFlows; the transfer
// methods are a comma-separated flags string (deviceCodeFlow,
// authenticationTransfer).
type AuthenticationFlows struct {
	TransferMethods string `json:"transferMethods"`
}

// GrantControls is conditionalAccessGrantControls.
type GrantControls struct {
	Operator                    string                  `json:"operator"` // AND | OR
	BuiltInControls             []string                `json:"builtInControls"`
	CustomAuthenticationFactors []string                `json:"customAuthenticationFactors"`
	TermsOfUse                  []string                `json:"termsOfUse"`
	AuthenticationStrength      *AuthenticationStrength `json:"authenticationStrength"`
}

// AuthenticationStrength is the part of authenticationStrengthPolicy a
// policy carries; any strength counts as MFA for the verdict.
type AuthenticationStrength struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
}

// SessionControl is kept opaque: the evaluator does not judge sessions, and
// snapshot and simulated tenant only carry it through.
type SessionControl map[string]any

// NamedLocation is an ipNamedLocation or countryNamedLocation; ODataType
// tells which. Fields of the other kind stay empty.
type NamedLocation struct {
	ODataType        string  `json:"@odata.type"`
	ID               string  `json:"id"`
	DisplayName      string  `json:"displayName"`
	CreatedDateTime  *string `json:"createdDateTime,omitempty"`
	ModifiedDateTime *string `json:"modifiedDateTime,omitempty"`

	// ipNamedLocation
	IsTrusted bool      `json:"isTrusted,omitempty"`
	IPRanges  []IPRange `json:"ipRanges,omitempty"`

	// countryNamedLocation
	CountriesAndRegions               []string `json:"countriesAndRegions,omitempty"`
	IncludeUnknownCountriesAndRegions bool     `json:"includeUnknownCountriesAndRegions,omitempty"`
	CountryLookupMethod               string   `json:"countryLookupMethod,omitempty"`
}

// IsIP reports whether the location is an IP named location.
func (l NamedLocation) IsIP() bool { return l.ODataType == ODataIPNamedLocation }

// IPRange is an iPv4CidrRange or iPv6CidrRange.
type IPRange struct {
	ODataType   string `json:"@odata.type"`
	CIDRAddress string `json:"cidrAddress"`
}
