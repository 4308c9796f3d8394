package change

import (
	"net/netip"
	"slices"
	"strings"

	"mgmtsession/ca"
)

// The objects this product makes carry exactly these names, so that a run
// with no session record (a record deleted, or a crash before it was
// written) finds and adopts them instead of making a second one.

// LocationName is the display name of the account's IP named location.
func LocationName(upn string) string {
	return "Management session allowed IPs (" + strings.ToLower(upn) + ")"
}

// PolicyName is the display name of the policy requiring MFA of the account
// outside the allowed IPs.
func PolicyName(upn string) string {
	return "Management session: require MFA for " + strings.ToLower(upn) + " outside allowed IPs"
}

// AccountDisplayName is the display name of a service account this product
// creates.
const AccountDisplayName = "Management session service account"

// desiredLocation is the IP named location holding the allowed ranges. It is
// never trusted: a trusted location would count in every other policy's
// "AllTrusted" condition and so change policies that are not ours.
func desiredLocation(upn string, ranges []netip.Prefix) ca.NamedLocation {
	l := ca.NamedLocation{ODataType: ca.ODataIPNamedLocation, DisplayName: LocationName(upn), IPRanges: []ca.IPRange{}}
	for _, p := range ranges {
		t := ca.ODataIPv4CidrRange
		if p.Addr().Is6() {
			t = ca.ODataIPv6CidrRange
		}
		l.IPRanges = append(l.IPRanges, ca.IPRange{ODataType: t, CIDRAddress: p.String()})
	}
	return l
}

// desiredPolicy requires MFA of the account from everywhere but the allowed
// location, for every application and client. It includes the account
// alone, so it changes nothing for anyone else; it excludes nobody.
func desiredPolicy(upn, accountID, locationID string, state PolicyState) ca.Policy {
	return ca.Policy{
		DisplayName: PolicyName(upn),
		State:       state.GraphState(),
		Conditions: ca.Conditions{
			ClientAppTypes: []string{"all"},
			Applications:   &ca.Applications{IncludeApplications: []string{ca.All}, ExcludeApplications: []string{}, IncludeUserActions: []string{}},
			Users: &ca.Users{
				IncludeUsers: []string{accountID}, ExcludeUsers: []string{},
				IncludeGroups: []string{}, ExcludeGroups: []string{}, IncludeRoles: []string{}, ExcludeRoles: []string{},
			},
			Locations: &ca.Locations{IncludeLocations: []string{ca.All}, ExcludeLocations: []string{locationID}},
		},
		GrantControls: &ca.GrantControls{Operator: "OR", BuiltInControls: []string{"mfa"}},
	}
}

// locationRanges are a location's ranges, parsed and sorted; ok is false
// when one of them does not parse (then it differs from any desired set).
func locationRanges(l ca.NamedLocation) (out []netip.Prefix, ok bool) {
	for _, r := range l.IPRanges {
		p, err := netip.ParsePrefix(r.CIDRAddress)
		if err != nil {
			return nil, false
		}
		out = append(out, p.Masked())
	}
	sortPrefixes(out)
	return out, true
}

func sortPrefixes(ps []netip.Prefix) {
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
}

// locationDiffers lists how a location differs from the desired one: its
// ranges, its trust, its name.
func locationDiffers(have ca.NamedLocation, want ca.NamedLocation, ranges []netip.Prefix) []string {
	var out []string
	if !have.IsIP() {
		return []string{"it is not an IP named location"}
	}
	got, ok := locationRanges(have)
	w := slices.Clone(ranges)
	sortPrefixes(w)
	if !ok || !slices.Equal(got, w) {
		out = append(out, "allowed ranges")
	}
	if have.IsTrusted {
		out = append(out, "marked trusted")
	}
	if have.DisplayName != want.DisplayName {
		out = append(out, "name")
	}
	return out
}

// policyDiffers lists how the account's policy differs from the desired
// one, in the properties this product sets.
func policyDiffers(have, want ca.Policy) []string {
	var out []string
	if have.DisplayName != want.DisplayName {
		out = append(out, "name")
	}
	if have.State != want.State {
		out = append(out, "state")
	}
	hc, wc := have.Conditions, want.Conditions
	if !sameSet(hc.ClientAppTypes, wc.ClientAppTypes) {
		out = append(out, "client apps")
	}
	if hc.Applications == nil || !sameSet(hc.Applications.IncludeApplications, wc.Applications.IncludeApplications) ||
		len(hc.Applications.ExcludeApplications) > 0 || len(hc.Applications.IncludeUserActions) > 0 ||
		len(hc.Applications.IncludeAuthenticationContextClassReferences) > 0 || hc.Applications.ApplicationFilter != nil {
		out = append(out, "applications")
	}
	if hc.Users == nil || !sameSet(hc.Users.IncludeUsers, wc.Users.IncludeUsers) || len(hc.Users.ExcludeUsers) > 0 ||
		len(hc.Users.IncludeGroups) > 0 || len(hc.Users.ExcludeGroups) > 0 || len(hc.Users.IncludeRoles) > 0 ||
		len(hc.Users.ExcludeRoles) > 0 || hc.Users.IncludeGuestsOrExternalUsers != nil || hc.Users.ExcludeGuestsOrExternalUsers != nil {
		out = append(out, "users")
	}
	if hc.Locations == nil || !sameSet(hc.Locations.IncludeLocations, wc.Locations.IncludeLocations) ||
		!sameSet(hc.Locations.ExcludeLocations, wc.Locations.ExcludeLocations) {
		out = append(out, "locations")
	}
	if hc.Platforms != nil || hc.Devices != nil || len(hc.SignInRiskLevels) > 0 || len(hc.UserRiskLevels) > 0 ||
		hc.AuthenticationFlows != nil || hc.ClientApplications != nil {
		out = append(out, "other conditions")
	}
	g := have.GrantControls
	if g == nil || !sameSet(g.BuiltInControls, want.GrantControls.BuiltInControls) || g.AuthenticationStrength != nil ||
		len(g.TermsOfUse) > 0 || len(g.CustomAuthenticationFactors) > 0 {
		out = append(out, "grant controls")
	}
	return out
}

// sameSet compares two lists of ids or keywords as sets, ignoring case.
func sameSet(a, b []string) bool {
	return slices.Equal(sortedLower(a), sortedLower(b))
}

// excludes reports whether a policy excludes the user by id.
func excludes(p ca.Policy, userID string) bool {
	return p.Conditions.Users != nil && slices.ContainsFunc(p.Conditions.Users.ExcludeUsers, func(id string) bool {
		return strings.EqualFold(id, userID)
	})
}
