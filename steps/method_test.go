package steps_test

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"mgmtsession/change"
	"mgmtsession/steps"
)

const gaPassword = "Sup3r-Secret-Pa55!"

// plannedState is a signed-in state with allowed ranges and the plan for a
// service account, as the Allowed IPs step leaves it.
func plannedState(t *testing.T) *steps.State {
	t.Helper()
	state := signedIn(t, demo(t, "default"))
	d := newDriver(t, steps.NewAllowedIPs(deps(true)), state)
	d.enter()
	d.send(steps.LineMsg{Text: "20.190.128.0/24"})
	d.send(steps.LineMsg{Text: ""})
	planDone(d)
	if state.Plan == nil {
		t.Fatalf("no plan:\n%s", d.view())
	}
	return state
}

// TestMethodGlobalAdminInAccessibleMode: the Global Admin path asks for the
// UPN and the password, plans again for that admin, and the password is
// held as a Secret: never in a view.
func TestMethodGlobalAdminInAccessibleMode(t *testing.T) {
	state := plannedState(t)
	d := newDriver(t, steps.NewMethod(deps(true)), state)
	d.enter()
	view := d.view()
	for _, want := range []string{"+ A dedicated account", "- The platform holds a password with every power"} {
		if !strings.Contains(view, want) {
			t.Errorf("the trade-offs lack %q:\n%s", want, view)
		}
	}
	d.send(steps.LineMsg{Text: "x"})
	if !strings.Contains(d.view(), `"x" is not a method`) {
		t.Errorf("a bad answer is not named:\n%s", d.view())
	}
	d.send(steps.LineMsg{Text: "g"})
	d.send(steps.LineMsg{Text: "not a upn"})
	if !strings.Contains(d.view(), "the user principal name is refused") {
		t.Errorf("a bad UPN is not named:\n%s", d.view())
	}
	d.send(steps.LineMsg{Text: "adele.admin@contoso-demo.com"})
	if s, ok := d.step.(steps.SecretInput); !ok || !s.SecretInput() {
		t.Fatal("the password question is not marked secret")
	}
	d.send(steps.LineMsg{Text: gaPassword})
	planDone(d)
	if d.step.Status() == steps.Failed {
		t.Fatalf("the Global Admin was refused:\n%s", d.view())
	}
	if state.Method.Mode != change.GlobalAdmin || state.Method.Password.Reveal() != gaPassword {
		t.Errorf("the method in the state: %v %s", state.Method.Mode, state.Method.UPN)
	}
	if p := state.Plan; p.Mode != string(change.GlobalAdmin) || p.UPN != "adele.admin@contoso-demo.com" {
		t.Errorf("not planned again for the admin: %s %s", p.Mode, p.UPN)
	}
	if strings.Contains(d.view(), gaPassword) || strings.Contains(fmt.Sprintf("%+v %#v", state, state.Method), gaPassword) {
		t.Error("the password is shown or printed")
	}
	if !strings.Contains(d.flat(), "You are protecting your own account") {
		t.Errorf("the engine's warning for the operator's own account is missing:\n%s", d.view())
	}
}

// TestMethodRefusedAdmins: the engine's guards refuse an account that is
// not a Global Administrator and a break-glass account: the reason and the
// fix are shown, the step cannot be left, and the plan in the State is not
// one for them.
func TestMethodRefusedAdmins(t *testing.T) {
	for _, c := range []struct{ upn, cause string }{
		{"megan.bowen@contoso-demo.com", "Global Administrator"},
		{"bg.emergency1@contosodemo.onmicrosoft.com", "break-glass"},
		{"nobody@contoso-demo.com", "nobody@contoso-demo.com"},
	} {
		t.Run(c.upn, func(t *testing.T) {
			state := plannedState(t)
			d := newDriver(t, steps.NewMethod(deps(true)), state)
			d.enter()
			for _, l := range []string{"g", c.upn, gaPassword} {
				d.send(steps.LineMsg{Text: l})
			}
			planDone(d)
			if d.step.Status() != steps.Failed {
				t.Fatalf("%s was accepted:\n%s", c.upn, d.view())
			}
			if !strings.Contains(d.flat(), c.cause) || !strings.Contains(d.view(), "Fix:") {
				t.Errorf("the refusal does not say %q with a fix:\n%s", c.cause, d.view())
			}
			if ok, _ := d.step.CanAdvance(); ok {
				t.Error("the step can be left with a refused admin")
			}
			drain(d) // every message the refusal sent has reached the State
			if state.Plan.Mode == string(change.GlobalAdmin) || state.Method.Mode == change.GlobalAdmin {
				t.Error("a refused admin's plan or method reached the state")
			}
			// Going back to a service account plans for it again.
			d.key('e')
			d.send(steps.LineMsg{Text: "s"})
			planDone(d)
			if d.step.Status() == steps.Failed || state.Plan.Mode != string(change.ServiceAccount) {
				t.Errorf("back to a service account: %v %s\n%s", d.step.Status(), state.Plan.Mode, d.view())
			}
		})
	}
}

// TestMethodFormMasksThePassword: in the full-screen form the select
// offers both methods with their trade-offs; the Global Admin's password is
// masked as it is typed, and the choice plans again.
func TestMethodFormMasksThePassword(t *testing.T) {
	state := plannedState(t)
	plan := state.Plan
	d := newDriver(t, steps.NewMethod(deps(false)), state)
	d.enter()
	if !d.step.Focused() || !strings.Contains(d.view(), "Service account (recommended)") {
		t.Fatalf("no method form:\n%s", d.view())
	}
	drain(d)
	d.send(tea.KeyPressMsg{Code: tea.KeyDown})
	drain(d)
	if !strings.Contains(d.view(), "The platform holds a password") {
		t.Errorf("the Global Admin's trade-offs are not shown when it is chosen:\n%s", d.view())
	}
	enterKey(d)
	drain(d)
	typeText(d, "adele.admin@contoso-demo.com")
	enterKey(d)
	drain(d)
	typeText(d, gaPassword)
	if v := ansi.Strip(d.view()); strings.Contains(v, gaPassword) || strings.Contains(v, "Sup3r") || !strings.Contains(v, "*****") {
		t.Errorf("the password is not masked:\n%s", v)
	}
	enterKey(d)
	planDone(d)
	if state.Plan == plan || state.Plan.Mode != string(change.GlobalAdmin) {
		t.Fatalf("not planned again for the admin:\n%s", d.view())
	}
	if strings.Contains(d.view(), gaPassword) {
		t.Error("the password is shown after the choice")
	}
	// Choosing the same method again does not plan again.
	d.key('e')
	drain(d)
	for _, step := range []func(){func() { enterKey(d) }, func() { enterKey(d) }, func() { typeText(d, gaPassword) }, func() { enterKey(d) }} {
		step()
		drain(d)
	}
	d.until("chosen", func() bool { return !d.step.Focused() })
	if d.step.Status() == steps.Running {
		t.Error("the same method planned again")
	}
}
