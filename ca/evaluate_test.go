package ca

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// Expected outcomes below come from Microsoft's documentation, quoted in the
// comment above each case. Sources, all under learn.microsoft.com/entra/
// identity/conditional-access/ unless noted:
//   [users]    concept-conditional-access-users-groups
//   [apps]     concept-conditional-access-cloud-apps
//   [o365]     reference-office-365-application-contents
//   [cond]     concept-conditional-access-conditions
//   [network]  concept-assignment-network
//   [devices]  concept-condition-filters-for-devices
//   [flows]    concept-authentication-flows
//   [grant]    concept-conditional-access-grant
//   [policies] concept-conditional-access-policies
//   [report]   concept-conditional-access-report-only
//   [graph]    learn.microsoft.com/graph/api/resources/<type>
//   [notes]    GRAPH-NOTES.md section 2

const (
	alice      = "a11ce000-0000-4000-8000-000000000001"
	bob        = "b0b00000-0000-4000-8000-000000000002"
	gStaff     = "6a000000-0000-4000-8000-000000000010"
	gNested    = "6a000000-0000-4000-8000-000000000011" // reached through gStaff
	gBreakG    = "6a000000-0000-4000-8000-000000000012"
	roleGA     = "62e90394-69f5-4237-9190-012177145e10" // Global Administrator template
	roleCAAdm  = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9" // Conditional Access Administrator template
	locHQ      = "10c00000-0000-4000-8000-000000000001"
	locBranch  = "10c00000-0000-4000-8000-000000000002"
	locEU      = "10c00000-0000-4000-8000-000000000003"
	locRisky   = "10c00000-0000-4000-8000-000000000004"
	locGPS     = "10c00000-0000-4000-8000-000000000005"
	locMissing = "10c00000-0000-4000-8000-0000000000ff"
	appTeams   = AppTeamsServices
)

func testLocations() []NamedLocation {
	return []NamedLocation{
		{ODataType: ODataIPNamedLocation, ID: locHQ, DisplayName: "HQ", IsTrusted: true, IPRanges: []IPRange{
			{ODataType: ODataIPv4CidrRange, CIDRAddress: "203.0.113.0/24"},
			{ODataType: ODataIPv6CidrRange, CIDRAddress: "2001:db8:10::/48"},
		}},
		{ODataType: ODataIPNamedLocation, ID: locBranch, DisplayName: "Branch (IPv4 only)", IPRanges: []IPRange{
			{ODataType: ODataIPv4CidrRange, CIDRAddress: "198.51.100.0/24"},
		}},
		{ODataType: ODataCountryLocation, ID: locEU, DisplayName: "France and Germany", CountriesAndRegions: []string{"FR", "DE"}},
		{ODataType: ODataCountryLocation, ID: locRisky, DisplayName: "Risky", CountriesAndRegions: []string{"KP"},
			IncludeUnknownCountriesAndRegions: true},
		{ODataType: ODataCountryLocation, ID: locGPS, DisplayName: "France by GPS", CountriesAndRegions: []string{"FR"},
			CountryLookupMethod: "authenticatorAppGps"},
	}
}

// basePolicy applies to every sign-in of baseSignIn: all users, all apps, all
// client apps, MFA.
func basePolicy() Policy {
	return Policy{
		ID: "p", DisplayName: "test", State: StateEnabled,
		Conditions: Conditions{
			Users:          &Users{IncludeUsers: []string{All}},
			Applications:   &Applications{IncludeApplications: []string{All}},
			ClientAppTypes: []string{"all"},
		},
		GrantControls: &GrantControls{Operator: "OR", BuiltInControls: []string{"mfa"}},
	}
}

// baseSignIn is a member on Windows in a browser, from an address that is in
// no named location, in France.
func baseSignIn() SignIn {
	return SignIn{
		Subject:        Subject{UserID: alice, Groups: []string{gStaff, gNested}},
		Application:    AppExchangeOnline,
		ClientAppType:  "browser",
		DevicePlatform: "windows",
		IP:             netip.MustParseAddr("192.0.2.44"),
		Country:        "FR",
	}
}

func device(kv ...string) *DeviceFacts {
	d := &DeviceFacts{Attributes: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		d.Attributes[kv[i]] = kv[i+1]
	}
	return d
}

func deviceFilter(mode, rule string) func(*Policy) {
	return func(p *Policy) {
		p.Conditions.Devices = &Devices{DeviceFilter: &Filter{Mode: mode, Rule: rule}}
	}
}

type evalCase struct {
	name      string
	policy    func(*Policy)
	signIn    func(*SignIn)
	applies   bool
	reasons   []string // nil when applies
	undecided []string // checked when not nil
}

var nei = ReasonNotEnoughInformation

