package tenantsim_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"mgmtsession/graph/tenantsim"
)

// These tests speak to the simulated tenant as any HTTP client would, with
// request bodies shaped like Microsoft's documented examples, so that what
// the real adapter relies on is pinned down independently of the adapter.

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// sim is one simulated tenant and a raw HTTP client for it.
type sim struct {
	t     testing.TB
	srv   *tenantsim.Server
	hc    *http.Client
	token string // app-only, from the client-credentials grant
}

func newSim(t testing.TB, scenario string) *sim {
	t.Helper()
	return newSimWith(t, tenantsim.Options{Scenario: scenario})
}

func newSimWith(t testing.TB, opts tenantsim.Options) *sim {
	t.Helper()
	srv, err := tenantsim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	s := &sim{t: t, srv: srv, hc: &http.Client{Transport: srv.Transport(), Timeout: 20 * time.Second}}
	s.token = s.appToken()
	return s
}

// form posts a form to the authority and decodes the JSON answer.
func (s *sim) form(path string, v url.Values, hdr ...string) *answer {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.srv.BaseURL()+path, strings.NewReader(v.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return s.send(req)
}

// appToken runs the client-credentials grant for the demo app.
func (s *sim) appToken() string {
	s.t.Helper()
	a := s.form("/"+s.srv.TenantID()+"/oauth2/v2.0/token", url.Values{
		"client_id":     {tenantsim.DemoAppClientID},
		"client_secret": {s.srv.ClientSecret()},
		"scope":         {s.srv.BaseURL() + "/.default"},
		"grant_type":    {"client_credentials"},
	})
	if a.Status != http.StatusOK {
		s.t.Fatalf("client credentials grant: %d %s", a.Status, a.Raw)
	}
	tok, _ := a.Body["access_token"].(string)
	if tok == "" {
		s.t.Fatalf("client credentials grant: no access_token in %s", a.Raw)
	}
	return tok
}

// answer is a decoded response.
type answer struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

func (s *sim) send(req *http.Request) *answer {
	s.t.Helper()
	resp, err := s.hc.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	a := &answer{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &a.Body); err != nil {
			s.t.Fatalf("%s %s: answer is not a JSON object: %v\n%s", req.Method, req.URL.Path, err, raw)
		}
	}
	return a
}

// call sends a Graph request with the app token. body is sent as is when
// it is a string or []byte, else as JSON; hdr are header name/value pairs
// ("Authorization", "" removes the token).
func (s *sim) call(method, path string, body any, hdr ...string) *answer {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	if !strings.HasPrefix(path, "/") {
		s.t.Fatalf("path %q must start with /", path)
	}
	if !strings.HasPrefix(path, "/v1.0/") && !strings.HasPrefix(path, "/beta/") {
		path = "/v1.0" + path
	}
	req, err := http.NewRequest(method, s.srv.BaseURL()+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	return s.send(req)
}

// want fails the test unless the answer has the status.
func (a *answer) want(t testing.TB, status int) *answer {
	t.Helper()
	if a.Status != status {
		t.Fatalf("status %d, want %d: %s", a.Status, status, a.Raw)
	}
	return a
}

// graphError checks Graph's error body: error.code and error.message
// present (the SDK's ODataError.Error() panics without a message), and
// innerError carrying the request-id the response header names and a date.
func (a *answer) graphError(t testing.TB, status int, code string) (message string) {
	t.Helper()
	a.want(t, status)
	e, ok := a.Body["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %s", a.Raw)
	}
	gotCode, _ := e["code"].(string)
	message, _ = e["message"].(string)
	if gotCode == "" || message == "" {
		t.Fatalf("error.code %q and error.message %q must both be set: %s", gotCode, message, a.Raw)
	}
	if code != "" && gotCode != code {
		t.Errorf("error.code %q, want %q (%s)", gotCode, code, message)
	}
	inner, _ := e["innerError"].(map[string]any)
	rid, _ := inner["request-id"].(string)
	if !guidRE.MatchString(rid) || rid != a.Header.Get("request-id") {
		t.Errorf("innerError.request-id %q; header request-id %q", rid, a.Header.Get("request-id"))
	}
	if d, _ := inner["date"].(string); d == "" {
		t.Errorf("innerError.date missing: %s", a.Raw)
	}
	return message
}

// detailCodes lists error.details[].code.
func (a *answer) detailCodes() []string {
	e, _ := a.Body["error"].(map[string]any)
	details, _ := e["details"].([]any)
	var out []string
	for _, d := range details {
		if m, ok := d.(map[string]any); ok {
			c, _ := m["code"].(string)
			out = append(out, c)
		}
	}
	return out
}

func (a *answer) str(key string) string {
	v, _ := a.Body[key].(string)
	return v
}

func gzipped(t *testing.T, data string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Ids of the demo tenant (assets/demo-tenant.json).
const (
	operatorID      = "0a1b2c3d-0001-4000-8000-000000000001"
	meganID         = "0a1b2c3d-0004-4000-8000-000000000004"
	itDepartmentID  = "9b8a7c6d-0002-4000-8000-0000000000a2"
	headOfficeID    = "3f7e2d1c-0001-4000-8000-00000000b001" // trusted IP location
	allowedCountry  = "3f7e2d1c-0002-4000-8000-00000000b002" // referenced by CA004
	policyMFAAll    = "c0a1b2c3-0002-4000-8000-00000000c002"
	globalReader    = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
	exchangeOnline  = "00000002-0000-0ff1-ce00-000000000000"
	initialDomain   = "contosodemo.onmicrosoft.com"
	goodPassword    = "xWwvJ]6NMw+bWH-d"
	outsideIP       = "203.0.113.50"
	namedLocations  = "/identity/conditionalAccess/namedLocations"
	policiesPath    = "/identity/conditionalAccess/policies"
	evaluatePath    = "/identity/conditionalAccess/evaluate"
	roleAssignments = "/roleManagement/directory/roleAssignments"
)
