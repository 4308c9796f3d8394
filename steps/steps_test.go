package steps_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"mgmtsession/connect"
	"mgmtsession/graph"
	"mgmtsession/preflight"
	"mgmtsession/steps"
	"mgmtsession/text"
)

// driver runs one step as the root does, at the Update level: it runs the
// step's commands as Bubble Tea would (each in its own goroutine), applies
// the messages that change the shared state, and feeds every message back.
type driver struct {
	t     *testing.T
	step  steps.Step
	state *steps.State
	msgs  chan tea.Msg
	theme *steps.Theme
}

func newDriver(t *testing.T, step steps.Step, state *steps.State) *driver {
	return &driver{t: t, step: step, state: state, msgs: make(chan tea.Msg, 64),
		theme: &steps.Theme{Pal: text.PlainPalette(), Accessible: true}}
}

func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		switch msg := cmd().(type) {
		case nil, spinner.TickMsg: // frames only: the view is read without them
		case tea.BatchMsg:
			for _, c := range msg {
				d.run(c)
			}
		default:
			if seq, ok := sequence(msg); ok {
				for _, c := range seq {
					d.run(c) // in order would be stricter; the forms need only that each runs
				}
				return
			}
			d.msgs <- msg
		}
	}()
}

func (d *driver) send(msg tea.Msg) {
	if ch, ok := msg.(steps.Change); ok {
		ch.Apply(d.state)
	}
	var cmd tea.Cmd
	d.step, cmd = d.step.Update(msg)
	d.run(cmd)
}

func (d *driver) enter() { d.run(d.step.Enter(d.state)) }

func (d *driver) key(k rune) { d.send(tea.KeyPressMsg{Code: k, Text: string(k)}) }

// until feeds messages back until cond holds.
func (d *driver) until(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case msg := <-d.msgs:
			d.send(msg)
		case <-deadline:
			d.t.Fatalf("never %s; the step shows:\n%s", what, d.view())
		}
	}
}

func (d *driver) view() string { return d.step.View(d.theme, 80) }

// flat is the view with its wrapping undone, for finding sentences.
func (d *driver) flat() string { return strings.Join(strings.Fields(d.view()), " ") }