func evalCases() []evalCase {
	return []evalCase{
		// ---- Users -------------------------------------------------------
		// [users] "All users: All users that exist in the directory including B2B guests."
		{name: "all users includes a member", applies: true},
		{name: "all users includes a guest", applies: true,
			signIn: func(s *SignIn) { s.Subject.Guest = true }},
		// [users] "None: No users selected"
		{name: "none selects nobody", reasons: []string{ReasonUsers},
			policy: func(p *Policy) { p.Conditions.Users.IncludeUsers = []string{None} }},
		// [graph conditionalAccessUsers] includeUsers: "User IDs in scope of policy".
		{name: "included by object id", applies: true,
			policy: func(p *Policy) { p.Conditions.Users.IncludeUsers = []string{strings.ToUpper(alice)} }},
		{name: "another user's id does not include", reasons: []string{ReasonUsers},
			policy: func(p *Policy) { p.Conditions.Users.IncludeUsers = []string{bob} }},
		// [users] "When organizations both include and exclude a user or group, the user or
		// group is excluded from the policy. The exclude action overrides the include action."
		{name: "exclude user wins over All", reasons: []string{ReasonUsers},
			policy: func(p *Policy) { p.Conditions.Users.ExcludeUsers = []string{alice} }},
		{name: "exclude group wins over include user", reasons: []string{ReasonUsers},
			policy: func(p *Policy) {
				p.Conditions.Users.IncludeUsers = []string{alice}
				p.Conditions.Users.ExcludeGroups = []string{gStaff}
			}},
		// [users] "A group can be any type of user group ... Policy is applied to nested users and groups."
		{name: "included through nested group", applies: true,
			policy: func(p *Policy) {
				p.Conditions.Users.IncludeUsers = nil
				p.Conditions.Users.IncludeGroups = []string{gNested}
			}},
		{name: "group the user is not in", reasons: []string{ReasonUsers},
			policy: func(p *Policy) {
				p.Conditions.Users.IncludeUsers = nil
				p.Conditions.Users.IncludeGroups = []string{gBreakG}
			}},
		// [users] "Directory roles: Allows administrators to select specific built-in
		// directory roles used to determine policy assignment." (role template ids [notes])
		{name: "included by directory role", applies: true,
			policy: func(p *Policy) {
				p.Conditions.Users.IncludeUsers = nil
				p.Conditions.Users.IncludeRoles = []string{roleGA}
			},
			signIn: func(s *SignIn) { s.Subject.Roles = []string{roleGA} }},
		{name: "role not held", reasons: []string{ReasonUsers},
			policy: func(p *Policy) {
				p.Conditions.Users.IncludeUsers = nil
				p.Conditions.Users.IncludeRoles = []string{roleGA}
			},
			signIn: func(s *SignIn) { s.Subject.Roles = []string{roleCAAdm} }},
		// [users] exclusions of "Directory roles" override includes.
		{name: "excluded by directory role", reasons: []string{ReasonUsers},
			policy: func(p *Policy) { p.Conditions.Users.ExcludeRoles = []string{roleCAAdm} },
			signIn: func(s *SignIn) { s.Subject.Roles = []string{roleCAAdm} }},
		// [graph conditionalAccessUsers] includeUsers "Can be ... GuestsOrExternalUsers".
		{name: "GuestsOrExternalUsers value includes a guest", applies: true,
			policy: func(p *Policy) { p.Conditions.Users.IncludeUsers = []string{GuestsOrExternalUsers} },
			signIn: func(s *SignIn) { s.Subject.Guest = true }},
		{name: "GuestsOrExternalUsers value does not include a member", reasons: []string{ReasonUsers},
			policy: func(p *Policy) { p.Conditions.Users.IncludeUsers = []string{GuestsOrExternalUsers} }},
		// [users] guest types include "B2B collaboration guest users" and "Local guest
		// users, ... with the user type attribute set to guest"; naming both covers every
		// userType Guest account.
		{name: "guest types covering every guest", applies: true,
			policy: func(p *Policy) {
				p.Conditions.Users.IncludeUsers = nil
				p.Conditions.Users.IncludeGuestsOrExternalUsers = &GuestsOrExtern{
					GuestOrExternalUserTypes: "internalGuest,b2bCollaborationGuest",
					ExternalTenants:          &ExternalTenants{MembershipKind: "all"},
				}
			},
			signIn: func(s *SignIn) { s.Subject.Guest = true }},
		{name: "guest types naming no guest kind", reasons: []string{ReasonUsers},
			policy: func(p *Policy) {
				p.Conditions.Users.IncludeUsers = nil
				p.Conditions.Users.IncludeGuestsOrExternalUsers = &GuestsOrExtern{
					GuestOrExternalUserTypes: "b2bDirectConnectUser,serviceProvider",
				}
			},
			signIn: func(s *SignIn) { s.Subject.Guest = true }},
		// Same source: a userType Guest account may be a local or a B2B guest, and the
		// sign-in does not say which, so a selection of one kind cannot be decided.
		{name: "one guest kind is undecided", reasons: []string{nei}, undecided: []string{ReasonUsers},
			policy: func(p *Policy) {
				p.Conditions.Users.IncludeUsers = nil
				p.Conditions.Users.IncludeGuestsOrExternalUsers = &GuestsOrExtern{GuestOrExternalUserTypes: "b2bCollaborationGuest"}
			},
			signIn: func(s *SignIn) { s.Subject.Guest = true }},
		// [users] "Directory roles ... used to determine policy assignment": an account
		// not created yet still gets its planned roles.
		{name: "hypothetical subject matched by role", applies: true,
			policy: func(p *Policy) {
				p.Conditions.Users.IncludeUsers = nil
				p.Conditions.Users.IncludeRoles = []string{roleCAAdm}
			},
			signIn: func(s *SignIn) {
				s.Subject = Subject{UserID: "new", Hypothetical: true, Roles: []string{roleCAAdm}}
			}},
		// [users] All users covers every account; a hypothetical one has no object id to exclude.
		{name: "hypothetical subject under All with id exclusions", applies: true,
			policy: func(p *Policy) { p.Conditions.Users.ExcludeUsers = []string{alice} },
			signIn: func(s *SignIn) { s.Subject = Subject{Hypothetical: true} }},

		// ---- Target resources ---------------------------------------------
		// [graph conditionalAccessApplications] includeApplications: "The list of client IDs
		// (appId) the policy applies to, unless explicitly excluded (in excludeApplications)".
		{name: "app not included", reasons: []string{ReasonApplication},
			policy: func(p *Policy) { p.Conditions.Applications.IncludeApplications = []string{AppSharePointOnline} }},
		{name: "excluded app wins over All", reasons: []string{ReasonApplication},
			policy: func(p *Policy) { p.Conditions.Applications.ExcludeApplications = []string{AppExchangeOnline} }},
		// [apps] "The Office 365 app grouping in Conditional Access makes it possible to
		// target these services all at once." [o365] lists Microsoft Teams Services.
		{name: "Office365 includes Teams", applies: true,
			policy: func(p *Policy) { p.Conditions.Applications.IncludeApplications = []string{Office365} },
			signIn: func(s *SignIn) { s.Application = appTeams }},
		// [apps] "... except for Microsoft Graph. Microsoft Graph functions as an umbrella resource."
		{name: "Microsoft Graph is not in Office365", reasons: []string{ReasonApplication},
			policy: func(p *Policy) { p.Conditions.Applications.IncludeApplications = []string{Office365} },
			signIn: func(s *SignIn) { s.Application = AppMicrosoftGraph }},
		// [apps] "Admins can exclude the entire Microsoft 365 suite or specific Microsoft 365
		// cloud apps from Conditional Access policies."
		{name: "excluding Office365 excludes SharePoint", reasons: []string{ReasonApplication},
			policy: func(p *Policy) { p.Conditions.Applications.ExcludeApplications = []string{Office365} },
			signIn: func(s *SignIn) { s.Application = AppSharePointOnline }},
		// A sign-in to the Office365 grouping is a sign-in to one of its services, so a
		// policy on Exchange Online (a member per [o365]) covers it ...
		{name: "Office365 sign-in meets a policy on one member", applies: true,
			policy: func(p *Policy) { p.Conditions.Applications.IncludeApplications = []string{AppExchangeOnline} },
			signIn: func(s *SignIn) { s.Application = Office365 }},
		// ... and a policy excluding the whole suite does not.
		{name: "Office365 sign-in against suite exclusion", reasons: []string{ReasonApplication},
			policy: func(p *Policy) { p.Conditions.Applications.ExcludeApplications = []string{Office365} },
			signIn: func(s *SignIn) { s.Application = Office365 }},
		// [apps] "The following applications comprise the Microsoft Admin Portals: ...
		// Azure portal app ID: c44b4083-3bb0-49c1-b47d-974e53cbdf3c".
		{name: "admin portals include the Azure portal", applies: true,
			policy: func(p *Policy) { p.Conditions.Applications.IncludeApplications = []string{MicrosoftAdminPortals} },
			signIn: func(s *SignIn) { s.Application = AppAzurePortal }},
		// [apps] "The app grouping doesn't include the backend services that those portals
		// might call or depend on"; Windows Azure Service Management API is its own target.
		{name: "admin portals exclude Service Management API", reasons: []string{ReasonApplication},
			policy: func(p *Policy) { p.Conditions.Applications.IncludeApplications = []string{MicrosoftAdminPortals} },
			signIn: func(s *SignIn) { s.Application = AppAzureServiceManagement }},
		{name: "admin portals sign-in meets an admin portals policy", applies: true,
			policy: func(p *Policy) { p.Conditions.Applications.IncludeApplications = []string{MicrosoftAdminPortals} },
			signIn: func(s *SignIn) { s.Application = MicrosoftAdminPortals }},
		// [apps] "Applying a Conditional Access policy to All resources ... enforces the
		// policy for all token requests": only All covers an unspecified application.
		{name: "unspecified app is covered by All", applies: true,
			signIn: func(s *SignIn) { s.Application = All }},
		{name: "unspecified app is not covered by a list", reasons: []string{ReasonApplication},
			policy: func(p *Policy) { p.Conditions.Applications.IncludeApplications = []string{AppExchangeOnline} },
			signIn: func(s *SignIn) { s.Application = All }},
		// [apps] "Register security information: This user action lets Conditional Access
		// policies enforce rules when users try to register their security information."
		{name: "user action policy meets the action", applies: true,
			policy: func(p *Policy) {
				p.Conditions.Applications = &Applications{IncludeUserActions: []string{UserActionRegisterInfo}}
			},
			signIn: func(s *SignIn) { s.Application, s.UserAction = "", UserActionRegisterInfo }},
		{name: "user action policy ignores app sign-ins", reasons: []string{ReasonUserActions},
			policy: func(p *Policy) {
				p.Conditions.Applications = &Applications{IncludeUserActions: []string{UserActionRegisterInfo}}
			}},
		{name: "app policy ignores user action sign-ins", reasons: []string{ReasonApplication},
			signIn: func(s *SignIn) { s.Application, s.UserAction = "", UserActionRegisterDev }},
		// [apps] authentication context: "Admins can use authentication context to provide
		// an extra layer of security in applications"; only the named context is targeted.
		{name: "authentication context matches", applies: true,
			policy: func(p *Policy) {
				p.Conditions.Applications = &Applications{IncludeAuthenticationContextClassReferences: []string{"c1"}}
			},
			signIn: func(s *SignIn) { s.AuthContext = "c1" }},
		{name: "other authentication context", reasons: []string{ReasonAuthenticationContext},
			policy: func(p *Policy) {
				p.Conditions.Applications = &Applications{IncludeAuthenticationContextClassReferences: []string{"c1"}}
			},
			signIn: func(s *SignIn) { s.AuthContext = "c2" }},

		// ---- Client apps --------------------------------------------------
		// [cond] Legacy authentication clients are "Exchange ActiveSync clients" and
		// "Other clients"; a browser is a modern client.
		{name: "legacy-only policy skips a browser", reasons: []string{ReasonClientApps},
			policy: func(p *Policy) { p.Conditions.ClientAppTypes = []string{"exchangeActiveSync", "other"} }},
		{name: "legacy-only policy catches other clients", applies: true,
			policy: func(p *Policy) { p.Conditions.ClientAppTypes = []string{"exchangeActiveSync", "other"} },
			signIn: func(s *SignIn) { s.ClientAppType = "other" }},
		// [graph conditionalAccessConditionSet] clientAppTypes easSupported selects
		// Exchange ActiveSync clients.
		{name: "easSupported catches Exchange ActiveSync", applies: true,
			policy: func(p *Policy) { p.Conditions.ClientAppTypes = []string{"easSupported"} },
			signIn: func(s *SignIn) { s.ClientAppType = "exchangeActiveSync" }},
		// SPEC 5.1: a condition that cannot be decided is notEnoughInformation.
		{name: "unknown client app against a restriction", reasons: []string{nei}, undecided: []string{ReasonClientApps},
			policy: func(p *Policy) { p.Conditions.ClientAppTypes = []string{"browser"} },
			signIn: func(s *SignIn) { s.ClientAppType = "" }},
		// [cond] "By default, all newly created Conditional Access policies apply to all
		// client app types even if the client apps condition isn't configured."
		{name: "unknown client app without a restriction", applies: true,
			policy: func(p *Policy) { p.Conditions.ClientAppTypes = nil },
			signIn: func(s *SignIn) { s.ClientAppType = "" }},

		// ---- Device platforms ---------------------------------------------
		// [cond] "Conditional Access supports the following device platforms: Android, iOS,
		// Windows, macOS, Linux"; a policy on Android and iOS leaves Windows out.
		{name: "platform not included", reasons: []string{ReasonDevicePlatform},
			policy: func(p *Policy) { p.Conditions.Platforms = &Platforms{IncludePlatforms: []string{"android", "iOS"}} }},
		{name: "platform excluded from all", reasons: []string{ReasonDevicePlatform},
			policy: func(p *Policy) {
				p.Conditions.Platforms = &Platforms{IncludePlatforms: []string{"all"}, ExcludePlatforms: []string{"windows"}}
			}},
		// [cond] "to block access ... from Chrome OS or any other unsupported clients, you
		// should configure a policy with a Device platforms condition that includes any
		// device and excludes supported device platforms".
		{name: "unsupported platform caught by any device minus supported", applies: true,
			policy: func(p *Policy) {
				p.Conditions.Platforms = &Platforms{IncludePlatforms: []string{"all"},
					ExcludePlatforms: []string{"android", "iOS", "windows", "macOS", "linux"}}
			},
			signIn: func(s *SignIn) { s.DevicePlatform = "chromeOS" }},
		{name: "unknown platform against a platform list", reasons: []string{nei}, undecided: []string{ReasonDevicePlatform},
			policy: func(p *Policy) { p.Conditions.Platforms = &Platforms{IncludePlatforms: []string{"android"}} },
			signIn: func(s *SignIn) { s.DevicePlatform = "" }},
		// [cond] Device platforms: "The default is to apply to all device platforms."
		{name: "unknown platform under any device", applies: true,
			policy: func(p *Policy) { p.Conditions.Platforms = &Platforms{IncludePlatforms: []string{"all"}} },
			signIn: func(s *SignIn) { s.DevicePlatform = "" }},

		// ---- Network locations ---------------------------------------------
		// [network] "you can apply a policy to all locations except trusted locations to set
		// the scope to all locations, except the corporate network."
		{name: "trusted location excluded", reasons: []string{ReasonLocation},
			policy: func(p *Policy) {
				p.Conditions.Locations = &Locations{IncludeLocations: []string{All}, ExcludeLocations: []string{AllTrusted}}
			},
			signIn: func(s *SignIn) { s.IP = netip.MustParseAddr("203.0.113.9") }},
		{name: "untrusted address under All minus AllTrusted", applies: true,
			policy: func(p *Policy) {
				p.Conditions.Locations = &Locations{IncludeLocations: []string{All}, ExcludeLocations: []string{AllTrusted}}
			}},
		// [network] "Named locations contain IPv4 address ranges, IPv6 address ranges".
		{name: "IPv6 address in a trusted IPv6 range", reasons: []string{ReasonLocation},
			policy: func(p *Policy) {
				p.Conditions.Locations = &Locations{IncludeLocations: []string{All}, ExcludeLocations: []string{AllTrusted}}
			},
			signIn: func(s *SignIn) { s.IP = netip.MustParseAddr("2001:db8:10:5::1") }},
		// [notes] "an IPv4-only location does not match a sign-in that arrives over IPv6".
		{name: "IPv6 sign-in misses an IPv4-only location", reasons: []string{ReasonLocation},
			policy: func(p *Policy) { p.Conditions.Locations = &Locations{IncludeLocations: []string{locBranch}} },
			signIn: func(s *SignIn) { s.IP = netip.MustParseAddr("2001:db8:99::7") }},
		// [network] the location is "the address used by the network to connect to the
		// public internet"; an IPv4-mapped IPv6 address is that IPv4 address.
		{name: "IPv4-mapped address matches an IPv4 range", applies: true,
			policy: func(p *Policy) { p.Conditions.Locations = &Locations{IncludeLocations: []string{locBranch}} },
			signIn: func(s *SignIn) { s.IP = netip.MustParseAddr("::ffff:198.51.100.7") }},
		{name: "unknown address against an IP location", reasons: []string{nei}, undecided: []string{ReasonLocation},
			policy: func(p *Policy) { p.Conditions.Locations = &Locations{IncludeLocations: []string{locBranch}} },
			signIn: func(s *SignIn) { s.IP = netip.Addr{} }},
		// [network] "Organizations can determine a geographic country location by IP address".
		{name: "country in the location", applies: true,
			policy: func(p *Policy) { p.Conditions.Locations = &Locations{IncludeLocations: []string{locEU}} }},
		{name: "country outside the location", reasons: []string{ReasonLocation},
			policy: func(p *Policy) { p.Conditions.Locations = &Locations{IncludeLocations: []string{locEU}} },
			signIn: func(s *SignIn) { s.Country = "US" }},
		// A country location needs the country, not the address.
		{name: "country location decided without an address", reasons: []string{ReasonLocation},
			policy: func(p *Policy) {
				p.Conditions.Locations = &Locations{IncludeLocations: []string{All}, ExcludeLocations: []string{locEU}}
			},
			signIn: func(s *SignIn) { s.IP = netip.Addr{} }},
		// [network] "Some IP addresses don't map to a specific country or region. To capture
		// these IP locations, check the box Include unknown countries/regions".
		{name: "unknown country in a location including unknown", applies: true,
			policy: func(p *Policy) { p.Conditions.Locations = &Locations{IncludeLocations: []string{locRisky}} },
			signIn: func(s *SignIn) { s.Country = "" }},
		{name: "known country outside a location including unknown", reasons: []string{ReasonLocation},
			policy: func(p *Policy) { p.Conditions.Locations = &Locations{IncludeLocations: []string{locRisky}} },
			signIn: func(s *SignIn) { s.Country = "US" }},
		{name: "unknown country against a country list", reasons: []string{nei}, undecided: []string{ReasonLocation},
			policy: func(p *Policy) { p.Conditions.Locations = &Locations{IncludeLocations: []string{locEU}} },
			signIn: func(s *SignIn) { s.Country = "" }},
		// [network] "When selecting Determine location by GPS coordinates, users must have
		// the Microsoft Authenticator app installed": the sign-in does not carry GPS.
		{name: "GPS country location is undecided", reasons: []string{nei}, undecided: []string{ReasonLocation},
			policy: func(p *Policy) { p.Conditions.Locations = &Locations{IncludeLocations: []string{locGPS}} }},
		// [notes] 1040 "bad named location reference": an id not among the locations
		// names no address.
		{name: "unknown location id matches nothing", reasons: []string{ReasonLocation},
			policy: func(p *Policy) { p.Conditions.Locations = &Locations{IncludeLocations: []string{locMissing}} }},
		// [network] All trusted includes "Multifactor authentication trusted IPs, if
		// configured", whose ranges Graph does not expose: they contain no known address.
		{name: "legacy MFA trusted IPs contain no known address", reasons: []string{ReasonLocation},
			policy: func(p *Policy) {
				p.Conditions.Locations = &Locations{IncludeLocations: []string{LegacyMFATrustedIPsID}}
			}},

		// ---- Risk -----------------------------------------------------------
		// [graph conditionalAccessConditionSet] signInRiskLevels: "Sign-in risk levels
		// included in the policy"; no risk is level none.
		{name: "sign-in risk below the levels", reasons: []string{ReasonSignInRisk},
			policy: func(p *Policy) { p.Conditions.SignInRiskLevels = []string{"high", "medium"} }},
		{name: "sign-in risk at a level", applies: true,
			policy: func(p *Policy) { p.Conditions.SignInRiskLevels = []string{"high", "medium"} },
			signIn: func(s *SignIn) { s.SignInRisk = "high" }},
		{name: "user risk below the level", reasons: []string{ReasonUserRisk},
			policy: func(p *Policy) { p.Conditions.UserRiskLevels = []string{"high"} },
			signIn: func(s *SignIn) { s.UserRisk = "low" }},

		// ---- Authentication flows -------------------------------------------
		// [flows] "This control starts with the ability to explicitly target device code flow."
		{name: "device code flow targeted", applies: true,
			policy: func(p *Policy) {
				p.Conditions.AuthenticationFlows = &AuthenticationFlows{TransferMethods: "deviceCodeFlow,authenticationTransfer"}
			},
			signIn: func(s *SignIn) { s.AuthFlow = "deviceCodeFlow" }},
		{name: "ordinary sign-in outside a device code policy", reasons: []string{ReasonAuthenticationFlow},
			policy: func(p *Policy) {
				p.Conditions.AuthenticationFlows = &AuthenticationFlows{TransferMethods: "deviceCodeFlow"}
			}},

		// ---- Filter for devices ---------------------------------------------
		// [devices] "Microsoft Entra ID uses device authentication to evaluate device filter
		// rules"; without device facts the filter cannot be decided (SPEC 5.1).
		{name: "device filter without facts", reasons: []string{nei}, undecided: []string{ReasonDevices},
			policy: deviceFilter("include", `device.isCompliant -eq "True"`)},
		// [devices] "(device.isCompliant -eq "True")" with "Supported values are "True" for
		// compliant devices and "False" for non compliant devices".
		{name: "include filter matching", applies: true,
			policy: deviceFilter("include", `device.isCompliant -eq "True"`),
			signIn: func(s *SignIn) { s.Device = device("device.isCompliant", "True") }},
		{name: "include filter not matching", reasons: []string{ReasonDevices},
			policy: deviceFilter("include", `device.isCompliant -eq "True"`),
			signIn: func(s *SignIn) { s.Device = device("device.isCompliant", "False") }},
		// [devices] Policy 2: "excluding a filter for devices using rule expression
		// device.extensionAttribute1 equals SAW and for Access controls, Block".
		{name: "exclude filter exempts a SAW", reasons: []string{ReasonDevices},
			policy: deviceFilter("exclude", `device.extensionAttribute1 -eq "SAW"`),
			signIn: func(s *SignIn) { s.Device = device("device.extensionAttribute1", "SAW") }},
		{name: "exclude filter keeps other devices", applies: true,
			policy: deviceFilter("exclude", `device.extensionAttribute1 -eq "SAW"`),
			signIn: func(s *SignIn) { s.Device = device("device.extensionAttribute1", "Kiosk") }},
		// [devices] table: negative operators on an "Unregistered device": "Yes" (applied);
		// positive operators: "No". "all device properties are considered as null values".
		{name: "negative operator applies to an unregistered device", applies: true,
			policy: deviceFilter("include", `device.trustType -ne "AzureAD"`),
			signIn: func(s *SignIn) { s.Device = device() }},
		{name: "positive operator skips an unregistered device", reasons: []string{ReasonDevices},
			policy: deviceFilter("include", `device.trustType -eq "AzureAD"`),
			signIn: func(s *SignIn) { s.Device = device() }},
		// [devices] "excluding those with devices where the rule expression
		// device.operatingSystem == 'Windows' and device.operatingSystemVersion
		// startsWith '10.0' applies, should be blocked".
		{name: "and with startsWith exempts Windows 10", reasons: []string{ReasonDevices},
			policy: deviceFilter("exclude", `(device.operatingSystem -eq "Windows") -and (device.operatingSystemVersion -startsWith "10.0")`),
			signIn: func(s *SignIn) {
				s.Device = device("device.operatingSystem", "Windows", "device.operatingSystemVersion", "10.0.19045")
			}},
		{name: "and with startsWith catches Windows 7", applies: true,
			policy: deviceFilter("exclude", `(device.operatingSystem -eq "Windows") -and (device.operatingSystemVersion -startsWith "10.0")`),
			signIn: func(s *SignIn) {
				s.Device = device("device.operatingSystem", "Windows", "device.operatingSystemVersion", "6.1")
			}},
		// [devices] "(device.operatingSystemVersion -in ["10.0.18363", "10.0.19041", ...])".
		{name: "in list with or", applies: true,
			policy: deviceFilter("include", `device.model -contains "Surface" -or device.operatingSystemVersion -in ["10.0.18363", "10.0.19041"]`),
			signIn: func(s *SignIn) { s.Device = device("device.operatingSystemVersion", "10.0.19041") }},
		// [devices] "For string collection attributes such as physicalIds and systemLabels,
		// the Contains operator indicates whether a specified string matches one of the
		// whole strings in the collection."
		{name: "collection contains is whole-element", reasons: []string{ReasonDevices},
			policy: deviceFilter("include", `device.systemLabels -contains "M365"`),
			signIn: func(s *SignIn) { s.Device = device("device.systemLabels", "M365Managed,MultiUser") }},
		// A rule this evaluator cannot read is undecided, never guessed (SPEC 5.1).
		{name: "unsupported rule operator", reasons: []string{nei}, undecided: []string{ReasonDevices},
			policy: deviceFilter("include", `device.displayName -match "^KIOSK"`),
			signIn: func(s *SignIn) { s.Device = device("device.displayName", "KIOSK-1") }},

		// ---- Several conditions ---------------------------------------------
		// [policies] "All assignments are logically ANDed"; every unmet one is reported, in
		// the order of Graph's whatIfAnalysisReasons enum.
		{name: "every unmet condition listed",
			reasons: []string{ReasonUsers, ReasonApplication, ReasonDevicePlatform, ReasonClientApps, ReasonLocation},
			policy: func(p *Policy) {
				p.Conditions.Users.ExcludeUsers = []string{alice}
				p.Conditions.Applications.IncludeApplications = []string{AppSharePointOnline}
				p.Conditions.Platforms = &Platforms{IncludePlatforms: []string{"android"}}
				p.Conditions.ClientAppTypes = []string{"exchangeActiveSync", "other"}
				p.Conditions.Locations = &Locations{IncludeLocations: []string{locHQ}}
			}},
		{name: "unmet and undecided together", reasons: []string{nei, ReasonUsers}, undecided: []string{ReasonDevices},
			policy: func(p *Policy) {
				p.Conditions.Users.IncludeUsers = []string{bob}
				deviceFilter("exclude", `device.isCompliant -eq "True"`)(p)
			}},
		// [graph whatIfAnalysisResult] only enabled and report-only policies are evaluated;
		// the reason for the others is policyNotEnabled.
		{name: "disabled policy", reasons: []string{ReasonPolicyNotEnabled},
			policy: func(p *Policy) {
				p.State = StateDisabled
				p.Conditions.Users.IncludeUsers = []string{None}
			}},
	}
}

