package tenantsim_test

import (
	"net/http"
	"slices"
	"testing"
)

// The request bodies below are Microsoft's documented examples (Graph v1.0
// reference), with ids replaced by objects of the demo tenant.

func TestDocumentedIPNamedLocationCreate(t *testing.T) {
	s := newSim(t, "")
	a := s.call("POST", namedLocations, `{
    "@odata.type": "#microsoft.graph.ipNamedLocation",
    "displayName": "Untrusted IP named location",
    "isTrusted": false,
    "ipRanges": [
        {
            "@odata.type": "#microsoft.graph.iPv4CidrRange",
            "cidrAddress": "12.34.221.11/22"
        },
        {
            "@odata.type": "#microsoft.graph.iPv6CidrRange",
            "cidrAddress": "2001:0:9d38:90d6:0:0:0:0/63"
        }
    ]
}`).want(t, http.StatusCreated)

	if !guidRE.MatchString(a.str("id")) {
		t.Errorf("id %q is not a GUID", a.str("id"))
	}
	if a.str("@odata.type") != "#microsoft.graph.ipNamedLocation" || a.str("displayName") != "Untrusted IP named location" {
		t.Errorf("type or name not echoed: %s", a.Raw)
	}
	// The documented answer always carries isTrusted, even when false.
	if v, ok := a.Body["isTrusted"]; !ok || v != false {
		t.Errorf("isTrusted = %v (present %v), want false present: %s", v, ok, a.Raw)
	}
	if a.str("createdDateTime") == "" || a.str("modifiedDateTime") == "" {
		t.Errorf("created/modifiedDateTime missing: %s", a.Raw)
	}
	ranges, _ := a.Body["ipRanges"].([]any)
	if len(ranges) != 2 {
		t.Fatalf("ipRanges: %v", a.Body["ipRanges"])
	}
	for i, want := range [][2]string{{"#microsoft.graph.iPv4CidrRange", "12.34.221.11/22"}, {"#microsoft.graph.iPv6CidrRange", "2001:0:9d38:90d6:0:0:0:0/63"}} {
		r, _ := ranges[i].(map[string]any)
		if r["@odata.type"] != want[0] || r["cidrAddress"] != want[1] {
			t.Errorf("ipRanges[%d] = %v, want %v", i, r, want)
		}
	}

	// And it is there to read back.
	got := s.call("GET", namedLocations+"/"+a.str("id"), nil).want(t, http.StatusOK)
	if got.str("displayName") != "Untrusted IP named location" {
		t.Errorf("read back %s", got.Raw)
	}
}

func TestDocumentedCountryNamedLocationCreate(t *testing.T) {
	s := newSim(t, "")
	a := s.call("POST", namedLocations, `{
    "@odata.type": "#microsoft.graph.countryNamedLocation",
    "displayName": "Named location with unknown countries and regions",
    "countriesAndRegions": [
        "US",
        "GB"
    ],
    "includeUnknownCountriesAndRegions": true
}`).want(t, http.StatusCreated)
	if a.str("@odata.type") != "#microsoft.graph.countryNamedLocation" || !guidRE.MatchString(a.str("id")) {
		t.Errorf("answer: %s", a.Raw)
	}
	cc, _ := a.Body["countriesAndRegions"].([]any)
	if len(cc) != 2 || cc[0] != "US" || cc[1] != "GB" || a.Body["includeUnknownCountriesAndRegions"] != true {
		t.Errorf("countries not echoed: %s", a.Raw)
	}
	if _, ok := a.Body["ipRanges"]; ok {
		t.Errorf("a country location has no ipRanges: %s", a.Raw)
	}
}

