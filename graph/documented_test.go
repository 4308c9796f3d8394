package graph_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"mgmtsession/graph"
)

// Contract tests of the decoders: every directory read is fed the response
// body Graph's v1.0 reference documents for it (microsoft-graph-docs,
// api-reference/v1.0/api/<page>.md, "Response" sections; ids changed, and
// properties and enum values added that the product does not model: newer
// members of an enum, properties of other kinds of object). They go through
// the real adapter and middleware to a loopback server that answers the
// body as given. Each test checks that every property the product models
// arrives with the documented value (nothing known is lost), that values it
// does not know arrive as sent, and that the raw image of a user, group,
// role or role assignment is byte for byte the object Graph sent (nothing
// unknown is rewritten). The writes are checked against the documented
// request bodies.

// docServer answers documented bodies on loopback and records what it is
// sent.
type docServer struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	routes map[string]docAnswer // "METHOD /v1.0/path" (query left out)
	got    []docRequest
}

type docAnswer struct {
	status int
	body   string
}

type docRequest struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         []byte // decompressed
}

func newDocServer(t *testing.T) *docServer {
	d := &docServer{t: t, routes: map[string]docAnswer{}}
	d.srv = httptest.NewTLSServer(http.HandlerFunc(d.serve))
	t.Cleanup(d.srv.Close)
	return d
}

// answer registers the answer to method and path (under the server root,
// e.g. "/v1.0/users", or "/v1.0/users?$skiptoken=X" for a next page); $BASE
// in body becomes the server's URL.
func (d *docServer) answer(method, path string, status int, body string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.routes[method+" "+path] = docAnswer{status, strings.ReplaceAll(body, "$BASE", d.srv.URL)}
}

// body is what the route answers, as sent.
func (d *docServer) body(method, path string) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.routes[method+" "+path]
	if !ok {
		d.t.Fatalf("no answer for %s %s", method, path)
	}
	return []byte(a.body)
}

func (d *docServer) serve(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	data, _ := io.ReadAll(body)
	d.mu.Lock()
	d.got = append(d.got, docRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: data})
	key := r.Method + " " + r.URL.Path
	if tok := r.URL.Query().Get("$skiptoken"); tok != "" {
		key += "?$skiptoken=" + tok // a next page
	}
	a, ok := d.routes[key]
	d.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer documented-token" {
		a = docAnswer{http.StatusUnauthorized, `{"error":{"code":"InvalidAuthenticationToken","message":"Access token is empty."}}`}
	} else if !ok {
		a = docAnswer{http.StatusNotFound, `{"error":{"code":"Request_ResourceNotFound","message":"Resource does not exist."}}`}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

// last is the newest request to method and path.
func (d *docServer) last(method, path string) docRequest {
	d.t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := len(d.got) - 1; i >= 0; i-- {
		if d.got[i].Method == method && d.got[i].Path == path {
			return d.got[i]
		}
	}
	d.t.Fatalf("no %s %s was sent", method, path)
	return docRequest{}
}

type documentedToken struct{}

func (documentedToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "documented-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func (d *docServer) client() *graph.Client {
	d.t.Helper()
	c, err := graph.New(graph.Config{
		Cloud:      graph.Cloud{Name: "documented", GraphRoot: d.srv.URL},
		Credential: documentedToken{},
		Transport:  d.srv.Client().Transport.(*http.Transport),
	})
	if err != nil {
		d.t.Fatal(err)
	}
	c.SetReplicationPolicy(time.Second, 10*time.Millisecond)
	return c
}

// items are the objects of a collection body, as sent.
func items(t *testing.T, page []byte) []json.RawMessage {
	t.Helper()
	var p struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(page, &p); err != nil {
		t.Fatalf("the documented body is not JSON: %v", err)
	}
	return p.Value
}

// sameRaw fails unless raw is, byte for byte, what Graph sent.
func sameRaw(t *testing.T, what string, raw, sent []byte) {
	t.Helper()
	if !bytes.Equal(raw, bytes.TrimSpace(sent)) {
		t.Errorf("%s: Raw is not the object Graph sent:\n got %s\nwant %s", what, raw, bytes.TrimSpace(sent))
	}
}

// jsonEqual fails unless got and want are the same JSON value.
func jsonEqual(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v in %s", what, err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: the expectation is not JSON: %v", what, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s: sent %s, want %s", what, got, want)
	}
}

// organization-list.md, with a verified domain of a type the product does
// not model and a property newer than the SDK.
const docOrganization = `{
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#organization",
    "value": [
        {
            "id": "4a1b2c3d-274d-4ec0-a5c1-276be684bdd3",
            "deletedDateTime": null,
            "businessPhones": ["425-555-0100"],
            "countryLetterCode": "NL",
            "createdDateTime": "2021-08-02T10:30:06Z",
            "displayName": "Contoso",
            "partnerTenantType": "ResellerPartnerDelegatedAdmin",
            "tenantType": "AAD",
            "directorySizeQuota": {"used": 698, "total": 50000},
            "assignedPlans": [
                {"assignedDateTime": "2021-08-02T10:36:57Z", "capabilityStatus": "Enabled", "service": "exchange", "servicePlanId": "113feb6c-3fe4-4440-bddc-54d774bf0318"}
            ],
            "verifiedDomains": [
                {"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": false, "isInitial": true, "name": "Contoso.onmicrosoft.com", "type": "Managed"},
                {"capabilities": "Email", "isDefault": true, "isInitial": false, "name": "contoso.com", "type": "SomeFutureDomainType"}
            ],
            "someFutureProperty": {"nested": [1, 2]}
        }
    ]
}`

