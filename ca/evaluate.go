package ca

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
)

// The evaluator follows Microsoft's documented Conditional Access rules.
// Where the documentation leaves a choice, or the sign-in lacks a fact, it
// decides as follows (each choice is repeated where it is made):
//
//   - A condition that cannot be decided from the facts given is reported as
//     notEnoughInformation, and its name goes to PolicyResult.Undecided; it
//     is never silently met or unmet. The verdict counts such a policy as not
//     applying and lists it in Result.Undetermined.
//   - An enumerated fact that is unknown (client app type, platform) is
//     still decided when every possible value gives the same answer, so a
//     policy on "all" platforms applies to an unknown one.
//   - A userType Guest subject whose external user type is not given may be
//     a local or a B2B collaboration guest; a guest selection naming only one
//     of the two kinds, or enumerating external tenants, is undecided for it.
//     With the type given, the selection is decided, except that an
//     enumeration of external tenants is undecided when the home tenant is
//     not given.
//   - An insider risk level that is not given is undecided for a policy with
//     an insider risk condition. Sign-in, user and service principal risk not
//     given are "none", as in Graph's What If, whose documented default is none.
//   - A workload identity (service principal) sign-in is matched by the
//     policy's clientApplications instead of its users; a policy without
//     clientApplications does not apply to it (workloadIdentities).
//   - A sign-in to the Office365 or MicrosoftAdminPortals grouping is a
//     sign-in to some member, so it matches a policy that would match at
//     least one member; a sign-in to "All" is a sign-in to an unspecified
//     application, which only a policy including All covers.
//   - An absent country is matched by a country location that includes
//     unknown countries/regions and undecided for other country locations;
//     a GPS-based country location is always undecided.
//   - A location id not among the named locations, and the legacy MFA
//     trusted IPs, match no sign-in.
//   - An application filter (custom security attributes) is undecided
//     whenever it could change the answer.
//   - For the verdict, a policy requiring MFA or an authentication strength
//     counts as mfa even when its OR operator offers another control; the
//     alternatives are in its Controls.

// Subject is who signs in. For a hypothetical account (not created yet)
// UserID may be empty or "new" and Hypothetical true: it then matches no
// policy by object id (neither an include nor an exclude), but still matches
// All, its Roles and its Groups.
type Subject struct {
	UserID       string
	Groups       []string // transitive group object ids
	Roles        []string // directory role TEMPLATE ids, assigned at tenant scope
	Guest        bool     // userType Guest; false is an internal member
	Hypothetical bool
	// ExternalUserType is the kind of external user, as Graph's
	// conditionalAccessGuestOrExternalUserTypes names it (internalGuest,
	// b2bCollaborationGuest, b2bCollaborationMember, b2bDirectConnectUser,
	// otherExternalUser, serviceProvider), or "none" for an internal user.
	// "" is unknown: then Guest alone is known.
	ExternalUserType string
	// HomeTenant is an external user's home tenant id; "" is unknown.
	HomeTenant string
}

// DeviceFacts are the device's directory properties, keyed as device filter
// rules name them ("device.isCompliant": "True"). A property missing from the
// map has no value, as for a device unknown to the directory; collection
// properties (device.physicalIds, device.systemLabels) hold comma-separated
// elements. A nil *DeviceFacts means the device is unknown.
type DeviceFacts struct{ Attributes map[string]string }

// SignIn describes one sign-in to evaluate. An empty field is an unknown fact
// unless its comment says otherwise; a policy whose outcome depends on an
// unknown fact reports notEnoughInformation instead of guessing.
type SignIn struct {
	Subject Subject
	// Application is an app id, or "All", "Office365" or
	// "MicrosoftAdminPortals" (a sign-in to some member of the grouping).
	// "" with UserAction or AuthContext set means the sign-in has no app.
	Application    string
	UserAction     string     // urn:user:registersecurityinfo | urn:user:registerdevice
	AuthContext    string     // c1..c99
	ClientAppType  string     // browser | mobileAppsAndDesktopClients | exchangeActiveSync | other
	DevicePlatform string     // android iOS windows windowsPhone macOS linux (others count as unsupported)
	IP             netip.Addr // zero = unknown
	Country        string     // ISO 3166 alpha-2
	SignInRisk     string     // none low medium high hidden; "" = none
	UserRisk       string     // as SignInRisk
	AuthFlow       string     // deviceCodeFlow | authenticationTransfer; "" = neither
	Device         *DeviceFacts
	// InsiderRisk is none, minor, moderate or elevated; "" is unknown.
	InsiderRisk string
	// ServicePrincipal is the app id of a workload identity signing in;
	// when set, the sign-in is the service principal's and Subject is not
	// used.
	ServicePrincipal string
	// ServicePrincipalRisk is none, low, medium or high; "" = none.
	ServicePrincipalRisk string
}

// PolicyResult is the outcome for one policy. The slices may be shared with
// the Evaluator and with other results: treat them as read-only.
type PolicyResult struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	State       string `json:"state"`
	Applies     bool   `json:"applies"`
	// Reasons lists, with Graph's analysisReasons names and in Graph's enum
	// order, every condition that is not met, plus notEnoughInformation
	// (first) when some condition could not be decided. Empty when Applies.
	Reasons []string `json:"reasons"`
	// Undecided names the conditions behind notEnoughInformation
	// ("devices", "clientApps", ...).
	Undecided []string `json:"undecided,omitempty"`
	// Controls are the grant controls: builtInControls values, then
	// "authenticationStrength", "termsOfUse" and custom factor ids. A
	// session-only policy has none.
	Controls []string `json:"controls"`
	Operator string   `json:"operator,omitempty"` // AND | OR
}

