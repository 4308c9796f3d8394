package ca

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// createPolicyBody is the request body of Graph's "Create
// conditionalAccessPolicy" example 1 (require MFA for Exchange Online outside
// trusted locations), plus OData annotations a client may add.
const createPolicyBody = `{
  "@odata.type": "#microsoft.graph.conditionalAccessPolicy",
  "displayName": "Access to EXO requires MFA",
  "state": "enabled",
  "conditions": {
    "clientAppTypes": ["mobileAppsAndDesktopClients", "browser"],
    "applications": {"includeApplications": ["00000002-0000-0ff1-ce00-000000000000"]},
    "users": {"includeGroups": ["ba8e7ded-8b0f-4836-ba06-8ff1ecc5c8ba"]},
    "locations": {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}
  },
  "grantControls": {
    "operator": "OR",
    "builtInControls": ["mfa"],
    "authenticationStrength@odata.context": "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies('x')/grantControls/authenticationStrength/$entity"
  }
}`

const createLocationBody = `{
  "@odata.type": "#microsoft.graph.ipNamedLocation",
  "displayName": "Untrusted IP named location",
  "isTrusted": false,
  "ipRanges": [
    {"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "12.34.221.11/22"},
    {"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:0:9d38:90d6:0:0:0:0/63"}
  ]
}`

func TestDecodeValidBodies(t *testing.T) {
	p, err := DecodePolicy([]byte(createPolicyBody))
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidatePolicy(p); err != nil {
		t.Errorf("validate: %v", err)
	}
	if p.DisplayName != "Access to EXO requires MFA" || !slices.Equal(p.Conditions.Locations.ExcludeLocations, []string{AllTrusted}) ||
		!slices.Equal(p.GrantControls.BuiltInControls, []string{"mfa"}) {
		t.Errorf("decoded %+v", p)
	}
	l, err := DecodeNamedLocation([]byte(createLocationBody))
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateNamedLocation(l); err != nil {
		t.Errorf("validate: %v", err)
	}
	if len(l.IPRanges) != 2 || l.IPRanges[1].ODataType != ODataIPv6CidrRange {
		t.Errorf("decoded %+v", l)
	}
	country := `{"@odata.type":"#microsoft.graph.countryNamedLocation","displayName":"Named location with unknown countries and regions",
		"countriesAndRegions":["US","GB"],"includeUnknownCountriesAndRegions":true}`
	l, err = DecodeNamedLocation([]byte(country))
	if err != nil || ValidateNamedLocation(l) != nil || !l.IncludeUnknownCountriesAndRegions {
		t.Errorf("country location: %+v, %v", l, err)
	}
}

func wantDecodeError(t *testing.T, err error, path, reason string) {
	t.Helper()
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("error = %v, want a *DecodeError at %q", err, path)
	}
	if de.Path != path || !strings.Contains(de.Reason, reason) {
		t.Errorf("error at %q: %q, want at %q: %q", de.Path, de.Reason, path, reason)
	}
	shown := path
	if shown == "" {
		shown = "(document)"
	}
	if !strings.Contains(de.Error(), shown+": ") {
		t.Errorf("Error() = %q does not name the path", de.Error())
	}
}

func TestDecodePolicyErrors(t *testing.T) {
	tests := []struct {
		name, body, path, reason string
	}{
		{"number in a string list", `{"conditions":{"users":{"includeUsers":["All", 1]}}}`,
			"conditions.users.includeUsers[1]", "expected string"},
		{"object for a string", `{"state":{"x":1}}`, "state", "expected string"},
		{"array for an object", `{"conditions":[]}`, "conditions", "expected object"},
		{"string for a list", `{"conditions":{"clientAppTypes":"browser"}}`, "conditions.clientAppTypes", "expected array"},
		{"not an object", `[]`, "", "expected object"},
		{"unknown top-level property", `{"displayName":"x","enabled":true}`,
			"enabled", "property 'enabled' does not exist on type 'microsoft.graph.conditionalAccessPolicy'"},
		{"unknown nested property", `{"conditions":{"users":{"includeUser":["All"]}}}`,
			"conditions.users.includeUser", "does not exist on type 'microsoft.graph.conditionalAccessUsers'"},
		{"truncated", `{"conditions":{"users":{"includeUsers":["a",`, "conditions.users.includeUsers[1]", "unexpected end"},
		{"syntax error", `{"displayName": tru}`, "displayName", "invalid JSON"},
		{"trailing data", `{"displayName":"x"} {}`, "", "unexpected data"},
		{"empty", ``, "", "empty document"},
		{"boolean for a string in a deep list", `{"grantControls":{"termsOfUse":[true]}}`, "grantControls.termsOfUse[0]", "expected string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodePolicy([]byte(tt.body))
			wantDecodeError(t, err, tt.path, tt.reason)
		})
	}
}