func TestDocumentedNamedLocationPatch(t *testing.T) {
	s := newSim(t, "")
	created := s.call("POST", namedLocations, map[string]any{
		"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "Before", "isTrusted": true,
		"ipRanges": []any{
			map[string]any{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "12.34.221.11/22"},
			map[string]any{"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:0:9d38:90d6:0:0:0:0/63"},
		},
	}).want(t, http.StatusCreated)

	a := s.call("PATCH", namedLocations+"/"+created.str("id"), `{
    "@odata.type": "#microsoft.graph.ipNamedLocation",
    "displayName": "Untrusted named location with only IPv4 address",
    "isTrusted": false,
    "ipRanges": [
        {
            "@odata.type": "#microsoft.graph.iPv4CidrRange",
            "cidrAddress": "6.5.4.3/18"
        }
    ]
}`).want(t, http.StatusNoContent)
	if len(a.Raw) != 0 {
		t.Errorf("204 with a body: %s", a.Raw)
	}

	got := s.call("GET", namedLocations+"/"+created.str("id"), nil).want(t, http.StatusOK)
	ranges, _ := got.Body["ipRanges"].([]any)
	if len(ranges) != 1 || ranges[0].(map[string]any)["cidrAddress"] != "6.5.4.3/18" {
		t.Errorf("ipRanges not replaced as a whole: %v", got.Body["ipRanges"])
	}
	if got.Body["isTrusted"] != false || got.str("displayName") != "Untrusted named location with only IPv4 address" {
		t.Errorf("PATCH not applied: %s", got.Raw)
	}
	if got.str("modifiedDateTime") == created.str("modifiedDateTime") {
		t.Errorf("modifiedDateTime unchanged by the PATCH")
	}
}

func TestDocumentedPolicyCreate(t *testing.T) {
	s := newSim(t, "")
	// "Require MFA to access Exchange Online outside of trusted locations".
	a := s.call("POST", policiesPath, `{
    "displayName": "Access to EXO requires MFA",
    "state": "enabled",
    "conditions": {
        "clientAppTypes": [
            "mobileAppsAndDesktopClients",
            "browser"
        ],
        "applications": {
            "includeApplications": [
                "00000002-0000-0ff1-ce00-000000000000"
            ]
        },
        "users": {
            "includeGroups": ["`+itDepartmentID+`"]
        },
        "locations": {
            "includeLocations": [
                "All"
            ],
            "excludeLocations": [
                "AllTrusted"
            ]
        }
    },
    "grantControls": {
        "operator": "OR",
        "builtInControls": [
            "mfa"
        ]
    }
}`).want(t, http.StatusCreated)

	if !guidRE.MatchString(a.str("id")) || a.str("displayName") != "Access to EXO requires MFA" || a.str("state") != "enabled" {
		t.Errorf("answer: %s", a.Raw)
	}
	if a.str("createdDateTime") == "" {
		t.Errorf("createdDateTime missing")
	}
	if v, ok := a.Body["modifiedDateTime"]; !ok || v != nil {
		t.Errorf("modifiedDateTime = %v (present %v), documented as null on create", v, ok)
	}
	cond := a.Body["conditions"].(map[string]any)
	apps := cond["applications"].(map[string]any)
	users := cond["users"].(map[string]any)
	// Lists the request left out come back empty, never null.
	for name, v := range map[string]any{
		"applications.excludeApplications": apps["excludeApplications"],
		"applications.includeUserActions":  apps["includeUserActions"],
		"users.includeUsers":               users["includeUsers"],
		"users.excludeUsers":               users["excludeUsers"],
		"users.excludeGroups":              users["excludeGroups"],
		"users.includeRoles":               users["includeRoles"],
		"signInRiskLevels":                 cond["signInRiskLevels"],
		"grantControls.termsOfUse":         a.Body["grantControls"].(map[string]any)["termsOfUse"],
	} {
		if l, ok := v.([]any); !ok || len(l) != 0 {
			t.Errorf("%s = %#v, want []", name, v)
		}
	}
	if g, _ := users["includeGroups"].([]any); len(g) != 1 || g[0] != itDepartmentID {
		t.Errorf("includeGroups = %v", users["includeGroups"])
	}
	controls, _ := a.Body["grantControls"].(map[string]any)["builtInControls"].([]any)
	if len(controls) != 1 || controls[0] != "mfa" {
		t.Errorf("builtInControls = %v", controls)
	}
	// It is now one of the tenant's policies.
	list := s.call("GET", policiesPath, nil).want(t, http.StatusOK)
	found := false
	for _, p := range list.Body["value"].([]any) {
		found = found || p.(map[string]any)["id"] == a.str("id")
	}
	if !found {
		t.Errorf("the new policy is not listed")
	}
}

