package ca

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"testing"
)

// Fuzz targets: decoding never panics, fails only with a *DecodeError, and
// whatever it accepts survives a write and a re-read unchanged; evaluation
// never panics and always returns a consistent result.

func addSeeds(f *testing.F, docs ...string) {
	for _, d := range docs {
		f.Add([]byte(d))
	}
}

func requireDecodeError(t *testing.T, err error) {
	t.Helper()
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
	}
}

// roundTrip marshals v, decodes the bytes with decode, and checks that
// marshalling the result gives the same bytes.
func roundTrip[T any](t *testing.T, v T, decode func([]byte) (T, error)) {
	t.Helper()
	b1, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	v2, err := decode(b1)
	if err != nil {
		t.Fatalf("re-decoding %s: %v", b1, err)
	}
	b2, err := json.Marshal(v2)
	if err != nil {
		t.Fatalf("marshal again: %v", err)
	}
	if !bytes.Equal(b1, b2) {
		t.Fatalf("round trip changed\n%s\ninto\n%s", b1, b2)
	}
}

func FuzzParseSnapshot(f *testing.F) {
	addSeeds(f, snapshotDoc, `{}`, `null`, `[`, `{"policies":[{"conditions":{"users":{"includeUsers":[7]}}}]}`,
		`{"principals":[{"id":"x","memberOf":["g"],"roles":null}],"namedLocations":[{"@odata.type":"#microsoft.graph.ipNamedLocation","ipRanges":[{"cidrAddress":"::ffff:1.2.3.0/120"}]}]}`,
		`{"policies":[{"sessionControls":{"signInFrequency":{"value":1e3,"type":"hours"}},"state":"enabled"}]}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSnapshot(data)
		if err != nil {
			requireDecodeError(t, err)
			if s != nil {
				t.Fatal("snapshot returned with an error")
			}
			return
		}
		roundTrip(t, s, ParseSnapshot)
		e := NewEvaluator(s.Policies, s.NamedLocations)
		for i, p := range s.Principals {
			if i == 3 {
				break
			}
			res := e.Evaluate(SignIn{Subject: p.Subject(), Application: All, IP: netip.MustParseAddr("203.0.113.5")})
			checkResult(t, res, len(s.Policies))
		}
	})
}

func FuzzDecodePolicy(f *testing.F) {
	addSeeds(f, createPolicyBody, `{}`, `{"displayName":"x","foo":1}`, `{"conditions":{"users":{"includeUsers":["a",`,
		`{"grantControls":{"authenticationStrength":{"id":"s","allowedCombinations":["password"]}},"sessionControls":{"a":[1,{"b":null}]}}`,
		`{"conditions":{"users":{"includeGuestsOrExternalUsers":{"guestOrExternalUserTypes":"b2bCollaborationGuest","externalTenants":{"@odata.type":"#microsoft.graph.conditionalAccessEnumeratedExternalTenants","membershipKind":"enumerated","members":["t1"]}}}}}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodePolicy(data)
		if err != nil {
			requireDecodeError(t, err)
			return
		}
		if err := ValidatePolicy(p); err != nil {
			requireDecodeError(t, err)
		}
		roundTrip(t, p, DecodePolicy)
	})
}

func FuzzDecodeNamedLocation(f *testing.F) {
	addSeeds(f, createLocationBody, `{"@odata.type":"#microsoft.graph.countryNamedLocation","countriesAndRegions":["FR"]}`,
		`{"isTrusted":true,"@odata.type":"#microsoft.graph.countryNamedLocation"}`, `{"ipRanges":[{"cidrAddress":"1.2.3.4/33"}]}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := DecodeNamedLocation(data)
		if err != nil {
			requireDecodeError(t, err)
			return
		}
		if err := ValidateNamedLocation(l); err != nil {
			requireDecodeError(t, err)
		}
		roundTrip(t, l, DecodeNamedLocation)
	})
}

// fuzzSignIns cover every kind of fact: known and unknown, each target kind,
// IPv4, IPv6 and mapped addresses, device facts present and absent.
func fuzzSignIns() []SignIn {
	withDevice := baseSignIn()
	withDevice.Device = device("device.isCompliant", "True", "device.systemLabels", "M365Managed,MultiUser")
	guest := baseSignIn()
	guest.Subject = Subject{UserID: "x", Guest: true, Roles: []string{roleGA}}
	action := SignIn{Subject: Subject{Hypothetical: true}, UserAction: UserActionRegisterInfo, AuthFlow: "deviceCodeFlow"}
	v6 := baseSignIn()
	v6.Application, v6.IP, v6.Country, v6.SignInRisk, v6.DevicePlatform = Office365, netip.MustParseAddr("2001:db8:10::1"), "", "high", "chromeOS"
	mapped := baseSignIn()
	mapped.Application, mapped.IP, mapped.ClientAppType = MicrosoftAdminPortals, netip.MustParseAddr("::ffff:203.0.113.1"), "other"
	return []SignIn{baseSignIn(), withDevice, guest, action, v6, mapped, {}}
}

func FuzzEvaluate(f *testing.F) {
	f.Add([]byte(createPolicyBody), `device.isCompliant -eq "True"`)
	f.Add([]byte(`{"state":"enabled","conditions":{"users":{"includeUsers":["All"],"excludeGroups":["`+gStaff+`"]},"applications":{"includeApplications":["Office365"],"excludeApplications":["`+AppExchangeOnline+`"],"applicationFilter":{"mode":"exclude","rule":"x"}},"platforms":{"includePlatforms":["all"],"excludePlatforms":["iOS"]},"locations":{"includeLocations":["All"],"excludeLocations":["AllTrusted","`+locEU+`"]},"clientAppTypes":["exchangeActiveSync","other"],"signInRiskLevels":["high"],"authenticationFlows":{"transferMethods":"deviceCodeFlow"}},"grantControls":{"operator":"OR","builtInControls":["block"]}}`),
		`(device.systemLabels -contains "MultiUser") -or -not device.model -in ["a","b"]`)
	f.Add([]byte(`{"state":"enabledForReportingButNotEnforced","conditions":{"users":{"includeRoles":["`+roleGA+`"],"includeGuestsOrExternalUsers":{"guestOrExternalUserTypes":"internalGuest,b2bCollaborationGuest"}},"applications":{"includeUserActions":["urn:user:registersecurityinfo"],"includeAuthenticationContextClassReferences":["c1"]},"insiderRiskLevels":"elevated"},"grantControls":{"operator":"AND","termsOfUse":["t"],"authenticationStrength":{"id":"s"}}}`), "")
	locs := testLocations()
	signIns := fuzzSignIns()
	f.Fuzz(func(t *testing.T, data []byte, rule string) {
		p, err := DecodePolicy(data)
		if err != nil {
			return
		}
		if rule != "" {
			p.Conditions.Devices = &Devices{DeviceFilter: &Filter{Mode: "include", Rule: rule}}
		}
		e := NewEvaluator([]Policy{p, basePolicy()}, locs)
		for _, s := range signIns {
			checkResult(t, e.Evaluate(s), 2)
		}
	})
}

// checkResult checks the invariants every Result keeps.
func checkResult(t *testing.T, res Result, n int) {
	t.Helper()
	if !slices.Contains([]string{VerdictAllow, VerdictControls, VerdictMFA, VerdictBlock}, res.Verdict) {
		t.Fatalf("verdict %q", res.Verdict)
	}
	if len(res.Policies) != n || res.RequiredControls == nil || !slices.IsSorted(res.RequiredControls) {
		t.Fatalf("result %+v", res)
	}
	for _, pr := range res.Policies {
		if pr.Applies != (len(pr.Reasons) == 0) || pr.Reasons == nil || pr.Controls == nil {
			t.Fatalf("policy result %+v", pr)
		}
		// Reasons are distinct and in Graph's enum order.
		last := -1
		for _, r := range pr.Reasons {
			i := slices.Index(reasonNames[:], r)
			if i <= last {
				t.Fatalf("reasons %v out of order or unknown", pr.Reasons)
			}
			last = i
		}
		if (len(pr.Undecided) > 0) != (len(pr.Reasons) > 0 && pr.Reasons[0] == ReasonNotEnoughInformation) {
			t.Fatalf("undecided %v with reasons %v", pr.Undecided, pr.Reasons)
		}
	}
}