func demo(t *testing.T, scenario string) *connect.Env {
	t.Helper()
	env, err := connect.Open(connect.Options{Demo: true, DemoScenario: scenario, DemoApproveAfter: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	return env
}

// signedIn is a state with a real sign-in to the simulated tenant.
func signedIn(t *testing.T, env *connect.Env) *steps.State {
	t.Helper()
	client, sess, err := env.SignIn(context.Background(), func(graph.DeviceCode) {})
	if err != nil {
		t.Fatal(err)
	}
	return &steps.State{Client: client, Session: &sess}
}

// TestSignInStreamsTheCodeThenSignsIn: the device code arrives while the
// sign-in waits, and the step is done once the shared state has the session.
func TestSignInStreamsTheCodeThenSignsIn(t *testing.T) {
	env := demo(t, "default")
	state := &steps.State{}
	d := newDriver(t, steps.NewSignIn(steps.Deps{Ctx: context.Background(), Auth: env}), state)
	d.enter()
	d.until("showed the device code", func() bool { return strings.Contains(d.flat(), "enter the code") })
	if d.step.Status() != steps.Running {
		t.Errorf("status %v while waiting for the browser, want Running", d.step.Status())
	}
	if cmd := d.step.Enter(state); cmd != nil {
		t.Error("entering again while signing in starts a second sign-in")
	}
	d.until("signed in", func() bool { return d.step.Status() == steps.Done })
	if state.Client == nil || state.Session == nil || state.Session.UPN != "adele.admin@contoso-demo.com" {
		t.Errorf("the shared state lacks the sign-in: %+v", state)
	}
	if ok, why := d.step.CanAdvance(); !ok {
		t.Errorf("cannot advance after signing in: %s", why)
	}
	if cmd := d.step.Enter(state); cmd != nil {
		t.Error("revisiting a finished sign-in signs in again")
	}
}

// TestSignInFailedSaysWhyNotNext: after a refused sign-in, going on is
// refused with the real reason and the retry key, and r signs in again.
func TestSignInFailedSaysWhyNotNext(t *testing.T) {
	env := demo(t, "device-code-blocked")
	d := newDriver(t, steps.NewSignIn(steps.Deps{Ctx: context.Background(), Auth: env}), &steps.State{})
	d.enter()
	d.until("failed", func() bool { return d.step.Status() == steps.Failed })
	ok, why := d.step.CanAdvance()
	if ok || !strings.Contains(why, "Sign-in failed") || !strings.Contains(why, "r to try again") || strings.Contains(why, "not available") {
		t.Errorf("CanAdvance = %v, %q; want a refusal naming the failed sign-in and r", ok, why)
	}
	d.key('r')
	if d.step.Status() != steps.Running {
		t.Errorf("r left the step %v, want Running again", d.step.Status())
	}
	d.until("failed again", func() bool { return d.step.Status() == steps.Failed })
}

// countingPreflight is the real preflight, counted.
func countingPreflight(n *atomic.Int32) func(context.Context, *graph.Client, graph.Session) (*preflight.Report, error) {
	return func(ctx context.Context, c *graph.Client, s graph.Session) (*preflight.Report, error) {
		n.Add(1)
		return preflight.Run(ctx, c, s)
	}
}

// TestPreflightEnteringIsNotStarting: entering the step again while it reads,
// or after, does not read again; r does, and says so.
func TestPreflightEnteringIsNotStarting(t *testing.T) {
	env := demo(t, "default")
	var reads atomic.Int32
	state := signedIn(t, env)
	d := newDriver(t, steps.NewPreflight(steps.Deps{Ctx: context.Background(), Preflight: countingPreflight(&reads)}), state)
	d.enter()
	d.enter()
	d.until("judged the tenant", func() bool { return d.step.Status() == steps.Warning })
	d.enter()
	if got := reads.Load(); got != 1 {
		t.Errorf("%d reads after entering three times, want 1", got)
	}
	if state.Report == nil || state.Report.TenantName != "Contoso Demo Ltd" {
		t.Errorf("the report did not reach the shared state: %+v", state.Report)
	}
	if strings.Contains(d.view(), "Read 2 times") {
		t.Error("the first read claims to be the second")
	}
	d.key('r')
	d.until("read again", func() bool { return d.step.Status() == steps.Warning })
	if got := reads.Load(); got != 2 {
		t.Errorf("%d reads after r, want 2", got)
	}
	if !strings.Contains(d.flat(), "Read 2 times; this is the latest read.") {
		t.Errorf("nothing shows that r ran:\n%s", d.view())
	}
}

// TestPreflightFailedNeedsRetryOrSkip: a failed check stops the wizard until
// the operator reads again or skips explicitly.
func TestPreflightFailedNeedsRetryOrSkip(t *testing.T) {
	env := demo(t, "no-p1")
	d := newDriver(t, steps.NewPreflight(steps.Deps{Ctx: context.Background(), Preflight: preflight.Run}), signedIn(t, env))
	d.enter()
	d.until("judged the tenant", func() bool { return d.step.Status() == steps.Failed })
	if ok, why := d.step.CanAdvance(); ok || !strings.Contains(why, "press r") || !strings.Contains(why, "s to go on anyway") {
		t.Errorf("CanAdvance = %v, %q after a failed check; want a refusal offering r and s", ok, why)
	}
	d.key('s')
	if ok, _ := d.step.CanAdvance(); !ok {
		t.Error("s (continue despite the failures) did not let the operator go on")
	}
	if !strings.Contains(d.view(), "Continuing despite the failures") {
		t.Errorf("the view does not say the failures were skipped:\n%s", d.view())
	}
}

// TestPreflightUnknownIsNoPass: a report whose only problem is a check that
// could not be judged leaves the step failed (not done, not a warning),
// with the check's own mark, the count of unknown checks and how to retry.
func TestPreflightUnknownIsNoPass(t *testing.T) {
	env := demo(t, "default")
	report := &preflight.Report{TenantName: "Contoso", InitialDomain: "contoso.onmicrosoft.com", Checks: []preflight.Check{
		{ID: "scopes", Title: "Granted scopes", Result: preflight.Pass, Reason: "Every scope."},
		{ID: "policy-count", Title: "Conditional Access policies", Result: preflight.Unknown, Read: "policies",
			Reason: "Unknown: reading Conditional Access policies: EOF", Fix: "Run the checks again."},
	}}
	judged := func(context.Context, *graph.Client, graph.Session) (*preflight.Report, error) { return report, nil }
	d := newDriver(t, steps.NewPreflight(steps.Deps{Ctx: context.Background(), Preflight: judged}), signedIn(t, env))
	d.enter()
	d.until("judged the report", func() bool { return d.step.Status() != steps.Running })
	if d.step.Status() != steps.Failed {
		t.Errorf("status %v with an unknown check, want Failed", d.step.Status())
	}
	view := d.view()
	for _, want := range []string{"1 passed", "1 unknown", "press r", "[UNKNOWN] Conditional Access policies: Unknown: reading", "policies: EOF"} {
		if !strings.Contains(view, want) {
			t.Errorf("the view lacks %q:\n%s", want, view)
		}
	}
}

// TestPreflightThrottledSaysSo: a tenant that throttles Conditional Access
// makes the read wait seconds; the view says why instead of only spinning.
func TestPreflightThrottledSaysSo(t *testing.T) {
	env := demo(t, "throttled")
	d := newDriver(t, steps.NewPreflight(steps.Deps{Ctx: context.Background(), Preflight: preflight.Run}), signedIn(t, env))
	d.enter()
	d.until("explained the wait", func() bool {
		return d.step.Status() != steps.Running || strings.Contains(d.flat(), "throttling")
	})
	if d.step.Status() != steps.Running {
		t.Fatalf("the throttled read ended (%v) before the view explained the wait:\n%s", d.step.Status(), d.view())
	}
	if !strings.Contains(d.flat(), "A wait of a few seconds is expected") {
		t.Errorf("the view does not say the wait is expected:\n%s", d.view())
	}
	d.until("finished", func() bool { return d.step.Status() != steps.Running })
}

// TestWrapKeepsFlagsWhole: a sign-in failure's advice wraps without
// splitting a flag from its dashes.
func TestWrapKeepsFlagsWhole(t *testing.T) {
	env := demo(t, "device-code-blocked")
	d := newDriver(t, steps.NewSignIn(steps.Deps{Ctx: context.Background(), Auth: env}), &steps.State{})
	d.enter()
	d.until("failed", func() bool { return d.step.Status() == steps.Failed })
	for width := 40; width <= 80; width++ {
		for _, line := range strings.Split(d.step.View(d.theme, width), "\n") {
			if l := strings.TrimSpace(line); strings.HasSuffix(l, "-") || strings.HasPrefix(l, "auth ") || strings.HasPrefix(l, "-auth") {
				t.Fatalf("at width %d a flag is split at line %q:\n%s", width, line, d.step.View(d.theme, width))
			}
		}
	}
}
