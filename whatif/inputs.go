package whatif

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"mgmtsession/ca"
)

// The inputs of Entra's What If beyond address, client and platform: user
// actions, authentication contexts, risk levels, a workload identity, an
// external user's kind and home tenant, and device properties. Each parser
// returns Graph's spelling, so the same value is evaluated locally, sent to
// Graph and echoed in --json.

// User actions as the evaluate request's userAction enum names them.
const (
	UserActionRegisterSecurityInfo = "registerSecurityInformation"
	UserActionRegisterDevice       = "registerOrJoinDevices"
)

// userActionURN is the name a policy's includeUserActions gives an action.
var userActionURN = map[string]string{
	UserActionRegisterSecurityInfo: ca.UserActionRegisterInfo,
	UserActionRegisterDevice:       ca.UserActionRegisterDev,
}

// ParseUserAction reads a user action: registerSecurityInfo or
// registerDevice (or Graph's or the policy's own names), ignoring case.
func ParseUserAction(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "registersecurityinfo", "registersecurityinformation", ca.UserActionRegisterInfo:
		return UserActionRegisterSecurityInfo, nil
	case "registerdevice", "registerorjoindevices", ca.UserActionRegisterDev:
		return UserActionRegisterDevice, nil
	}
	return "", fmt.Errorf("unknown user action %q (use registerSecurityInfo or registerDevice)", s)
}

// ParseAuthContext reads an authentication context class reference, c1 to
// c99.
func ParseAuthContext(s string) (string, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	if n, err := strconv.Atoi(strings.TrimPrefix(v, "c")); err == nil && strings.HasPrefix(v, "c") &&
		!strings.HasPrefix(v, "c0") && !strings.HasPrefix(v, "c+") && 1 <= n && n <= 99 {
		return "c" + strconv.Itoa(n), nil
	}
	return "", fmt.Errorf("%q is not an authentication context: use c1 to c99", s)
}

// RiskLevels are the sign-in, user and service principal risk levels a
// sign-in can have (riskLevel); InsiderRiskLevels are insiderRiskLevel's.
var (
	RiskLevels        = []string{"none", "low", "medium", "high"}
	InsiderRiskLevels = []string{"none", "minor", "moderate", "elevated"}
)

// ParseRisk reads a risk level among levels, ignoring case; "" is not given.
func ParseRisk(s string, levels []string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	if v, ok := oneOfFold(s, levels); ok {
		return v, nil
	}
	return "", fmt.Errorf("unknown risk level %q (use %s)", s, strings.Join(levels, ", "))
}

// ExternalUserTypes are the kinds of external user Graph's userSignIn names
// (conditionalAccessGuestOrExternalUserTypes).
var ExternalUserTypes = []string{"internalGuest", "b2bCollaborationGuest", "b2bCollaborationMember",
	"b2bDirectConnectUser", "otherExternalUser", "serviceProvider"}

// ParseGuestType reads the kind of external user, ignoring case.
func ParseGuestType(s string) (string, error) {
	if v, ok := oneOfFold(s, ExternalUserTypes); ok {
		return v, nil
	}
	return "", fmt.Errorf("unknown guest type %q (use %s)", s, strings.Join(ExternalUserTypes, ", "))
}

// ParseTenantID reads a tenant id (a GUID) and returns it in lower case.
func ParseTenantID(s string) (string, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	if !IsGUID(v) {
		return "", fmt.Errorf("%q is not a tenant id (a GUID)", s)
	}
	return v, nil
}

// ParseAppID reads an application (client) id, a GUID, in lower case.
func ParseAppID(s string) (string, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	if !IsGUID(v) {
		return "", fmt.Errorf("%q is not an application id (a GUID)", s)
	}
	return v, nil
}

// Kinds of deviceInfo property.
const (
	devString = iota
	devBool
	devGUID
	devList
	devEnum
)