func TestDocumentedUserCreate(t *testing.T) {
	s := newSim(t, "")
	a := s.call("POST", "/users", `{
  "accountEnabled": true,
  "displayName": "Adele Vance",
  "mailNickname": "AdeleV",
  "userPrincipalName": "AdeleV@`+initialDomain+`",
  "passwordProfile" : {
    "forceChangePasswordNextSignIn": true,
    "password": "`+goodPassword+`"
  }
}`).want(t, http.StatusCreated)
	if !guidRE.MatchString(a.str("id")) || a.str("userPrincipalName") != "AdeleV@"+initialDomain || a.str("displayName") != "Adele Vance" {
		t.Errorf("answer: %s", a.Raw)
	}
	if _, ok := a.Body["passwordProfile"]; ok {
		t.Errorf("the password profile must never be returned: %s", a.Raw)
	}
	s.call("GET", "/users/AdeleV@"+initialDomain, nil).want(t, http.StatusOK)
}

func TestDocumentedRoleAssignmentCreate(t *testing.T) {
	s := newSim(t, "")
	a := s.call("POST", roleAssignments, `{
    "@odata.type": "#microsoft.graph.unifiedRoleAssignment",
    "roleDefinitionId": "`+globalReader+`",
    "principalId": "`+meganID+`",
    "directoryScopeId": "/"
}`).want(t, http.StatusCreated)
	if a.str("principalId") != meganID || a.str("roleDefinitionId") != globalReader || a.str("directoryScopeId") != "/" || a.str("id") == "" {
		t.Errorf("answer: %s", a.Raw)
	}
	list := s.call("GET", roleAssignments+"?$filter=principalId%20eq%20'"+meganID+"'", nil).want(t, http.StatusOK)
	found := false
	for _, ra := range list.Body["value"].([]any) {
		found = found || ra.(map[string]any)["id"] == a.str("id")
	}
	if !found {
		t.Errorf("the new assignment is not listed: %s", list.Raw)
	}
	// Megan now holds the role, as her transitive memberships show.
	m := s.call("GET", "/users/"+meganID+"/transitiveMemberOf", nil).want(t, http.StatusOK)
	hasRole := false
	for _, o := range m.Body["value"].([]any) {
		hasRole = hasRole || o.(map[string]any)["roleTemplateId"] == globalReader
	}
	if !hasRole {
		t.Errorf("Global Reader not among Megan's memberships: %s", m.Raw)
	}
}

// whatIf is one result of the documented evaluate answer.
type whatIf struct {
	applies bool
	reason  string
}

func whatIfResults(t *testing.T, a *answer) map[string]whatIf {
	t.Helper()
	values, ok := a.Body["value"].([]any)
	if !ok {
		t.Fatalf("no value[] in %s", a.Raw)
	}
	out := map[string]whatIf{}
	for _, v := range values {
		p := v.(map[string]any)
		applies, ok := p["policyApplies"].(bool)
		if !ok {
			t.Fatalf("policyApplies missing in %v", p)
		}
		reason, _ := p["analysisReasons"].(string)
		if reason == "" {
			t.Fatalf("analysisReasons missing in %v", p)
		}
		if applies != (reason == "notSet") {
			t.Errorf("%v: policyApplies %v with analysisReasons %q", p["displayName"], applies, reason)
		}
		if _, ok := p["conditions"].(map[string]any); !ok {
			t.Errorf("the result carries the policy's fields; conditions missing in %v", p)
		}
		out[p["id"].(string)] = whatIf{applies, reason}
	}
	return out
}