// Result is the combined outcome of a sign-in.
type Result struct {
	// Verdict is block if an enforced applying policy blocks; else mfa if one
	// requires MFA or an authentication strength; else controls if one
	// requires another grant control; else allow. Report-only policies never
	// change it.
	Verdict string `json:"verdict"`
	// RequiredControls is the union of the controls of enforced applying
	// policies, sorted and deduplicated.
	RequiredControls []string `json:"requiredControls"`
	// Policies has one entry per input policy, in input order.
	Policies []PolicyResult `json:"policies"`
	// Undetermined holds the ids of enforced policies that could apply but
	// depend on a fact the sign-in did not give (notEnoughInformation only).
	// The verdict counts them as not applying, so a caller should warn.
	Undetermined []string `json:"undetermined,omitempty"`
}

// Verdicts, from weakest to strongest.
const (
	VerdictAllow    = "allow"
	VerdictControls = "controls"
	VerdictMFA      = "mfa"
	VerdictBlock    = "block"
)

// Graph's whatIfAnalysisReasons names that the evaluator produces.
const (
	ReasonNotEnoughInformation  = "notEnoughInformation"
	ReasonUsers                 = "users"
	ReasonWorkloadIdentities    = "workloadIdentities"
	ReasonApplication           = "application"
	ReasonUserActions           = "userActions"
	ReasonAuthenticationContext = "authenticationContext"
	ReasonDevicePlatform        = "devicePlatform"
	ReasonDevices               = "devices"
	ReasonClientApps            = "clientApps"
	ReasonLocation              = "location"
	ReasonSignInRisk            = "signInRisk"
	ReasonPolicyNotEnabled      = "policyNotEnabled"
	ReasonUserRisk              = "userRisk"
	ReasonInsiderRisk           = "insiderRisk"
	ReasonAuthenticationFlow    = "authenticationFlow"
)

// reasonSet is a set of analysis reasons. Bits follow the order of Graph's
// whatIfAnalysisReasons enum, which is therefore the order of Reasons.
type reasonSet uint32

const (
	rNotEnoughInformation reasonSet = 1 << iota
	rUsers
	rWorkloadIdentities
	rApplication
	rUserActions
	rAuthenticationContext
	rDevicePlatform
	rDevices
	rClientApps
	rLocation
	rSignInRisk
	rPolicyNotEnabled
	rUserRisk
	rInsiderRisk
	rAuthenticationFlow
	reasonCount = iota
)

var reasonNames = [reasonCount]string{
	ReasonNotEnoughInformation, ReasonUsers, ReasonWorkloadIdentities, ReasonApplication, ReasonUserActions,
	ReasonAuthenticationContext, ReasonDevicePlatform, ReasonDevices, ReasonClientApps,
	ReasonLocation, ReasonSignInRisk, ReasonPolicyNotEnabled, ReasonUserRisk,
	ReasonInsiderRisk, ReasonAuthenticationFlow,
}

// appendNames appends the names of the reasons in s, in enum order.
func (s reasonSet) appendNames(dst []string) []string {
	for i := 0; s != 0; i++ {
		if s&1 != 0 {
			dst = append(dst, reasonNames[i])
		}
		s >>= 1
	}
	return dst
}

func (s reasonSet) count() int {
	n := 0
	for ; s != 0; s &= s - 1 {
		n++
	}
	return n
}

// tri is a three-valued truth: a condition can be met, unmet, or not
// decidable from the facts given.
type tri uint8

const (
	triNo tri = iota
	triYes
	triUnknown
)

func triOf(b bool) tri {
	if b {
		return triYes
	}
	return triNo
}

func (a tri) or(b tri) tri {
	switch {
	case a == triYes || b == triYes:
		return triYes
	case a == triUnknown || b == triUnknown:
		return triUnknown
	}
	return triNo
}

// andNot is "a and not b": include minus exclude, where an exclusion that
// certainly holds wins over anything.
func (a tri) andNot(b tri) tri {
	switch {
	case a == triNo || b == triYes:
		return triNo
	case a == triYes && b == triNo:
		return triYes
	}
	return triUnknown
}

// reasonAcc collects a policy's unmet and undecided conditions.
type reasonAcc struct{ unmet, undecided reasonSet }

func (a *reasonAcc) add(t tri, r reasonSet) {
	switch t {
	case triNo:
		a.unmet |= r
	case triUnknown:
		a.undecided |= r
	}
}

// bitCond is a condition on an enumerated fact (client app type, platform,
// risk level, authentication flow): the fact, one bit of a universe, must be
// among incl and not among excl.
type bitCond struct {
	set        bool
	incl, excl uint16
}

// eval decides the condition for a fact; 0 is an unknown fact, which is
// decided only when every possible value gives the same answer.
func (c bitCond) eval(fact, universe uint16) tri {
	if !c.set {
		return triYes
	}
	if fact != 0 {
		return triOf(c.incl&fact != 0 && c.excl&fact == 0)
	}
	switch c.incl &^ c.excl & universe {
	case universe:
		return triYes
	case 0:
		return triNo
	}
	return triUnknown
}

// Client app types. "exchangeActiveSync" and "easSupported" both select
// Exchange ActiveSync; that and "other" are the legacy authentication clients.
const (
	clientBrowser uint16 = 1 << iota
	clientMobileDesktop
	clientEAS
	clientOther
	allClients = clientBrowser | clientMobileDesktop | clientEAS | clientOther
)

var clientBits = map[string]uint16{
	"browser":                     clientBrowser,
	"mobileappsanddesktopclients": clientMobileDesktop,
	"exchangeactivesync":          clientEAS,
	"eassupported":                clientEAS,
	"other":                       clientOther,
}

// Device platforms; platOther stands for any platform Conditional Access does
// not list (Chrome OS, ...), which only "all" covers.
const (
	platAndroid uint16 = 1 << iota
	platIOS
	platWindows
	platWindowsPhone
	platMacOS
	platLinux
	platOther
	allPlatforms = platAndroid | platIOS | platWindows | platWindowsPhone | platMacOS | platLinux | platOther
)

var platformBits = map[string]uint16{
	"android": platAndroid, "ios": platIOS, "windows": platWindows,
	"windowsphone": platWindowsPhone, "macos": platMacOS, "linux": platLinux,
	"all": allPlatforms,
}