func TestEvaluateConditions(t *testing.T) {
	cases := evalCases()
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	locs := testLocations()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := basePolicy()
			if tc.policy != nil {
				tc.policy(&p)
			}
			s := baseSignIn()
			if tc.signIn != nil {
				tc.signIn(&s)
			}
			got := Evaluate([]Policy{p}, locs, s).Policies[0]
			if got.Applies != tc.applies {
				t.Errorf("applies = %v, want %v (reasons %v)", got.Applies, tc.applies, got.Reasons)
			}
			want := tc.reasons
			if want == nil {
				want = []string{}
			}
			if !slices.Equal(got.Reasons, want) {
				t.Errorf("reasons = %v, want %v", got.Reasons, want)
			}
			if tc.undecided != nil && !slices.Equal(got.Undecided, tc.undecided) {
				t.Errorf("undecided = %v, want %v", got.Undecided, tc.undecided)
			}
			if tc.applies && len(got.Undecided) != 0 {
				t.Errorf("applies with undecided %v", got.Undecided)
			}
		})
	}
}

func withGrant(state string, g *GrantControls) Policy {
	p := basePolicy()
	p.State, p.GrantControls = state, g
	p.ID = state + "-" + strings.Join(g.BuiltInControls, "+")
	return p
}

func TestEvaluateVerdict(t *testing.T) {
	mfa := &GrantControls{Operator: "OR", BuiltInControls: []string{"mfa"}}
	block := &GrantControls{Operator: "OR", BuiltInControls: []string{"block"}}
	strength := &GrantControls{Operator: "OR", AuthenticationStrength: &AuthenticationStrength{ID: "00000000-0000-0000-0000-000000000002"}}
	mfaOrDevice := &GrantControls{Operator: "OR", BuiltInControls: []string{"mfa", "compliantDevice"}}
	deviceAndJoin := &GrantControls{Operator: "AND", BuiltInControls: []string{"compliantDevice", "domainJoinedDevice"}}
	terms := &GrantControls{Operator: "OR", TermsOfUse: []string{"tou-1"}}

	sessionOnly := basePolicy()
	sessionOnly.GrantControls = nil
	sessionOnly.SessionControls = &SessionControl{"signInFrequency": map[string]any{"value": 1}}
	undetermined := basePolicy()
	undetermined.ID = "needs-device"
	deviceFilter("include", `device.isCompliant -eq "False"`)(&undetermined)

	tests := []struct {
		name     string
		policies []Policy
		verdict  string
		controls []string
		undet    []string
	}{
		// [policies] "If there's a policy that is configured to block access, with the block
		// grant control, enforcement will stop here and the user will be blocked."
		{"block wins over mfa", []Policy{withGrant(StateEnabled, mfa), withGrant(StateEnabled, block)},
			VerdictBlock, []string{"block", "mfa"}, nil},
		// [notes] authenticationStrength "counts as MFA"; [grant] "Require authentication
		// strength" is a multifactor requirement.
		{"authentication strength counts as MFA", []Policy{withGrant(StateEnabled, strength)},
			VerdictMFA, []string{"authenticationStrength"}, nil},
		// [policies] "If a policy where "Require one of the selected controls" is selected,
		// we prompt in the order defined": MFA comes first; both alternatives are listed.
		{"OR of mfa and compliant device", []Policy{withGrant(StateEnabled, mfaOrDevice)},
			VerdictMFA, []string{"compliantDevice", "mfa"}, nil},
		// [grant] "Require all the selected controls (control and control)".
		{"AND of device controls", []Policy{withGrant(StateEnabled, deviceAndJoin)},
			VerdictControls, []string{"compliantDevice", "domainJoinedDevice"}, nil},
		// [grant] terms of use are a grant control "as a condition of accessing the resources".
		{"terms of use", []Policy{withGrant(StateEnabled, terms)},
			VerdictControls, []string{"termsOfUse"}, nil},
		// [report] "During sign-in, policies in report-only mode are evaluated but not enforced."
		{"report-only block is not enforced", []Policy{withGrant(StateReportOnly, block), withGrant(StateEnabled, mfa)},
			VerdictMFA, []string{"mfa"}, nil},
		// [graph whatIfAnalysisResult] disabled policies are not evaluated.
		{"disabled block is ignored", []Policy{withGrant(StateDisabled, block)},
			VerdictAllow, []string{}, nil},
		// [policies] session controls "limit the experience"; they grant nothing to satisfy.
		{"session-only policy allows", []Policy{sessionOnly}, VerdictAllow, []string{}, nil},
		// SPEC 5.1: an enforced policy that cannot be decided is reported, not guessed.
		{"undecided enforced policy", []Policy{undetermined}, VerdictAllow, []string{}, []string{"needs-device"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Evaluate(tt.policies, nil, baseSignIn())
			if res.Verdict != tt.verdict {
				t.Errorf("verdict = %q, want %q", res.Verdict, tt.verdict)
			}
			if !slices.Equal(res.RequiredControls, tt.controls) {
				t.Errorf("required controls = %v, want %v", res.RequiredControls, tt.controls)
			}
			if !slices.Equal(res.Undetermined, tt.undet) {
				t.Errorf("undetermined = %v, want %v", res.Undetermined, tt.undet)
			}
			if len(res.Policies) != len(tt.policies) {
				t.Fatalf("%d results for %d policies", len(res.Policies), len(tt.policies))
			}
			for i, pr := range res.Policies {
				if pr.ID != tt.policies[i].ID {
					t.Errorf("result %d is %q, want input order (%q)", i, pr.ID, tt.policies[i].ID)
				}
			}
		})
	}
}

