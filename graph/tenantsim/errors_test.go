package tenantsim_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// ipLocation is a valid IP named location body with the given ranges
// ({type, cidr} pairs).
func ipLocation(name string, ranges ...[2]string) map[string]any {
	var rs []any
	for _, r := range ranges {
		rs = append(rs, map[string]any{"@odata.type": r[0], "cidrAddress": r[1]})
	}
	return map[string]any{"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": name, "isTrusted": false, "ipRanges": rs}
}

const (
	v4 = "#microsoft.graph.iPv4CidrRange"
	v6 = "#microsoft.graph.iPv6CidrRange"
)

// policy is a valid report-only policy body; edit adjusts it.
func policy(edit func(p map[string]any)) map[string]any {
	p := map[string]any{
		"displayName": "Test policy",
		"state":       "enabledForReportingButNotEnforced",
		"conditions": map[string]any{
			"clientAppTypes": []string{"browser"},
			"applications":   map[string]any{"includeApplications": []string{exchangeOnline}},
			"users":          map[string]any{"includeUsers": []string{meganID}},
		},
		"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"mfa"}},
	}
	if edit != nil {
		edit(p)
	}
	return p
}

func newUserBody(upn string, edit func(u map[string]any)) map[string]any {
	u := map[string]any{
		"accountEnabled": true, "displayName": "Test user", "mailNickname": strings.Split(upn, "@")[0],
		"userPrincipalName": upn, "passwordProfile": map[string]any{"password": goodPassword, "forceChangePasswordNextSignIn": false},
	}
	if edit != nil {
		edit(u)
	}
	return u
}