// Risk levels.
const (
	riskNone uint16 = 1 << iota
	riskLow
	riskMedium
	riskHigh
	riskHidden
	allRisks = riskNone | riskLow | riskMedium | riskHigh | riskHidden
)

var riskBits = map[string]uint16{
	"none": riskNone, "low": riskLow, "medium": riskMedium, "high": riskHigh, "hidden": riskHidden,
}

// Insider risk levels (conditionalAccessInsiderRiskLevels names minor,
// moderate and elevated; a sign-in may also have none).
const (
	insiderNone uint16 = 1 << iota
	insiderMinor
	insiderModerate
	insiderElevated
	allInsider = insiderNone | insiderMinor | insiderModerate | insiderElevated
)

var insiderBits = map[string]uint16{
	"none": insiderNone, "minor": insiderMinor, "moderate": insiderModerate, "elevated": insiderElevated,
}

// Authentication flows; flowNone is a sign-in that uses neither.
const (
	flowDeviceCode uint16 = 1 << iota
	flowTransfer
	flowNone
	allFlows = flowDeviceCode | flowTransfer | flowNone
)

var flowBits = map[string]uint16{
	"devicecodeflow": flowDeviceCode, "devicecode": flowDeviceCode,
	"authenticationtransfer": flowTransfer,
}

// fold looks a value up in one of the tables above, ignoring case.
func fold(m map[string]uint16, v string) uint16 { return m[strings.ToLower(strings.TrimSpace(v))] }

type policyMode uint8

const (
	modeOff policyMode = iota
	modeEnforced
	modeReportOnly
)

// verdictClass orders what an applying policy demands.
type verdictClass uint8

const (
	classNone verdictClass = iota
	classControls
	classMFA
	classBlock
)

var verdictNames = [...]string{VerdictAllow, VerdictControls, VerdictMFA, VerdictBlock}

// Evaluator evaluates sign-ins against a fixed set of policies and named
// locations. Build it once with NewEvaluator; Evaluate is safe for concurrent
// use. The inputs must not change while the Evaluator is in use.
type Evaluator struct {
	policies []compiledPolicy
	locs     []compiledLocation
	needed   []int32 // locations some policy refers to, compiled
	trusted  []int32 // trusted IP locations (AllTrusted)
	userIdx  map[string]int32
	groupIdx map[string]int32
	roleIdx  map[string]int32
	scratch  sync.Pool
}

type compiledPolicy struct {
	id, name, state, operator string
	mode                      policyMode
	class                     verdictClass
	controls                  []string
	users                     userRule
	apps                      appRule
	clientApps                bitCond
	platforms                 bitCond
	locations                 locationRule
	signInRisk, userRisk      bitCond
	authFlows                 bitCond
	insiderRisk               bitCond
	device                    deviceCond
	workload                  workloadRule
}

// workloadRule is conditions.clientApplications with the service principal
// risk levels: who among workload identities the policy targets.
type workloadRule struct {
	set        bool // the policy targets workload identities at all
	inclAll    bool // ServicePrincipalsInMyTenant
	incl, excl []string
	risk       bitCond
}

// eval decides whether the policy targets the service principal signing in.
func (w *workloadRule) eval(f *facts) tri {
	if !w.set {
		return triNo
	}
	id := strings.ToLower(f.s.ServicePrincipal)
	if slices.Contains(w.excl, id) || !(w.inclAll || slices.Contains(w.incl, id)) {
		return triNo
	}
	return w.risk.eval(f.spRisk, allRisks)
}

// guestRule is one include/excludeGuestsOrExternalUsers selection.
type guestRule struct {
	set        bool
	kinds      uint8
	allTenants bool
	tenants    []string // lower case, when enumerated
}

// userRule is conditions.users with ids interned to small integers.
type userRule struct {
	inclAll, inclGuestsValue, exclGuestsValue bool
	inclUsers, inclGroups, inclRoles          []int32
	exclUsers, exclGroups, exclRoles          []int32
	inclGuests, exclGuests                    guestRule
}

// Target kinds of conditions.applications.
const (
	targetApps uint8 = 1 << iota
	targetUserActions
	targetAuthContext
)

type filterMode uint8

const (
	filterNone filterMode = iota
	filterInclude
	filterExclude
)

// appRule is conditions.applications.
type appRule struct {
	kinds                  uint8
	inclAll                bool
	inclGroups, exclGroups uint8 // inOffice365 | inAdminPortals
	incl, excl             []string
	filter                 filterMode
	office365, adminPorts  tri // outcome for a sign-in to the grouping
	userActions            []string
	authContexts           []string
}

// locationRule is conditions.locations with ids resolved to location indexes.
type locationRule struct {
	set                  bool
	inclAll, inclTrusted bool
	exclAll, exclTrusted bool
	incl, excl           []int32
}

type deviceCond struct {
	set     bool
	exclude bool
	rule    deviceRule // nil when the rule does not parse
}

// compiledLocation is a named location ready for matching.
type compiledLocation struct {
	kind           uint8
	gps            bool
	includeUnknown bool
	countries      []string
	v4             []span4
	v6             []span6
}

const (
	locOther uint8 = iota // a kind this package does not model
	locIP
	locCountry
)

