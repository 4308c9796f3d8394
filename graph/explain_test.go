package graph_test

import (
	"errors"
	"strings"
	"testing"

	"mgmtsession/graph"
)

// TestExplainSignInError: the cause and fix come from the AADSTS code,
// whether it arrives as a graph.SignInError or only in an error's text.
func TestExplainSignInError(t *testing.T) {
	wrapped := func(code int, desc string) error {
		return &graph.SignInError{Code: code, Description: desc, Err: errors.New("DeviceCodeCredential authentication failed")}
	}
	cases := []struct {
		name   string
		err    error
		method string
		want   string
	}{
		{"device code blocked by CA", wrapped(53003, "Access has been blocked by Conditional Access policies."), graph.AuthDeviceCode, "Fix (--auth): sign in another way: browser on a machine with a browser, certificate or secret with an app registration, or azcli"},
		{"other flow blocked by CA", wrapped(53003, "blocked"), graph.AuthBrowser, "compliant device or an allowed location"},
		{"code only in the text", errors.New("AzureCLICredential: ERROR: AADSTS90002: Tenant 'x' not found."), graph.AuthAzureCLI, "Fix (--tenant, --cloud): check the tenant"},
		{"expired device code", wrapped(70020, "expired"), graph.AuthDeviceCode, "within 15 minutes"},
		{"unknown code keeps Entra's words", wrapped(50058, "Session information is not sufficient."), graph.AuthDeviceCode, "AADSTS50058: Session information is not sufficient."},
		{"no code at all", errors.New("dial tcp: connection refused"), graph.AuthDeviceCode, "connection refused\nFix (--debug-log): try again"},
		{"wording alone decides nothing", errors.New("the word expired, no code"), graph.AuthDeviceCode, "the word expired, no code\nFix (--debug-log): try again"},
	}
	for _, c := range cases {
		if got := graph.ExplainSignIn(c.err, c.method).Text(); !strings.Contains(got, c.want) {
			t.Errorf("%s: %q lacks %q", c.name, got, c.want)
		}
	}
}
