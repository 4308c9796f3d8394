package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The headless journey on one persisted simulated tenant: plan, apply,
// plan again (nothing to do, exit 0 even with --fail-on-changes), status
// ON, off (needs --force with auto-enable), on, undo, and remove.
func TestChangesJourney(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	state := filepath.Join(dir, "tenant.json")
	demo := []string{"--demo", "--demo-state", state}
	with := func(args ...string) []string { return append(append([]string{}, args...), demo...) }

	r := run(t, with("plan", "--allowed-ip", "20.190.128.0/24", "--fail-on-changes")...)
	if r.code != 3 || !strings.Contains(r.out, "create the account coreview.admin@contosodemo.onmicrosoft.com") {
		t.Fatalf("plan: exit %d\n%s%s", r.code, r.out, r.err)
	}
	// Without a terminal, apply needs --yes, and a way to hand out the password.
	if r := run(t, with("apply", "--allowed-ip", "20.190.128.0/24")...); r.code != 2 || !strings.Contains(r.err, "--yes") {
		t.Fatalf("apply without --yes: exit %d %s", r.code, r.err)
	}
	if r := run(t, with("apply", "--allowed-ip", "20.190.128.0/24", "--yes")...); r.code != 2 || !strings.Contains(r.err, "--password-file") || !strings.Contains(r.err, "nothing was written") {
		t.Fatalf("apply without a way to hand out the password: exit %d %s", r.code, r.err)
	}
	debugLog := filepath.Join(dir, "debug.log")
	r = run(t, with("apply", "--allowed-ip", "20.190.128.0/24", "--auto-enable", "--yes", "--json", "--debug-log", debugLog)...)
	if r.code != 0 {
		t.Fatalf("apply: exit %d\n%s", r.code, r.err)
	}
	var res struct {
		Changes  []json.RawMessage `json:"changes"`
		RunID    string            `json:"runId"`
		Report   string            `json:"report"`
		Password string            `json:"password"`
		Record   struct {
			Session string `json:"session"`
		} `json:"record"`
	}
	if err := json.Unmarshal([]byte(r.out), &res); err != nil {
		t.Fatalf("apply --json: %v\n%s", err, r.out)
	}
	if len(res.Changes) == 0 || res.RunID == "" || res.Password == "" || res.Record.Session != "on" {
		t.Fatalf("apply --json: %s", r.out)
	}
	// The password is in the JSON, and nowhere else: not in the journal,
	// the report, the debug log or stderr; and no token is anywhere.
	if data, err := os.ReadFile(debugLog); err != nil || !strings.Contains(string(data), "method=POST") || !strings.Contains(string(data), "path=/v1.0/users") {
		t.Errorf("the debug log does not show the writes (%v)", err)
	}
	secrets := []string{res.Password, "eyJ", "Bearer"}
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		// tenant.json is the simulated tenant's own directory, which keeps
		// its users' passwords to answer their sign-ins, as Entra does.
		if err == nil && !d.IsDir() && path != state {
			data, _ := os.ReadFile(path)
			for _, s := range secrets {
				if strings.Contains(string(data), s) {
					t.Errorf("%s holds %q", path, s)
				}
			}
		}
		return nil
	})
	for _, s := range secrets {
		if strings.Contains(r.err, s) {
			t.Errorf("stderr holds %q", s)
		}
		if s != res.Password && strings.Contains(r.out, s) {
			t.Errorf("stdout holds %q", s)
		}
	}
	if _, err := os.Stat(res.Report); err != nil {
		t.Errorf("report: %v", err)
	}
	if r := run(t, with("plan", "--allowed-ip", "20.190.128.0/24", "--auto-enable", "--fail-on-changes")...); r.code != 0 || !strings.Contains(r.out, "No changes") {
		t.Errorf("plan after apply: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if r := run(t, with("status")...); !strings.Contains(r.out, "Management        ON") ||
		!strings.Contains(r.out, "What If sweep  From the allowed IPs: never challenged or blocked") ||
		!strings.Contains(r.out, "From outside: MFA or a block for every one") {
		t.Errorf("status after apply:\n%s%s", r.out, r.err)
	}
	if r := run(t, with("off")...); r.code != 1 || !strings.Contains(r.err, "--force") {
		t.Errorf("off with auto-enable: exit %d %s", r.code, r.err)
	}
	if r := run(t, with("off", "--force")...); r.code != 0 || !strings.Contains(r.out, "is OFF") {
		t.Errorf("off --force: exit %d %s%s", r.code, r.out, r.err)
	}
	if r := run(t, with("on")...); r.code != 0 || !strings.Contains(r.out, "is ON") {
		t.Errorf("on: exit %d %s%s", r.code, r.out, r.err)
	}
	if r := run(t, with("undo")...); r.code != 2 || !strings.Contains(r.err, "--yes") {
		t.Errorf("undo without --yes: exit %d %s", r.code, r.err)
	}
	if r := run(t, with("undo", "--yes")...); r.code != 0 {
		t.Errorf("undo: exit %d %s%s", r.code, r.out, r.err)
	}
	if r := run(t, with("status")...); !strings.Contains(r.out, "Accounts          none found") {
		t.Errorf("status after undo:\n%s", r.out)
	}
	if r := run(t, with("remove", "--yes")...); r.code != 0 || !strings.Contains(r.out, "Nothing to remove") {
		t.Errorf("remove after undo: exit %d %s%s", r.code, r.out, r.err)
	}
}

// Bad input is one message naming it, exit 2, nothing read or written.
func TestChangesBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "--demo", "--allowed-ip", "10.0.0.0/24"}, "private"},
		{[]string{"plan", "--demo", "--allowed-ip", "nonsense"}, "not an IP address"},
		{[]string{"plan", "--demo", "--allowed-ip", "20.190.128.0/24", "--upn", "not a upn"}, "user principal name"},
		{[]string{"plan", "--demo", "--allowed-ip", "20.190.128.0/24", "--role", "Exchange Admin"}, "did you mean"},
		{[]string{"plan", "--demo", "--allowed-ip", "20.190.128.0/24", "--policy-state", "sometimes"}, "policy-state"},
		{[]string{"plan", "--demo", "--allowed-ip", "20.190.128.0/24", "--exclude-from", "c0a1b2c3-0009-4000-8000-00000000c009"}, "no Conditional Access policy has this id"},
		{[]string{"plan", "--demo"}, "no allowed IP range"},
	} {
		r := run(t, tc.args...)
		if r.code != 2 || !strings.Contains(r.err, tc.want) || r.out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q (want %q)", tc.args, r.code, r.out, r.err, tc.want)
		}
	}
}

// A refused plan names the cause and the fix and writes nothing (exit 1).
func TestApplyRefusedBySecurityDefaults(t *testing.T) {
	r := run(t, "apply", "--demo", "--demo-scenario", "security-defaults-on", "--allowed-ip", "20.190.128.0/24", "--yes", "--json")
	if r.code != 1 || !strings.Contains(r.err, "security defaults are on") || !strings.Contains(r.err, "Fix:") {
		t.Errorf("exit %d %s", r.code, r.err)
	}
}