// NewEvaluator prepares policies and named locations for evaluation: it
// interns ids, resolves location references, parses IP ranges and device
// filter rules once.
func NewEvaluator(policies []Policy, locations []NamedLocation) *Evaluator {
	e := &Evaluator{
		policies: make([]compiledPolicy, len(policies)),
		locs:     make([]compiledLocation, len(locations)),
		userIdx:  map[string]int32{},
		groupIdx: map[string]int32{},
		roleIdx:  map[string]int32{},
	}
	locIdx := make(map[string]int32, len(locations))
	for i := range locations {
		id := strings.ToLower(locations[i].ID)
		if _, dup := locIdx[id]; !dup {
			locIdx[id] = int32(i)
		}
	}
	needed := make([]bool, len(locations))
	anyTrusted := false
	for i := range policies {
		e.policies[i] = e.compilePolicy(&policies[i], locIdx, needed)
		l := &e.policies[i].locations
		anyTrusted = anyTrusted || l.inclTrusted || l.exclTrusted
	}
	for i := range locations {
		trusted := locations[i].IsIP() && locations[i].IsTrusted
		if needed[i] || (anyTrusted && trusted) {
			e.locs[i] = compileLocation(&locations[i])
			e.needed = append(e.needed, int32(i))
			if trusted {
				e.trusted = append(e.trusted, int32(i))
			}
		}
	}
	e.scratch.New = func() any { return e.newScratch() }
	return e
}

// Evaluate evaluates one sign-in. For several sign-ins against the same
// policies, build an Evaluator once instead.
func Evaluate(policies []Policy, locations []NamedLocation, s SignIn) Result {
	return NewEvaluator(policies, locations).Evaluate(s)
}

func intern(m map[string]int32, ids []string) []int32 {
	out := make([]int32, 0, len(ids))
	for _, id := range ids {
		k := strings.ToLower(id)
		n, ok := m[k]
		if !ok {
			n = int32(len(m))
			m[k] = n
		}
		out = append(out, n)
	}
	return out
}

func (e *Evaluator) compilePolicy(p *Policy, locIdx map[string]int32, needed []bool) compiledPolicy {
	cp := compiledPolicy{id: p.ID, name: p.DisplayName, state: p.State}
	switch p.State {
	case StateEnabled:
		cp.mode = modeEnforced
	case StateReportOnly:
		cp.mode = modeReportOnly
	}
	cp.controls, cp.class, cp.operator = compileGrant(p.GrantControls)
	if cp.mode == modeOff {
		return cp
	}
	c := &p.Conditions
	cp.users = e.compileUsers(c.Users)
	cp.apps = compileApps(c.Applications)
	cp.clientApps = compileClientApps(c.ClientAppTypes)
	if pl := c.Platforms; pl != nil && (len(pl.IncludePlatforms) > 0 || len(pl.ExcludePlatforms) > 0) {
		// An empty include list is taken as every platform, the default the
		// docs give: "The default is to apply to all device platforms."
		cp.platforms = bitCond{set: true, incl: allPlatforms}
		if len(pl.IncludePlatforms) > 0 {
			cp.platforms.incl = orBits(platformBits, pl.IncludePlatforms)
		}
		cp.platforms.excl = orBits(platformBits, pl.ExcludePlatforms)
	}
	cp.locations = compileLocations(c.Locations, locIdx, needed)
	cp.signInRisk = compileLevels(riskBits, c.SignInRiskLevels)
	cp.userRisk = compileLevels(riskBits, c.UserRiskLevels)
	if c.InsiderRiskLevels != nil && strings.TrimSpace(*c.InsiderRiskLevels) != "" {
		cp.insiderRisk = compileLevels(insiderBits, strings.Split(*c.InsiderRiskLevels, ","))
		cp.insiderRisk.set = true // a level this code does not know still makes it a condition
	}
	if cl := c.ClientApplications; cl != nil && (len(cl.IncludeServicePrincipals) > 0 || len(cl.ExcludeServicePrincipals) > 0) {
		w := &cp.workload
		w.set = true
		for _, id := range cl.IncludeServicePrincipals {
			if strings.EqualFold(id, "ServicePrincipalsInMyTenant") {
				w.inclAll = true
			} else {
				w.incl = append(w.incl, strings.ToLower(id))
			}
		}
		for _, id := range cl.ExcludeServicePrincipals {
			w.excl = append(w.excl, strings.ToLower(id))
		}
		w.risk = compileLevels(riskBits, c.ServicePrincipalRiskLevels)
	}
	if f := c.AuthenticationFlows; f != nil && strings.TrimSpace(f.TransferMethods) != "" {
		cp.authFlows = compileLevels(flowBits, strings.Split(f.TransferMethods, ","))
	}
	if d := c.Devices; d != nil && d.DeviceFilter != nil {
		cp.device.set = true
		cp.device.exclude = strings.EqualFold(d.DeviceFilter.Mode, "exclude")
		if r, err := parseDeviceRule(d.DeviceFilter.Rule); err == nil {
			cp.device.rule = r
		}
	}
	return cp
}

func orBits(m map[string]uint16, vals []string) uint16 {
	var b uint16
	for _, v := range vals {
		b |= fold(m, v)
	}
	return b
}

// compileLevels builds an include-only condition; an empty list is no
// condition at all.
func compileLevels(m map[string]uint16, vals []string) bitCond {
	if len(vals) == 0 {
		return bitCond{}
	}
	return bitCond{set: true, incl: orBits(m, vals)}
}

// compileClientApps: "By default, all newly created Conditional Access
// policies apply to all client app types even if the client apps condition
// isn't configured", so an empty list or "all" is no condition.
func compileClientApps(types []string) bitCond {
	if len(types) == 0 {
		return bitCond{}
	}
	for _, t := range types {
		if strings.EqualFold(strings.TrimSpace(t), "all") {
			return bitCond{}
		}
	}
	return bitCond{set: true, incl: orBits(clientBits, types)}
}

func compileGrant(g *GrantControls) (controls []string, class verdictClass, operator string) {
	if g == nil {
		return nil, classNone, ""
	}
	add := func(c string) {
		if c != "" && !slices.Contains(controls, c) {
			controls = append(controls, c)
		}
	}
	for _, c := range g.BuiltInControls {
		add(c)
	}
	if g.AuthenticationStrength != nil {
		add("authenticationStrength")
	}
	if len(g.TermsOfUse) > 0 {
		add("termsOfUse")
	}
	for _, c := range g.CustomAuthenticationFactors {
		add(c)
	}
	// With OR, [mfa, compliantDevice] can be met without MFA; the verdict
	// still says mfa (the strongest interactive demand) and Controls lists
	// the alternatives.
	switch {
	case slices.Contains(controls, "block"):
		class = classBlock
	case slices.Contains(controls, "mfa") || g.AuthenticationStrength != nil:
		class = classMFA
	case len(controls) > 0:
		class = classControls
	}
	return slices.Clip(controls), class, g.Operator
}