func TestDocumentedOrganization(t *testing.T) {
	d := newDocServer(t)
	d.answer("GET", "/v1.0/organization", 200, docOrganization)
	org, err := d.client().Organization(testCtx(t))
	must(t, err)
	want := graph.Organization{ID: "4a1b2c3d-274d-4ec0-a5c1-276be684bdd3", DisplayName: "Contoso", VerifiedDomains: []graph.VerifiedDomain{
		{Name: "Contoso.onmicrosoft.com", IsInitial: true}, {Name: "contoso.com", IsDefault: true},
	}}
	if !reflect.DeepEqual(org, want) {
		t.Errorf("Organization() = %+v, want %+v", org, want)
	}
	if org.InitialDomain() != "Contoso.onmicrosoft.com" {
		t.Errorf("InitialDomain() = %q", org.InitialDomain())
	}
}

// subscribedsku-list.md, with Entra ID P1 in the first SKU, and status
// values newer than the product (the SDK models these as strings too, but
// a decoder must not fold them into a known one).
const docSubscribedSkus = `{
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscribedSkus",
    "value": [
        {
            "accountName": "Sample account One",
            "accountId": "f97aeefc-af85-414d-8ae4-b457f90efc40",
            "appliesTo": "User",
            "capabilityStatus": "Enabled",
            "consumedUnits": 14,
            "id": "48a80680-7326-48cd-9935-b556b81d3a4e_c7df2760-2c81-4ef7-b578-5b5392b571df",
            "prepaidUnits": {"enabled": 25, "lockedOut": 0, "suspended": 0, "warning": 0},
            "servicePlans": [
                {"servicePlanId": "8c098270-9dd4-4350-9b30-ba4703f3b36b", "servicePlanName": "ADALLOM_S_O365", "provisioningStatus": "Success", "appliesTo": "Company"},
                {"servicePlanId": "41781fb2-bc02-4b7c-bd55-b576c07bb09d", "servicePlanName": "AAD_PREMIUM", "provisioningStatus": "Success", "appliesTo": "User"}
            ],
            "skuId": "c7df2760-2c81-4ef7-b578-5b5392b571df",
            "skuPartNumber": "ENTERPRISEPREMIUM",
            "subscriptionIds": ["43d26afe-cb98-48b9-acc4-ae3ef2ac6c51"]
        },
        {
            "accountName": "Sample account Two",
            "appliesTo": "User",
            "capabilityStatus": "SomeFutureCapabilityStatus",
            "consumedUnits": 14,
            "id": "48a80680-7326-48cd-9935-b556b81d3a4e_d17b27af-3f49-4822-99f9-56a661538792",
            "servicePlans": [
                {"servicePlanId": "eec0eb4f-6444-4f95-aba0-50c24d67f998", "servicePlanName": "AAD_PREMIUM_P2", "provisioningStatus": "SomeFutureProvisioningStatus", "appliesTo": "User"}
            ],
            "skuId": "d17b27af-3f49-4822-99f9-56a661538792",
            "skuPartNumber": "EMSPREMIUM"
        }
    ]
}`

func TestDocumentedSubscribedSKUs(t *testing.T) {
	d := newDocServer(t)
	d.answer("GET", "/v1.0/subscribedSkus", 200, docSubscribedSkus)
	skus, err := d.client().SubscribedSKUs(testCtx(t))
	must(t, err)
	want := []graph.SKU{
		{SkuPartNumber: "ENTERPRISEPREMIUM", CapabilityStatus: "Enabled", ServicePlans: []graph.ServicePlan{
			{ServicePlanID: "8c098270-9dd4-4350-9b30-ba4703f3b36b", ServicePlanName: "ADALLOM_S_O365", ProvisioningStatus: "Success"},
			{ServicePlanID: graph.PlanP1, ServicePlanName: "AAD_PREMIUM", ProvisioningStatus: "Success"},
		}},
		{SkuPartNumber: "EMSPREMIUM", CapabilityStatus: "SomeFutureCapabilityStatus", ServicePlans: []graph.ServicePlan{
			{ServicePlanID: graph.PlanP2, ServicePlanName: "AAD_PREMIUM_P2", ProvisioningStatus: "SomeFutureProvisioningStatus"},
		}},
	}
	if !reflect.DeepEqual(skus, want) {
		t.Errorf("SubscribedSKUs() = %+v,\nwant %+v", skus, want)
	}
	// An unknown status is not "Enabled"/"Success": P2 is not provisioned.
	if p1, p2 := graph.EntraPremium(skus); !p1 || p2 {
		t.Errorf("EntraPremium = %v, %v; want true, false", p1, p2)
	}
}

