package connect

import (
	"errors"
	"fmt"
	"strings"

	"mgmtsession/graph"
)

// ExplainSignInError states the cause and the fix for the sign-in failures
// an operator meets, by AADSTS code.
func ExplainSignInError(err error, method string) string {
	msg := err.Error()
	var se *graph.SignInError
	if errors.As(err, &se) {
		msg = fmt.Sprintf("AADSTS%d %s", se.Code, se.Description)
	}
	switch {
	case strings.Contains(msg, "AADSTS53003") && method == graph.AuthDeviceCode:
		return "A Conditional Access policy blocks device code sign-in for you (AADSTS53003), " +
			"often \"Microsoft-managed: Block device code flow\".\n" +
			"Fix: sign in another way: --auth browser on a machine with a browser, --auth certificate or " +
			"--auth secret with an app registration, or --auth azcli; or exclude yourself from that policy."
	case strings.Contains(msg, "AADSTS53003"):
		return "A Conditional Access policy blocked the sign-in (AADSTS53003). Fix: sign in from a compliant device or an allowed location, or ask who manages Conditional Access."
	case strings.Contains(msg, "AADSTS90002"):
		return "The tenant was not found (AADSTS90002). Fix: check --tenant, and --cloud for a national cloud tenant."
	case strings.Contains(msg, "AADSTS7000218"):
		return "The app does not allow public client flows (AADSTS7000218). Fix: use --client-id of a public client app, or enable 'Allow public client flows' on it."
	case strings.Contains(msg, "AADSTS65001"):
		return "Consent is missing for the app (AADSTS65001). Fix: an administrator grants consent for --client-id."
	case strings.Contains(msg, "AADSTS70020"), strings.Contains(msg, "expired"):
		return "The device code expired before the sign-in finished. Fix: sign in again and enter the new code within 15 minutes."
	}
	return msg + "\nFix: try again; --debug-log FILE records the details."
}
