package ui_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"mgmtsession/connect"
	"mgmtsession/preflight"
	"mgmtsession/ui"
)

// startWizard runs the real wizard model in a real Bubble Tea program at
// 80x24, against the simulated tenant with the real device code sign-in.
func startWizard(t *testing.T, scenario string) *teatest.TestModel {
	t.Helper()
	env, err := connect.Open(connect.Options{Demo: true, DemoScenario: scenario, DemoApproveAfter: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	m := ui.New(context.Background(), ui.Config{Auth: env, Cloud: "simulated (demo)", Preflight: preflight.Run})
	return teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
}

func waitFor(t *testing.T, tm *teatest.TestModel, text string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte(text))
	}, teatest.WithDuration(30*time.Second), teatest.WithCheckInterval(50*time.Millisecond))
}

// screen is what the final model shows, without styling, at its size.
func screen(t *testing.T, tm *teatest.TestModel) (ui.Model, string) {
	t.Helper()
	final := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(ui.Model)
	return final, ansi.Strip(final.View().Content)
}

// TestWizardSignInShowsCodeThenPreflight walks the first two steps as an
// operator does: read the device code, wait for the sign-in, go to
// preflight, read the checks.
func TestWizardSignInShowsCodeThenPreflight(t *testing.T) {
	tm := startWizard(t, "default")
	waitFor(t, tm, "enter the code")
	waitFor(t, tm, "Signed in as")
	tm.Send(tea.KeyPressMsg{Code: 'n', Text: "n"})
	waitFor(t, tm, "passed,")
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	final, scr := screen(t, tm)
	if final.Aborted() {
		t.Error("q is a normal quit, not an abort")
	}
	for _, want := range []string{"Management OFF", "Contoso Demo Ltd", "Step 1 · Preflight", "passed"} {
		if !strings.Contains(scr, want) {
			t.Errorf("preflight screen lacks %q:\n%s", want, scr)
		}
	}
	golden.RequireEqual(t, scr) // testdata/TestName.golden; refresh with -update
}

// TestWizardScenarioScreens pins the preflight screen of the scenarios whose
// failing check the operator must see with its fix.
func TestWizardScenarioScreens(t *testing.T) {
	for _, sc := range []struct{ scenario, fail string }{
		{"security-defaults-on", "Security defaults"},
		{"no-p1", "Entra ID P1 licence"},
		{"operator-lacks-role", "Your directory roles"},
	} {
		t.Run(sc.scenario, func(t *testing.T) {
			tm := startWizard(t, sc.scenario)
			waitFor(t, tm, "Signed in as")
			tm.Send(tea.KeyPressMsg{Code: 'n', Text: "n"})
			waitFor(t, tm, "failed")
			tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
			final, scr := screen(t, tm)
			if !final.Aborted() {
				t.Error("Ctrl+C should count as an abort (exit code 130)")
			}
			// The failing check is shown with its mark and a fix.
			if !regexp.MustCompile(`✗ ` + regexp.QuoteMeta(sc.fail)).MatchString(scr) {
				t.Errorf("no failing %q check on screen:\n%s", sc.fail, scr)
			}
			golden.RequireEqual(t, scr)
		})
	}
}

// TestWizardDeviceCodeBlocked shows the cause and the alternatives when a
// Conditional Access policy blocks device code sign-in.
func TestWizardDeviceCodeBlocked(t *testing.T) {
	tm := startWizard(t, "device-code-blocked")
	waitFor(t, tm, "Sign-in failed")
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	_, scr := screen(t, tm)
	flat := strings.Join(strings.Fields(scr), " ") // wrapping aside
	for _, want := range []string{"AADSTS53003", "Fix (--auth): sign in another way: --auth browser", "r retry sign-in"} {
		if !strings.Contains(flat, want) {
			t.Errorf("screen lacks %q:\n%s", want, scr)
		}
	}
}

// TestWizardStepsTwoToFour walks the What If, the allowed IPs and the
// method in a real program with keystrokes, as an operator does: read the
// "before" picture, paste the ranges, confirm them and the policy state,
// read the plan, keep the recommended method; then the badge's details.
func TestWizardStepsTwoToFour(t *testing.T) {
	tm := startWizard(t, "default")
	waitFor(t, tm, "Signed in as")
	tm.Send(tea.KeyPressMsg{Code: 'n', Text: "n"})
	waitFor(t, tm, "passed,")
	tm.Send(tea.KeyPressMsg{Code: 'n', Text: "n"})
	waitFor(t, tm, "MFA REQUIRED")
	tm.Send(tea.KeyPressMsg{Code: 'n', Text: "n"})
	waitFor(t, tm, "Allowed IP ranges")
	tm.Send(tea.PasteMsg{Content: "20.190.128.0/24\n52.96.0.0/24"})
	waitFor(t, tm, "2 ranges accepted")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitFor(t, tm, "changes, in this order")
	tm.Send(tea.KeyPressMsg{Code: 'n', Text: "n"})
	waitFor(t, tm, "How the platform signs in")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitFor(t, tm, "Method: service account")
	tm.Send(tea.KeyPressMsg{Code: 'm', Text: "m"})
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	final, scr := screen(t, tm)
	if final.Aborted() {
		t.Error("q is a normal quit, not an abort")
	}
	if !strings.Contains(scr, "No management account exists yet") {
		t.Errorf("the Management badge details are not shown:\n%s", scr)
	}
	if strings.Contains(scr, "not available in this build") || strings.Contains(scr, "in a later build") {
		t.Errorf("a text points to a build that does not exist:\n%s", scr)
	}
}