// identitysecuritydefaultsenforcementpolicy-get.md and -update.md.
func TestDocumentedSecurityDefaults(t *testing.T) {
	d := newDocServer(t)
	const path = "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy"
	d.answer("GET", path, 200, `{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/identitySecurityDefaultsEnforcementPolicy",
  "description": "Security defaults is a set of basic identity security mechanisms recommended by Microsoft.",
  "displayName": "Security Defaults",
  "id": "00000000-0000-0000-0000-000000000005",
  "isEnabled": true,
  "someFutureProperty": "x"
}`)
	d.answer("PATCH", path, 204, "")
	c := d.client()
	on, err := c.SecurityDefaults(testCtx(t))
	must(t, err)
	if !on {
		t.Error("SecurityDefaults() = false, documented isEnabled true")
	}
	must(t, c.SetSecurityDefaults(testCtx(t), false))
	jsonEqual(t, "PATCH security defaults", d.last("PATCH", path).Body, `{"isEnabled": false}`)
}

// user-get.md (with $select) and user-list.md: the properties the product
// selects, and one it does not model (Graph sends what $select names, so a
// future property appears only if the product asks; it must still survive
// in Raw). The list comes in two pages.
const (
	docUser = `{
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,displayName,userType,accountEnabled,passwordPolicies,createdDateTime)/$entity",
    "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
    "userPrincipalName": "AdeleV@contoso.com",
    "displayName": "Adele Vance",
    "userType": "Member",
    "accountEnabled": true,
    "passwordPolicies": "DisablePasswordExpiration, DisableStrongPassword",
    "createdDateTime": "2019-05-02T10:30:06.1234567Z",
    "someFutureProperty": {"state": "someFutureEnumValue"}
}`
	docUsersPage1 = `{
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,displayName,userType,accountEnabled,passwordPolicies,createdDateTime)",
    "@odata.nextLink": "$BASE/v1.0/users?$select=id,userPrincipalName,displayName,userType,accountEnabled,passwordPolicies,createdDateTime&$skiptoken=RFNwdAIAAQAAAD8",
    "value": [
        {"id": "4782e723-f4f4-4af3-a76e-25e3bab0d896", "userPrincipalName": "coreview.admin@contoso.onmicrosoft.com", "displayName": "CoreView management", "userType": "Member", "accountEnabled": false, "passwordPolicies": null, "createdDateTime": "2024-01-02T03:04:05Z"}
    ]
}`
	docUsersPage2 = `{
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,displayName,userType,accountEnabled,passwordPolicies,createdDateTime)",
    "value": [
        {"id": "c03e6eaa-b6ab-46d7-905b-73ec7ea1f755", "userPrincipalName": "pat.partner_fabrikam.com#EXT#@contoso.onmicrosoft.com", "displayName": "Pat", "userType": "SomeFutureUserType", "accountEnabled": true, "passwordPolicies": "None", "createdDateTime": "2024-01-02T03:04:05.5Z", "someFutureProperty": [true]}
    ]
}`
)

