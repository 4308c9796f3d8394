package graph

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// aadstsInText finds an AADSTS code in an error's text, for the errors that
// do not come as a SignInError (azidentity's own, Azure CLI's).
var aadstsInText = regexp.MustCompile(`AADSTS(\d+)`)

// signInCode is the AADSTS code of a refused sign-in, or 0.
func signInCode(err error) int {
	var se *SignInError
	if errors.As(err, &se) && se.Code != 0 {
		return se.Code
	}
	if m := aadstsInText.FindStringSubmatch(err.Error()); m != nil {
		code, _ := strconv.Atoi(m[1])
		return code
	}
	return 0
}

// Setting names a sign-in setting a fix concerns. The front end says how
// it is given (the wizard and the commands take it as an option).
type Setting string

// The sign-in settings.
const (
	SettingMethod   Setting = "auth"
	SettingTenant   Setting = "tenant"
	SettingCloud    Setting = "cloud"
	SettingClientID Setting = "client-id"
	SettingDebugLog Setting = "debug-log"
)

// SignInHelp is the cause of a refused sign-in and its fix, in the
// operator's words; Settings are the settings the fix changes.
type SignInHelp struct {
	Cause    string
	Fix      string
	Settings []Setting
}

// ExplainSignIn states the cause and the fix for the sign-in failures an
// operator meets, by AADSTS code (never by message wording).
func ExplainSignIn(err error, method string) SignInHelp {
	switch code := signInCode(err); {
	case code == 53003 && method == AuthDeviceCode:
		return SignInHelp{
			Cause: "A Conditional Access policy blocks device code sign-in for you (AADSTS53003), " +
				"often \"Microsoft-managed: Block device code flow\".",
			Fix: "sign in another way: browser on a machine with a browser, certificate or secret " +
				"with an app registration, or azcli; or exclude yourself from that policy.",
			Settings: []Setting{SettingMethod},
		}
	case code == 53003:
		return SignInHelp{Cause: "A Conditional Access policy blocked the sign-in (AADSTS53003).",
			Fix: "sign in from a compliant device or an allowed location, or ask who manages Conditional Access."}
	case code == 90002:
		return SignInHelp{Cause: "The tenant was not found (AADSTS90002).",
			Fix: "check the tenant, and the cloud for a national cloud tenant.", Settings: []Setting{SettingTenant, SettingCloud}}
	case code == 7000218:
		return SignInHelp{Cause: "The app does not allow public client flows (AADSTS7000218).",
			Fix: "sign in with a public client app, or enable 'Allow public client flows' on it.", Settings: []Setting{SettingClientID}}
	case code == 65001:
		return SignInHelp{Cause: "Consent is missing for the app (AADSTS65001).",
			Fix: "an administrator grants consent for the app you sign in with.", Settings: []Setting{SettingClientID}}
	case code == 70020:
		return SignInHelp{Cause: "The device code expired before the sign-in finished.",
			Fix: "sign in again and enter the new code within 15 minutes."}
	case code != 0:
		var se *SignInError
		if errors.As(err, &se) {
			return SignInHelp{Cause: "AADSTS" + strconv.Itoa(code) + ": " + se.Description,
				Fix: "try again; a debug log records the details.", Settings: []Setting{SettingDebugLog}}
		}
	}
	return SignInHelp{Cause: strings.TrimSpace(err.Error()), Fix: "try again; a debug log records the details.", Settings: []Setting{SettingDebugLog}}
}

// Text is the explanation as the command line and the wizard print it:
// the cause, then the fix with the options it concerns.
func (h SignInHelp) Text() string {
	label := "Fix"
	if len(h.Settings) > 0 {
		opts := make([]string, len(h.Settings))
		for i, s := range h.Settings {
			opts[i] = "--" + string(s)
		}
		label += " (" + strings.Join(opts, ", ") + ")"
	}
	return h.Cause + "\n" + label + ": " + h.Fix
}