func TestDecodePolicyIgnoresAnnotationsAndOpenStrength(t *testing.T) {
	body := `{"@odata.context":"x","@odata.etag":"y","displayName":"d","conditions":{"@odata.type":"#microsoft.graph.conditionalAccessConditionSet"},
		"grantControls":{"operator":"OR","authenticationStrength":{"id":"00000000-0000-0000-0000-000000000002","policyType":"builtIn","allowedCombinations":["password,sms"]}}}`
	p, err := DecodePolicy([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if p.GrantControls.AuthenticationStrength.ID != "00000000-0000-0000-0000-000000000002" {
		t.Errorf("strength = %+v", p.GrantControls.AuthenticationStrength)
	}
}

func TestDecodeNamedLocationErrors(t *testing.T) {
	tests := []struct {
		name, body, path, reason string
	}{
		{"property of the other kind", `{"@odata.type":"#microsoft.graph.ipNamedLocation","displayName":"x","countriesAndRegions":["FR"]}`,
			"countriesAndRegions", "does not exist on type 'microsoft.graph.ipNamedLocation'"},
		{"type given last", `{"isTrusted":true,"@odata.type":"#microsoft.graph.countryNamedLocation"}`,
			"isTrusted", "does not exist on type 'microsoft.graph.countryNamedLocation'"},
		{"string for a boolean", `{"@odata.type":"#microsoft.graph.ipNamedLocation","isTrusted":"yes"}`, "isTrusted", "expected boolean"},
		{"range not an object", `{"@odata.type":"#microsoft.graph.ipNamedLocation","ipRanges":["1.2.3.0/24"]}`, "ipRanges[0]", "expected object"},
		{"unknown range property", `{"@odata.type":"#microsoft.graph.ipNamedLocation","ipRanges":[{"cidr":"1.2.3.0/24"}]}`,
			"ipRanges[0].cidr", "does not exist on type 'microsoft.graph.ipRange'"},
		{"number for @odata.type", `{"@odata.type":5}`, "@odata.type", "expected string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeNamedLocation([]byte(tt.body))
			wantDecodeError(t, err, tt.path, tt.reason)
		})
	}
}

func TestValidatePolicy(t *testing.T) {
	valid := func() Policy {
		p := basePolicy()
		p.Conditions.ClientAppTypes = []string{"browser", "mobileAppsAndDesktopClients"}
		return p
	}
	if err := ValidatePolicy(valid()); err != nil {
		t.Fatalf("valid policy: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*Policy)
		path   string
		reason string
	}{
		{"no name", func(p *Policy) { p.DisplayName = " " }, "displayName", "required"},
		{"bad state", func(p *Policy) { p.State = "on" }, "state", "invalid value 'on'"},
		{"no users", func(p *Policy) { p.Conditions.Users = nil }, "conditions.users", "required"},
		{"no applications", func(p *Policy) { p.Conditions.Applications = nil }, "conditions.applications", "required"},
		{"empty users", func(p *Policy) { p.Conditions.Users = &Users{} }, "conditions.users.includeUsers", "required"},
		{"bad client app type", func(p *Policy) { p.Conditions.ClientAppTypes = []string{"browser", "legacy"} },
			"conditions.clientAppTypes[1]", "invalid value 'legacy'"},
		{"platform spelled wrong", func(p *Policy) { p.Conditions.Platforms = &Platforms{IncludePlatforms: []string{"ios"}} },
			"conditions.platforms.includePlatforms[0]", "expected one of"},
		{"bad excluded platform", func(p *Policy) {
			p.Conditions.Platforms = &Platforms{IncludePlatforms: []string{"all"}, ExcludePlatforms: []string{"windows", "chromeOS"}}
		}, "conditions.platforms.excludePlatforms[1]", "invalid value 'chromeOS'"},
		{"bad risk level", func(p *Policy) { p.Conditions.SignInRiskLevels = []string{"severe"} }, "conditions.signInRiskLevels[0]", "severe"},
		{"bad user action", func(p *Policy) {
			p.Conditions.Applications = &Applications{IncludeUserActions: []string{"urn:user:resetpassword"}}
		}, "conditions.applications.includeUserActions[0]", "invalid value"},
		{"bad auth context", func(p *Policy) {
			p.Conditions.Applications = &Applications{IncludeAuthenticationContextClassReferences: []string{"c100"}}
		}, "conditions.applications.includeAuthenticationContextClassReferences[0]", "c1 to c99"},
		{"bad filter mode", func(p *Policy) { deviceFilter("only", "device.x -eq 1")(p) }, "conditions.devices.deviceFilter.mode", "invalid value 'only'"},
		{"bad transfer method", func(p *Policy) {
			p.Conditions.AuthenticationFlows = &AuthenticationFlows{TransferMethods: "deviceCodeFlow,qr"}
		}, "conditions.authenticationFlows.transferMethods", "invalid value 'qr'"},
		{"bad guest type", func(p *Policy) {
			p.Conditions.Users.IncludeGuestsOrExternalUsers = &GuestsOrExtern{GuestOrExternalUserTypes: "guest"}
		}, "conditions.users.includeGuestsOrExternalUsers.guestOrExternalUserTypes", "invalid value 'guest'"},
		{"bad operator", func(p *Policy) { p.GrantControls.Operator = "XOR" }, "grantControls.operator", "expected one of AND, OR"},
		{"control in wrong case", func(p *Policy) { p.GrantControls.BuiltInControls = []string{"MFA"} },
			"grantControls.builtInControls[0]", "invalid value 'MFA'"},
		{"block with mfa", func(p *Policy) { p.GrantControls.BuiltInControls = []string{"block", "mfa"} },
			"grantControls.builtInControls", "block cannot be combined"},
		{"password change alone", func(p *Policy) {
			p.GrantControls.BuiltInControls = []string{"passwordChange"}
			p.Conditions.UserRiskLevels = []string{"high"}
		}, "grantControls.builtInControls", "accompanied by mfa"},
		{"password change without user risk", func(p *Policy) {
			p.GrantControls = &GrantControls{Operator: "AND", BuiltInControls: []string{"mfa", "passwordChange"}}
		}, "conditions.userRiskLevels", "requires a policy with userRiskLevels"},
		{"empty grant", func(p *Policy) { p.GrantControls.BuiltInControls = nil }, "grantControls.builtInControls", "required"},
		{"no controls at all", func(p *Policy) { p.GrantControls = nil }, "grantControls", "grantControls or sessionControls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			tt.mutate(&p)
			wantDecodeError(t, ValidatePolicy(p), tt.path, tt.reason)
		})
	}
}

func TestValidateNamedLocation(t *testing.T) {
	ip := func(ranges ...IPRange) NamedLocation {
		return NamedLocation{ODataType: ODataIPNamedLocation, DisplayName: "x", IPRanges: ranges}
	}
	v4 := func(c string) IPRange { return IPRange{ODataType: ODataIPv4CidrRange, CIDRAddress: c} }
	v6 := func(c string) IPRange { return IPRange{ODataType: ODataIPv6CidrRange, CIDRAddress: c} }
	tests := []struct {
		name   string
		loc    NamedLocation
		path   string
		reason string
	}{
		{"wrong @odata.type", NamedLocation{ODataType: "#microsoft.graph.namedLocation", DisplayName: "x"}, "@odata.type", "expected one of"},
		{"no name", NamedLocation{ODataType: ODataIPNamedLocation, IPRanges: []IPRange{v4("203.0.113.0/24")}}, "displayName", "required"},
		{"no ranges", ip(), "ipRanges", "required"},
		{"IPv6 range typed IPv4", ip(v4("203.0.113.0/24"), v4("2001:db8::/32")), "ipRanges[1].@odata.type", "iPv6CidrRange"},
		{"IPv4 range typed IPv6", ip(v6("203.0.113.0/24")), "ipRanges[0].@odata.type", "iPv4CidrRange"},
		{"not a prefix", ip(v4("203.0.113.7")), "ipRanges[0].cidrAddress", "CIDR notation"},
		{"slash 8", ip(v4("12.0.0.0/8")), "ipRanges[0].cidrAddress", "greater than /8"},
		{"slash 4 IPv6", ip(v6("2000::/4")), "ipRanges[0].cidrAddress", "greater than /8"},
		{"private range", ip(v4("10.1.0.0/16")), "ipRanges[0].cidrAddress", "private"},
		{"bad country", NamedLocation{ODataType: ODataCountryLocation, DisplayName: "x", CountriesAndRegions: []string{"FR", "fra"}},
			"countriesAndRegions[1]", "ISO 3166"},
		{"bad lookup", NamedLocation{ODataType: ODataCountryLocation, DisplayName: "x", CountriesAndRegions: []string{"FR"}, CountryLookupMethod: "gps"},
			"countryLookupMethod", "invalid value 'gps'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantDecodeError(t, ValidateNamedLocation(tt.loc), tt.path, tt.reason)
		})
	}
	if err := ValidateNamedLocation(ip(v4("12.0.0.0/9"), v6("2001:db8::/32"))); err != nil {
		t.Errorf("/9 refused: %v", err)
	}
}