func TestDocumentedUsers(t *testing.T) {
	d := newDocServer(t)
	c := d.client()
	ctx := testCtx(t)
	d.answer("GET", "/v1.0/me", 200, docUser)
	d.answer("GET", "/v1.0/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd", 200, docUser)
	wantUser := graph.User{ID: "87d349ed-44d7-43e1-9a83-5f2406dee5bd", UserPrincipalName: "AdeleV@contoso.com", DisplayName: "Adele Vance",
		UserType: "Member", AccountEnabled: true, PasswordPolicies: "DisablePasswordExpiration, DisableStrongPassword",
		CreatedDateTime: "2019-05-02T10:30:06.1234567Z"}
	for name, read := range map[string]func() (graph.User, error){
		"Me":   func() (graph.User, error) { return c.Me(ctx) },
		"User": func() (graph.User, error) { return c.User(ctx, wantUser.ID) },
	} {
		u, err := read()
		must(t, err)
		sameRaw(t, name, u.Raw, d.body("GET", "/v1.0/users/"+wantUser.ID))
		u.Raw = nil
		if !reflect.DeepEqual(u, wantUser) {
			t.Errorf("%s() = %+v,\nwant %+v", name, u, wantUser)
		}
	}
	// v1.0 leaves accountEnabled, userType, passwordPolicies and
	// createdDateTime out unless selected.
	if sel := d.last("GET", "/v1.0/me").Query.Get("$select"); sel != "id,userPrincipalName,displayName,userType,accountEnabled,passwordPolicies,createdDateTime" {
		t.Errorf("GET /me $select=%q", sel)
	}

	// Both pages, every user as sent; the next link is followed as Graph
	// gave it.
	d.answer("GET", "/v1.0/users", 200, docUsersPage1)
	d.answer("GET", "/v1.0/users?$skiptoken=RFNwdAIAAQAAAD8", 200, docUsersPage2)
	users, err := c.FindUsersByPrefix(ctx, "coreview.admin", "pat.")
	must(t, err)
	if len(users) != 2 {
		t.Fatalf("FindUsersByPrefix over two pages: %+v", users)
	}
	sameRaw(t, "page 1", users[0].Raw, items(t, d.body("GET", "/v1.0/users"))[0])
	sameRaw(t, "page 2", users[1].Raw, items(t, d.body("GET", "/v1.0/users?$skiptoken=RFNwdAIAAQAAAD8"))[0])
	if u := users[0]; u.ID != "4782e723-f4f4-4af3-a76e-25e3bab0d896" || u.AccountEnabled || u.PasswordPolicies != "" || u.UserType != "Member" {
		t.Errorf("page 1 user %+v", u)
	}
	if u := users[1]; u.UserType != "SomeFutureUserType" || u.UserPrincipalName != "pat.partner_fabrikam.com#EXT#@contoso.onmicrosoft.com" ||
		!u.AccountEnabled || u.PasswordPolicies != "None" || u.CreatedDateTime != "2024-01-02T03:04:05.5Z" {
		t.Errorf("page 2 user %+v", u)
	}
	var first, next int
	for _, g := range d.got {
		if g.Path != "/v1.0/users" {
			continue
		}
		if g.Query.Get("$skiptoken") == "" {
			first++
			if g.Query.Get("$filter") != "startswith(userPrincipalName,'coreview.admin') or startswith(userPrincipalName,'pat.')" || g.Query.Get("$select") == "" {
				t.Errorf("first page's query %v", g.Query)
			}
		} else {
			next++
		}
	}
	if first != 1 || next != 1 {
		t.Errorf("%d first-page and %d next-page requests, want 1 and 1", first, next)
	}
	users, err = c.UsersByID(ctx, []string{"4782e723-f4f4-4af3-a76e-25e3bab0d896", "c03e6eaa-b6ab-46d7-905b-73ec7ea1f755"})
	must(t, err)
	if len(users) != 2 || users[1].Raw == nil {
		t.Errorf("UsersByID over two pages: %+v", users)
	}

	// group-list-transitivemembers.md, cast to users.
	const members = "/v1.0/groups/02bd9fd6-8f93-4758-87c3-1fb73740a315/transitiveMembers/microsoft.graph.user"
	d.answer("GET", members, 200, strings.Replace(docUsersPage2, `"value"`, `"@odata.count": 1, "value"`, 1))
	gm, err := c.GroupMembers(ctx, "02bd9fd6-8f93-4758-87c3-1fb73740a315")
	must(t, err)
	if len(gm) != 1 || gm[0].ID != "c03e6eaa-b6ab-46d7-905b-73ec7ea1f755" || !gm[0].AccountEnabled {
		t.Errorf("GroupMembers() = %+v", gm)
	}
	sameRaw(t, "group member", gm[0].Raw, items(t, d.body("GET", members))[0])
}

// user-post-users.md: the documented request, and its documented answer
// (Graph's default properties only).
func TestDocumentedCreateUser(t *testing.T) {
	d := newDocServer(t)
	const answer = `{
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
    "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
    "businessPhones": [],
    "displayName": "Adele Vance",
    "givenName": null,
    "mail": null,
    "preferredLanguage": "en-US",
    "userPrincipalName": "AdeleV@contoso.onmicrosoft.com"
}`
	d.answer("POST", "/v1.0/users", 201, answer)
	u, err := d.client().CreateUser(testCtx(t), graph.NewUser{UserPrincipalName: "AdeleV@contoso.onmicrosoft.com", DisplayName: "Adele Vance",
		MailNickname: "AdeleV", Password: "xWwvJ]6NMw+bWH-d", Enabled: true})
	must(t, err)
	jsonEqual(t, "POST /users", d.last("POST", "/v1.0/users").Body, `{
  "accountEnabled": true,
  "displayName": "Adele Vance",
  "mailNickname": "AdeleV",
  "userPrincipalName": "AdeleV@contoso.onmicrosoft.com",
  "passwordProfile" : {"forceChangePasswordNextSignIn": false, "password": "xWwvJ]6NMw+bWH-d"},
  "passwordPolicies": "DisablePasswordExpiration"
}`)
	sameRaw(t, "created user", u.Raw, []byte(answer))
	u.Raw = nil
	want := graph.User{ID: "87d349ed-44d7-43e1-9a83-5f2406dee5bd", UserPrincipalName: "AdeleV@contoso.onmicrosoft.com", DisplayName: "Adele Vance",
		UserType: "Member", AccountEnabled: true, PasswordPolicies: "DisablePasswordExpiration"}
	if !reflect.DeepEqual(u, want) {
		t.Errorf("CreateUser() = %+v,\nwant %+v", u, want)
	}
}

// user-update.md: only what the patch names, passwordProfile as the
// documented example sends it.
func TestDocumentedUpdateUser(t *testing.T) {
	d := newDocServer(t)
	const path = "/v1.0/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd"
	d.answer("PATCH", path, 204, "")
	c := d.client()
	off, pw := false, "xWwvJ]6NMw+bWH-d"
	must(t, c.UpdateUser(testCtx(t), "87d349ed-44d7-43e1-9a83-5f2406dee5bd", graph.UserPatch{AccountEnabled: &off, Password: &pw}))
	jsonEqual(t, "PATCH user", d.last("PATCH", path).Body,
		`{"accountEnabled": false, "passwordProfile": {"forceChangePasswordNextSignIn": false, "password": "xWwvJ]6NMw+bWH-d"}}`)
}