func (e *Evaluator) compileUsers(u *Users) userRule {
	var r userRule
	if u == nil {
		return r // no user is included, so the policy applies to nobody
	}
	var incl, excl []string
	for _, id := range u.IncludeUsers {
		switch {
		case strings.EqualFold(id, All):
			r.inclAll = true
		case strings.EqualFold(id, GuestsOrExternalUsers):
			r.inclGuestsValue = true
		case strings.EqualFold(id, None):
		default:
			incl = append(incl, id)
		}
	}
	for _, id := range u.ExcludeUsers {
		switch {
		case strings.EqualFold(id, GuestsOrExternalUsers):
			r.exclGuestsValue = true
		case strings.EqualFold(id, All), strings.EqualFold(id, None):
			// Neither is a valid exclusion; Graph refuses them.
		default:
			excl = append(excl, id)
		}
	}
	r.inclUsers, r.exclUsers = intern(e.userIdx, incl), intern(e.userIdx, excl)
	r.inclGroups, r.exclGroups = intern(e.groupIdx, u.IncludeGroups), intern(e.groupIdx, u.ExcludeGroups)
	r.inclRoles, r.exclRoles = intern(e.roleIdx, u.IncludeRoles), intern(e.roleIdx, u.ExcludeRoles)
	r.inclGuests, r.exclGuests = compileGuests(u.IncludeGuestsOrExternalUsers), compileGuests(u.ExcludeGuestsOrExternalUsers)
	return r
}

// Kinds of external user, as conditionalAccessGuestOrExternalUserTypes
// names them.
const (
	extInternalGuest uint8 = 1 << iota
	extB2BGuest
	extB2BMember
	extDirectConnect
	extOther
	extServiceProvider
)

var externalKinds = map[string]uint8{
	"internalguest": extInternalGuest, "b2bcollaborationguest": extB2BGuest,
	"b2bcollaborationmember": extB2BMember, "b2bdirectconnectuser": extDirectConnect,
	"otherexternaluser": extOther, "serviceprovider": extServiceProvider,
}

// compileGuests reads include/excludeGuestsOrExternalUsers.
func compileGuests(g *GuestsOrExtern) guestRule {
	if g == nil {
		return guestRule{}
	}
	r := guestRule{set: true, allTenants: true}
	for _, t := range strings.Split(g.GuestOrExternalUserTypes, ",") {
		r.kinds |= externalKinds[strings.ToLower(strings.TrimSpace(t))]
	}
	if et := g.ExternalTenants; et != nil && (strings.EqualFold(et.MembershipKind, "enumerated") ||
		strings.Contains(strings.ToLower(et.ODataType), "enumerated")) {
		r.allTenants = false
		for _, m := range et.Members {
			r.tenants = append(r.tenants, strings.ToLower(strings.TrimSpace(m)))
		}
	}
	return r
}

// eval decides the selection for the subject. With the external user type
// given, the kind decides, and for a user from another tenant an
// enumeration of tenants needs the home tenant. Without it, a userType
// Guest account is a local ("internalGuest") or a B2B collaboration guest
// ("b2bCollaborationGuest"), so the selection is met when it names both
// kinds for all tenants, unmet when it names neither, and undecided
// otherwise; a member is not selected.
func (g *guestRule) eval(f *facts) tri {
	if !g.set {
		return triNo
	}
	if f.extKnown {
		switch kind := f.extKind; {
		case kind == 0 || g.kinds&kind == 0:
			return triNo
		case kind == extInternalGuest || g.allTenants:
			// A local guest belongs to this tenant: no home tenant to match.
			return triYes
		case f.homeTenant == "":
			return triUnknown
		}
		return triOf(slices.Contains(g.tenants, f.homeTenant))
	}
	if !f.s.Subject.Guest {
		return triNo
	}
	internal, b2b := g.kinds&extInternalGuest != 0, g.kinds&extB2BGuest != 0
	switch {
	case !internal && !b2b:
		return triNo
	case b2b && !g.allTenants:
		return triUnknown // the guest's home tenant is not known
	case internal && b2b:
		return triYes
	}
	return triUnknown
}

func compileApps(a *Applications) appRule {
	var r appRule
	if a == nil {
		return r
	}
	for _, id := range a.IncludeApplications {
		switch {
		case strings.EqualFold(id, All):
			r.inclAll = true
		case strings.EqualFold(id, Office365):
			r.inclGroups |= inOffice365
		case strings.EqualFold(id, MicrosoftAdminPortals):
			r.inclGroups |= inAdminPortals
		case strings.EqualFold(id, None):
		default:
			r.incl = append(r.incl, strings.ToLower(id))
		}
	}
	for _, id := range a.ExcludeApplications {
		switch {
		case strings.EqualFold(id, Office365):
			r.exclGroups |= inOffice365
		case strings.EqualFold(id, MicrosoftAdminPortals):
			r.exclGroups |= inAdminPortals
		default:
			r.excl = append(r.excl, strings.ToLower(id))
		}
	}
	if f := a.ApplicationFilter; f != nil {
		r.filter = filterInclude
		if strings.EqualFold(f.Mode, "exclude") {
			r.filter = filterExclude
		}
	}
	if len(a.IncludeApplications) > 0 || r.filter != filterNone {
		r.kinds |= targetApps
	}
	if len(a.IncludeUserActions) > 0 {
		r.kinds |= targetUserActions
		r.userActions = a.IncludeUserActions
	}
	if len(a.IncludeAuthenticationContextClassReferences) > 0 {
		r.kinds |= targetAuthContext
		r.authContexts = a.IncludeAuthenticationContextClassReferences
	}
	// A sign-in to a grouping is a sign-in to one of its members: it matches
	// when some member would.
	r.office365, r.adminPorts = triNo, triNo
	for _, id := range office365Apps {
		r.office365 = r.office365.or(r.matchApp(id, groupsOf(id)))
	}
	for _, id := range adminPortalApps {
		r.adminPorts = r.adminPorts.or(r.matchApp(id, groupsOf(id)))
	}
	return r
}