// A report-only policy is still evaluated and shown as applying; only the
// verdict ignores it.
func TestReportOnlyStillReportsApplies(t *testing.T) {
	p := withGrant(StateReportOnly, &GrantControls{Operator: "OR", BuiltInControls: []string{"block"}})
	res := Evaluate([]Policy{p}, nil, baseSignIn())
	pr := res.Policies[0]
	if !pr.Applies || pr.State != StateReportOnly || !slices.Equal(pr.Controls, []string{"block"}) || pr.Operator != "OR" {
		t.Errorf("report-only result = %+v", pr)
	}
	if res.Verdict != VerdictAllow {
		t.Errorf("verdict = %q, want allow", res.Verdict)
	}
}

// The --json output of SPEC 5.2 has reasons [] (not null) for an applying
// policy and the documented field names.
func TestResultJSONShape(t *testing.T) {
	res := Evaluate([]Policy{basePolicy()}, nil, baseSignIn())
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"verdict":"mfa","requiredControls":["mfa"],"policies":[{"id":"p","displayName":"test","state":"enabled","applies":true,"reasons":[],"controls":["mfa"],"operator":"OR"}]}`
	if string(b) != want {
		t.Errorf("json =\n%s\nwant\n%s", b, want)
	}
}

// An Evaluator is reused across sign-ins and goroutines; results must not
// leak between evaluations through its pooled buffers.
func TestEvaluatorReuse(t *testing.T) {
	p := basePolicy()
	p.Conditions.Users.IncludeUsers = nil
	p.Conditions.Users.IncludeGroups = []string{gBreakG}
	e := NewEvaluator([]Policy{p}, testLocations())
	in := baseSignIn()
	in.Subject.Groups = []string{gBreakG}
	out := baseSignIn()
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 200 {
				if !e.Evaluate(in).Policies[0].Applies {
					t.Error("member of the group not included")
					return
				}
				if e.Evaluate(out).Policies[0].Applies {
					t.Error("non-member included")
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}

func TestIPRangeSpans(t *testing.T) {
	loc := NamedLocation{ODataType: ODataIPNamedLocation, IPRanges: []IPRange{
		{CIDRAddress: "10.0.0.0/9"}, {CIDRAddress: "10.128.0.0/9"}, // adjacent: merged
		{CIDRAddress: "192.0.2.7/32"},
		{CIDRAddress: "::ffff:198.51.100.0/120"}, // mapped: an IPv4 /24
		{CIDRAddress: "2001:db8::/32"}, {CIDRAddress: "2001:db8:1::/48"},
		{CIDRAddress: "2001:db8:ffff::1/128"},
		{CIDRAddress: "not a prefix"},
	}}
	c := compileLocation(&loc)
	if len(c.v4) != 3 {
		t.Errorf("v4 spans = %v, want 3 after merging", c.v4)
	}
	for addr, want := range map[string]bool{
		"10.0.0.0": true, "10.255.255.255": true, "11.0.0.0": false, "9.255.255.255": false,
		"192.0.2.7": true, "192.0.2.8": false, "198.51.100.200": true, "198.51.101.1": false,
		"2001:db8::": true, "2001:db8:ffff:ffff::1": true, "2001:db9::": false, "2001:db7:ffff::": false,
	} {
		if got := c.contains(netip.MustParseAddr(addr)); got != want {
			t.Errorf("contains(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestDeviceRuleParse(t *testing.T) {
	good := []string{
		`device.deviceId -eq "aaaaaaaa-0000-1111-2222-bbbbbbbbbbbb"`,
		`(device.displayName -contains "ABC")`,
		`device.mdmAppId -in ["00001111-aaaa-2222-bbbb-3333cccc4444"]`,
		`device.model -notContains "Surface"`,
		`device.physicalIds -contains "[ZTDId]:value"`,
		`-not (device.trustType -eq 'ServerAD') -and device.extensionAttribute1 -ne null`,
		"device.displayName -eq \"say `\"hi`\"\"",
	}
	for _, r := range good {
		if _, err := parseDeviceRule(r); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
	bad := []string{
		``, `device.x`, `device.x -eq`, `user.department -eq "x"`, `device.x -match "y"`,
		`device.x -in "y"`, `device.x -in ["y"`, `(device.x -eq "y"`, `device.x -eq "y" device.z -eq "w"`,
		`device.x -eq "unterminated`, strings.Repeat("(", 100) + `device.x -eq "y"` + strings.Repeat(")", 100),
		`device.x -eq "y" -and`, strings.Repeat("a", maxRuleLength+1),
	}
	for _, r := range bad {
		if _, err := parseDeviceRule(r); err == nil {
			t.Errorf("%q parsed", r)
		}
	}
}
