package graph

import (
	"errors"
	"fmt"
	"net/http"
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
	SettingCert     Setting = "cert"
)

// SignInHelp is the cause of a refused sign-in and its fix, in the
// operator's words; Settings are the settings the fix changes.
type SignInHelp struct {
	Cause    string
	Fix      string
	Settings []Setting
}

// mandatoryMFA is what Microsoft's own MFA for admin tools means for the
// operator (GRAPH-NOTES section 11): no Conditional Access exclusion lifts it.
const mandatoryMFA = " Microsoft also requires MFA of administrators in its admin tools, whatever Conditional Access says."

// otherMethods is the fix when one sign-in method is refused: the others.
const otherMethods = "sign in another way: --auth browser on a machine with a browser, " +
	"--auth certificate or --auth secret with your own app registration, or --auth azcli"

// codeHelp is the cause and fix for each AADSTS code of GRAPH-NOTES
// section 7 and the other refusals an operator meets. Every fix is one the
// operator (or an administrator they can name) can carry out.
var codeHelp = map[int]SignInHelp{
	53003: {Cause: "A Conditional Access policy blocked the sign-in (AADSTS53003).",
		Fix: "sign in from a compliant device or an allowed location, or ask who manages Conditional Access which policy applies (the sign-in log names it)."},
	530035: {Cause: "Security defaults blocked the sign-in as unsafe (AADSTS530035).",
		Fix: "sign in from your usual device and network with MFA, or have another Global Administrator check the sign-in in the Entra admin centre."},
	50076: {Cause: "The tenant requires MFA for this sign-in (AADSTS50076)." + mandatoryMFA,
		Fix: "sign in interactively so that you can complete MFA: --auth devicecode or --auth browser (with azcli, run 'az login' again).", Settings: []Setting{SettingMethod}},
	50079: {Cause: "The account must register for MFA before it can sign in (AADSTS50079)." + mandatoryMFA,
		Fix: "register an MFA method at https://aka.ms/mfasetup with this account, then sign in again."},
	50072: {Cause: "The account must register for MFA before it can sign in (AADSTS50072).",
		Fix: "register an MFA method at https://aka.ms/mfasetup with this account, then sign in again."},
	50074: {Cause: "MFA was required and was not completed (AADSTS50074)." + mandatoryMFA,
		Fix: "sign in again and complete the MFA prompt (approve it in the Authenticator app or enter its code)."},
	50126: {Cause: "The account name or password is wrong (AADSTS50126).",
		Fix: "check the account and password you entered and sign in again."},
	50053: {Cause: "The account is locked after too many attempts, or the sign-in came from a blocked address (AADSTS50053).",
		Fix: "wait for the lockout to end (a minute or more) and sign in with the right password, or have an administrator reset it."},
	50057: {Cause: "The account is disabled (AADSTS50057).",
		Fix: "sign in with another administrator account, or have an administrator enable this one."},
	50055: {Cause: "The account's password has expired (AADSTS50055).",
		Fix: "change the password at https://myaccount.microsoft.com (or https://aka.ms/sspr), then sign in again."},
	50034: {Cause: "The account does not exist in this tenant (AADSTS50034).",
		Fix: "sign in with an account of this tenant, or choose the account's own tenant.", Settings: []Setting{SettingTenant}},
	65001: {Cause: "Nobody has consented to the app's permissions in this tenant (AADSTS65001).",
		Fix: "have a Global Administrator grant admin consent to the app (Entra admin centre > Enterprise applications > the app > Permissions), or sign in once as one and accept.", Settings: []Setting{SettingClientID}},
	70016: {Cause: "The device code was not entered yet (AADSTS70016).",
		Fix: "open the address shown, enter the code and finish signing in before it expires."},
	70020: {Cause: "The device code expired before the sign-in finished.",
		Fix: "sign in again and enter the new code within 15 minutes."},
	7000218: {Cause: "The app registration does not allow public client flows, which device code sign-in needs (AADSTS7000218).",
		Fix: "turn on 'Allow public client flows' on the app registration's Authentication page, or leave --client-id out to use the Microsoft Graph Command Line Tools app.", Settings: []Setting{SettingClientID}},
	700016: {Cause: "The app (client id) is not registered in this tenant (AADSTS700016).",
		Fix: "give the Application (client) ID of an app registration in this tenant, check the tenant, or leave --client-id out.", Settings: []Setting{SettingClientID, SettingTenant}},
	7000215: {Cause: "The client secret is wrong (AADSTS7000215).",
		Fix: "set MGMTSESSION_CLIENT_SECRET to the secret's Value (not its ID), and create a new secret if it expired."},
	700027: {Cause: "The app registration does not know this certificate (AADSTS700027).",
		Fix: "upload the certificate's public part to the app registration (Certificates & secrets), or give the certificate that is there.", Settings: []Setting{SettingCert}},
	90002: {Cause: "The tenant was not found (AADSTS90002); a tenant in a national cloud is not found in the global one.",
		Fix: "check the tenant, and give --cloud usgov, usgovdod or china for a national cloud tenant.", Settings: []Setting{SettingTenant, SettingCloud}},
	53000: {Cause: "Conditional Access requires a compliant device, and this one is not (AADSTS53000).",
		Fix: "sign in from a device your organisation manages (Intune), or ask who manages Conditional Access to exclude the account from that policy."},
	53001: {Cause: "Conditional Access requires a domain-joined device (AADSTS53001).",
		Fix: "sign in from a joined device, or ask who manages Conditional Access to exclude the account from that policy."},
	53002: {Cause: "Conditional Access requires an approved client app (AADSTS53002).",
		Fix: "sign in with an approved app, or ask who manages Conditional Access to exclude the account from that policy."},
	530002: {Cause: "Conditional Access requires a compliant device (AADSTS530002).",
		Fix: "sign in from a device your organisation manages, or ask who manages Conditional Access to exclude the account from that policy."},
	50097: {Cause: "Conditional Access requires device authentication (AADSTS50097).",
		Fix: "sign in from a registered device, or ask who manages Conditional Access to exclude the account from that policy."},
	50144: {Cause: "The account's Active Directory password has expired (AADSTS50144).",
		Fix: "change the password on the domain (or at https://aka.ms/sspr), then sign in again."},
	50158: {Cause: "An external security challenge (a third-party MFA) was not completed (AADSTS50158).",
		Fix: "sign in interactively and complete the challenge."},
	70003: {Cause: "The sign-in service does not offer this sign-in flow (AADSTS70003).",
		Fix: "use another sign-in method: --auth devicecode or --auth browser.", Settings: []Setting{SettingMethod}},
	500011: {Cause: "Microsoft Graph is not known under the resource asked for (AADSTS500011), usually the wrong cloud.",
		Fix: "give the cloud the tenant lives in.", Settings: []Setting{SettingCloud}},
}