// matchApp decides whether the policy targets an application. id is lower
// case, or "" for an application that is not specified; groups holds the
// groupings it belongs to. Exclusion wins over inclusion. An application
// filter selects by custom security attributes the evaluator does not know,
// so whenever it could change the answer the answer is undecided.
func (r *appRule) matchApp(id string, groups uint8) tri {
	excluded := r.exclGroups&groups != 0 || (id != "" && slices.Contains(r.excl, id))
	if excluded {
		return triNo
	}
	included := r.inclAll || r.inclGroups&groups != 0 || (id != "" && slices.Contains(r.incl, id))
	switch {
	case r.filter == filterInclude && !included, r.filter == filterExclude && included:
		return triUnknown
	}
	return triOf(included)
}

func compileLocations(l *Locations, locIdx map[string]int32, needed []bool) locationRule {
	var r locationRule
	if l == nil || (len(l.IncludeLocations) == 0 && len(l.ExcludeLocations) == 0) {
		return r
	}
	r.set = true
	// "Conditional Access policies apply to all locations by default", so an
	// empty include list is Any location.
	r.inclAll = len(l.IncludeLocations) == 0
	resolve := func(ids []string, all, trusted *bool) []int32 {
		var out []int32
		for _, id := range ids {
			switch {
			case strings.EqualFold(id, All):
				*all = true
			case strings.EqualFold(id, AllTrusted):
				*trusted = true
			default:
				// An unknown id, including the legacy MFA trusted IPs whose
				// ranges Graph does not expose, matches no sign-in.
				if i, ok := locIdx[strings.ToLower(id)]; ok {
					needed[i] = true
					out = append(out, i)
				}
			}
		}
		return out
	}
	r.incl = resolve(l.IncludeLocations, &r.inclAll, &r.inclTrusted)
	r.excl = resolve(l.ExcludeLocations, &r.exclAll, &r.exclTrusted)
	return r
}

func compileLocation(l *NamedLocation) compiledLocation {
	var c compiledLocation
	switch l.ODataType {
	case ODataIPNamedLocation:
		c.kind = locIP
		c.v4, c.v6 = compileRanges(l.IPRanges)
	case ODataCountryLocation:
		c.kind = locCountry
		c.countries = l.CountriesAndRegions
		c.includeUnknown = l.IncludeUnknownCountriesAndRegions
		c.gps = strings.EqualFold(l.CountryLookupMethod, "authenticatorAppGps")
	}
	return c
}

// match decides whether the sign-in comes from the location.
func (c *compiledLocation) match(f *facts) tri {
	switch c.kind {
	case locIP:
		if !f.ip.IsValid() {
			return triUnknown
		}
		return triOf(c.contains(f.ip))
	case locCountry:
		// With GPS lookup the country comes from the Authenticator app, which
		// the sign-in does not describe.
		if c.gps {
			return triUnknown
		}
		if f.country == "" {
			// An absent country is the unknown country/region the location
			// includes when asked to; otherwise the address might still map to
			// one of its countries.
			if c.includeUnknown {
				return triYes
			}
			return triUnknown
		}
		for _, cc := range c.countries {
			if strings.EqualFold(cc, f.country) {
				return triYes
			}
		}
		return triNo
	}
	return triUnknown
}

// deviceCond.eval applies a device filter: mode include targets the devices
// the rule matches, exclude the devices it does not.
func (d *deviceCond) eval(dev *DeviceFacts) tri {
	if !d.set {
		return triYes
	}
	if d.rule == nil || dev == nil {
		return triUnknown
	}
	return triOf(d.rule.eval(dev.Attributes) != d.exclude)
}

// Kinds of sign-in target.
const (
	signInUnknownTarget uint8 = iota
	signInNoApp               // a user action or authentication context only
	signInAllApps
	signInOffice365
	signInAdminPortals
	signInApp
)

// facts is a sign-in prepared for matching.
type facts struct {
	s          *SignIn
	user       int32 // interned user id, -1 if none
	groups     []uint64
	roles      []uint64
	target     uint8
	app        string
	appGroups  uint8
	client     uint16
	platform   uint16
	signInRisk uint16
	userRisk   uint16
	spRisk     uint16
	// external: a guest or external user, whom the GuestsOrExternalUsers
	// value selects; extKnown: the external user type was given, as extKind
	// (0 for none), with the home tenant in lower case.
	external   bool
	extKnown   bool
	extKind    uint8
	homeTenant string
	insider    uint16
	flow       uint16
	ip         netip.Addr
	country    string
	locs       []tri
	trusted    tri
}

// scratch holds per-evaluation buffers, pooled so that an evaluation
// allocates only what it returns.
type scratch struct {
	groups, roles []uint64
	locs          []tri
	unmet, undec  []reasonSet
	controls      []string
}

func (e *Evaluator) newScratch() *scratch {
	return &scratch{
		groups: make([]uint64, (len(e.groupIdx)+63)/64),
		roles:  make([]uint64, (len(e.roleIdx)+63)/64),
		locs:   make([]tri, len(e.locs)),
		unmet:  make([]reasonSet, len(e.policies)),
		undec:  make([]reasonSet, len(e.policies)),
	}
}

func setBits(bits []uint64, idx map[string]int32, ids []string) {
	clear(bits)
	for _, id := range ids {
		if n, ok := idx[strings.ToLower(id)]; ok {
			bits[n/64] |= 1 << (n % 64)
		}
	}
}

func anyBit(bits []uint64, idx []int32) tri {
	for _, n := range idx {
		if bits[n/64]&(1<<(n%64)) != 0 {
			return triYes
		}
	}
	return triNo
}

