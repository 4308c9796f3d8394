package tenantsim_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mgmtsession/assets"
	"mgmtsession/graph/tenantsim"
)

// These tests pin down how the simulated tenant answers the writes of the
// safe-writes engine (issue 7): as Graph documents them, so that the
// engine's tests against it mean something for a real tenant.

const (
	policyAdmins   = "c0a1b2c3-0001-4000-8000-00000000c001" // excludes the two break-glass accounts
	managedAdmins  = "c0a1b2c3-0006-4000-8000-00000000c006" // Microsoft-managed, targets roles
	breakGlass1    = "0a1b2c3d-0002-4000-8000-000000000002"
	breakGlass2    = "0a1b2c3d-0003-4000-8000-000000000003"
	leeID          = "0a1b2c3d-0005-4000-8000-000000000005"
	emergencyGroup = "9b8a7c6d-0004-4000-8000-0000000000a4"
	userAdmin      = "fe930be7-5e62-47db-91af-98c3a49a38b1"
)

// replicationDelay is long enough for a test's requests to run inside it
// on a busy machine; eventually waits it out without guessing its end.
const replicationDelay = 2 * time.Second

// eventually polls until ok holds, failing the test after 10 s.
func eventually(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("still not so after 10 s")
		}
	}
}

// without returns a copy of the JSON object without the named properties.
func without(m map[string]any, keys ...string) map[string]any {
	raw, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

func usersOf(p map[string]any) map[string]any {
	return p["conditions"].(map[string]any)["users"].(map[string]any)
}

func TestPolicyPatchMergesAsGraphDocuments(t *testing.T) {
	s := newSim(t, "")
	before := s.call("GET", policiesPath+"/"+policyAdmins, nil).want(t, http.StatusOK).Body

	// A minimal PATCH of one nested collection changes only that
	// collection, and replaces it whole (the break-glass ids go).
	s.call("PATCH", policiesPath+"/"+policyAdmins, `{"conditions":{"users":{"excludeUsers":["`+meganID+`"]}}}`).want(t, http.StatusNoContent)
	after := s.call("GET", policiesPath+"/"+policyAdmins, nil).want(t, http.StatusOK).Body
	if got := usersOf(after)["excludeUsers"]; !reflect.DeepEqual(got, []any{meganID}) {
		t.Errorf("excludeUsers = %v, want only Megan (a collection is replaced whole)", got)
	}
	want := without(before, "modifiedDateTime")
	usersOf(want)["excludeUsers"] = []any{meganID}
	if got := without(after, "modifiedDateTime"); !reflect.DeepEqual(got, want) {
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		t.Errorf("a minimal PATCH changed more than it named:\n got %s\nwant %s", gotJSON, wantJSON)
	}
	if after["modifiedDateTime"] == nil || after["modifiedDateTime"] == before["modifiedDateTime"] {
		t.Errorf("modifiedDateTime %v not set by the PATCH", after["modifiedDateTime"])
	}

	// A full PATCH (the whole policy as read, edited) is applied as sent;
	// read-only properties in it are ignored.
	full := without(after)
	full["displayName"] = "CA001: renamed"
	full["state"] = "enabledForReportingButNotEnforced"
	usersOf(full)["excludeUsers"] = []any{breakGlass1, breakGlass2}
	full["grantControls"].(map[string]any)["builtInControls"] = []any{"mfa", "compliantDevice"}
	full["grantControls"].(map[string]any)["operator"] = "AND"
	s.call("PATCH", policiesPath+"/"+policyAdmins, full).want(t, http.StatusNoContent)
	again := s.call("GET", policiesPath+"/"+policyAdmins, nil).want(t, http.StatusOK).Body
	if got, want := without(again, "modifiedDateTime"), without(full, "modifiedDateTime"); !reflect.DeepEqual(got, want) {
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		t.Errorf("a full PATCH is not what a GET returns:\n got %s\nwant %s", gotJSON, wantJSON)
	}

	// Named locations: @odata.type is required on PATCH, a PATCH of the
	// name keeps the ranges, and ranges are replaced whole.
	loc := s.call("POST", namedLocations, ipLocation("Office", [2]string{v4, "12.34.0.0/16"}, [2]string{v4, "13.0.0.0/16"})).want(t, http.StatusCreated)
	path := namedLocations + "/" + loc.str("id")
	s.call("PATCH", path, `{"displayName":"No type"}`).graphError(t, http.StatusBadRequest, "BadRequest")
	s.call("PATCH", path, `{"@odata.type":"#microsoft.graph.ipNamedLocation","displayName":"Renamed"}`).want(t, http.StatusNoContent)
	got := s.call("GET", path, nil).want(t, http.StatusOK)
	if got.str("displayName") != "Renamed" || len(got.Body["ipRanges"].([]any)) != 2 {
		t.Errorf("a PATCH of the name alone: %s", got.Raw)
	}
}

func TestPolicyReferences(t *testing.T) {
	s := newSim(t, "")
	create := func(users map[string]any, locations map[string]any) *answer {
		return s.call("POST", policiesPath, policy(func(p map[string]any) {
			c := p["conditions"].(map[string]any)
			if users != nil {
				c["users"] = users
			}
			if locations != nil {
				c["locations"] = locations
			}
		}))
	}
	unknown := "0a1b2c3d-9999-4000-8000-000000000999"
	for name, a := range map[string]*answer{
		"user":     create(map[string]any{"includeUsers": []any{unknown}}, nil),
		"group":    create(map[string]any{"includeUsers": []any{"All"}, "excludeGroups": []any{unknown}}, nil),
		"role":     create(map[string]any{"includeRoles": []any{unknown}}, nil),
		"location": create(map[string]any{"includeUsers": []any{"All"}}, map[string]any{"includeLocations": []any{"All"}, "excludeLocations": []any{unknown}}),
	} {
		msg := a.graphError(t, http.StatusBadRequest, "")
		if !strings.Contains(msg, unknown) {
			t.Errorf("unknown %s: the message %q does not name it", name, msg)
		}
	}

	// A user or location created moments ago is not yet a valid reference.
	s.srv.SetReplicationDelay(replicationDelay)
	nu := s.call("POST", "/users", newUserBody("fresh@"+initialDomain, nil)).want(t, http.StatusCreated)
	nl := s.call("POST", namedLocations, ipLocation("Fresh", [2]string{v4, "12.34.0.0/16"})).want(t, http.StatusCreated)
	s.srv.SetReplicationDelay(0)
	if msg := create(map[string]any{"includeUsers": []any{nu.str("id")}}, nil).graphError(t, http.StatusBadRequest, "Request_BadRequest"); !strings.Contains(msg, "Not a valid reference update") {
		t.Errorf("a new user right after its create: %q", msg)
	}
	s.call("GET", "/users/"+nu.str("id"), nil).graphError(t, http.StatusNotFound, "Request_ResourceNotFound")
	if msg := create(map[string]any{"includeUsers": []any{"All"}}, map[string]any{"includeLocations": []any{"All"}, "excludeLocations": []any{nl.str("id")}}).graphError(t, http.StatusBadRequest, ""); !strings.Contains(msg, "1040") {
		t.Errorf("a new location right after its create: %q", msg)
	}
	eventually(t, func() bool { return s.call("GET", "/users/"+nu.str("id"), nil).Status == http.StatusOK })
	eventually(t, func() bool { return s.call("GET", namedLocations+"/"+nl.str("id"), nil).Status == http.StatusOK })
	p := create(map[string]any{"includeUsers": []any{nu.str("id")}}, map[string]any{"includeLocations": []any{"All"}, "excludeLocations": []any{nl.str("id")}}).want(t, http.StatusCreated)

	// A location a policy references cannot be deleted; a trusted one
	// cannot be deleted until it is un-trusted.
	if msg := s.call("DELETE", namedLocations+"/"+nl.str("id"), nil).graphError(t, http.StatusBadRequest, ""); !strings.Contains(msg, "Test policy") {
		t.Errorf("deleting a referenced location: %q does not name the policy", msg)
	}
	s.call("DELETE", namedLocations+"/"+headOfficeID, nil).graphError(t, http.StatusBadRequest, "")
	s.call("PATCH", namedLocations+"/"+headOfficeID, `{"@odata.type":"#microsoft.graph.ipNamedLocation","isTrusted":false}`).want(t, http.StatusNoContent)
	s.call("DELETE", namedLocations+"/"+headOfficeID, nil).want(t, http.StatusNoContent)
	s.call("DELETE", policiesPath+"/"+p.str("id"), nil).want(t, http.StatusNoContent)
	s.call("DELETE", namedLocations+"/"+nl.str("id"), nil).want(t, http.StatusNoContent)

	// Graph leaves a deleted user's id in the policies that named it, and
	// a PATCH that sends the list back with one more id is accepted.
	gone := s.call("POST", "/users", newUserBody("gone@"+initialDomain, nil)).want(t, http.StatusCreated).str("id")
	s.call("PATCH", policiesPath+"/"+policyMFAAll, `{"conditions":{"users":{"excludeUsers":["`+gone+`"]}}}`).want(t, http.StatusNoContent)
	s.call("DELETE", "/users/"+gone, nil).want(t, http.StatusNoContent)
	kept := usersOf(s.call("GET", policiesPath+"/"+policyMFAAll, nil).want(t, http.StatusOK).Body)["excludeUsers"]
	if !reflect.DeepEqual(kept, []any{gone}) {
		t.Fatalf("excludeUsers after the user's delete = %v, want the dangling id kept", kept)
	}
	s.call("PATCH", policiesPath+"/"+policyMFAAll, `{"conditions":{"users":{"excludeUsers":["`+gone+`","`+meganID+`"]}}}`).want(t, http.StatusNoContent)
	// A dangling id the policy did not hold is still refused.
	s.call("PATCH", policiesPath+"/"+policyAdmins, `{"conditions":{"users":{"excludeUsers":["`+gone+`"]}}}`).graphError(t, http.StatusBadRequest, "Request_BadRequest")
}

func TestRoleAssignmentWrites(t *testing.T) {
	s := newSim(t, "")
	assign := func(principal, role string) *answer {
		return s.call("POST", roleAssignments, map[string]any{"@odata.type": "#microsoft.graph.unifiedRoleAssignment",
			"principalId": principal, "roleDefinitionId": role, "directoryScopeId": "/"})
	}
	ra := assign(meganID, userAdmin).want(t, http.StatusCreated)
	// A duplicate (same principal, role and scope) is a directory
	// conflict: 409 with the ObjectConflict detail (directory.go says why).
	dup := assign(meganID, userAdmin)
	dup.graphError(t, http.StatusConflict, "Request_BadRequest")
	if !slices.Contains(dup.detailCodes(), "ObjectConflict") {
		t.Errorf("duplicate: details %v, want ObjectConflict", dup.detailCodes())
	}
	assign("0a1b2c3d-9999-4000-8000-000000000999", userAdmin).graphError(t, http.StatusBadRequest, "Request_BadRequest")
	assign(meganID, "00000000-1111-4000-8000-000000000000").graphError(t, http.StatusNotFound, "Request_ResourceNotFound")

	// A user created moments ago cannot be assigned a role yet.
	s.srv.SetReplicationDelay(replicationDelay)
	nu := s.call("POST", "/users", newUserBody("fresh@"+initialDomain, nil)).want(t, http.StatusCreated).str("id")
	s.srv.SetReplicationDelay(0)
	if msg := assign(nu, globalReader).graphError(t, http.StatusBadRequest, "Request_BadRequest"); !strings.Contains(msg, "Not a valid reference update") {
		t.Errorf("a new principal: %q", msg)
	}
	eventually(t, func() bool { return s.call("GET", "/users/"+nu, nil).Status == http.StatusOK })
	// The new assignment replicates too: not listed, nor deletable, at
	// once; assigning again meanwhile is a conflict.
	s.srv.SetReplicationDelay(replicationDelay)
	fresh := assign(nu, globalReader).want(t, http.StatusCreated).str("id")
	s.srv.SetReplicationDelay(0)
	byNew := func() []any {
		return s.call("GET", roleAssignments+"?$filter="+url.QueryEscape("principalId eq '"+nu+"'"), nil).want(t, http.StatusOK).Body["value"].([]any)
	}
	if n := len(byNew()); n != 0 {
		t.Errorf("a new assignment listed at once (%d)", n)
	}
	s.call("DELETE", roleAssignments+"/"+fresh, nil).graphError(t, http.StatusNotFound, "Request_ResourceNotFound")
	assign(nu, globalReader).graphError(t, http.StatusConflict, "Request_BadRequest")
	eventually(t, func() bool { return len(byNew()) > 0 })
	if got := byNew(); len(got) != 1 || got[0].(map[string]any)["id"] != fresh {
		t.Errorf("after replication: %v", got)
	}

	roles := func() []string {
		var out []string
		for _, o := range s.call("GET", "/users/"+meganID+"/transitiveMemberOf", nil).want(t, http.StatusOK).Body["value"].([]any) {
			if id, ok := o.(map[string]any)["roleTemplateId"].(string); ok {
				out = append(out, id)
			}
		}
		return out
	}
	listed := func() int {
		return len(s.call("GET", roleAssignments+"?$filter="+url.QueryEscape("principalId eq '"+meganID+"'"), nil).want(t, http.StatusOK).Body["value"].([]any))
	}
	if !slices.Contains(roles(), userAdmin) || listed() != 1 {
		t.Errorf("after the assignment: roles %v, %d listed", roles(), listed())
	}
	s.call("DELETE", roleAssignments+"/"+ra.str("id"), nil).want(t, http.StatusNoContent)
	s.call("DELETE", roleAssignments+"/"+ra.str("id"), nil).graphError(t, http.StatusNotFound, "Request_ResourceNotFound")
	if slices.Contains(roles(), userAdmin) || listed() != 0 {
		t.Errorf("after the delete: roles %v, %d listed", roles(), listed())
	}
}

func TestUserDeleteRevokeAndExtensions(t *testing.T) {
	s := newSim(t, "")
	// Lee is in groups, holds a role, and is excluded from a policy.
	s.call("PATCH", policiesPath+"/"+policyMFAAll, `{"conditions":{"users":{"excludeUsers":["`+leeID+`"]}}}`).want(t, http.StatusNoContent)
	s.call("DELETE", "/users/"+leeID, nil).want(t, http.StatusNoContent)
	s.call("GET", "/users/"+leeID, nil).graphError(t, http.StatusNotFound, "Request_ResourceNotFound")
	s.call("DELETE", "/users/"+leeID, nil).graphError(t, http.StatusNotFound, "Request_ResourceNotFound")
	if n := len(s.call("GET", roleAssignments+"?$filter="+url.QueryEscape("principalId eq '"+leeID+"'"), nil).Body["value"].([]any)); n != 0 {
		t.Errorf("%d role assignments left for a deleted user", n)
	}
	for _, u := range s.call("GET", "/groups/"+itDepartmentID+"/transitiveMembers/microsoft.graph.user", nil).want(t, http.StatusOK).Body["value"].([]any) {
		if u.(map[string]any)["id"] == leeID {
			t.Errorf("a deleted user is still a group member")
		}
	}
	// Graph leaves the id in Conditional Access policies.
	if ex := usersOf(s.call("GET", policiesPath+"/"+policyMFAAll, nil).Body)["excludeUsers"]; !reflect.DeepEqual(ex, []any{leeID}) {
		t.Errorf("excludeUsers %v, want the deleted user's id kept", ex)
	}

	// revokeSignInSessions: refresh tokens issued before stop working.
	device, code := s.deviceCode(t)
	s.srv.ApproveDeviceCode(code)
	tok := s.pollDeviceCode(device).want(t, http.StatusOK)
	rv := s.call("POST", "/users/"+operatorID+"/revokeSignInSessions", nil).want(t, http.StatusOK)
	if rv.Body["value"] != true {
		t.Errorf("revokeSignInSessions answered %s", rv.Raw)
	}
	r := s.form("/organizations/oauth2/v2.0/token", url.Values{
		"grant_type": {"refresh_token"}, "client_id": {tenantsim.PublicClientID}, "refresh_token": {tok.str("refresh_token")},
	})
	if codes := oauthError(t, r, http.StatusBadRequest, "invalid_grant"); len(codes) != 1 || codes[0] != 50173 {
		t.Errorf("refresh after revoke: %v, want [50173]", codes)
	}

	// Open extensions.
	ext := "/users/" + meganID + "/extensions"
	body := `{"@odata.type":"#microsoft.graph.openTypeExtension","extensionName":"com.example.session","state":"on"}`
	s.call("POST", ext, body).want(t, http.StatusCreated)
	s.call("POST", ext, body).graphError(t, http.StatusConflict, "NameAlreadyExists")
	s.call("PATCH", ext+"/com.example.session", `{"@odata.type":"#microsoft.graph.openTypeExtension","state":"off"}`).want(t, http.StatusNoContent)
	if got := s.call("GET", ext+"/com.example.session", nil).want(t, http.StatusOK); got.str("state") != "off" {
		t.Errorf("extension after PATCH: %s", got.Raw)
	}
	s.call("DELETE", ext+"/com.example.session", nil).want(t, http.StatusNoContent)
	s.call("GET", ext+"/com.example.session", nil).graphError(t, http.StatusNotFound, "Request_ResourceNotFound")
}

// writeRequests is one request of every write route the product uses.
func writeRequests() [][3]string {
	newPolicy, _ := json.Marshal(policy(nil))
	newLoc, _ := json.Marshal(ipLocation("Denied", [2]string{v4, "12.34.0.0/16"}))
	newUser, _ := json.Marshal(newUserBody("denied@"+initialDomain, nil))
	return [][3]string{
		{"POST", policiesPath, string(newPolicy)},
		{"PATCH", policiesPath + "/" + policyMFAAll, `{"state":"disabled"}`},
		{"DELETE", policiesPath + "/" + policyMFAAll, ""},
		{"POST", namedLocations, string(newLoc)},
		{"PATCH", namedLocations + "/" + headOfficeID, `{"@odata.type":"#microsoft.graph.ipNamedLocation","isTrusted":false}`},
		{"DELETE", namedLocations + "/" + allowedCountry, ""},
		{"POST", "/users", string(newUser)},
		{"PATCH", "/users/" + meganID, `{"accountEnabled":false}`},
		{"DELETE", "/users/" + meganID, ""},
		{"POST", "/users/" + meganID + "/revokeSignInSessions", ""},
		{"POST", "/users/" + meganID + "/extensions", `{"@odata.type":"#microsoft.graph.openTypeExtension","extensionName":"x.y"}`},
		{"PATCH", "/users/" + meganID + "/extensions/x.y", `{"@odata.type":"#microsoft.graph.openTypeExtension","a":"b"}`},
		{"DELETE", "/users/" + meganID + "/extensions/x.y", ""},
		{"POST", roleAssignments, `{"principalId":"` + meganID + `","roleDefinitionId":"` + globalReader + `","directoryScopeId":"/"}`},
		{"DELETE", roleAssignments + "/ra-0004", ""},
		{"PATCH", "/policies/identitySecurityDefaultsEnforcementPolicy", `{"isEnabled":true}`},
		{"PATCH", "/beta/users/" + meganID + "/authentication/requirements", `{"perUserMfaState":"enforced"}`},
	}
}

// operatorToken signs the scenario's operator in with the device code flow.
func (s *sim) operatorToken(t *testing.T) string {
	t.Helper()
	device, code := s.deviceCode(t)
	if !s.srv.ApproveDeviceCode(code) {
		t.Fatal("the device code was not approved")
	}
	return s.pollDeviceCode(device).want(t, http.StatusOK).str("access_token")
}

func TestEveryWriteNeedsScopeAndRole(t *testing.T) {
	denied := func(t *testing.T, s *sim) {
		t.Helper()
		for _, w := range writeRequests() {
			var body any
			if w[2] != "" {
				body = w[2]
			}
			a := s.call(w[0], w[1], body)
			if msg := a.graphError(t, http.StatusForbidden, "Authorization_RequestDenied"); msg != "Insufficient privileges to complete the operation." {
				t.Errorf("%s %s: message %q", w[0], w[1], msg)
			}
		}
		if n := s.srv.Writes(); n != 0 {
			t.Errorf("%d writes committed by refused requests", n)
		}
	}
	t.Run("operator-lacks-role", func(t *testing.T) {
		s := newSim(t, "operator-lacks-role")
		s.token = s.operatorToken(t)
		denied(t, s)
	})
	t.Run("scope not consented", func(t *testing.T) {
		s := newSim(t, "")
		s.srv.SetConsentedScopes("User.Read", "Directory.Read.All", "Policy.Read.All", "RoleManagement.Read.Directory", "UserAuthenticationMethod.Read.All")
		s.token = s.operatorToken(t)
		denied(t, s)
	})
	t.Run("User Administrator writes users only", func(t *testing.T) {
		s := newSim(t, "")
		upn := "helpdesk@" + initialDomain
		id := s.call("POST", "/users", newUserBody(upn, nil)).want(t, http.StatusCreated).str("id")
		s.call("POST", roleAssignments, `{"principalId":"`+id+`","roleDefinitionId":"`+userAdmin+`","directoryScopeId":"/"}`).want(t, http.StatusCreated)
		// Out of the MFA policies, so that a password alone signs in.
		s.call("PATCH", policiesPath+"/"+policyAdmins, `{"conditions":{"users":{"excludeUsers":["`+breakGlass1+`","`+breakGlass2+`","`+id+`"]}}}`).want(t, http.StatusNoContent)
		s.call("PATCH", policiesPath+"/"+policyMFAAll, `{"conditions":{"users":{"excludeUsers":["`+id+`"]}}}`).want(t, http.StatusNoContent)
		tok := s.form("/"+s.srv.TenantID()+"/oauth2/v2.0/token", url.Values{
			"grant_type": {"password"}, "client_id": {tenantsim.PublicClientID}, "username": {upn},
			"password": {goodPassword}, "scope": {s.srv.BaseURL() + "/.default"},
		}, "X-Sim-Client-IP", outsideIP, "X-Sim-Client-Country", "GB").want(t, http.StatusOK)
		s.token = tok.str("access_token")
		s.call("PATCH", "/users/"+meganID, `{"displayName":"Megan B."}`).want(t, http.StatusNoContent)
		s.call("PATCH", policiesPath+"/"+policyMFAAll, `{"state":"disabled"}`).graphError(t, http.StatusForbidden, "Authorization_RequestDenied")
		s.call("POST", namedLocations, ipLocation("Nope", [2]string{v4, "12.34.0.0/16"})).graphError(t, http.StatusForbidden, "Authorization_RequestDenied")
		s.call("POST", roleAssignments, `{"principalId":"`+meganID+`","roleDefinitionId":"`+globalReader+`","directoryScopeId":"/"}`).graphError(t, http.StatusForbidden, "Authorization_RequestDenied")
	})
}

func TestManagedPoliciesIncludeNewUsers(t *testing.T) {
	// A tenant whose Microsoft-managed admin-portal policy targets a list
	// of users, beside a policy of the tenant's own that does the same.
	var st map[string]any
	if err := json.Unmarshal(assets.DemoTenant, &st); err != nil {
		t.Fatal(err)
	}
	for _, p := range st["policies"].([]any) {
		p := p.(map[string]any)
		switch p["id"] {
		case managedAdmins:
			u := usersOf(p)
			u["includeUsers"], u["includeRoles"], u["excludeUsers"] = []any{operatorID}, []any{}, []any{breakGlass1}
		case policyAdmins:
			u := usersOf(p)
			u["includeUsers"], u["includeRoles"] = []any{operatorID}, []any{}
		}
	}
	path := filepath.Join(t.TempDir(), "tenant.json")
	data, _ := json.Marshal(st)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s := newSimWith(t, tenantsim.Options{StatePath: path})
	id := s.call("POST", "/users", newUserBody("new.admin@"+initialDomain, nil)).want(t, http.StatusCreated).str("id")

	managed := usersOf(s.call("GET", policiesPath+"/"+managedAdmins, nil).want(t, http.StatusOK).Body)
	if !reflect.DeepEqual(managed["includeUsers"], []any{operatorID, id}) || !reflect.DeepEqual(managed["excludeUsers"], []any{breakGlass1}) {
		t.Errorf("managed policy users after the create: %v", managed)
	}
	own := usersOf(s.call("GET", policiesPath+"/"+policyAdmins, nil).want(t, http.StatusOK).Body)
	if !reflect.DeepEqual(own["includeUsers"], []any{operatorID}) {
		t.Errorf("a tenant policy gained the new user: %v", own["includeUsers"])
	}
	// Its exclusions and state are the tenant's to edit; its name is not.
	s.call("PATCH", policiesPath+"/"+managedAdmins, `{"state":"disabled","conditions":{"users":{"excludeUsers":["`+id+`"]}}}`).want(t, http.StatusNoContent)
	s.call("PATCH", policiesPath+"/"+managedAdmins, `{"displayName":"Mine now"}`).graphError(t, http.StatusBadRequest, "BadRequest")
	s.call("DELETE", policiesPath+"/"+managedAdmins, nil).graphError(t, http.StatusBadRequest, "BadRequest")

	// The demo's own managed policies target roles or All, which cover a
	// new user without a change.
	demo := newSim(t, "")
	demo.call("POST", "/users", newUserBody("new.admin@"+initialDomain, nil)).want(t, http.StatusCreated)
	if u := usersOf(demo.call("GET", policiesPath+"/c0a1b2c3-0007-4000-8000-00000000c007", nil).Body); !reflect.DeepEqual(u["includeUsers"], []any{"All"}) {
		t.Errorf("the All policy changed: %v", u["includeUsers"])
	}
}

// try sends a request and returns the transport error, if any, instead of
// failing the test.
func (s *sim) try(method, path, body string) (int, error) {
	req, err := http.NewRequest(method, s.srv.GraphURL()+path, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func locationNames(t *testing.T, s *sim) []string {
	t.Helper()
	var out []string
	for _, l := range s.call("GET", namedLocations, nil).want(t, http.StatusOK).Body["value"].([]any) {
		out = append(out, l.(map[string]any)["displayName"].(string))
	}
	slices.Sort(out)
	return out
}

func TestCrashAfterKthWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tenant.json")
	s := newSimWith(t, tenantsim.Options{StatePath: path})
	s.call("POST", namedLocations, ipLocation("Before", [2]string{v4, "12.34.0.0/16"})).want(t, http.StatusCreated)
	s.srv.SetCrashAfterWrites(2)
	s.call("GET", "/users", nil).want(t, http.StatusOK) // reads are not writes
	s.call("POST", namedLocations, ipLocation("First", [2]string{v4, "12.35.0.0/16"})).want(t, http.StatusCreated)
	s.call("POST", "/users/"+meganID+"/revokeSignInSessions", nil).want(t, http.StatusOK) // the 2nd: answered
	if !s.srv.Crashed() || s.srv.Writes() != 3 {
		t.Fatalf("after the 2nd write: crashed %v, %d writes", s.srv.Crashed(), s.srv.Writes())
	}
	if status, err := s.try("GET", "/users", ""); err == nil {
		t.Fatalf("a dead tenant answered %d", status)
	}
	// The authority is dead too.
	if _, err := s.hc.PostForm(s.srv.BaseURL()+"/organizations/oauth2/v2.0/token", url.Values{}); err == nil {
		t.Errorf("a dead tenant's authority answered")
	}

	// A new tenant on the same file, while the dead one is still in
	// memory, holds exactly what was committed.
	again := newSimWith(t, tenantsim.Options{StatePath: path})
	if got := locationNames(t, again); !slices.Contains(got, "Before") || !slices.Contains(got, "First") {
		t.Errorf("locations after the restart: %v", got)
	}
	if again.call("GET", "/users/"+meganID+"?$select=signInSessionsValidFromDateTime", nil).str("signInSessionsValidFromDateTime") == "" {
		t.Errorf("the 2nd write (revoke) did not survive")
	}
	if err := s.srv.Close(); err != nil {
		t.Errorf("closing the dead tenant: %v", err)
	}

	// SetCrashAtWrite loses the k-th write's answer, not the write.
	again.srv.SetCrashAtWrite(1)
	if status, err := again.try("POST", namedLocations, `{"@odata.type":"#microsoft.graph.ipNamedLocation","displayName":"Lost answer","ipRanges":[{"@odata.type":"#microsoft.graph.iPv4CidrRange","cidrAddress":"14.0.0.0/16"}]}`); err == nil {
		t.Fatalf("the k-th write was answered %d", status)
	}
	third := newSimWith(t, tenantsim.Options{StatePath: path})
	if got := locationNames(t, third); !slices.Contains(got, "Lost answer") {
		t.Errorf("the write whose answer was lost is not in the tenant: %v", got)
	}
}

func TestCrashIsExactUnderConcurrentWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tenant.json")
	s := newSimWith(t, tenantsim.Options{StatePath: path, CrashAfterWrites: 3})
	before := len(locationNames(t, s))
	var wg sync.WaitGroup
	var mu sync.Mutex
	answered := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(ipLocation("Concurrent "+strconv.Itoa(i), [2]string{v4, "12.34.0.0/16"}))
			if status, err := s.try("POST", namedLocations, string(body)); err == nil && status == http.StatusCreated {
				mu.Lock()
				answered++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	again := newSimWith(t, tenantsim.Options{StatePath: path})
	if got := len(locationNames(t, again)) - before; got != 3 || answered > 3 {
		t.Errorf("%d locations committed and %d answered, want exactly 3 committed", got, answered)
	}
}

func TestFaultAfterCommit(t *testing.T) {
	s := newSim(t, "")
	s.srv.InjectFault(tenantsim.Fault{Method: "POST", Path: namedLocations, Status: http.StatusInternalServerError, AfterCommit: true})
	s.call("POST", namedLocations, ipLocation("Committed", [2]string{v4, "12.34.0.0/16"})).graphError(t, http.StatusInternalServerError, "")
	if got := locationNames(t, s); !slices.Contains(got, "Committed") || s.srv.Writes() != 1 {
		t.Errorf("after a fault on the answer: %v, %d writes", got, s.srv.Writes())
	}
	s.srv.InjectFault(tenantsim.Fault{Method: "POST", Path: namedLocations, Drop: true, AfterCommit: true})
	if _, err := s.try("POST", namedLocations, `{"@odata.type":"#microsoft.graph.ipNamedLocation","displayName":"Dropped","ipRanges":[{"@odata.type":"#microsoft.graph.iPv4CidrRange","cidrAddress":"14.0.0.0/16"}]}`); err == nil {
		t.Errorf("a dropped answer arrived")
	}
	if got := locationNames(t, s); !slices.Contains(got, "Dropped") {
		t.Errorf("the write whose answer was dropped is not in the tenant: %v", got)
	}
	// Once: the next write is answered.
	s.call("POST", namedLocations, ipLocation("Next", [2]string{v4, "12.34.0.0/16"})).want(t, http.StatusCreated)
}

func TestConcurrentPatchesBothStay(t *testing.T) {
	s := newSim(t, "")
	path := policiesPath + "/" + policyMFAAll
	for i := range 30 {
		name := "CA002 round " + strconv.Itoa(i)
		exclude := []any{}
		if i%2 == 0 {
			exclude = []any{meganID}
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			s.try("PATCH", path, `{"displayName":"`+name+`"}`)
		}()
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]any{"conditions": map[string]any{"users": map[string]any{"excludeUsers": exclude}}})
			s.try("PATCH", path, string(body))
		}()
		wg.Wait()
		got := s.call("GET", path, nil).want(t, http.StatusOK)
		if got.str("displayName") != name || !reflect.DeepEqual(usersOf(got.Body)["excludeUsers"], exclude) {
			t.Fatalf("round %d: two PATCHes of different properties, one lost: %q, excludeUsers %v", i, got.str("displayName"), usersOf(got.Body)["excludeUsers"])
		}
	}
}