// TestInvalidRequests sends what Graph refuses and checks that each answer
// is Graph's error body (error.code and error.message set, innerError with
// the request id), with the documented status and code.
func TestInvalidRequests(t *testing.T) {
	type tc struct {
		name     string
		scenario string
		// setup runs before the request (it may change the token); what it
		// returns replaces {id} in path.
		setup   func(s *sim) string
		method  string
		path    string
		body    any
		hdr     []string
		status  int
		code    string
		message string   // a part of the message, when documented
		details []string // error.details[].code
	}
	cases := []tc{
		{name: "named location without @odata.type", method: "POST", path: namedLocations,
			body:   map[string]any{"displayName": "x", "ipRanges": []any{map[string]any{"@odata.type": v4, "cidrAddress": "12.34.0.0/16"}}},
			status: 400, code: "BadRequest", message: "@odata.type"},
		{name: "named location PATCH without @odata.type", method: "PATCH", path: namedLocations + "/" + headOfficeID,
			body: map[string]any{"displayName": "Renamed"}, status: 400, code: "BadRequest", message: "@odata.type"},
		{name: "named location PATCH with the other kind's @odata.type", method: "PATCH", path: namedLocations + "/" + headOfficeID,
			body: map[string]any{"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "Renamed"}, status: 400, code: "BadRequest"},
		{name: "range without @odata.type", method: "POST", path: namedLocations,
			body:   map[string]any{"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "x", "ipRanges": []any{map[string]any{"cidrAddress": "12.34.0.0/16"}}},
			status: 400, code: "BadRequest"},
		{name: "iPv4CidrRange holding an IPv6 prefix", method: "POST", path: namedLocations,
			body: ipLocation("x", [2]string{v4, "2001:db8:1234::/48"}), status: 400, code: "BadRequest", message: "ipRanges[0]"},
		{name: "iPv6CidrRange holding an IPv4 prefix", method: "POST", path: namedLocations,
			body: ipLocation("x", [2]string{v6, "12.34.0.0/16"}), status: 400, code: "BadRequest"},
		{name: "private range 10.0.0.0/8", method: "POST", path: namedLocations,
			body: ipLocation("x", [2]string{v4, "10.0.0.0/8"}), status: 400, code: "BadRequest"},
		{name: "private range 10.20.0.0/16", method: "POST", path: namedLocations,
			body: ipLocation("x", [2]string{v4, "10.20.0.0/16"}), status: 400, code: "BadRequest", message: "private"},
		{name: "private IPv6 range (unique local)", method: "POST", path: namedLocations,
			body: ipLocation("x", [2]string{v6, "fd12:3456::/32"}), status: 400, code: "BadRequest"},
		{name: "prefix /8", method: "POST", path: namedLocations,
			body: ipLocation("x", [2]string{v4, "51.0.0.0/8"}), status: 400, code: "BadRequest", message: "/8"},
		{name: "prefix shorter than /8", method: "POST", path: namedLocations,
			body: ipLocation("x", [2]string{v4, "52.0.0.0/6"}), status: 400, code: "BadRequest"},
		{name: "not a prefix", method: "POST", path: namedLocations,
			body: ipLocation("x", [2]string{v4, "12.34.56"}), status: 400, code: "BadRequest"},
		{name: "private range in a PATCH", method: "PATCH", path: namedLocations + "/" + headOfficeID,
			body: ipLocation("Head office", [2]string{v4, "192.168.1.0/24"}), status: 400, code: "BadRequest"},
		{name: "malformed JSON (named location)", method: "POST", path: namedLocations,
			body: `{"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": `, status: 400, code: "BadRequest"},
		{name: "malformed JSON (policy)", method: "POST", path: policiesPath, body: `{"displayName": "x",,}`, status: 400, code: "BadRequest"},
		{name: "malformed JSON (user)", method: "POST", path: "/users", body: `not json`, status: 400, code: "BadRequest"},
		{name: "malformed JSON (policy PATCH)", method: "PATCH", path: policiesPath + "/" + policyMFAAll, body: `{"state": }`, status: 400, code: "BadRequest"},
		{name: "empty body", method: "POST", path: "/users", body: ``, status: 400, code: "BadRequest"},
		{name: "unknown property on a policy", method: "POST", path: policiesPath,
			body: policy(func(p map[string]any) { p["colour"] = "blue" }), status: 400, code: "BadRequest", message: "colour"},
		{name: "unknown property on a user", method: "POST", path: "/users",
			body: newUserBody("u1@"+initialDomain, func(u map[string]any) { u["favouriteColour"] = "blue" }), status: 400, message: "favouriteColour"},
		{name: "ipRanges on a country location", method: "POST", path: namedLocations,
			body: map[string]any{"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "x", "countriesAndRegions": []string{"GB"},
				"ipRanges": []any{map[string]any{"@odata.type": v4, "cidrAddress": "12.34.0.0/16"}}}, status: 400, code: "BadRequest"},
		{name: "unknown state 'on'", method: "POST", path: policiesPath,
			body: policy(func(p map[string]any) { p["state"] = "on" }), status: 400, code: "BadRequest", message: "state"},
		{name: "unknown client app type 'fax'", method: "POST", path: policiesPath,
			body: policy(func(p map[string]any) {
				p["conditions"].(map[string]any)["clientAppTypes"] = []string{"fax"}
			}), status: 400, code: "BadRequest", message: "clientAppTypes"},
		{name: "unknown grant control", method: "POST", path: policiesPath,
			body: policy(func(p map[string]any) {
				p["grantControls"] = map[string]any{"operator": "OR", "builtInControls": []string{"smile"}}
			}), status: 400, code: "BadRequest"},
		{name: "block combined with mfa", method: "POST", path: policiesPath,
			body: policy(func(p map[string]any) {
				p["grantControls"] = map[string]any{"operator": "OR", "builtInControls": []string{"block", "mfa"}}
			}), status: 400, code: "BadRequest"},
		{name: "policy PATCH to an unknown state", method: "PATCH", path: policiesPath + "/" + policyMFAAll,
			body: map[string]any{"state": "on"}, status: 400, code: "BadRequest"},
		{name: "policy naming a user that does not exist", method: "POST", path: policiesPath,
			body: policy(func(p map[string]any) {
				p["conditions"].(map[string]any)["users"] = map[string]any{"includeUsers": []string{"0a1b2c3d-9999-4000-8000-000000009999"}}
			}), status: 400, message: "Not a valid reference"},
		{name: "policy naming a location that does not exist", method: "POST", path: policiesPath,
			body: policy(func(p map[string]any) {
				p["conditions"].(map[string]any)["locations"] = map[string]any{"includeLocations": []string{"3f7e2d1c-9999-4000-8000-000000009999"}}
			}), status: 400, message: "1040"},
		{name: "duplicate UPN", method: "POST", path: "/users",
			body: newUserBody("adele.admin@contoso-demo.com", nil), status: 400, code: "Request_BadRequest", details: []string{"ObjectConflict"}},
		{name: "user without mailNickname", method: "POST", path: "/users",
			body: newUserBody("u2@"+initialDomain, func(u map[string]any) { delete(u, "mailNickname") }), status: 400, code: "Request_BadRequest", message: "mailNickname"},
		{name: "user without passwordProfile", method: "POST", path: "/users",
			body: newUserBody("u3@"+initialDomain, func(u map[string]any) { delete(u, "passwordProfile") }), status: 400, code: "Request_BadRequest", message: "passwordProfile"},
		{name: "user on a domain the tenant does not own", method: "POST", path: "/users",
			body: newUserBody("u4@example.com", nil), status: 400, code: "Request_BadRequest"},
		{name: "weak password", method: "POST", path: "/users",
			body: newUserBody("u5@"+initialDomain, func(u map[string]any) {
				u["passwordProfile"] = map[string]any{"password": "password"}
			}), status: 400, code: "Request_BadRequest", details: []string{"PasswordComplexity"}},
		{name: "enabling a policy while security defaults are on", scenario: "security-defaults-on", method: "POST", path: policiesPath,
			body: policy(func(p map[string]any) { p["state"] = "enabled" }), status: 400,
			message: "You must disable Security defaults before enabling a Conditional Access policy."},
		{name: "enabling a policy by PATCH while security defaults are on", scenario: "security-defaults-on", setup: func(s *sim) string {
			// Report-only policies may be created while security defaults are on.
			return s.call("POST", policiesPath, policy(nil)).want(s.t, http.StatusCreated).str("id")
		}, method: "PATCH", path: policiesPath + "/{id}", body: map[string]any{"state": "enabled"}, status: 400,
			message: "You must disable Security defaults before enabling a Conditional Access policy."},
		{name: "deleting a trusted location", method: "DELETE", path: namedLocations + "/" + headOfficeID, status: 400, code: "BadRequest", message: "trusted"},
		{name: "deleting a location a policy references", method: "DELETE", path: namedLocations + "/" + allowedCountry, status: 400, code: "BadRequest", message: "CA004"},
		{name: "deleting a Microsoft-managed policy", method: "DELETE", path: policiesPath + "/c0a1b2c3-0007-4000-8000-00000000c007", status: 400, code: "BadRequest"},
		{name: "no token", method: "GET", path: "/organization", hdr: []string{"Authorization", ""}, status: 401, code: "InvalidAuthenticationToken"},
		{name: "a token this tenant did not sign", method: "GET", path: "/users",
			hdr: []string{"Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJ0aWQiOiJ4In0.c2lnbmF0dXJl"}, status: 401, code: "InvalidAuthenticationToken"},
		{name: "missing scope", setup: func(s *sim) string {
			s.srv.SetConsentedScopes("Policy.Read.All", "User.Read.All")
			s.token = s.appToken()
			return ""
		}, method: "POST", path: policiesPath, body: policy(nil), status: 403, code: "Authorization_RequestDenied"},
		{name: "missing scope for a read", setup: func(s *sim) string {
			s.srv.SetConsentedScopes("User.Read.All")
			s.token = s.appToken()
			return ""
		}, method: "GET", path: policiesPath, status: 403, code: "Authorization_RequestDenied"},
		{name: "Conditional Access without a P1 licence", scenario: "no-p1", method: "POST", path: policiesPath, body: policy(nil), status: 403},
		{name: "sign-in logs without a P1 licence", scenario: "no-p1", method: "GET", path: "/auditLogs/signIns",
			status: 403, code: "Authentication_RequestFromNonPremiumTenantOrB2CTenant"},
		{name: "a user that does not exist", method: "GET", path: "/users/nobody@" + initialDomain, status: 404, code: "Request_ResourceNotFound"},
		{name: "a policy that does not exist", method: "GET", path: policiesPath + "/c0a1b2c3-9999-4000-8000-00000000c999", status: 404},
		{name: "an extension that does not exist", method: "GET", path: "/users/" + meganID + "/extensions/com.example.none", status: 404},
		{name: "a role that does not exist", method: "POST", path: roleAssignments,
			body: map[string]any{"principalId": meganID, "roleDefinitionId": "00000000-1111-2222-3333-444444444444", "directoryScopeId": "/"}, status: 404},
		{name: "a role assignment that already exists", method: "POST", path: roleAssignments,
			body:   map[string]any{"principalId": operatorID, "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10", "directoryScopeId": "/"},
			status: 409, details: []string{"ObjectConflict"}},
		{name: "an extension without its @odata.type", method: "POST", path: "/users/" + meganID + "/extensions",
			body: map[string]any{"extensionName": "com.example.x", "on": true}, status: 400, code: "BadRequest"},
		{name: "per-user MFA state 'on'", method: "PATCH", path: "/beta/users/" + meganID + "/authentication/requirements",
			body: map[string]any{"perUserMfaState": "on"}, status: 400, code: "BadRequest"},
		{name: "What If for a user that does not exist", method: "POST", path: evaluatePath,
			body: map[string]any{
				"signInIdentity":   map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": "0a1b2c3d-9999-4000-8000-000000009999"},
				"signInContext":    map[string]any{"@odata.type": "#microsoft.graph.applicationContext", "includeApplications": []string{exchangeOnline}},
				"signInConditions": map[string]any{"ipAddress": outsideIP},
			}, status: 400, code: "BadRequest"},
		{name: "What If without signInContext", method: "POST", path: evaluatePath,
			body:   map[string]any{"signInIdentity": map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": operatorID}, "signInConditions": map[string]any{}},
			status: 400, code: "BadRequest"},
		{name: "What If with an unknown user action", method: "POST", path: evaluatePath,
			body: map[string]any{
				"signInIdentity":   map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": operatorID},
				"signInContext":    map[string]any{"@odata.type": "#microsoft.graph.userActionContext", "userAction": "dance"},
				"signInConditions": map[string]any{"ipAddress": outsideIP},
			}, status: 400, code: "BadRequest"},
		{name: "What If with a bad IP address", method: "POST", path: evaluatePath,
			body: map[string]any{
				"signInIdentity":   map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": operatorID},
				"signInContext":    map[string]any{"@odata.type": "#microsoft.graph.applicationContext", "includeApplications": []string{exchangeOnline}},
				"signInConditions": map[string]any{"ipAddress": "300.1.2.3"},
			}, status: 400, code: "BadRequest"},
		{name: "a filter the tenant cannot read", method: "GET", path: "/users?$filter=" + "displayName%20gt%203", status: 400, code: "BadRequest"},
		{name: "a filter on a property users do not have", method: "GET", path: "/users?$filter=" + "shoeSize%20eq%20'9'", status: 400, code: "BadRequest"},
		{name: "a resource Graph does not have", method: "GET", path: "/usres", status: 400, code: "BadRequest", message: "usres"},
		{name: "a method the resource does not allow", method: "PUT", path: "/users/" + meganID, body: `{}`, status: 405},
		{name: "a body in Brotli", method: "POST", path: "/users", body: `{}`, hdr: []string{"Content-Encoding", "br"}, status: 415},
		{name: "a body that claims gzip but is not", method: "POST", path: "/users", body: `{"accountEnabled": true}`, hdr: []string{"Content-Encoding", "gzip"}, status: 400, code: "BadRequest"},
		{name: "security defaults without isEnabled", method: "PATCH", path: "/policies/identitySecurityDefaultsEnforcementPolicy", body: `{}`, status: 400},
		{name: "a batch of 21 requests", method: "POST", path: "/$batch", body: batchOf(21), status: 400, code: "BadRequest"},
		{name: "a batch with duplicate ids", method: "POST", path: "/$batch",
			body: map[string]any{"requests": []any{
				map[string]any{"id": "1", "method": "GET", "url": "/organization"},
				map[string]any{"id": "1", "method": "GET", "url": "/organization"},
			}}, status: 400, code: "BadRequest"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSim(t, c.scenario)
			path := c.path
			if c.setup != nil {
				path = strings.ReplaceAll(path, "{id}", c.setup(s))
			}
			a := s.call(c.method, path, c.body, c.hdr...)
			msg := a.graphError(t, c.status, c.code)
			if c.message != "" && !strings.Contains(msg, c.message) {
				t.Errorf("message %q does not mention %q", msg, c.message)
			}
			for _, d := range c.details {
				if !slices.Contains(a.detailCodes(), d) {
					t.Errorf("details codes %v lack %q", a.detailCodes(), d)
				}
			}
		})
	}
}

// batchOf builds a $batch body of n reads.
func batchOf(n int) map[string]any {
	var reqs []any
	for i := range n {
		reqs = append(reqs, map[string]any{"id": fmt.Sprint(i + 1), "method": "GET", "url": "/organization"})
	}
	return map[string]any{"requests": reqs}
}

// Refused requests leave the tenant as it was.
func TestInvalidRequestsChangeNothing(t *testing.T) {
	s := newSim(t, "security-defaults-on")
	before := s.call("GET", policiesPath, nil).want(t, http.StatusOK)
	s.call("POST", policiesPath, policy(func(p map[string]any) { p["state"] = "enabled" })).want(t, http.StatusBadRequest)
	s.call("POST", policiesPath, policy(func(p map[string]any) { p["state"] = "on" })).want(t, http.StatusBadRequest)
	after := s.call("GET", policiesPath, nil).want(t, http.StatusOK)
	if len(before.Body["value"].([]any)) != len(after.Body["value"].([]any)) {
		t.Errorf("a refused create added a policy")
	}
	// Report-only is allowed while security defaults are on.
	s.call("POST", policiesPath, policy(nil)).want(t, http.StatusCreated)

	s2 := newSim(t, "")
	s2.call("PATCH", namedLocations+"/"+headOfficeID, ipLocation("Head office", [2]string{v4, "10.0.0.0/16"})).want(t, http.StatusBadRequest)
	l := s2.call("GET", namedLocations+"/"+headOfficeID, nil).want(t, http.StatusOK)
	if r := l.Body["ipRanges"].([]any); len(r) != 2 {
		t.Errorf("a refused PATCH changed the ranges: %v", r)
	}
}