// ExplainCode is the cause and fix of an AADSTS code as a sign-in log
// entry shows it (status.errorCode); false for a code without its own
// explanation.
func ExplainCode(code int) (SignInHelp, bool) {
	h, ok := codeHelp[code]
	return h, ok
}

// ExplainSignIn states the cause and the fix for the sign-in failures an
// operator meets, by AADSTS code or by the kind of network failure (never
// by message wording).
func ExplainSignIn(err error, method string) SignInHelp {
	code := signInCode(err)
	switch {
	case code == 53003 && method == AuthDeviceCode:
		return SignInHelp{
			Cause: "A Conditional Access policy blocks device code sign-in for you (AADSTS53003), " +
				"often \"Microsoft-managed: Block device code flow\".",
			Fix:      otherMethods + "; or exclude yourself from that policy.",
			Settings: []Setting{SettingMethod},
		}
	case code != 0:
		if h, ok := codeHelp[code]; ok {
			return h
		}
		var se *SignInError
		cause := "Entra refused the sign-in (AADSTS" + strconv.Itoa(code) + ")."
		if errors.As(err, &se) && se.Description != "" {
			cause = "AADSTS" + strconv.Itoa(code) + ": " + strings.TrimPrefix(se.Description, "AADSTS"+strconv.Itoa(code)+": ")
		}
		return SignInHelp{Cause: cause,
			Fix: "look the code up at https://login.microsoftonline.com/error?code=" + strconv.Itoa(code) +
				"; a debug log records the exchange.", Settings: []Setting{SettingDebugLog}}
	}
	switch {
	case errors.Is(err, ErrNoBrowser):
		return SignInHelp{Cause: "No browser can open here: there is no display (DISPLAY or WAYLAND_DISPLAY), as in an SSH session.",
			Fix: "use --auth devicecode: it shows a code to enter in a browser on any other device.", Settings: []Setting{SettingMethod}}
	case errors.Is(err, ErrNoAzureCLI):
		return SignInHelp{Cause: "The Azure CLI (az) is not installed or not on the PATH.",
			Fix: "install it (https://aka.ms/installazurecli) and run 'az login', or use --auth devicecode.", Settings: []Setting{SettingMethod}}
	}
	var ce *CertificateError
	if errors.As(err, &ce) {
		return SignInHelp{Cause: "The certificate cannot be used: " + ce.Error() + ".",
			Fix: "give a PEM file with the certificate and its private key, or a PFX (its password in MGMTSESSION_CERT_PASSWORD).", Settings: []Setting{SettingCert}}
	}
	if n := networkError(err); n != nil {
		return explainNetwork(n)
	}
	if method == AuthAzureCLI {
		// The Azure CLI signs in on its own, in the cloud it is set to;
		// its refusals (not signed in, another tenant, another cloud) are
		// all mended there.
		return SignInHelp{Cause: "The Azure CLI gave no token: " + strings.TrimSpace(err.Error()),
			Fix:      "run 'az login --tenant TENANT' (first 'az cloud set --name AzureUSGovernment' or AzureChinaCloud for a national cloud), or use --auth devicecode.",
			Settings: []Setting{SettingMethod}}
	}
	return SignInHelp{Cause: strings.TrimSpace(err.Error()),
		Fix: "run it again with a debug log and read what the log records about the exchange.", Settings: []Setting{SettingDebugLog}}
}

