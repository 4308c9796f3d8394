package connect

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"mgmtsession/graph"
)

// aadstsInText finds an AADSTS code in an error's text, for the errors that
// do not come as a graph.SignInError (azidentity's own, Azure CLI's).
var aadstsInText = regexp.MustCompile(`AADSTS(\d+)`)

// signInCode is the AADSTS code of a refused sign-in, or 0.
func signInCode(err error) int {
	var se *graph.SignInError
	if errors.As(err, &se) && se.Code != 0 {
		return se.Code
	}
	if m := aadstsInText.FindStringSubmatch(err.Error()); m != nil {
		code, _ := strconv.Atoi(m[1])
		return code
	}
	return 0
}

// ExplainSignInError states the cause and the fix for the sign-in failures
// an operator meets, by AADSTS code (never by message wording).
func ExplainSignInError(err error, method string) string {
	switch code := signInCode(err); {
	case code == 53003 && method == graph.AuthDeviceCode:
		return "A Conditional Access policy blocks device code sign-in for you (AADSTS53003), " +
			"often \"Microsoft-managed: Block device code flow\".\n" +
			"Fix: sign in another way: --auth browser on a machine with a browser, --auth certificate or " +
			"--auth secret with an app registration, or --auth azcli; or exclude yourself from that policy."
	case code == 53003:
		return "A Conditional Access policy blocked the sign-in (AADSTS53003). Fix: sign in from a compliant device or an allowed location, or ask who manages Conditional Access."
	case code == 90002:
		return "The tenant was not found (AADSTS90002). Fix: check --tenant, and --cloud for a national cloud tenant."
	case code == 7000218:
		return "The app does not allow public client flows (AADSTS7000218). Fix: use --client-id of a public client app, or enable 'Allow public client flows' on it."
	case code == 65001:
		return "Consent is missing for the app (AADSTS65001). Fix: an administrator grants consent for --client-id."
	case code == 70020:
		return "The device code expired before the sign-in finished. Fix: sign in again and enter the new code within 15 minutes."
	case code != 0:
		var se *graph.SignInError
		if errors.As(err, &se) {
			return "AADSTS" + strconv.Itoa(code) + ": " + se.Description + "\nFix: try again; --debug-log FILE records the details."
		}
	}
	return strings.TrimSpace(err.Error()) + "\nFix: try again; --debug-log FILE records the details."
}