func (e *Evaluator) facts(s *SignIn, sc *scratch) facts {
	f := facts{s: s, user: -1, groups: sc.groups, roles: sc.roles, locs: sc.locs}
	sub := &s.Subject
	if id := strings.ToLower(sub.UserID); !sub.Hypothetical && id != "" && id != "new" {
		if n, ok := e.userIdx[id]; ok {
			f.user = n
		}
	}
	setBits(f.groups, e.groupIdx, sub.Groups)
	if t := strings.TrimSpace(sub.ExternalUserType); t != "" {
		f.extKnown = true
		f.extKind = externalKinds[strings.ToLower(t)]
		f.homeTenant = strings.ToLower(strings.TrimSpace(sub.HomeTenant))
	}
	f.external = sub.Guest || f.extKind != 0
	setBits(f.roles, e.roleIdx, sub.Roles)

	switch app := strings.TrimSpace(s.Application); {
	case app == "":
		if s.UserAction != "" || s.AuthContext != "" {
			f.target = signInNoApp
		}
	case strings.EqualFold(app, All):
		f.target = signInAllApps
	case strings.EqualFold(app, Office365):
		f.target = signInOffice365
	case strings.EqualFold(app, MicrosoftAdminPortals):
		f.target = signInAdminPortals
	default:
		f.target, f.app = signInApp, strings.ToLower(app)
		f.appGroups = appGroups[f.app]
	}

	f.client = fold(clientBits, s.ClientAppType)
	if f.platform = fold(platformBits, s.DevicePlatform); f.platform == allPlatforms {
		f.platform = 0 // "all" is not a platform a device reports
	} else if f.platform == 0 && strings.TrimSpace(s.DevicePlatform) != "" {
		f.platform = platOther
	}
	f.signInRisk, f.userRisk = riskNone, riskNone
	if s.SignInRisk != "" {
		f.signInRisk = fold(riskBits, s.SignInRisk)
	}
	if s.UserRisk != "" {
		f.userRisk = fold(riskBits, s.UserRisk)
	}
	f.spRisk = riskNone
	if s.ServicePrincipalRisk != "" {
		f.spRisk = fold(riskBits, s.ServicePrincipalRisk)
	}
	f.insider = fold(insiderBits, s.InsiderRisk) // 0 (unknown) when not given
	f.flow = flowNone
	if s.AuthFlow != "" {
		f.flow = fold(flowBits, s.AuthFlow)
	}

	// "The location is the public egress IP": an IPv4-mapped IPv6 address
	// is the IPv4 address it carries.
	f.ip = s.IP.Unmap().WithZone("")
	f.country = strings.TrimSpace(s.Country)
	for _, i := range e.needed {
		f.locs[i] = e.locs[i].match(&f)
	}
	f.trusted = triNo
	for _, i := range e.trusted {
		f.trusted = f.trusted.or(f.locs[i])
	}
	return f
}

// Evaluate evaluates one sign-in against every policy.
func (e *Evaluator) Evaluate(s SignIn) Result {
	sc := e.scratch.Get().(*scratch)
	defer e.scratch.Put(sc)
	f := e.facts(&s, sc)

	total := 0
	for i := range e.policies {
		u, d := e.policies[i].check(&f)
		sc.unmet[i], sc.undec[i] = u, d
		if d != 0 {
			u |= rNotEnoughInformation
		}
		total += u.count() + d.count()
	}

	// One backing array serves every Reasons and Undecided slice.
	var names []string
	if total > 0 {
		names = make([]string, 0, total)
	}
	res := Result{Policies: make([]PolicyResult, len(e.policies)), RequiredControls: noStrings}
	class := classNone
	ctrls := sc.controls[:0]
	for i := range e.policies {
		p := &e.policies[i]
		u, d := sc.unmet[i], sc.undec[i]
		pr := PolicyResult{
			ID: p.id, DisplayName: p.name, State: p.state, Operator: p.operator,
			Applies: u == 0 && d == 0, Reasons: noStrings, Controls: p.controls,
		}
		if pr.Controls == nil {
			pr.Controls = noStrings
		}
		if d != 0 {
			u |= rNotEnoughInformation
		}
		if u != 0 {
			start := len(names)
			names = u.appendNames(names)
			pr.Reasons = names[start:len(names):len(names)]
		}
		if d != 0 {
			start := len(names)
			names = d.appendNames(names)
			pr.Undecided = names[start:len(names):len(names)]
		}
		if p.mode == modeEnforced {
			switch {
			case pr.Applies:
				class = max(class, p.class)
				ctrls = append(ctrls, p.controls...)
			case u == rNotEnoughInformation:
				res.Undetermined = append(res.Undetermined, p.id)
			}
		}
		res.Policies[i] = pr
	}
	res.Verdict = verdictNames[class]
	if len(ctrls) > 0 {
		slices.Sort(ctrls)
		res.RequiredControls = slices.Clone(slices.Compact(ctrls))
	}
	sc.controls = ctrls[:0]
	return res
}

// noStrings is the shared empty list, so that results marshal as [] rather
// than null without allocating.
var noStrings = []string{}

// check returns the policy's unmet and undecided conditions.
func (p *compiledPolicy) check(f *facts) (unmet, undecided reasonSet) {
	if p.mode == modeOff {
		return rPolicyNotEnabled, 0
	}
	var acc reasonAcc
	if f.s.ServicePrincipal != "" {
		// A workload identity: clientApplications stand for users.
		acc.add(p.workload.eval(f), rWorkloadIdentities)
	} else {
		acc.add(p.users.eval(f), rUsers)
	}
	p.apps.check(f, &acc)
	acc.add(p.platforms.eval(f.platform, allPlatforms), rDevicePlatform)
	acc.add(p.device.eval(f.s.Device), rDevices)
	acc.add(p.clientApps.eval(f.client, allClients), rClientApps)
	acc.add(p.locations.eval(f), rLocation)
	acc.add(p.signInRisk.eval(f.signInRisk, allRisks), rSignInRisk)
	acc.add(p.userRisk.eval(f.userRisk, allRisks), rUserRisk)
	acc.add(p.insiderRisk.eval(f.insider, allInsider), rInsiderRisk)
	acc.add(p.authFlows.eval(f.flow, allFlows), rAuthenticationFlow)
	return acc.unmet, acc.undecided
}

