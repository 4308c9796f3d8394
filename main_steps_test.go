package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// runAccessible runs the wizard in accessible mode with the answers given
// on standard input and returns the transcript.
func runAccessible(t *testing.T, answers string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = slices.DeleteFunc(append(os.Environ(), "MGMTSESSION_AS_MAIN=1"), func(kv string) bool {
		return strings.HasPrefix(kv, "ACCESSIBLE=") || strings.HasPrefix(kv, "NO_COLOR=") || strings.HasPrefix(kv, "TERM=")
	})
	cmd.Stdin = strings.NewReader(answers)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v; output:\n%s", err, out)
	}
	text := string(out)
	if strings.ContainsAny(text, "\x1b\r") {
		t.Errorf("the transcript has escape sequences or carriage returns: %q", text[:min(len(text), 600)])
	}
	return text
}

// TestAccessibleScriptedStepsTwoToFour: the What If, the allowed IPs and the
// method answered line by line from a script: a bad range is named and
// asked again, the normalisation and the plan are printed, and the Global
// Admin's password is neither echoed nor printed.
func TestAccessibleScriptedStepsTwoToFour(t *testing.T) {
	const password = "Scripted-Pa55word!"
	text := runAccessible(t, strings.Join([]string{
		"n", "n", // to the preflight, to the What If
		"n",                             // to the allowed IPs
		"10.0.0.1, 20.190.128.9/24",     // a private range: refused, asked again
		"20.190.128.9/24, 52.96.0.0/24", // host bits cleared
		"",                              // enforced, the default
		"n",                             // to the method
		"g", "adele.admin@contoso-demo.com", password,
		"q", "",
	}, "\n"), "--accessible", "--demo")
	for _, want := range []string{
		"== Step 2 of 7: What If check ==",
		"from outside (198.51.100.77): MFA REQUIRED by CA001",
		"== Step 3 of 7: Allowed IPs ==",
		`"10.0.0.1": private`,
		`"20.190.128.9/24": host bits cleared: 20.190.128.0/24`,
		"changes, in this order:",
		"What If after the changes",
		"from outside             MFA",
		"== Step 4 of 7: Choose the method ==",
		"> (hidden)",
		"Method: Global Admin credentials",
	} {
		if !strings.Contains(flatten(text), flatten(want)) {
			t.Errorf("the transcript lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, password) {
		t.Error("the Global Admin's password is in the transcript")
	}
}

// TestAccessibleWizardPrefilledFromConfig: wizard --config prefills the
// ranges and the policy state; empty answers keep them, as a customer
// reviewing a file prepared by support does.
func TestAccessibleWizardPrefilledFromConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "tenant.yaml")
	if err := os.WriteFile(cfg, []byte("allowedIPs:\n  - 51.140.12.0/27\npolicyState: reportOnly\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := runAccessible(t, "n\nn\nn\n\n\nq\n", "wizard", "--accessible", "--demo", "--config", cfg)
	for _, want := range []string{
		"from allowed 51.140.12.0/27 (51.140.12.1)", // the What If knows the ranges already
		"From the allowed IPs:",
		"Now: 51.140.12.0/27",
		"An empty line keeps report-only.",
		"The account's policy: report-only.",
		"Allowed IPs  51.140.12.0/27",
	} {
		if !strings.Contains(flatten(text), flatten(want)) {
			t.Errorf("the transcript lacks %q:\n%s", want, text)
		}
	}
}

// flatten undoes the wrapping, for finding sentences.
func flatten(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestAccessiblePasswordNotEchoedInTerminal: in accessible mode in a real
// terminal, the terminal echoes what is typed, except the Global Admin's
// password: its echo is off while it is typed, and on again after.
func TestAccessiblePasswordNotEchoedInTerminal(t *testing.T) {
	const password = "Typed-Pa55word!"
	term := startInTerminal(t, "--accessible", "--demo")
	term.waitFor("[n next, m management, q quit] >")
	for _, answer := range []string{"n", "n", "n", "20.190.128.0/24", "", "n", "g", "adele.admin@contoso-demo.com"} {
		term.press(answer + "\r")
		time.Sleep(300 * time.Millisecond)
	}
	term.waitFor("Its password (held in memory only")
	time.Sleep(300 * time.Millisecond) // the prompt, which turns the echo off, follows the question
	term.press(password + "\r")
	term.waitFor("[e change the method, n next")
	term.press("q\r")
	if code := term.exitCode(); code != 0 {
		t.Errorf("exit code %d after q, want 0", code)
	}
	out := strings.ReplaceAll(term.output(), "\r", "")
	if strings.Contains(out, password) {
		t.Error("the terminal echoed the password")
	}
	after := out[strings.LastIndex(out, "Its password"):]
	if !strings.Contains(after, "> q") {
		t.Errorf("the echo is not back after the password:\n%s", after)
	}
}

// TestAccessibleCancelLeavesAQuestion: "cancel" leaves a question as Esc
// does, so that a script or a screen reader user is never held by one.
func TestAccessibleCancelLeavesAQuestion(t *testing.T) {
	text := runAccessible(t, "n\nn\nn\ncancel\nb\nq\n", "--accessible", "--demo")
	for _, want := range []string{"(or cancel) > cancel", "No ranges yet: press e to give them."} {
		if !strings.Contains(text, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "== Step 2 of 7: What If check =="); n != 2 {
		t.Errorf("b after cancel did not go back to the What If (entered %d times):\n%s", n, text)
	}
}
