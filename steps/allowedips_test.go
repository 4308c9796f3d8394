package steps_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"mgmtsession/change"
	"mgmtsession/steps"
)

func typeText(d *driver, s string) {
	for _, r := range s {
		d.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func enterKey(d *driver) { d.send(tea.KeyPressMsg{Code: tea.KeyEnter}) }

// planDone waits until the step has planned (or failed to).
func planDone(d *driver) {
	d.t.Helper()
	d.until("planned", func() bool {
		s := d.step.Status()
		return s == steps.Done || s == steps.Warning || s == steps.Failed
	})
}

// TestAllowedIPsFormReceivesEveryKeyAndPaste: in the full-screen form, the
// step has focus while the ranges are typed, so every letter (n, q, b, j,
// k included) reaches the text area; a paste of many lines arrives whole;
// the live check names the bad token and shows the normalisation; Enter
// is refused while a token is bad; then the plan and the "after" picture.
func TestAllowedIPsFormReceivesEveryKeyAndPaste(t *testing.T) {
	state := signedIn(t, demo(t, "default"))
	d := newDriver(t, steps.NewAllowedIPs(deps(false)), state)
	d.enter()
	if !d.step.Focused() {
		t.Fatal("the step does not take the keys while the ranges are typed")
	}
	typeText(d, "20.190.128.9/24 nqbjk")
	flat := d.flat()
	for _, want := range []string{`"20.190.128.9/24": host bits cleared: 20.190.128.0/24`, `"nqbjk": not an IP address`} {
		if !strings.Contains(flat, want) {
			t.Errorf("the live check lacks %q:\n%s", want, d.view())
		}
	}
	enterKey(d)
	if !d.step.Focused() || state.AllowedIPs != nil || state.Plan != nil {
		t.Fatalf("Enter with a bad token went on: focused %v, ranges %v", d.step.Focused(), state.AllowedIPs)
	}
	if ok, _ := d.step.CanAdvance(); ok {
		t.Error("the step can be left with a bad token")
	}
	for range "nqbjk" {
		d.send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	d.send(tea.PasteMsg{Content: "\n52.96.0.0/24\n20.190.128.0/25 # nested\n"})
	if flat := d.flat(); !strings.Contains(flat, "2 ranges accepted: 20.190.128.0/24, 52.96.0.0/24") || !strings.Contains(flat, "inside 20.190.128.0/24, merged into it") {
		t.Fatalf("the paste was not taken whole:\n%s", d.view())
	}
	enterKey(d) // to the policy state
	enterKey(d) // enforced, the default
	planDone(d)
	if d.step.Status() == steps.Failed {
		t.Fatalf("no plan:\n%s", d.view())
	}
	if got := fmt.Sprint(state.AllowedIPs); got != "[20.190.128.0/24 52.96.0.0/24]" {
		t.Errorf("ranges in the state %s", got)
	}
	if state.Plan == nil || state.Desired == nil || state.Desired.PolicyState != change.PolicyEnabled {
		t.Fatalf("no enforced plan in the state: %+v", state.Desired)
	}
	flat = d.flat()
	for _, want := range []string{"The account's policy: enforced", "+ create the account coreview.admin@contosodemo.onmicrosoft.com",
		"exclude the account from CA001: Require MFA for administrators", "What If after the changes",
		"from 20.190.128.0/24 ALLOW", "from 52.96.0.0/24 ALLOW", "from outside MFA", "Nothing is written yet"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the plan lacks %q:\n%s", want, d.view())
		}
	}
	if d.step.Focused() {
		t.Error("the step keeps the keys after the ranges were confirmed")
	}
	if d.step.Enter(state) != nil {
		t.Error("a revisit plans again")
	}
}

// TestAllowedIPsBadInputEveryForm: every kind of bad input is named in the
// step, the step cannot be left, and nothing reaches the State (so nothing
// can be planned or written).
func TestAllowedIPsBadInputEveryForm(t *testing.T) {
	state := signedIn(t, demo(t, "default"))
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.txt")
	var many strings.Builder
	for i := range 2001 {
		fmt.Fprintf(&many, "20.%d.%d.0/24\n", 100+i/250, i%250)
	}
	if err := os.WriteFile(huge, []byte(many.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ input, named string }{
		{"not-an-ip", `"not-an-ip": not an IP address`},
		{"10.0.0.1", `"10.0.0.1": private`},
		{"127.0.0.1", `"127.0.0.1": loopback`},
		{"169.254.1.1", `"169.254.1.1": link-local`},
		{"224.0.0.1", `"224.0.0.1": multicast`},
		{"0.0.0.0/0", "0.0.0.0/0 is every IPv4 address"},
		{"::/0", "::/0 is every IPv6 address"},
		{"20.0.0.0/8", `"20.0.0.0/8"`},
		{"20.190.128.0/33", `"20.190.128.0/33"`},
		{"@" + filepath.Join(dir, "missing.txt"), "missing.txt\": cannot be read"},
		{"@" + dir, "is not a regular file"},
		{"@" + huge, "2000"},
		{"\x1b]52;c;ZXZpbA==\x07", "not an IP address"},
	} {
		t.Run(strings.Map(func(r rune) rune {
			if r < ' ' || r == '/' {
				return '_'
			}
			return r
		}, c.input), func(t *testing.T) {
			d := newDriver(t, steps.NewAllowedIPs(deps(true)), state)
			d.enter()
			d.send(steps.LineMsg{Text: c.input})
			view := d.view()
			if !strings.Contains(strings.Join(strings.Fields(view), " "), c.named) || !strings.Contains(view, "[FAIL]") {
				t.Errorf("%q is not named (want %q):\n%s", c.input, c.named, view)
			}
			if strings.ContainsAny(view, "\x1b\x07") {
				t.Errorf("a control character reached the view: %q", view)
			}
			if ok, _ := d.step.CanAdvance(); ok || !d.step.Focused() {
				t.Error("the step can be left after bad input")
			}
			if state.AllowedIPs != nil || state.Plan != nil {
				t.Error("bad input reached the state")
			}
		})
	}
}

// TestAllowedIPsFromAFileAndReportOnly: @FILE loads a vendor's list with
// its comments; report-only is planned with its consequence stated, and the
// "after" picture shows no MFA outside.
func TestAllowedIPsFromAFileAndReportOnly(t *testing.T) {
	state := signedIn(t, demo(t, "default"))
	file := filepath.Join(t.TempDir(), "egress.txt")
	if err := os.WriteFile(file, []byte("# platform egress, EU\n51.140.12.0/27\n2a01:111:f400::/48 # IPv6\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, steps.NewAllowedIPs(deps(true)), state)
	d.enter()
	d.send(steps.LineMsg{Text: "@" + file})
	if !strings.Contains(d.flat(), "2 ranges accepted: 51.140.12.0/27, 2a01:111:f400::/48") {
		t.Fatalf("the file was not loaded:\n%s", d.view())
	}
	d.send(steps.LineMsg{Text: "maybe"})
	if !strings.Contains(d.view(), `"maybe" is not a policy state`) {
		t.Errorf("a bad policy state is not named:\n%s", d.view())
	}
	d.send(steps.LineMsg{Text: "r"})
	planDone(d)
	if state.Desired == nil || state.Desired.PolicyState != change.PolicyReportOnly {
		t.Fatalf("report-only was not planned:\n%s", d.view())
	}
	flat := d.flat()
	for _, want := range []string{"The account's policy: report-only", "MFA is NOT enforced outside the allowed IPs", "from outside ALLOW"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the report-only plan lacks %q:\n%s", want, d.view())
		}
	}
	if d.step.Status() != steps.Warning {
		t.Errorf("a report-only plan is %v, want a warning", d.step.Status())
	}
}

// TestAllowedIPsPrefilledFromConfig: the ranges and the policy state given
// with --config or the flags are what the step starts from.
func TestAllowedIPsPrefilledFromConfig(t *testing.T) {
	state := signedIn(t, demo(t, "default"))
	ps := string(change.PolicyReportOnly)
	state.Config.Overrides = change.Overrides{AllowedIPs: []string{"51.140.12.0/27,52.96.0.0/24"}, PolicyState: &ps}
	d := newDriver(t, steps.NewAllowedIPs(deps(true)), state)
	d.enter()
	d.send(steps.LineMsg{Text: ""})  // keep the ranges
	d.send(steps.LineMsg{Text: "e"}) // enforced after all
	planDone(d)
	if got := fmt.Sprint(state.AllowedIPs); got != "[51.140.12.0/27 52.96.0.0/24]" || state.Desired.PolicyState != change.PolicyEnabled {
		t.Errorf("planned %s %s, want the configured ranges, enforced", got, state.Desired.PolicyState)
	}
}

// TestAllowedIPsEscKeepsThePlan: Esc while changing the ranges drops what
// was typed; the plan made before stands, with its own notes.
func TestAllowedIPsEscKeepsThePlan(t *testing.T) {
	state := plannedState(t)
	plan := state.Plan
	d := newDriver(t, steps.NewAllowedIPs(deps(false)), state)
	d.enter() // a revisit: the plan is shown, nothing is asked
	if d.step.Focused() {
		t.Fatal("a revisit with a plan asks for the ranges again")
	}
	d.key('e')
	drain(d)
	typeText(d, ", 52.96.0.9/24")
	if !strings.Contains(d.flat(), "host bits cleared: 52.96.0.0/24") {
		t.Fatalf("the edit is not checked:\n%s", d.view())
	}
	d.send(tea.KeyPressMsg{Code: tea.KeyEscape})
	if d.step.Focused() || state.Plan != plan || fmt.Sprint(state.AllowedIPs) != "[20.190.128.0/24]" {
		t.Fatalf("Esc did not keep the plan: focused %v, ranges %v", d.step.Focused(), state.AllowedIPs)
	}
	if strings.Contains(d.flat(), "52.96.0") {
		t.Errorf("the dropped edit is still shown:\n%s", d.view())
	}
	if ok, why := d.step.CanAdvance(); !ok {
		t.Errorf("cannot go on with the plan kept: %s", why)
	}
}
