package whatif

import (
	"fmt"
	"net/netip"
	"strings"
)

// Defaults for the sign-in conditions the platform's sign-ins have. The
// platform signs in through PowerShell modules and the Graph SDK, which
// Conditional Access sees as "Mobile apps and desktop clients" (modern
// authentication, not a browser); the platform's workers run on Windows.
const (
	DefaultClientAppType  = "mobileAppsAndDesktopClients"
	DefaultDevicePlatform = "windows"
)

// ClientAppTypes are the client app types a sign-in can have, as Graph's
// What If spells them.
var ClientAppTypes = []string{"browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "other"}

// DevicePlatforms are the device platforms a sign-in can report.
var DevicePlatforms = []string{"windows", "macOS", "linux", "iOS", "android"}

// ParseIP reads a sign-in's public IP address, IPv4 or IPv6.
func ParseIP(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4 or IPv6 address", s)
	}
	return a, nil
}

// ParseCountry reads an ISO 3166 two-letter country code; "" is no country.
func ParseCountry(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) != 2 || !isLetter(s[0]) || !isLetter(s[1]) {
		return "", fmt.Errorf("%q is not a two-letter country code such as US or GB", s)
	}
	return strings.ToUpper(s), nil
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// ParseClientApp reads a client app type, ignoring case, and returns Graph's
// spelling.
func ParseClientApp(s string) (string, error) {
	if v, ok := oneOfFold(s, ClientAppTypes); ok {
		return v, nil
	}
	return "", fmt.Errorf("unknown client app type %q (use %s)", s, strings.Join(ClientAppTypes, ", "))
}

// PlatformUnknown is the --platform value of a sign-in whose device platform
// is not known; it is evaluated as "" (not given).
const PlatformUnknown = "unknown"

// ParsePlatform reads a device platform, ignoring case, and returns Graph's
// spelling; "unknown" returns "", a platform not given.
func ParsePlatform(s string) (string, error) {
	if strings.EqualFold(strings.TrimSpace(s), PlatformUnknown) {
		return "", nil
	}
	if v, ok := oneOfFold(s, DevicePlatforms); ok {
		return v, nil
	}
	return "", fmt.Errorf("unknown device platform %q (use %s or unknown)", s, strings.Join(DevicePlatforms, ", "))
}

// ParseAuthFlow reads an authentication flow: "deviceCode" (or Graph's
// "deviceCodeFlow") is the device code flow, "authenticationTransfer" the
// transfer of a session to another device; "" is none.
func ParseAuthFlow(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return "", nil
	case "devicecode", "devicecodeflow":
		return "deviceCodeFlow", nil
	case "authenticationtransfer":
		return "authenticationTransfer", nil
	}
	return "", fmt.Errorf("unknown authentication flow %q (use deviceCode or authenticationTransfer)", s)
}

func oneOfFold(s string, allowed []string) (string, bool) {
	s = strings.TrimSpace(s)
	for _, a := range allowed {
		if strings.EqualFold(a, s) {
			return a, true
		}
	}
	return "", false
}