// networkError is the network failure in err's chain, classified.
func networkError(err error) *NetworkError {
	var n *NetworkError
	if errors.As(err, &n) {
		return n
	}
	if c := classifyNetwork("", err); c.Kind != NetOther {
		return c
	}
	return nil
}

func explainNetwork(n *NetworkError) SignInHelp {
	host := n.Host
	if host == "" {
		host = "the sign-in service"
	}
	switch n.Kind {
	case NetDNS:
		return SignInHelp{Cause: "The name " + host + " does not resolve: this machine cannot look it up.",
			Fix: "check the network connection and DNS; behind a proxy set HTTPS_PROXY=http://proxy:port; and check the cloud the tenant lives in.", Settings: []Setting{SettingCloud}}
	case NetProxyDown:
		return SignInHelp{Cause: "The proxy in HTTPS_PROXY does not answer.",
			Fix: "check the proxy's address and port in HTTPS_PROXY (and that it runs), or unset HTTPS_PROXY where no proxy is needed."}
	case NetProxyRefused:
		if n.Status == http.StatusProxyAuthRequired {
			return SignInHelp{Cause: "The proxy wants a user name and password before it connects to " + host + " (407).",
				Fix: "give them in HTTPS_PROXY: http://USER:PASSWORD@proxy:port (percent-encode special characters)."}
		}
		return SignInHelp{Cause: fmt.Sprintf("The proxy refused to connect to %s (%d %s).", host, n.Status, http.StatusText(n.Status)),
			Fix: "ask the proxy's administrator to allow " + host + " and the Graph host, or set NO_PROXY for them if they are reachable directly."}
	case NetTLSUntrusted:
		return SignInHelp{Cause: "The connection to " + host + " presented a certificate this machine does not trust, as a proxy that inspects TLS does.",
			Fix: "add that proxy's CA certificate: SSL_CERT_FILE=/path/to/ca-bundle.pem (a bundle with the system CAs and it) or SSL_CERT_DIR."}
	case NetCaptivePortal:
		return SignInHelp{Cause: "A web page answered instead of the sign-in service at " + host + ": a captive portal or a proxy's block page.",
			Fix: "open any web page in a browser to sign in to the network (hotel, guest Wi-Fi), or check the proxy; then run it again."}
	case NetRefused:
		return SignInHelp{Cause: "Nothing answered at " + host + ".",
			Fix: "check the network connection, and set HTTPS_PROXY=http://proxy:port if this network reaches the internet through a proxy."}
	}
	return SignInHelp{Cause: strings.TrimSpace(n.Error()),
		Fix: "check the network connection and proxy (HTTPS_PROXY); a debug log records the exchange.", Settings: []Setting{SettingDebugLog}}
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