const snapshotDoc = `{
  "tenantId": "72f988bf-0000-0000-0000-000000000000",
  "exportedAt": "2026-01-01T00:00:00Z",
  "policies": [
    {"id": "p1", "displayName": "MFA", "state": "enabled", "futureProperty": {"x": [1, 2]},
     "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}, "times": null},
     "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}
  ],
  "namedLocations": [
    {"@odata.type": "#microsoft.graph.ipNamedLocation", "id": "l1", "displayName": "HQ", "isTrusted": true,
     "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "203.0.113.0/24"}]}
  ],
  "principals": [
    {"id": "A11CE000-0000-4000-8000-000000000001", "userPrincipalName": "Alice@Contoso.com", "userType": "Member",
     "memberOf": ["g1"], "roles": ["62e90394-69f5-4237-9190-012177145e10"], "accountEnabled": true},
    {"id": "b0b", "userPrincipalName": "bob_fabrikam.com#EXT#@contoso.com", "userType": "Guest", "memberOf": [], "roles": []}
  ]
}`

func TestParseSnapshot(t *testing.T) {
	s, err := ParseSnapshot([]byte(snapshotDoc))
	if err != nil {
		t.Fatal(err)
	}
	if s.TenantID == "" || len(s.Policies) != 1 || len(s.NamedLocations) != 1 || len(s.Principals) != 2 {
		t.Fatalf("snapshot = %+v", s)
	}
	p, ok := s.Principal("alice@contoso.COM")
	if !ok || p.ID != "A11CE000-0000-4000-8000-000000000001" {
		t.Errorf("lookup by UPN: %+v %v", p, ok)
	}
	if p, ok = s.Principal("a11ce000-0000-4000-8000-000000000001"); !ok {
		t.Error("lookup by id ignores case")
	}
	if sub := p.Subject(); sub.Guest || !slices.Equal(sub.Roles, []string{roleGA}) {
		t.Errorf("subject = %+v", sub)
	}
	if g, _ := s.Principal("b0b"); !g.Subject().Guest {
		t.Error("guest not a Guest subject")
	}
	if _, ok := s.Principal("nobody@contoso.com"); ok {
		t.Error("found nobody")
	}
	// The snapshot's principal and policies evaluate as the live tenant would.
	res := Evaluate(s.Policies, s.NamedLocations, SignIn{Subject: p.Subject(), Application: All})
	if res.Verdict != VerdictMFA {
		t.Errorf("verdict = %s", res.Verdict)
	}
}

func TestParseSnapshotErrors(t *testing.T) {
	tests := []struct {
		name, body, path, reason string
	}{
		{"type error deep in a policy",
			`{"policies":[{},{},{},{"conditions":{"users":{"includeUsers":[7]}}}]}`,
			"policies[3].conditions.users.includeUsers[0]", "expected string"},
		{"principal roles not a list", `{"principals":[{"id":"x","roles":"admin"}]}`, "principals[0].roles", "expected array"},
		{"range cidr not a string", `{"namedLocations":[{"ipRanges":[{"cidrAddress":24}]}]}`, "namedLocations[0].ipRanges[0].cidrAddress", "expected string"},
		{"broken JSON", `{"policies":[{"id":"p1",}]}`, "policies[0]", "invalid JSON"},
		{"not an object", `"snapshot"`, "", "expected object"},
		{"nested too deep", `{"policies":[{"sessionControls":{"a":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}}]}`,
			"policies[0].sessionControls.a" + strings.Repeat("[0]", maxDepth-4), "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSnapshot([]byte(tt.body))
			if s != nil {
				t.Error("snapshot returned with an error")
			}
			wantDecodeError(t, err, tt.path, tt.reason)
		})
	}
}
