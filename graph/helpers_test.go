package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
)

// Objects of the demo tenant (assets/demo-tenant.json).
const (
	tenantInitialDomain = "contosodemo.onmicrosoft.com"
	operatorID          = "0a1b2c3d-0001-4000-8000-000000000001"
	operatorUPN         = "adele.admin@contoso-demo.com"
	breakGlass1         = "0a1b2c3d-0002-4000-8000-000000000002"
	breakGlass2         = "0a1b2c3d-0003-4000-8000-000000000003"
	meganID             = "0a1b2c3d-0004-4000-8000-000000000004"
	leeID               = "0a1b2c3d-0005-4000-8000-000000000005" // per-user MFA enforced
	existingAccountID   = "0a1b2c3d-00c0-4000-8000-0000000000c0" // scenario account-exists
	existingAccountUPN  = "coreview.admin@contosodemo.onmicrosoft.com"
	groupAllStaff       = "9b8a7c6d-0001-4000-8000-0000000000a1"
	groupITDepartment   = "9b8a7c6d-0002-4000-8000-0000000000a2"
	groupITHelpdesk     = "9b8a7c6d-0003-4000-8000-0000000000a3"
	groupEmergency      = "9b8a7c6d-0004-4000-8000-0000000000a4"
	headOfficeID        = "3f7e2d1c-0001-4000-8000-00000000b001" // trusted
	allowedCountriesID  = "3f7e2d1c-0002-4000-8000-00000000b002"
	policyMFAAdmins     = "c0a1b2c3-0001-4000-8000-00000000c001"
	policyMFAAll        = "c0a1b2c3-0002-4000-8000-00000000c002"
	policyLegacyAuth    = "c0a1b2c3-0003-4000-8000-00000000c003"
	policyCountryBlock  = "c0a1b2c3-0004-4000-8000-00000000c004"
	policyDisabled      = "c0a1b2c3-0008-4000-8000-00000000c008"
	roleGlobalAdmin     = "62e90394-69f5-4237-9190-012177145e10"
	roleGlobalReader    = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
	roleExchangeAdmin   = "29232cdf-9323-42fd-ade2-1d097af3e4de"
	appExchangeOnline   = "00000002-0000-0ff1-ce00-000000000000"
	outsideIP           = "203.0.113.50"
	strongPassword      = "Tr0ub4dor&3-horse!"
)

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// must fails the test on an error, printing it safely.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(safeError(t, err))
	}
}

// safeError renders an error, failing the test if rendering panics (the
// SDK's ODataError.Error() does when a body lacks error.message).
func safeError(t testing.TB, err error) (s string) {
	t.Helper()
	defer func() {
		if v := recover(); v != nil {
			t.Errorf("err.Error() panicked: %v", v)
			s = fmt.Sprintf("%T (Error() panicked)", err)
		}
	}()
	return err.Error()
}

// asGraphError returns the *graph.Error in err, failing the test when there
// is none.
func asGraphError(t testing.TB, err error) *graph.Error {
	t.Helper()
	var ge *graph.Error
	if !errors.As(err, &ge) {
		t.Fatalf("error %T %v is not a *graph.Error", err, err)
	}
	return ge
}

// lastRequest is the newest logged request whose path ends with suffix
// (and whose method matches, when given).
func lastRequest(t testing.TB, srv *tenantsim.Server, method, suffix string) tenantsim.RequestRecord {
	t.Helper()
	reqs := srv.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if strings.HasSuffix(reqs[i].Path, suffix) && (method == "" || reqs[i].Method == method) {
			return reqs[i]
		}
	}
	t.Fatalf("no %s request to ...%s in the log", method, suffix)
	return tenantsim.RequestRecord{}
}

// countRequests counts logged requests whose path ends with suffix.
func countRequests(srv *tenantsim.Server, method, suffix string) int {
	n := 0
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, suffix) && (method == "" || r.Method == method) {
			n++
		}
	}
	return n
}

// newAccount creates a user the way the product creates the management
// account and removes it when the test ends.
func newAccount(t testing.TB, c *graph.Client, local string) graph.User {
	t.Helper()
	u, err := c.CreateUser(testCtx(t), graph.NewUser{
		UserPrincipalName: local + "@" + tenantInitialDomain, DisplayName: "Test " + local, MailNickname: local,
		Password: strongPassword, Enabled: true,
	})
	must(t, err)
	return u
}

// passwordSignIn runs the resource-owner password grant from the given
// client address, as the live sign-in probe does, and returns the AADSTS
// code (0 when a token was issued).
func passwordSignIn(t testing.TB, srv *tenantsim.Server, upn, password, ip string) int {
	t.Helper()
	form := url.Values{
		"grant_type": {"password"}, "client_id": {tenantsim.PublicClientID}, "username": {upn}, "password": {password},
		"scope": {srv.BaseURL() + "/.default"},
	}
	req, err := http.NewRequest(http.MethodPost, srv.BaseURL()+"/"+srv.TenantID()+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Sim-Client-IP", ip)
	req.Header.Set("X-Sim-Client-Country", "GB")
	resp, err := (&http.Client{Transport: srv.Transport()}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		ErrorCodes  []int  `json:"error_codes"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.AccessToken != "" {
		return 0
	}
	if len(body.ErrorCodes) == 0 {
		t.Fatalf("password sign-in: status %d without error_codes", resp.StatusCode)
	}
	return body.ErrorCodes[0]
}

// tenantWith starts a simulated tenant with options for one test.
func tenantWith(t testing.TB, opts tenantsim.Options) *tenantsim.Server {
	t.Helper()
	srv, err := tenantsim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}
