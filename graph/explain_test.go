package graph_test

import (
	"errors"
	"strconv"
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
		{"device code blocked by CA", wrapped(53003, "Access has been blocked by Conditional Access policies."), graph.AuthDeviceCode, "Fix (--auth): sign in another way: --auth browser on a machine with a browser, --auth certificate or --auth secret"},
		{"other flow blocked by CA", wrapped(53003, "blocked"), graph.AuthBrowser, "compliant device or an allowed location"},
		{"code only in the text", errors.New("AzureCLICredential: ERROR: AADSTS90002: Tenant 'x' not found."), graph.AuthAzureCLI, "Fix (--tenant, --cloud): check the tenant"},
		{"expired device code", wrapped(70020, "expired"), graph.AuthDeviceCode, "within 15 minutes"},
		{"unknown code keeps Entra's words", wrapped(50058, "Session information is not sufficient."), graph.AuthDeviceCode, "AADSTS50058: Session information is not sufficient.\nFix (--debug-log): look the code up at https://login.microsoftonline.com/error?code=50058"},
		{"the Azure CLI not signed in", errors.New("AzureCLICredential: ERROR: Please run 'az login' to setup account."), graph.AuthAzureCLI, "Fix (--auth): run 'az login --tenant TENANT'"},
		{"no code at all", errors.New("dial tcp: connection refused"), graph.AuthDeviceCode, "connection refused\nFix (--debug-log): run it again with a debug log"},
		{"wording alone decides nothing", errors.New("the word expired, no code"), graph.AuthDeviceCode, "the word expired, no code\nFix (--debug-log): run it again with a debug log"},
	}
	for _, c := range cases {
		if got := graph.ExplainSignIn(c.err, c.method).Text(); strings.Contains(got, "try again") {
			t.Errorf("%s: %q says only to try again", c.name, got)
		}
		if got := graph.ExplainSignIn(c.err, c.method).Text(); !strings.Contains(got, c.want) {
			t.Errorf("%s: %q lacks %q", c.name, got, c.want)
		}
	}
}

// Every AADSTS code of GRAPH-NOTES section 7 (and the refusals met on the
// way to a token) has its own cause, naming the code, and a fix that is
// not "try again"; the MFA codes say that Microsoft's own MFA for admin
// tools is not lifted by Conditional Access.
func TestEveryDocumentedCodeIsExplained(t *testing.T) {
	cases := []struct {
		code   int
		method string
		want   string
	}{
		{53003, graph.AuthBrowser, "allowed location"},
		{53003, graph.AuthDeviceCode, "--auth browser"},
		{530035, graph.AuthBrowser, "Security defaults blocked"},
		{50076, graph.AuthAzureCLI, "Fix (--auth): sign in interactively so that you can complete MFA"},
		{50079, graph.AuthDeviceCode, "https://aka.ms/mfasetup"},
		{50072, graph.AuthDeviceCode, "https://aka.ms/mfasetup"},
		{50074, graph.AuthDeviceCode, "complete the MFA prompt"},
		{50126, graph.AuthDeviceCode, "check the account and password"},
		{50053, graph.AuthDeviceCode, "wait for the lockout to end"},
		{50057, graph.AuthDeviceCode, "have an administrator enable this one"},
		{50055, graph.AuthDeviceCode, "change the password at https://myaccount.microsoft.com"},
		{65001, graph.AuthDeviceCode, "grant admin consent"},
		{70016, graph.AuthDeviceCode, "enter the code"},
		{7000218, graph.AuthDeviceCode, "Fix (--client-id): turn on 'Allow public client flows'"},
		{700016, graph.AuthSecret, "Fix (--client-id, --tenant)"},
		{90002, graph.AuthDeviceCode, "--cloud usgov, usgovdod or china"},
	}
	for _, c := range cases {
		err := &graph.SignInError{Code: c.code, Description: "AADSTS: text from Entra", Err: errors.New("authentication failed")}
		h := graph.ExplainSignIn(err, c.method)
		text := h.Text()
		if !strings.Contains(text, c.want) || strings.Contains(text, "try again") || strings.Contains(text, "look the code up") {
			t.Errorf("AADSTS%d: %q, want %q", c.code, text, c.want)
		}
		if c.code != 70020 && !strings.Contains(h.Cause, strconv.Itoa(c.code)) {
			t.Errorf("AADSTS%d: the cause %q does not name the code", c.code, h.Cause)
		}
		if (c.code == 50076 || c.code == 50079 || c.code == 50074) && !strings.Contains(h.Cause, "Microsoft also requires MFA of administrators") {
			t.Errorf("AADSTS%d: the cause %q does not mention Microsoft's mandatory MFA", c.code, h.Cause)
		}
	}
}