// eval decides the users condition: any include, then "The exclude action
// overrides the include action in policy."
func (u *userRule) eval(f *facts) tri {
	incl := triOf(u.inclAll || (f.user >= 0 && slices.Contains(u.inclUsers, f.user)))
	if incl != triYes {
		incl = incl.or(anyBit(f.groups, u.inclGroups)).or(anyBit(f.roles, u.inclRoles))
	}
	excl := triOf(f.user >= 0 && slices.Contains(u.exclUsers, f.user))
	excl = excl.or(anyBit(f.groups, u.exclGroups)).or(anyBit(f.roles, u.exclRoles))
	if f.external {
		incl = incl.or(triOf(u.inclGuestsValue))
		excl = excl.or(triOf(u.exclGuestsValue))
	}
	if u.inclGuests.set {
		incl = incl.or(u.inclGuests.eval(f))
	}
	if u.exclGuests.set {
		excl = excl.or(u.exclGuests.eval(f))
	}
	return incl.andNot(excl)
}

// check decides the target resources. A policy may target applications,
// user actions or authentication contexts; it applies when the sign-in
// matches one of the kinds it targets, and otherwise reports each of them.
func (r *appRule) check(f *facts, acc *reasonAcc) {
	if r.kinds == 0 {
		acc.add(triNo, rApplication) // a policy with no target applies to nothing
		return
	}
	type kindResult struct {
		t tri
		r reasonSet
	}
	var results [3]kindResult
	n := 0
	if r.kinds&targetApps != 0 {
		results[n] = kindResult{r.matchSignIn(f), rApplication}
		n++
	}
	if r.kinds&targetUserActions != 0 {
		t := triOf(f.s.UserAction != "" && slices.ContainsFunc(r.userActions, func(a string) bool {
			return strings.EqualFold(a, f.s.UserAction)
		}))
		results[n] = kindResult{t, rUserActions}
		n++
	}
	if r.kinds&targetAuthContext != 0 {
		t := triOf(f.s.AuthContext != "" && slices.ContainsFunc(r.authContexts, func(c string) bool {
			return strings.EqualFold(c, f.s.AuthContext)
		}))
		results[n] = kindResult{t, rAuthenticationContext}
		n++
	}
	all := triNo
	for _, k := range results[:n] {
		if f.target == signInUnknownTarget {
			k.t = triUnknown // the sign-in names no target at all
		}
		all = all.or(k.t)
	}
	if all == triYes {
		return
	}
	for _, k := range results[:n] {
		if k.t == all || f.target == signInUnknownTarget {
			acc.add(all, k.r)
		}
	}
}

// matchSignIn decides whether the policy's applications cover the sign-in.
func (r *appRule) matchSignIn(f *facts) tri {
	switch f.target {
	case signInApp:
		return r.matchApp(f.app, f.appGroups)
	case signInAllApps:
		// A sign-in to an unspecified application is covered only by All.
		return r.matchApp("", 0)
	case signInOffice365:
		return r.office365
	case signInAdminPortals:
		return r.adminPorts
	}
	return triNo // a user action or authentication context is not an app
}

// eval decides the location condition. "When you select Any location, you
// can still exclude specific locations from a policy."
func (l *locationRule) eval(f *facts) tri {
	if !l.set {
		return triYes
	}
	incl := triOf(l.inclAll)
	if l.inclTrusted {
		incl = incl.or(f.trusted)
	}
	for _, i := range l.incl {
		incl = incl.or(f.locs[i])
	}
	excl := triOf(l.exclAll)
	if l.exclTrusted {
		excl = excl.or(f.trusted)
	}
	for _, i := range l.excl {
		excl = excl.or(f.locs[i])
	}
	return incl.andNot(excl)
}

// Brief is the outcome of a sign-in without per-policy detail, for callers
// that evaluate thousands of sign-ins (the What If sweep) and need only who
// decides the verdict. Indexes are into the Evaluator's policies.
type Brief struct {
	Verdict string
	// Culprits are the enforced applying policies whose own demand is the
	// verdict (the blocking ones for block, those demanding MFA for mfa).
	Culprits []int
	// Undetermined are the enforced policies that could apply but depend on
	// a fact the sign-in did not give; Undecided holds, for each, the
	// conditions behind it ("devices", "insiderRisk", ...).
	Undetermined []int
	Undecided    [][]string
}

// Brief evaluates one sign-in like Evaluate, allocating only for the
// policies that decide or could decide the verdict.
func (e *Evaluator) Brief(s SignIn) Brief {
	sc := e.scratch.Get().(*scratch)
	defer e.scratch.Put(sc)
	f := e.facts(&s, sc)
	class := classNone
	for i := range e.policies {
		p := &e.policies[i]
		if p.mode != modeEnforced {
			sc.unmet[i], sc.undec[i] = rPolicyNotEnabled, 0
			continue
		}
		u, d := p.check(&f)
		sc.unmet[i], sc.undec[i] = u, d
		if u == 0 && d == 0 {
			class = max(class, p.class)
		}
	}
	b := Brief{Verdict: verdictNames[class]}
	for i := range e.policies {
		p := &e.policies[i]
		if p.mode != modeEnforced {
			continue
		}
		switch u, d := sc.unmet[i], sc.undec[i]; {
		case u == 0 && d == 0:
			if class != classNone && p.class == class {
				b.Culprits = append(b.Culprits, i)
			}
		case u == 0:
			b.Undetermined = append(b.Undetermined, i)
			b.Undecided = append(b.Undecided, d.appendNames(nil))
		}
	}
	return b
}