// user-list-transitivememberof.md, with a directory role and an
// administrative unit beside the documented group.
const docMemberOf = `{
  "@odata.context":"https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
  "value":[
    {
      "@odata.type":"#microsoft.graph.group",
      "id":"45b7d2e7-b882-4a80-ba97-10b7a63b8fa4",
      "displayName":"All_Contoso_Licensing",
      "mailEnabled":true,
      "mailNickname":"ContosoMailNickName",
      "securityEnabled":true,
      "groupTypes":["Unified","SomeFutureGroupType"]
    },
    {
      "@odata.type":"#microsoft.graph.directoryRole",
      "id":"f8e85ed8-f66f-4058-b170-3efae8b9c6e5",
      "deletedDateTime":null,
      "description":"Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
      "displayName":"Global Administrator",
      "roleTemplateId":"62e90394-69f5-4237-9190-012177145e10"
    },
    {
      "@odata.type":"#microsoft.graph.administrativeUnit",
      "id":"4d7ea995-bc0f-45c0-8c2d-b8f5e8cdb9c1",
      "displayName":"Seattle District Technical Schools",
      "visibility":"HiddenMembership"
    }
  ]
}`

func TestDocumentedMemberships(t *testing.T) {
	d := newDocServer(t)
	const path = "/v1.0/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd/transitiveMemberOf"
	d.answer("GET", path, 200, docMemberOf)
	d.answer("GET", "/v1.0/me/transitiveMemberOf", 200, docMemberOf)
	c := d.client()
	sent := items(t, d.body("GET", path))
	for name, read := range map[string]func() (graph.Memberships, error){
		"UserMemberships": func() (graph.Memberships, error) {
			return c.UserMemberships(testCtx(t), "87d349ed-44d7-43e1-9a83-5f2406dee5bd")
		},
		"MyMemberships": func() (graph.Memberships, error) { return c.MyMemberships(testCtx(t)) },
	} {
		m, err := read()
		must(t, err)
		if len(m.Groups) != 1 || len(m.Roles) != 1 {
			t.Fatalf("%s: %d groups, %d roles; want 1 and 1 (an administrative unit is neither)", name, len(m.Groups), len(m.Roles))
		}
		sameRaw(t, name+" group", m.Groups[0].Raw, sent[0])
		sameRaw(t, name+" role", m.Roles[0].Raw, sent[1])
		g, r := m.Groups[0], m.Roles[0]
		if g.ODataType != "#microsoft.graph.group" || g.ID != "45b7d2e7-b882-4a80-ba97-10b7a63b8fa4" || g.DisplayName != "All_Contoso_Licensing" {
			t.Errorf("%s: group %+v", name, g)
		}
		if r.ODataType != "#microsoft.graph.directoryRole" || r.ID != "f8e85ed8-f66f-4058-b170-3efae8b9c6e5" || r.DisplayName != "Global Administrator" ||
			!slices.Equal(m.RoleTemplateIDs(), []string{"62e90394-69f5-4237-9190-012177145e10"}) {
			t.Errorf("%s: role %+v", name, r)
		}
	}
}

// authentication-list-methods.md, with a password and a kind of method
// newer than the product.
func TestDocumentedAuthMethods(t *testing.T) {
	d := newDocServer(t)
	const path = "/v1.0/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd/authentication/methods"
	d.answer("GET", path, 200, `{
  "value": [
    {
      "@odata.type": "#microsoft.graph.fido2AuthenticationMethod",
      "id": "-2_GRUg2-HYz6_1YG4YRAQ2",
      "displayName": "Red key",
      "creationDateTime": "2020-08-10T06:44:09Z",
      "aaGuid": "2fc0579f-8113-47ea-b116-555a8db9202a",
      "model": "NFC key",
      "attestationCertificates": ["dbe793efdf1945e2df25d93653a1e8a3268a9075"],
      "attestationLevel": "someFutureAttestationLevel"
    },
    {
      "@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
      "id": "28c10230-6103-485e-b985-444c60001490",
      "createdDateTime": "2020-11-27T23:12:49Z"
    },
    {
      "@odata.type": "#microsoft.graph.someFutureAuthenticationMethod",
      "id": "b5e01f81-1f81-b5e0-811f-e0b5811fe0b5",
      "displayName": "Jordan's badge",
      "keyStrength": "normal"
    }
  ]
}`)
	methods, err := d.client().AuthMethods(testCtx(t), "87d349ed-44d7-43e1-9a83-5f2406dee5bd")
	must(t, err)
	want := []graph.AuthMethod{
		{ODataType: "#microsoft.graph.fido2AuthenticationMethod", ID: "-2_GRUg2-HYz6_1YG4YRAQ2"},
		{ODataType: "#microsoft.graph.passwordAuthenticationMethod", ID: "28c10230-6103-485e-b985-444c60001490"},
		{ODataType: "#microsoft.graph.someFutureAuthenticationMethod", ID: "b5e01f81-1f81-b5e0-811f-e0b5811fe0b5"},
	}
	if !reflect.DeepEqual(methods, want) {
		t.Fatalf("AuthMethods() = %+v,\nwant %+v", methods, want)
	}
	var kinds []string
	for _, m := range methods {
		kinds = append(kinds, fmt.Sprintf("%s:%v", m.Kind(), m.IsMFA()))
	}
	if !slices.Equal(kinds, []string{"fido2:true", "password:false", "someFuture:true"}) {
		t.Errorf("kinds %v", kinds)
	}
}

