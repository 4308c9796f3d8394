package ca

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Enumerations as Graph v1.0 spells them.
var (
	policyStates      = []string{StateEnabled, StateDisabled, StateReportOnly}
	clientAppTypes    = []string{"all", "browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "easSupported", "other"}
	devicePlatforms   = []string{"android", "iOS", "windows", "windowsPhone", "macOS", "linux", "all"}
	riskLevels        = []string{"low", "medium", "high", "hidden", "none"}
	builtInControls   = []string{"block", "mfa", "compliantDevice", "domainJoinedDevice", "approvedApplication", "compliantApplication", "passwordChange"}
	userActions       = []string{UserActionRegisterInfo, UserActionRegisterDev}
	guestUserTypes    = []string{"internalGuest", "b2bCollaborationGuest", "b2bCollaborationMember", "b2bDirectConnectUser", "otherExternalUser", "serviceProvider"}
	transferMethods   = []string{"deviceCodeFlow", "authenticationTransfer"}
	filterModes       = []string{"include", "exclude"}
	grantOperators    = []string{"AND", "OR"}
	membershipKinds   = []string{"all", "enumerated"}
	countryLookups    = []string{"clientIpAddress", "authenticatorAppGps"}
	namedLocationKind = []string{ODataIPNamedLocation, ODataCountryLocation}
)

// validator collects the first error with its JSON path.
type validator struct{ err *DecodeError }

func (v *validator) failf(path, format string, args ...any) {
	if v.err == nil {
		v.err = &DecodeError{Path: path, Reason: fmt.Sprintf(format, args...)}
	}
}

func (v *validator) required(path string, ok bool) {
	if !ok {
		v.failf(path, "required")
	}
}

// oneOf checks a single enumerated value.
func (v *validator) oneOf(path, val string, allowed []string) {
	if !slices.Contains(allowed, val) {
		v.failf(path, "invalid value '%s': expected one of %s", val, strings.Join(allowed, ", "))
	}
}

// each checks every element of an enumerated list.
func (v *validator) each(path string, vals, allowed []string) {
	for i, val := range vals {
		v.oneOf(path+"["+strconv.Itoa(i)+"]", val, allowed)
	}
}

// flags checks a comma-separated flags value such as "deviceCodeFlow,authenticationTransfer".
func (v *validator) flags(path, val string, allowed []string) {
	for _, f := range strings.Split(val, ",") {
		v.oneOf(path, strings.TrimSpace(f), allowed)
	}
}

func (v *validator) result() error {
	if v.err == nil {
		return nil
	}
	return v.err
}

// ValidatePolicy checks what Graph checks on create: required properties,
// enumerated values and the documented combinations of grant controls. The
// error is a *DecodeError naming the first offending path.
func ValidatePolicy(p Policy) error {
	var v validator
	v.required("displayName", strings.TrimSpace(p.DisplayName) != "")
	v.oneOf("state", p.State, policyStates)
	c := &p.Conditions
	v.required("conditions.users", c.Users != nil)
	v.required("conditions.applications", c.Applications != nil)
	if u := c.Users; u != nil {
		v.required("conditions.users.includeUsers", len(u.IncludeUsers) > 0 || len(u.IncludeGroups) > 0 ||
			len(u.IncludeRoles) > 0 || u.IncludeGuestsOrExternalUsers != nil)
		validateGuests(&v, "conditions.users.includeGuestsOrExternalUsers", u.IncludeGuestsOrExternalUsers)
		validateGuests(&v, "conditions.users.excludeGuestsOrExternalUsers", u.ExcludeGuestsOrExternalUsers)
	}
	if a := c.Applications; a != nil {
		v.required("conditions.applications.includeApplications", len(a.IncludeApplications) > 0 ||
			len(a.IncludeUserActions) > 0 || len(a.IncludeAuthenticationContextClassReferences) > 0 || a.ApplicationFilter != nil)
		v.each("conditions.applications.includeUserActions", a.IncludeUserActions, userActions)
		for i, ref := range a.IncludeAuthenticationContextClassReferences {
			if n, err := strconv.Atoi(strings.TrimPrefix(ref, "c")); !strings.HasPrefix(ref, "c") || err != nil || n < 1 || n > 99 {
				v.failf("conditions.applications.includeAuthenticationContextClassReferences["+strconv.Itoa(i)+"]",
					"invalid value '%s': expected c1 to c99", ref)
			}
		}
		validateFilter(&v, "conditions.applications.applicationFilter", a.ApplicationFilter)
	}
	v.each("conditions.clientAppTypes", c.ClientAppTypes, clientAppTypes)
	if pl := c.Platforms; pl != nil {
		v.required("conditions.platforms.includePlatforms", len(pl.IncludePlatforms) > 0)
		v.each("conditions.platforms.includePlatforms", pl.IncludePlatforms, devicePlatforms)
		v.each("conditions.platforms.excludePlatforms", pl.ExcludePlatforms, devicePlatforms)
	}
	if l := c.Locations; l != nil {
		v.required("conditions.locations.includeLocations", len(l.IncludeLocations) > 0)
	}
	v.each("conditions.signInRiskLevels", c.SignInRiskLevels, riskLevels)
	v.each("conditions.userRiskLevels", c.UserRiskLevels, riskLevels)
	if d := c.Devices; d != nil && d.DeviceFilter != nil {
		validateFilter(&v, "conditions.devices.deviceFilter", d.DeviceFilter)
		if len(d.DeviceFilter.Rule) > maxRuleLength {
			v.failf("conditions.devices.deviceFilter.rule", "longer than %d characters", maxRuleLength)
		}
	}
	if f := c.AuthenticationFlows; f != nil {
		v.flags("conditions.authenticationFlows.transferMethods", f.TransferMethods, transferMethods)
	}
	if p.GrantControls == nil && (p.SessionControls == nil || len(*p.SessionControls) == 0) {
		v.failf("grantControls", "a policy needs grantControls or sessionControls")
	}
	if g := p.GrantControls; g != nil {
		validateGrant(&v, g, c)
	}
	return v.result()
}

func validateGuests(v *validator, path string, g *GuestsOrExtern) {
	if g == nil {
		return
	}
	v.flags(path+".guestOrExternalUserTypes", g.GuestOrExternalUserTypes, guestUserTypes)
	if t := g.ExternalTenants; t != nil {
		v.oneOf(path+".externalTenants.membershipKind", t.MembershipKind, membershipKinds)
		if t.MembershipKind == "enumerated" {
			v.required(path+".externalTenants.members", len(t.Members) > 0)
		}
	}
}

func validateFilter(v *validator, path string, f *Filter) {
	if f == nil {
		return
	}
	v.oneOf(path+".mode", f.Mode, filterModes)
	v.required(path+".rule", strings.TrimSpace(f.Rule) != "")
}

// validateGrant applies the rules of conditionalAccessGrantControls: block
// stands alone (the portal offers "Block access" or "Grant access", never
// both), and "passwordChange must be accompanied by mfa using an AND
// operator" in a policy "containing userRiskLevels".
func validateGrant(v *validator, g *GrantControls, c *Conditions) {
	v.oneOf("grantControls.operator", g.Operator, grantOperators)
	v.each("grantControls.builtInControls", g.BuiltInControls, builtInControls)
	v.required("grantControls.builtInControls", len(g.BuiltInControls) > 0 || len(g.CustomAuthenticationFactors) > 0 ||
		len(g.TermsOfUse) > 0 || g.AuthenticationStrength != nil)
	others := len(g.BuiltInControls) - 1 + len(g.CustomAuthenticationFactors) + len(g.TermsOfUse)
	if g.AuthenticationStrength != nil {
		others++
	}
	if slices.Contains(g.BuiltInControls, "block") && others > 0 {
		v.failf("grantControls.builtInControls", "block cannot be combined with other controls")
	}
	if slices.Contains(g.BuiltInControls, "passwordChange") {
		if !slices.Contains(g.BuiltInControls, "mfa") || g.Operator != "AND" {
			v.failf("grantControls.builtInControls", "passwordChange must be accompanied by mfa using the AND operator")
		}
		if len(c.UserRiskLevels) == 0 {
			v.failf("conditions.userRiskLevels", "passwordChange requires a policy with userRiskLevels")
		}
	}
	if s := g.AuthenticationStrength; s != nil {
		v.required("grantControls.authenticationStrength.id", s.ID != "")
	}
}

// ValidateNamedLocation checks a named location as Graph does on create:
// @odata.type, displayName, and for IP locations every range: its
// @odata.type must match the address family of cidrAddress, which must be a
// prefix longer than /8 ("Only CIDR masks greater than /8 are allowed") and
// not a private range.
func ValidateNamedLocation(l NamedLocation) error {
	var v validator
	v.oneOf("@odata.type", l.ODataType, namedLocationKind)
	v.required("displayName", strings.TrimSpace(l.DisplayName) != "")
	switch l.ODataType {
	case ODataIPNamedLocation:
		v.required("ipRanges", len(l.IPRanges) > 0)
		for i, r := range l.IPRanges {
			validateRange(&v, "ipRanges["+strconv.Itoa(i)+"]", r)
		}
	case ODataCountryLocation:
		v.required("countriesAndRegions", len(l.CountriesAndRegions) > 0 || l.IncludeUnknownCountriesAndRegions)
		for i, cc := range l.CountriesAndRegions {
			if len(cc) != 2 || strings.ToUpper(cc) != cc || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' {
				v.failf("countriesAndRegions["+strconv.Itoa(i)+"]", "invalid value '%s': expected an ISO 3166 two-letter code", cc)
			}
		}
		if l.CountryLookupMethod != "" {
			v.oneOf("countryLookupMethod", l.CountryLookupMethod, countryLookups)
		}
	}
	return v.result()
}

func validateRange(v *validator, path string, r IPRange) {
	p, err := netip.ParsePrefix(strings.TrimSpace(r.CIDRAddress))
	if err != nil {
		v.failf(path+".cidrAddress", "invalid value '%s': expected an address prefix in CIDR notation", r.CIDRAddress)
		return
	}
	want := ODataIPv6CidrRange
	if p.Addr().Is4() {
		want = ODataIPv4CidrRange
	}
	if r.ODataType != want {
		v.failf(path+".@odata.type", "invalid value '%s': %s is a %s", r.ODataType, r.CIDRAddress, strings.TrimPrefix(want, "#microsoft.graph."))
		return
	}
	if p.Bits() <= 8 {
		v.failf(path+".cidrAddress", "prefix /%d is too wide: only CIDR masks greater than /8 are allowed", p.Bits())
	}
	if p.Addr().IsPrivate() {
		v.failf(path+".cidrAddress", "%s is a private range", r.CIDRAddress)
	}
}
