package cli_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mgmtsession/assets"
	"mgmtsession/cli"
	"mgmtsession/graph/tenantsim"
)

// TestStatusDemo prints the preflight facts as a person reads them.
func TestStatusDemo(t *testing.T) {
	r := run(t, "status", "--demo")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	for _, want := range []string{
		"Tenant            Contoso Demo Ltd (contosodemo.onmicrosoft.com)",
		"Entra ID P1 / P2  yes / no",
		"Security defaults off",
		"Management        OFF",
		"Break-glass       " + breakGlass1,
		"[PASS] Your directory roles: You hold Global Administrator",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("status lacks %q:\n%s", want, r.out)
		}
	}
}

// TestStatusScenarios: each failing scenario names its problem and fix, and
// --fail-on-problems turns it into exit code 3.
func TestStatusScenarios(t *testing.T) {
	for _, c := range []struct{ scenario, want string }{
		{"security-defaults-on", "[FAIL] Security defaults: On"},
		{"no-p1", "[FAIL] Entra ID P1 licence"},
		{"operator-lacks-role", "[FAIL] Your directory roles: You hold Global Reader"},
		{"account-exists", "[FAIL] Per-user MFA of coreview.admin@contosodemo.onmicrosoft.com"},
	} {
		t.Run(c.scenario, func(t *testing.T) {
			r := run(t, "status", "--demo", "--demo-scenario", c.scenario, "--fail-on-problems")
			if r.code != cli.ExitProblems {
				t.Errorf("exit %d, want %d (%s)", r.code, cli.ExitProblems, r.err)
			}
			if !strings.Contains(r.out, c.want) || !strings.Contains(r.out, "Fix:") {
				t.Errorf("status lacks %q with its fix:\n%s", c.want, r.out)
			}
		})
	}
}

// TestStatusJSON is one object a script can read.
func TestStatusJSON(t *testing.T) {
	r := run(t, "status", "--demo", "--demo-scenario", "account-exists", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	var got struct {
		TenantName string `json:"tenantName"`
		Accounts   []struct {
			UPN        string `json:"userPrincipalName"`
			PerUserMFA string `json:"perUserMfaState"`
		} `json:"managementAccounts"`
		Checks []struct{ ID, Result string } `json:"checks"`
	}
	if err := json.Unmarshal([]byte(r.out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.out)
	}
	if got.TenantName != "Contoso Demo Ltd" || len(got.Accounts) != 1 || got.Accounts[0].PerUserMFA != "enforced" {
		t.Errorf("unexpected report: %+v", got)
	}
}

// TestStatusDeviceCodeBlocked explains the refusal and the alternatives.
func TestStatusDeviceCodeBlocked(t *testing.T) {
	r := run(t, "status", "--demo", "--demo-scenario", "device-code-blocked")
	if r.code != cli.ExitFailure || !strings.Contains(r.err, "AADSTS53003") || !strings.Contains(r.err, "Fix (--auth): sign in another way") {
		t.Errorf("exit %d, stderr %q", r.code, r.err)
	}
	if r.out != "" {
		t.Errorf("nothing belongs on stdout: %q", r.out)
	}
}

// TestUsage: bad usage exits 2 with one line naming the problem.
func TestUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"frobnicate"}, cli.ExitUsage, `unknown command "frobnicate"`},
		{[]string{"status", "--demo", "--cloud", "mars"}, cli.ExitUsage, `unknown --cloud "mars"`},
		{[]string{"status", "--demo", "--auth", "carrier-pigeon"}, cli.ExitUsage, `unknown --auth "carrier-pigeon"`},
		{[]string{"status", "--demo", "--demo-scenario", "nope"}, cli.ExitUsage, `unknown demo scenario "nope"`},
		{[]string{"status", "--demo-scenario", "no-p1"}, cli.ExitUsage, "go with --demo"},
		{[]string{"status", "--demo", "extra"}, cli.ExitUsage, `unexpected argument "extra"`},
		{[]string{"--demo"}, cli.ExitUsage, "the wizard needs a terminal"},
		{[]string{"signins", "--demo", "--top", "5000"}, cli.ExitUsage, "--top 5000"},
	} {
		r := run(t, c.args...)
		if r.code != c.code || !strings.Contains(r.err, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, r.code, r.err, c.code, c.want)
		}
	}
}

// TestEmulator: the five lines a script reads, a token from the
// client-credentials grant with curl's parameters, a Graph call with it, and
// a clean stop.
func TestEmulator(t *testing.T) {
	dir := t.TempDir()
	certPath := filepath.Join(dir, "sim.pem")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		done <- cli.Run(ctx, []string{"emulator", "--cert-out", certPath, "--demo-state", filepath.Join(dir, "state.json")},
			cli.Streams{In: strings.NewReader(""), Out: pw, Err: io.Discard})
		pw.Close()
	}()
	lines := map[string]string{}
	sc := bufio.NewScanner(pr)
	for len(lines) < 5 && sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ": ")
		lines[k] = v
	}
	go io.Copy(io.Discard, pr)
	for _, k := range []string{"graph", "authority", "tenant", "client-id", "client-secret"} {
		if lines[k] == "" {
			t.Fatalf("no %s line in %v", k, lines)
		}
	}
	if !strings.HasSuffix(lines["graph"], "/v1.0") || lines["client-id"] != tenantsim.DemoAppClientID {
		t.Errorf("unexpected lines %v", lines)
	}
	pem, err := os.ReadFile(certPath)
	if err != nil || !strings.Contains(string(pem), "BEGIN CERTIFICATE") {
		t.Fatalf("--cert-out: %v", err)
	}
	client := trustingClient(t, pem)
	root := strings.TrimSuffix(lines["graph"], "/v1.0")
	resp, err := client.PostForm(lines["authority"]+lines["tenant"]+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {lines["client-id"]},
		"client_secret": {lines["client-secret"]}, "scope": {root + "/.default"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	req, _ := http.NewRequest("GET", lines["graph"]+"/identity/conditionalAccess/policies", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "CA001: Require MFA for administrators") {
		t.Errorf("Graph answered %d: %.200s", resp.StatusCode, body)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after interrupt, want 0", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the emulator did not stop")
	}
	if _, err := os.Stat(filepath.Join(dir, "state.json")); err != nil {
		t.Errorf("--demo-state was not written: %v", err)
	}
}

func trustingClient(t *testing.T, pem []byte) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("the certificate does not parse")
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// TestStatusSanitisesTenantStrings: a policy named with terminal escape
// sequences (set by anyone who may edit policies) cannot act on the
// operator's terminal through status.
func TestStatusSanitisesTenantStrings(t *testing.T) {
	var st map[string]any
	if err := json.Unmarshal(assets.DemoTenant, &st); err != nil {
		t.Fatal(err)
	}
	policies := st["policies"].([]any)
	evil := "Microsoft-managed: \x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\u202egnp.exe"
	policies[len(policies)-2].(map[string]any)["displayName"] = evil
	st["displayName"] = "Contoso\x1b[31m Red"
	data, _ := json.Marshal(st)
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, "status", "--demo", "--demo-state", path)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	if strings.ContainsAny(r.out, "\x1b\x07\u202e") {
		t.Errorf("status printed a control character from the tenant:\n%q", r.out)
	}
	if !strings.Contains(r.out, "Microsoft-managed: ␛]52;c;cm0gLXJmIH4=␇␛[2J") || !strings.Contains(r.out, "Contoso␛[31m Red") {
		t.Errorf("the names should stay readable, defused:\n%s", r.out)
	}
}