func TestDocumentedEvaluate(t *testing.T) {
	s := newSim(t, "")
	// Example 1 of conditionalAccessRoot: evaluate, for the operator (a
	// Global Administrator) signing in to Exchange Online from outside.
	a := s.call("POST", evaluatePath, `{
    "signInIdentity": {
        "@odata.type": "#microsoft.graph.userSignIn",
        "userId": "`+operatorID+`"
    },
    "signInContext": {
        "@odata.type": "#microsoft.graph.applicationContext",
        "includeApplications": [
            "`+exchangeOnline+`"
        ]
    },
    "signInConditions": {
        "devicePlatform": "android",
        "clientAppType": "browser",
        "signInRiskLevel": "high",
        "userRiskLevel": "high",
        "country": "US",
        "ipAddress": "40.77.182.32",
        "insiderRiskLevel": "elevated",
        "authenticationFlow": {
            "transferMethod": "deviceCodeFlow"
        },
        "deviceInfo": {
            "isCompliant": true
        }
    },
    "appliedPoliciesOnly": false
}`).want(t, http.StatusOK)
	got := whatIfResults(t, a)
	if len(got) == 0 {
		t.Fatal("no policies evaluated")
	}
	if r := got["c0a1b2c3-0001-4000-8000-00000000c001"]; !r.applies {
		t.Errorf("CA001 (MFA for administrators) should apply to a Global Administrator: %+v", r)
	}
	if r := got[policyMFAAll]; !r.applies {
		t.Errorf("CA002 (MFA for all users) should apply: %+v", r)
	}
	if r := got["c0a1b2c3-0003-4000-8000-00000000c003"]; r.applies || r.reason != "clientApps" {
		t.Errorf("CA003 (block legacy authentication) for a browser: %+v, want not applying for clientApps", r)
	}
	if _, ok := got["c0a1b2c3-0008-4000-8000-00000000c008"]; ok {
		t.Errorf("the disabled policy was evaluated; Graph evaluates enabled and report-only policies only")
	}

	// appliedPoliciesOnly leaves out what does not apply.
	only := s.call("POST", evaluatePath, map[string]any{
		"signInIdentity":      map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": operatorID},
		"signInContext":       map[string]any{"@odata.type": "#microsoft.graph.applicationContext", "includeApplications": []string{exchangeOnline}},
		"signInConditions":    map[string]any{"clientAppType": "browser", "devicePlatform": "windows", "country": "GB", "ipAddress": outsideIP},
		"appliedPoliciesOnly": true,
	}).want(t, http.StatusOK)
	for id, r := range whatIfResults(t, only) {
		if !r.applies {
			t.Errorf("appliedPoliciesOnly returned %s which does not apply", id)
		}
	}
}

func TestDocumentedEvaluateOtherContexts(t *testing.T) {
	s := newSim(t, "")
	for name, body := range map[string]string{
		// Example 2: an authentication context.
		"authContext": `{
    "signInIdentity": {"@odata.type": "#microsoft.graph.userSignIn", "userId": "` + operatorID + `"},
    "signInContext": {"@odata.type": "#microsoft.graph.authContext", "authenticationContextValue": "c37"},
    "signInConditions": {
        "devicePlatform": "windows", "clientAppType": "mobileAppsAndDesktopClients", "signInRiskLevel": "medium",
        "userRiskLevel": "none", "country": "US", "ipAddress": "40.77.182.32", "insiderRiskLevel": "moderate",
        "authenticationFlow": {"transferMethod": "authenticationTransfer"},
        "deviceInfo": {"profileType": "Standard"}
    },
    "appliedPoliciesOnly": true
}`,
		// Example 3: a user action.
		"userAction": `{
    "signInIdentity": {"@odata.type": "#microsoft.graph.userSignIn", "userId": "` + operatorID + `"},
    "signInContext": {"@odata.type": "#microsoft.graph.userActionContext", "userAction": "registerSecurityInformation"},
    "signInConditions": {
        "devicePlatform": "macOS", "clientAppType": "browser", "signInRiskLevel": "low", "userRiskLevel": "high",
        "servicePrincipalRiskLevel": "none", "country": "CA", "ipAddress": "40.77.182.32", "insiderRiskLevel": "minor",
        "authenticationFlow": {"transferMethod": "deviceCodeFlow"},
        "deviceInfo": {"trustType": "EntraID"}
    },
    "appliedPoliciesOnly": true
}`,
	} {
		t.Run(name, func(t *testing.T) {
			a := s.call("POST", evaluatePath, body).want(t, http.StatusOK)
			whatIfResults(t, a)
		})
	}
}

func TestNamedLocationListIsComplete(t *testing.T) {
	s := newSim(t, "")
	a := s.call("GET", namedLocations, nil).want(t, http.StatusOK)
	var types []string
	for _, v := range a.Body["value"].([]any) {
		l := v.(map[string]any)
		types = append(types, l["@odata.type"].(string))
		if l["@odata.type"] == "#microsoft.graph.countryNamedLocation" {
			if _, ok := l["includeUnknownCountriesAndRegions"]; !ok {
				t.Errorf("includeUnknownCountriesAndRegions missing: %v", l)
			}
		}
	}
	if !slices.Contains(types, "#microsoft.graph.ipNamedLocation") || !slices.Contains(types, "#microsoft.graph.countryNamedLocation") {
		t.Errorf("types %v", types)
	}
}
