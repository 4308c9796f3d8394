package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mgmtsession/cli"
)

// Demo tenant facts (assets/demo-tenant.json).
const (
	adeleUPN     = "adele.admin@contoso-demo.com"
	breakGlass1  = "bg.emergency1@contosodemo.onmicrosoft.com"
	outsideIP    = "20.190.128.5"
	headOfficeIP = "51.140.12.5"
	ca001        = "CA001: Require MFA for administrators"
	ca002        = "CA002: Require MFA for all users"
)

type result struct {
	code     int
	out, err string
}

// run runs the command line as main does, with captured streams.
func run(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := cli.Run(ctx, args, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	return result{code, out.String(), errb.String()}
}

// whatifJSON is the part of whatif --json the tests read.
type whatifJSON struct {
	Verdict          string   `json:"verdict"`
	RequiredControls []string `json:"requiredControls"`
	Undetermined     []string `json:"undetermined"`
	Policies         []struct {
		ID          string   `json:"id"`
		DisplayName string   `json:"displayName"`
		State       string   `json:"state"`
		Applies     bool     `json:"applies"`
		Reasons     []string `json:"reasons"`
		Controls    []string `json:"controls"`
		Graph       *struct {
			Applies         bool    `json:"applies"`
			AnalysisReasons *string `json:"analysisReasons"`
		} `json:"graph"`
	} `json:"policies"`
	GraphWhatIf struct {
		Compared bool `json:"compared"`
		Requests int  `json:"requests"`
	} `json:"graphWhatIf"`
	Disagreements *[]struct {
		DisplayName string `json:"displayName"`
		Detail      string `json:"detail"`
	} `json:"disagreements"`
}

func whatif(t *testing.T, args ...string) (whatifJSON, result) {
	t.Helper()
	r := run(t, append([]string{"whatif", "--json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("whatif %q: exit %d\n%s", args, r.code, r.err)
	}
	var w whatifJSON
	if err := json.Unmarshal([]byte(r.out), &w); err != nil {
		t.Fatalf("whatif %q: stdout is not one JSON object: %v\n%s", args, err, r.out)
	}
	return w, r
}

// enforcedMFA lists the enforced policies that apply and demand MFA.
func enforcedMFA(w whatifJSON) []string {
	var out []string
	for _, p := range w.Policies {
		if p.State == "enabled" && p.Applies && slices.Contains(p.Controls, "mfa") {
			out = append(out, p.DisplayName)
		}
	}
	return out
}

// The management account before it exists, from an outside IP: MFA, because
// of the admin policy (its roles) and the all-users policy.
func TestWhatIfDemoNewAccountNeedsMFA(t *testing.T) {
	w, r := whatif(t, "--demo", "--new-account", "--ip", outsideIP, "--country", "US")
	if w.Verdict != "mfa" || !slices.Equal(w.RequiredControls, []string{"mfa"}) {
		t.Errorf("verdict %q requiring %q, want mfa", w.Verdict, w.RequiredControls)
	}
	if got := enforcedMFA(w); !slices.Equal(got, []string{ca001, ca002}) {
		t.Errorf("MFA demanded by %q, want %q", got, []string{ca001, ca002})
	}
	if len(w.Policies) != 8 {
		t.Errorf("%d policies listed, want every one of the demo tenant's 8", len(w.Policies))
	}
	for _, p := range w.Policies {
		if p.Reasons == nil || p.Controls == nil {
			t.Errorf("%s: reasons or controls missing (null), want arrays", p.DisplayName)
		}
		if p.Applies != (len(p.Reasons) == 0) {
			t.Errorf("%s: applies %v with reasons %q", p.DisplayName, p.Applies, p.Reasons)
		}
	}
	// Nothing exists for Graph to evaluate, so nothing is claimed about it.
	if w.GraphWhatIf.Compared || w.Disagreements != nil {
		t.Errorf("Graph compared for an account that does not exist: %+v", w.GraphWhatIf)
	}
	if r.err != "" {
		t.Errorf("stderr: %q", r.err)
	}
	// From the trusted head office the all-users policy no longer applies,
	// but the admin policy still does: MFA from any IP.
	w, _ = whatif(t, "--demo", "--new-account", "--ip", headOfficeIP, "--country", "GB")
	if got := enforcedMFA(w); w.Verdict != "mfa" || !slices.Equal(got, []string{ca001}) {
		t.Errorf("from the head office: verdict %q by %q, want mfa by CA001 only", w.Verdict, got)
	}
	// Without roles the admin policy does not apply either.
	w, _ = whatif(t, "--demo", "--new-account", "--roles", "Global Reader", "--ip", headOfficeIP, "--country", "GB")
	if w.Verdict != "allow" {
		t.Errorf("Global Reader from the head office: verdict %q by %q, want allow", w.Verdict, enforcedMFA(w))
	}
}

// An existing demo user: Graph's What If answers beside every evaluated
// policy, and it agrees with the local evaluator.
func TestWhatIfDemoExistingUserComparesWithGraph(t *testing.T) {
	for _, args := range [][]string{
		{"--ip", outsideIP},
		{"--ip", outsideIP, "--country", "RU"},
		{"--ip", headOfficeIP, "--country", "GB", "--app", "office365"},
		{"--ip", "2a01:111:f400:7e00::25", "--country", "GB", "--client-app", "exchangeActiveSync"},
		{"--ip", outsideIP, "--country", "US", "--auth-flow", "deviceCode", "--platform", "linux"},
	} {
		w, _ := whatif(t, append([]string{"--demo", "--user", adeleUPN}, args...)...)
		if !w.GraphWhatIf.Compared || w.GraphWhatIf.Requests != 1 {
			t.Errorf("%q: Graph's What If %+v, want compared with one request", args, w.GraphWhatIf)
		}
		if w.Disagreements == nil {
			t.Fatalf("%q: no disagreements list", args)
		}
		for _, d := range *w.Disagreements {
			t.Errorf("%q: disagreement on %s: %s", args, d.DisplayName, d.Detail)
		}
		for _, p := range w.Policies {
			switch {
			case p.State == "disabled" && p.Graph != nil:
				t.Errorf("%q: %s is disabled but has a Graph answer", args, p.DisplayName)
			case p.State != "disabled" && (p.Graph == nil || p.Graph.Applies != p.Applies):
				t.Errorf("%q: %s: local applies %v, Graph %+v", args, p.DisplayName, p.Applies, p.Graph)
			}
		}
	}
	// From outside with no country, Adele (Global Administrator) meets both
	// MFA policies, and the country block is reported as undecided.
	w, _ := whatif(t, "--demo", "--user", adeleUPN, "--ip", outsideIP)
	if got := enforcedMFA(w); w.Verdict != "mfa" || !slices.Equal(got, []string{ca001, ca002}) {
		t.Errorf("verdict %q by %q", w.Verdict, got)
	}
	if len(w.Undetermined) != 1 {
		t.Errorf("undetermined %q, want the country block", w.Undetermined)
	}
	// From a blocked country the block wins.
	w, _ = whatif(t, "--demo", "--user", adeleUPN, "--ip", outsideIP, "--country", "RU")
	if w.Verdict != "block" {
		t.Errorf("from RU: verdict %q, want block", w.Verdict)
	}
}

// Every bad input: exit code 2, one line on stderr naming the bad value and
// a pointer to --help, nothing on stdout.
func TestWhatIfBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	malformed := write("malformed.json", `{"tenantId": "t", "policies": [{"id": "p1", "conditions": {"users": {"includeUsers": [42]}}}]}`)
	truncated := write("truncated.json", `{"tenantId": "t", "policies": [`)
	notSnapshot := write("other.json", `{"name": "some other file"}`)
	empty := write("empty.json", `{"tenantId": "t", "policies": [], "namedLocations": [], "principals": []}`)
	missing := filepath.Join(dir, "missing.json")
	newAcct := []string{"--demo", "--new-account", "--ip", outsideIP}
	tests := []struct {
		args []string
		want []string // every one must be in the error line
	}{
		{append(newAcct, "--app", "outlook"), []string{"--app", `"outlook"`}},
		{append(newAcct, "--client-app", "desktop"), []string{"--client-app", `"desktop"`}},
		{append(newAcct, "--platform", "windowsPhone"), []string{"--platform", `"windowsPhone"`}},
		{append(newAcct, "--auth-flow", "passwordless"), []string{"--auth-flow", `"passwordless"`}},
		// Issue 12: the inputs of Entra's What If, each refused on one line.
		{append(newAcct, "--sign-in-risk", "severe"), []string{"--sign-in-risk", `"severe"`}},
		{append(newAcct, "--user-risk", "critical"), []string{"--user-risk", `"critical"`}},
		{append(newAcct, "--insider-risk", "high"), []string{"--insider-risk", `"high"`, "elevated"}},
		{append(newAcct, "--auth-context", "c100"), []string{"--auth-context", `"c100"`, "c1 to c99"}},
		{append(newAcct, "--auth-context", "c0"), []string{"--auth-context", `"c0"`}},
		{append(newAcct, "--user-action", "resetPassword"), []string{"--user-action", `"resetPassword"`}},
		{append(newAcct, "--user-action", "registerDevice", "--auth-context", "c1"), []string{"--user-action", "--auth-context"}},
		{append(newAcct, "--user-action", "registerDevice", "--app", "all"), []string{"--user-action", "--app"}},
		{append(newAcct, "--device", "isCompliant"), []string{"--device", `"isCompliant"`, "name=value"}},
		{append(newAcct, "--device", "isCompliant=perhaps"), []string{"--device", "isCompliant", `"perhaps"`}},
		{append(newAcct, "--device", "trustType=Joined"), []string{"--device", "trustType", `"Joined"`}},
		{append(newAcct, "--device", "colour=red"), []string{"--device", `"colour"`}},
		{append(newAcct, "--device", "deviceId=laptop-7"), []string{"--device", "deviceId", "GUID"}},
		{[]string{"--demo", "--user", adeleUPN, "--service-principal", "3f2a1b0c-1111-4222-8333-444455556666", "--ip", outsideIP}, []string{"--service-principal", "--user"}},
		{[]string{"--demo", "--service-principal", "reporting-app", "--ip", outsideIP}, []string{"--service-principal", `"reporting-app"`}},
		{append(newAcct, "--service-principal-risk", "high"), []string{"--service-principal-risk", "--service-principal"}},
		{append(newAcct, "--guest-type", "b2bCollaborationGuest"), []string{"--guest-type", "--user"}},
		{[]string{"--demo", "--user", adeleUPN, "--guest-type", "visitor", "--ip", outsideIP}, []string{"--guest-type", `"visitor"`}},
		{[]string{"--demo", "--user", adeleUPN, "--guest-type", "b2bCollaborationGuest", "--home-tenant", "fabrikam.com", "--ip", outsideIP}, []string{"--home-tenant", `"fabrikam.com"`}},
		{[]string{"--demo", "--user", adeleUPN, "--home-tenant", "72f988bf-86f1-41af-91ab-2d7cd011db47", "--ip", outsideIP}, []string{"--home-tenant", "--guest-type"}},
		{append(newAcct, "--allowed-ip", "20.190.128.0/24"), []string{"--allowed-ip", "--sweep"}},
		{[]string{"--demo", "--new-account", "--sweep"}, []string{"--sweep", "--allowed-ip"}},
		{[]string{"--demo", "--new-account", "--sweep", "--allowed-ip", "20.190.128.0/24", "--ip", outsideIP}, []string{"--sweep", "--ip"}},
		{[]string{"--demo", "--new-account", "--sweep", "--allowed-ip", "20.190.128.0/33"}, []string{"--allowed-ip", "20.190.128.0/33"}},
		{[]string{"--demo", "--new-account", "--sweep", "--allowed-ip", "20.190.128.0/24", "--outside-ip", "20.190.128.9"}, []string{"--outside-ip", "20.190.128.9", "20.190.128.0/24"}},
		{[]string{"--demo", "--sweep", "--allowed-ip", "20.190.128.0/24"}, []string{"--user", "--new-account"}},
		{append(newAcct, "--country", "USA"), []string{"--country", `"USA"`}},
		{append(newAcct, "--country", "1"), []string{"--country", `"1"`}},
		{[]string{"--demo", "--new-account", "--ip", "20.190.128.500"}, []string{"--ip", `"20.190.128.500"`}},
		{[]string{"--demo", "--new-account", "--ip", "20.190.128.0/24"}, []string{"--ip", `"20.190.128.0/24"`}},
		{[]string{"--demo", "--new-account"}, []string{"--ip"}},
		{append(newAcct, "--roles", "Exchange Administrator,Chief Wizard"), []string{"--roles", `"Chief Wizard"`}},
		{append(newAcct, "--groups", "IT Department"), []string{"--groups", `"IT Department"`}},
		{[]string{"--demo", "--ip", outsideIP}, []string{"--user", "--new-account"}},
		{[]string{"--demo", "--user", adeleUPN, "--new-account", "--ip", outsideIP}, []string{"--user", "--new-account"}},
		{[]string{"--demo", "--user", adeleUPN, "--roles", "Global Reader", "--ip", outsideIP}, []string{"--roles", "--new-account"}},
		{[]string{"--demo", "--user", "nobody@contoso-demo.com", "--ip", outsideIP}, []string{`"nobody@contoso-demo.com"`}},
		{[]string{"--snapshot", missing, "--new-account", "--ip", outsideIP}, []string{missing, "no such file"}},
		{[]string{"--snapshot", malformed, "--new-account", "--ip", outsideIP}, []string{malformed, "policies[0].conditions.users.includeUsers[0]"}},
		{[]string{"--snapshot", truncated, "--new-account", "--ip", outsideIP}, []string{truncated, "JSON"}},
		{[]string{"--snapshot", notSnapshot, "--new-account", "--ip", outsideIP}, []string{notSnapshot, "policies"}},
		{[]string{"--snapshot", empty, "--user", adeleUPN, "--ip", outsideIP}, []string{empty, `"` + adeleUPN + `"`}},
		{[]string{"--snapshot", empty, "--demo", "--new-account", "--ip", outsideIP}, []string{"--snapshot", "--demo"}},
		{append(newAcct, "--bogus"), []string{"-bogus"}},
	}
	for _, tc := range tests {
		r := run(t, append([]string{"whatif"}, tc.args...)...)
		line, pointer, _ := strings.Cut(strings.TrimSuffix(r.err, "\n"), "\n")
		switch {
		case r.code != 2:
			t.Errorf("%q: exit %d, want 2 (stderr %q)", tc.args, r.code, r.err)
		case r.out != "":
			t.Errorf("%q: stdout %q, want nothing", tc.args, r.out)
		case pointer != "Run 'mgmtsession whatif --help' for usage.":
			t.Errorf("%q: stderr is not one line and the pointer to --help: %q", tc.args, r.err)
		}
		for _, w := range tc.want {
			if !strings.Contains(line, w) {
				t.Errorf("%q: stderr %q does not name %s", tc.args, line, w)
			}
		}
	}
}

// The table: verdict first, report-only policies apart, Graph's verdict on
// agreement, 80 columns at most.
func TestWhatIfTable(t *testing.T) {
	r := run(t, "whatif", "--demo", "--user", adeleUPN, "--ip", outsideIP, "--country", "US")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	lines := strings.Split(strings.TrimSuffix(r.out, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "Verdict:") || !strings.Contains(lines[0], "MFA REQUIRED") {
		t.Errorf("first line %q, want the verdict", lines[0])
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > 80 {
			t.Errorf("line %d is %d columns wide: %q", i+1, w, l)
		}
	}
	for _, want := range []string{"Report-only policies (report-only, not enforced)", "CA005: Require compliant device", "Because of:", ca001, "Graph's What If (1 request) agrees on every policy."} {
		if !strings.Contains(r.out, want) {
			t.Errorf("table lacks %q:\n%s", want, r.out)
		}
	}
	enforced := strings.Index(r.out, "Enforced policies")
	reportOnly := strings.Index(r.out, "Report-only policies")
	if ca005 := strings.Index(r.out, "CA005"); !(enforced < reportOnly && reportOnly < ca005) {
		t.Errorf("CA005 is not listed with the report-only policies:\n%s", r.out)
	}
}

// --fail-on-problems: exit 3 when the account would be asked for MFA or
// blocked, 0 when it would be let in; the result is printed either way.
func TestWhatIfFailOnProblems(t *testing.T) {
	r := run(t, "whatif", "--demo", "--new-account", "--ip", outsideIP, "--country", "US", "--json", "--fail-on-problems")
	if r.code != 3 || !strings.Contains(r.out, `"verdict": "mfa"`) || !strings.Contains(r.err, "mfa") {
		t.Errorf("mfa with --fail-on-problems: exit %d, stderr %q", r.code, r.err)
	}
	// The break-glass account is excluded from every policy.
	r = run(t, "whatif", "--demo", "--user", breakGlass1, "--ip", outsideIP, "--country", "US", "--json", "--fail-on-problems")
	if r.code != 0 || !strings.Contains(r.out, `"verdict": "allow"`) {
		t.Errorf("break-glass with --fail-on-problems: exit %d, stderr %q\n%s", r.code, r.err, r.out)
	}
}

// A policy name from the tenant cannot act on the terminal.
func TestWhatIfSanitisesTenantStrings(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "snap.json")
	evil := `{"tenantId": "t\u001b]0;pwned\u0007", "policies": [{"id": "p1", "displayName": "Evil \u001b[2J\u001b[31mpolicy\u202e", "state": "enabled",
		"conditions": {"clientAppTypes": ["all"], "applications": {"includeApplications": ["All"]}, "users": {"includeUsers": ["All"]}},
		"grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}], "namedLocations": [], "principals": []}`
	if err := os.WriteFile(snap, []byte(evil), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, "whatif", "--snapshot", snap, "--new-account", "--ip", outsideIP)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	if strings.ContainsAny(r.out, "\x1b\x07\u202e") {
		t.Errorf("escape sequence reached the terminal:\n%q", r.out)
	}
	if !strings.Contains(r.out, "Evil") {
		t.Errorf("the policy is not shown:\n%s", r.out)
	}
}

// Every input of Entra's What If goes in by flag, is echoed in --json as
// evaluated, and reaches Graph's What If, which agrees.
func TestWhatIfEveryInput(t *testing.T) {
	type echo struct {
		Subject struct {
			ExternalUserType   string `json:"externalUserType"`
			HomeTenant         string `json:"homeTenantId"`
			ServicePrincipalID string `json:"servicePrincipalId"`
		} `json:"subject"`
		SignIn struct {
			UserAction           string            `json:"userAction"`
			AuthContext          string            `json:"authenticationContext"`
			DevicePlatform       string            `json:"devicePlatform"`
			AuthFlow             string            `json:"authenticationFlow"`
			SignInRisk           string            `json:"signInRiskLevel"`
			UserRisk             string            `json:"userRiskLevel"`
			ServicePrincipalRisk string            `json:"servicePrincipalRiskLevel"`
			InsiderRisk          string            `json:"insiderRiskLevel"`
			Device               map[string]string `json:"deviceInfo"`
		} `json:"signIn"`
	}
	const home = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	const app = "3f2a1b0c-1111-4222-8333-444455556666"
	for _, tc := range []struct {
		name  string
		args  []string
		check func(echo) bool
	}{
		{"user action", []string{"--user", adeleUPN, "--user-action", "registerSecurityInfo"},
			func(e echo) bool { return e.SignIn.UserAction == "registerSecurityInformation" }},
		{"authentication context", []string{"--user", adeleUPN, "--auth-context", "C12"},
			func(e echo) bool { return e.SignIn.AuthContext == "c12" }},
		{"risks", []string{"--user", adeleUPN, "--sign-in-risk", "High", "--user-risk", "low", "--insider-risk", "elevated"},
			func(e echo) bool {
				return e.SignIn.SignInRisk == "high" && e.SignIn.UserRisk == "low" && e.SignIn.InsiderRisk == "elevated"
			}},
		{"device", []string{"--user", adeleUPN, "--device", "isCompliant=TRUE", "--device", "trustType=azuread", "--device", "extensionAttribute3=paw"},
			func(e echo) bool {
				d := e.SignIn.Device
				return d["isCompliant"] == "true" && d["trustType"] == "AzureAD" && d["extensionAttribute3"] == "paw"
			}},
		{"unknown platform and authentication transfer", []string{"--user", adeleUPN, "--platform", "unknown", "--auth-flow", "authenticationTransfer"},
			func(e echo) bool {
				return e.SignIn.DevicePlatform == "" && e.SignIn.AuthFlow == "authenticationTransfer"
			}},
		{"external user", []string{"--user", adeleUPN, "--guest-type", "b2bCollaborationGuest", "--home-tenant", strings.ToUpper(home)},
			func(e echo) bool {
				return e.Subject.ExternalUserType == "b2bCollaborationGuest" && e.Subject.HomeTenant == home
			}},
		{"workload identity", []string{"--service-principal", app, "--service-principal-risk", "medium"},
			func(e echo) bool {
				return e.Subject.ServicePrincipalID == app && e.SignIn.ServicePrincipalRisk == "medium"
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, r := whatif(t, append([]string{"--demo", "--ip", outsideIP, "--country", "US"}, tc.args...)...)
			var e echo
			if err := json.Unmarshal([]byte(r.out), &e); err != nil {
				t.Fatal(err)
			}
			if !tc.check(e) {
				t.Errorf("--json does not echo the input as evaluated: %+v", e)
			}
			if !w.GraphWhatIf.Compared || w.GraphWhatIf.Requests != 1 || w.Disagreements == nil || len(*w.Disagreements) != 0 {
				t.Errorf("Graph's What If: %+v, disagreements %v", w.GraphWhatIf, w.Disagreements)
			}
		})
	}
	// A workload identity is not the users' policies' business.
	w, _ := whatif(t, "--demo", "--ip", outsideIP, "--service-principal", app)
	for _, p := range w.Policies {
		if p.State != "disabled" && (p.Applies || !slices.Contains(p.Reasons, "workloadIdentities")) {
			t.Errorf("%s for a workload identity: applies %v, reasons %v", p.DisplayName, p.Applies, p.Reasons)
		}
	}
}

// whatif --sweep: the new account before the setup is challenged from the
// allowed range by CA001 and CA002; --json has every combination; with
// --fail-on-problems that is exit 3.
func TestWhatIfSweep(t *testing.T) {
	args := []string{"whatif", "--demo", "--new-account", "--sweep", "--allowed-ip", "20.190.128.0/24", "--country", "US", "--outside-country", "GB"}
	r := run(t, append(args, "--json")...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	var sw struct {
		Headlines    []string `json:"headlines"`
		Combinations []struct {
			Allowed bool   `json:"allowed"`
			Verdict string `json:"verdict"`
		} `json:"combinations"`
		Challenged []struct {
			Condition string `json:"condition"`
			Outcome   string `json:"outcome"`
		} `json:"challengedFromAllowedIPs"`
		Unprotected []any `json:"withoutMFAFromOutside"`
		Graph       struct {
			Compared bool   `json:"compared"`
			Note     string `json:"note"`
		} `json:"graphWhatIf"`
	}
	if err := json.Unmarshal([]byte(r.out), &sw); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.out)
	}
	// 2 places x 2 (without and with a country) x 6 apps x 4 clients x 6 platforms.
	if len(sw.Combinations) != 2*2*6*4*6 {
		t.Errorf("%d combinations, want %d", len(sw.Combinations), 2*2*6*4*6)
	}
	if len(sw.Headlines) != 2 || !strings.Contains(sw.Headlines[0], "challenged or blocked") {
		t.Errorf("headlines %q", sw.Headlines)
	}
	if len(sw.Challenged) != 1 || !strings.Contains(sw.Challenged[0].Outcome, ca001) || !strings.Contains(sw.Challenged[0].Outcome, ca002) ||
		!strings.HasPrefix(sw.Challenged[0].Condition, "from 20.190.128.0/24") {
		t.Errorf("challenged %+v", sw.Challenged)
	}
	if len(sw.Unprotected) != 0 {
		t.Errorf("unprotected from outside: %+v", sw.Unprotected)
	}
	if sw.Graph.Compared || !strings.Contains(sw.Graph.Note, "does not exist yet") {
		t.Errorf("Graph for a new account: %+v", sw.Graph)
	}

	text := run(t, args...)
	if text.code != 0 || !strings.Contains(text.out, "From the allowed IPs: challenged or blocked") || !strings.Contains(text.out, "From outside: MFA or a block") {
		t.Errorf("text: exit %d\n%s%s", text.code, text.out, text.err)
	}
	for _, l := range strings.Split(text.out, "\n") {
		if ansi.StringWidth(l) > 80 {
			t.Errorf("line wider than 80 columns: %q", l)
		}
	}
	if r := run(t, append(args, "--fail-on-problems")...); r.code != 3 {
		t.Errorf("--fail-on-problems with a challenge: exit %d, want 3", r.code)
	}
}

// An existing account's sweep is confirmed by Graph's What If on a sample
// (a few requests, never one per combination), and Graph agrees.
func TestWhatIfSweepConfirmedByGraph(t *testing.T) {
	r := run(t, "whatif", "--demo", "--json", "--user", adeleUPN, "--sweep", "--allowed-ip", "20.190.128.0/24")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	var sw struct {
		Combinations []any `json:"combinations"`
		Graph        struct {
			Compared      bool     `json:"compared"`
			Requests      int      `json:"requests"`
			Disagreements []string `json:"disagreements"`
		} `json:"graphWhatIf"`
	}
	if err := json.Unmarshal([]byte(r.out), &sw); err != nil {
		t.Fatal(err)
	}
	g := sw.Graph
	if !g.Compared || g.Requests < 1 || g.Requests > 3 || g.Disagreements == nil || len(g.Disagreements) != 0 {
		t.Errorf("Graph's confirmation of %d combinations: %+v", len(sw.Combinations), g)
	}
}