// deviceProps are deviceInfo's documented properties, the ones device
// filter rules read, with the kind of value each holds.
var deviceProps = map[string]int{
	"deviceId": devGUID, "displayName": devString, "enrollmentProfileName": devString,
	"isCompliant": devBool, "manufacturer": devString, "mdmAppId": devGUID, "model": devString,
	"operatingSystem": devString, "operatingSystemVersion": devString, "ownership": devEnum,
	"physicalIds": devList, "profileType": devEnum, "systemLabels": devList, "trustType": devEnum,
}

// deviceEnums are the values the device filter documentation lists.
var deviceEnums = map[string][]string{
	"trustType":   {"AzureAD", "ServerAD", "Workplace"},
	"ownership":   {"Company", "Personal", "Unknown"},
	"profileType": {"RegisteredDevice", "SecureVM", "Printer", "Shared", "IoT"},
}

func init() {
	for i := 1; i <= 15; i++ {
		deviceProps["extensionAttribute"+strconv.Itoa(i)] = devString
	}
}

// DeviceProperties lists the device properties --device takes, sorted.
func DeviceProperties() []string {
	out := make([]string, 0, len(deviceProps))
	for k := range deviceProps {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ParseDevice reads device properties, each "name=value" (isCompliant=true,
// trustType=AzureAD, extensionAttribute1=paw; physicalIds and systemLabels
// take a "|"-separated list), into deviceInfo's spelling: property names as
// Graph writes them, booleans "true" or "false", enumerations in their
// documented case. A property given twice is refused.
func ParseDevice(items []string) (map[string]string, error) {
	if len(items) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, item := range items {
		name, value, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not name=value (e.g. isCompliant=true)", item)
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		prop, found := "", false
		for k := range deviceProps {
			if strings.EqualFold(k, name) {
				prop, found = k, true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown device property %q (use %s)", name, strings.Join(DeviceProperties(), ", "))
		}
		if _, dup := out[prop]; dup {
			return nil, fmt.Errorf("device property %s given twice", prop)
		}
		switch deviceProps[prop] {
		case devBool:
			b, err := strconv.ParseBool(value)
			if err != nil {
				return nil, fmt.Errorf("%s=%q: use true or false", prop, value)
			}
			value = strconv.FormatBool(b)
		case devGUID:
			if !IsGUID(value) {
				return nil, fmt.Errorf("%s=%q is not a GUID", prop, value)
			}
			value = strings.ToLower(value)
		case devEnum:
			v, ok := oneOfFold(value, deviceEnums[prop])
			if !ok {
				return nil, fmt.Errorf("%s=%q: use %s", prop, value, strings.Join(deviceEnums[prop], ", "))
			}
			value = v
		}
		if value == "" {
			return nil, fmt.Errorf("%s has no value", prop)
		}
		out[prop] = value
	}
	return out, nil
}

// deviceFacts is the device as device filter rules read it.
func deviceFacts(props map[string]string) *ca.DeviceFacts {
	if props == nil {
		return nil
	}
	d := &ca.DeviceFacts{Attributes: make(map[string]string, len(props))}
	for k, v := range props {
		switch deviceProps[k] {
		case devBool:
			v = map[string]string{"true": "True", "false": "False"}[v]
		case devList:
			v = strings.ReplaceAll(v, "|", ",")
		}
		d.Attributes["device."+k] = v
	}
	return d
}

// deviceInfo is the device as Graph's evaluate request carries it.
func deviceInfo(props map[string]string) map[string]any {
	if props == nil {
		return nil
	}
	out := make(map[string]any, len(props))
	for k, v := range props {
		switch deviceProps[k] {
		case devBool:
			out[k] = v == "true"
		case devList:
			out[k] = strings.Split(v, "|")
		default:
			out[k] = v
		}
	}
	return out
}

// UserActionTarget is the target of a sign-in that performs a user action
// instead of reaching an application.
func UserActionTarget(action string) App {
	name := map[string]string{UserActionRegisterSecurityInfo: "registering security information",
		UserActionRegisterDevice: "registering or joining a device"}[action]
	return App{Name: "user action: " + name}
}

// AuthContextTarget is the target of a sign-in that asks for an
// authentication context.
func AuthContextTarget(c string) App { return App{Name: "authentication context " + c} }