// Per-user MFA state, beta (authentication-get.md and -update.md, beta): a
// state newer than disabled/enabled/enforced comes back as sent.
func TestDocumentedPerUserMFA(t *testing.T) {
	d := newDocServer(t)
	const path = "/beta/users/071cc716-8147-4397-a5ba-b2105951cc0b/authentication/requirements"
	c := d.client()
	for _, state := range []string{"enforced", "someFutureState"} {
		d.answer("GET", path, 200, `{"@odata.context": "https://graph.microsoft.com/beta/$metadata#users('071cc716-8147-4397-a5ba-b2105951cc0b')/authentication/requirements", "perUserMfaState": "`+state+`"}`)
		got, err := c.PerUserMFA(testCtx(t), "071cc716-8147-4397-a5ba-b2105951cc0b")
		must(t, err)
		if got != state {
			t.Errorf("PerUserMFA() = %q, Graph sent %q", got, state)
		}
	}
	d.answer("PATCH", path, 204, "")
	must(t, c.SetPerUserMFA(testCtx(t), "071cc716-8147-4397-a5ba-b2105951cc0b", "disabled"))
	jsonEqual(t, "PATCH requirements", d.last("PATCH", path).Body, `{"perUserMfaState": "disabled"}`)
}

// opentypeextension-get.md (response 1, on a user) and
// opentypeextension-post-opentypeextension.md.
func TestDocumentedExtension(t *testing.T) {
	d := newDocServer(t)
	const path = "/v1.0/users/ddfc984d-b826-40d7-b48b-57002df85e00/extensions/Com.Contoso.Referral"
	d.answer("GET", path, 200, `{
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('ddfc984d-b826-40d7-b48b-57002df85e00')/extensions/$entity",
    "@odata.type": "#microsoft.graph.openTypeExtension",
    "@odata.id": "https://graph.microsoft.com/v2/1717f226-49d1-4d0c-9d74-709fad6677b4/users/ddfc984d-b826-40d7-b48b-57002df85e00/extensions/Com.Contoso.Referral",
    "extensionName": "Com.Contoso.Referral",
    "id": "Com.Contoso.Referral",
    "companyName": "Wingtip Toys",
    "dealValue": 500050,
    "expirationDate": "2015-12-03T10:00:00Z",
    "enabled": false
}`)
	c := d.client()
	data, found, err := c.Extension(testCtx(t), "ddfc984d-b826-40d7-b48b-57002df85e00", "Com.Contoso.Referral")
	must(t, err)
	want := map[string]any{"companyName": "Wingtip Toys", "dealValue": float64(500050), "expirationDate": "2015-12-03T10:00:00Z", "enabled": false}
	if !found || !reflect.DeepEqual(data, want) {
		t.Errorf("Extension() = %v, %#v;\nwant true, %#v", found, data, want)
	}
	if _, found, err := c.Extension(testCtx(t), "ddfc984d-b826-40d7-b48b-57002df85e00", "Com.Contoso.Other"); err != nil || found {
		t.Errorf("an absent extension: found %v, %v", found, err)
	}

	d.answer("POST", "/v1.0/users/ddfc984d-b826-40d7-b48b-57002df85e00/extensions", 201, `{
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('ddfc984d-b826-40d7-b48b-57002df85e00')/extensions/$entity",
    "@odata.type": "#microsoft.graph.openTypeExtension",
    "extensionName": "Com.Contoso.Referral",
    "id": "Com.Contoso.Referral",
    "companyName": "Wingtip Toys",
    "dealValue": 500050
}`)
	must(t, c.SetExtension(testCtx(t), "ddfc984d-b826-40d7-b48b-57002df85e00", "Com.Contoso.Referral",
		map[string]any{"companyName": "Wingtip Toys", "dealValue": 500050}))
	jsonEqual(t, "POST extension", d.last("POST", "/v1.0/users/ddfc984d-b826-40d7-b48b-57002df85e00/extensions").Body, `{
    "@odata.type": "#microsoft.graph.openTypeExtension",
    "extensionName": "Com.Contoso.Referral",
    "companyName": "Wingtip Toys",
    "dealValue": 500050
}`)
}

// rbacapplication-list-roledefinitions.md.
func TestDocumentedRoleDefinitions(t *testing.T) {
	d := newDocServer(t)
	d.answer("GET", "/v1.0/roleManagement/directory/roleDefinitions", 200, `{
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleDefinitions",
    "value": [
        {
            "id": "729827e3-9c14-49f7-bb1b-9608f156bbb8",
            "description": "Can reset passwords for non-administrators and Helpdesk Administrators.",
            "displayName": "Helpdesk Administrator",
            "isBuiltIn": true,
            "isEnabled": true,
            "templateId": "729827e3-9c14-49f7-bb1b-9608f156bbb8",
            "version": "1",
            "rolePermissions": [{"allowedResourceActions": ["microsoft.directory/users/password/update"], "condition": null}],
            "inheritsPermissionsFrom": [{"id": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"}]
        },
        {
            "id": "3d5a9b1c-0000-4000-8000-00000000aaaa",
            "description": "A custom role.",
            "displayName": "Contoso Helpdesk Lite",
            "isBuiltIn": false,
            "isEnabled": true,
            "templateId": "3d5a9b1c-0000-4000-8000-00000000aaaa",
            "isPrivileged": false,
            "rolePermissions": []
        }
    ]
}`)
	defs, err := d.client().RoleDefinitions(testCtx(t))
	must(t, err)
	want := []graph.RoleDefinition{
		{ID: "729827e3-9c14-49f7-bb1b-9608f156bbb8", TemplateID: "729827e3-9c14-49f7-bb1b-9608f156bbb8", DisplayName: "Helpdesk Administrator", IsBuiltIn: true},
		{ID: "3d5a9b1c-0000-4000-8000-00000000aaaa", TemplateID: "3d5a9b1c-0000-4000-8000-00000000aaaa", DisplayName: "Contoso Helpdesk Lite"},
	}
	if !reflect.DeepEqual(defs, want) {
		t.Errorf("RoleDefinitions() = %+v,\nwant %+v", defs, want)
	}
}

// rbacapplication-list-roleassignments.md and
// rbacapplication-post-roleassignments.md (example 1's request, example
// 3's answer with properties the product does not model).
func TestDocumentedRoleAssignments(t *testing.T) {
	d := newDocServer(t)
	const path = "/v1.0/roleManagement/directory/roleAssignments"
	d.answer("GET", path, 200, `{
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleAssignments",
    "value": [
        {
            "id": "lAPpYvVpN0KRkAEhdxReEJC2sEqbR_9Hr48lds9SGHI-1",
            "principalId": "f8ca5a85-489a-49a0-b555-0a6d81e56f0d",
            "directoryScopeId": "/",
            "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10",
            "appScopeId": null,
            "condition": "someFutureCondition"
        }
    ]
}`)
	c := d.client()
	ras, err := c.RoleAssignments(testCtx(t), "f8ca5a85-489a-49a0-b555-0a6d81e56f0d")
	must(t, err)
	if len(ras) != 1 {
		t.Fatalf("RoleAssignments() = %+v", ras)
	}
	if f := d.last("GET", path).Query.Get("$filter"); f != "principalId eq 'f8ca5a85-489a-49a0-b555-0a6d81e56f0d'" {
		t.Errorf("$filter=%q", f)
	}
	sameRaw(t, "role assignment", ras[0].Raw, items(t, d.body("GET", path))[0])
	ras[0].Raw = nil
	if want := (graph.RoleAssignment{ID: "lAPpYvVpN0KRkAEhdxReEJC2sEqbR_9Hr48lds9SGHI-1", PrincipalID: "f8ca5a85-489a-49a0-b555-0a6d81e56f0d",
		RoleDefinitionID: "62e90394-69f5-4237-9190-012177145e10", DirectoryScopeID: "/"}); !reflect.DeepEqual(ras[0], want) {
		t.Errorf("RoleAssignments()[0] = %+v, want %+v", ras[0], want)
	}

	const created = `{
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleAssignments/$entity",
    "@odata.id": "https://graph.microsoft.com/v2/22350cac-d84b-466b-8c2c-f9326746709a/roleAssignments/YUb1sHQtUEyvox7IA_Eu_mm3jqnUe4lEhvatluHVi2I-1",
    "id": "YUb1sHQtUEyvox7IA_Eu_mm3jqnUe4lEhvatluHVi2I-1",
    "roleDefinitionId": "c2cf284d-6c41-4e6b-afac-4b80928c9034",
    "principalId": "f8ca5a85-489a-49a0-b555-0a6d81e56f0d",
    "principalOrganizationId": "22350cac-d84b-466b-8c2c-f9326746709a",
    "resourceScope": "/",
    "directoryScopeId": "/"
}`
	d.answer("POST", path, 201, created)
	ra, err := c.AssignRole(testCtx(t), "f8ca5a85-489a-49a0-b555-0a6d81e56f0d", "c2cf284d-6c41-4e6b-afac-4b80928c9034")
	must(t, err)
	jsonEqual(t, "POST roleAssignments", d.last("POST", path).Body, `{
    "@odata.type": "#microsoft.graph.unifiedRoleAssignment",
    "roleDefinitionId": "c2cf284d-6c41-4e6b-afac-4b80928c9034",
    "principalId": "f8ca5a85-489a-49a0-b555-0a6d81e56f0d",
    "directoryScopeId": "/"
}`)
	sameRaw(t, "created assignment", ra.Raw, []byte(created))
	if ra.ID != "YUb1sHQtUEyvox7IA_Eu_mm3jqnUe4lEhvatluHVi2I-1" || ra.RoleDefinitionID != "c2cf284d-6c41-4e6b-afac-4b80928c9034" ||
		ra.PrincipalID != "f8ca5a85-489a-49a0-b555-0a6d81e56f0d" || ra.DirectoryScopeID != "/" {
		t.Errorf("AssignRole() = %+v", ra)
	}
}

// signin-list.md example 2 (its documented body has a trailing comma in
// appliedConditionalAccessPolicies, removed here; Graph sends valid JSON),
// with a report-only result, which Graph sends only to a caller that
// prefers include-unknown-enum-members.
func TestDocumentedSignIns(t *testing.T) {
	d := newDocServer(t)
	d.answer("GET", "/v1.0/auditLogs/signIns", 200, `{
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns",
    "@odata.nextLink": "$BASE/v1.0/auditLogs/signIns/never?$top=10&$skiptoken=70f66c0893886b49",
    "value": [
        {
            "id": "66ea54eb-6301-4ee5-be62-ff5a759b0100",
            "createdDateTime": "2020-03-13T19:15:41.6195833Z",
            "userDisplayName": "Test Contoso",
            "userPrincipalName": "testaccount1@contoso.com",
            "userId": "26be570a-ae82-4189-b4e2-a37c6808512d",
            "appId": "de8bc8b5-d9f9-48b1-a8ad-b748da725064",
            "appDisplayName": "Graph explorer",
            "ipAddress": "131.107.159.37",
            "clientAppUsed": "Browser",
            "conditionalAccessStatus": "someFutureStatus",
            "isInteractive": true,
            "riskDetail": "none",
            "status": {"errorCode": 50076, "failureReason": "Due to a configuration change made by your administrator, you must use multi-factor authentication.", "additionalDetails": null},
            "location": {"city": "Redmond", "countryOrRegion": "US", "geoCoordinates": {"altitude": null, "latitude": 47.68050003051758, "longitude": -122.12094116210938}},
            "appliedConditionalAccessPolicies": [
                {"id": "de7e60eb-ed89-4d73-8205-2227def6b7c9", "displayName": "Require MFA outside", "enforcedGrantControls": ["Mfa"], "enforcedSessionControls": [], "result": "reportOnlyInterrupted"}
            ]
        },
        {
            "id": "66ea54eb-6301-4ee5-be62-ff5a759b0101",
            "createdDateTime": "2020-03-13T19:14:00Z",
            "userPrincipalName": "testaccount1@contoso.com",
            "ipAddress": "2001:db8::1",
            "status": {"errorCode": 0, "failureReason": null, "additionalDetails": null}
        }
    ]
}`)
	events, err := d.client().SignIns(testCtx(t), "26be570a-ae82-4189-b4e2-a37c6808512d", 10)
	must(t, err)
	if len(events) != 2 {
		t.Fatalf("SignIns() = %+v", events)
	}
	r := d.last("GET", "/v1.0/auditLogs/signIns")
	if r.Header.Get("Prefer") != "include-unknown-enum-members" || r.Query.Get("$top") != "10" ||
		r.Query.Get("$filter") != "userId eq '26be570a-ae82-4189-b4e2-a37c6808512d'" {
		t.Errorf("request: Prefer %q, query %v", r.Header.Get("Prefer"), r.Query)
	}
	e := events[0]
	if e.ID != "66ea54eb-6301-4ee5-be62-ff5a759b0100" || e.CreatedDateTime != "2020-03-13T19:15:41.6195833Z" ||
		e.UserPrincipalName != "testaccount1@contoso.com" || e.IPAddress != "131.107.159.37" || e.Status.ErrorCode != 50076 ||
		!strings.HasPrefix(e.Status.FailureReason, "Due to a configuration change") {
		t.Errorf("newest sign-in %+v", e)
	}
	if e := events[1]; e.CreatedDateTime != "2020-03-13T19:14:00Z" || e.IPAddress != "2001:db8::1" || e.Status.ErrorCode != 0 || e.Status.FailureReason != "" {
		t.Errorf("second sign-in %+v", e)
	}
	// SignIns reads the newest top entries: one page, the next link is not
	// followed.
	for _, g := range d.got {
		if strings.HasSuffix(g.Path, "/never") {
			t.Error("SignIns followed @odata.nextLink")
		}
	}
}

// TestDocumentedErrorsStayTyped: a documented error body through the JSON
// path is still a *graph.Error with the status, code and detail codes.
func TestDocumentedErrorsStayTyped(t *testing.T) {
	d := newDocServer(t)
	d.answer("POST", "/v1.0/users", 400, `{"error": {"code": "Request_BadRequest",
		"message": "Another object with the same value for property userPrincipalName already exists.",
		"details": [{"code": "ObjectConflict", "message": "Another object with the same value for property userPrincipalName already exists.", "target": "userPrincipalName"}],
		"innerError": {"date": "2024-01-02T03:04:05", "request-id": "5b1a9a3c-1111-4000-8000-000000000001", "client-request-id": "5b1a9a3c-1111-4000-8000-000000000001"}}}`)
	_, err := d.client().CreateUser(testCtx(t), graph.NewUser{UserPrincipalName: "AdeleV@contoso.onmicrosoft.com", DisplayName: "Adele Vance",
		MailNickname: "AdeleV", Password: "xWwvJ]6NMw+bWH-d", Enabled: true})
	ge := asGraphError(t, err)
	if ge.Status != 400 || ge.Code != "Request_BadRequest" || !graph.IsConflict(err) || ge.RequestID != "5b1a9a3c-1111-4000-8000-000000000001" {
		t.Errorf("error %+v", ge)
	}
	_, err = d.client().User(testCtx(t), "nobody@contoso.com")
	if !graph.IsNotFound(err) {
		t.Errorf("a 404: %v", err)
	}
}
