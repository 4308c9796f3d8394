package steps_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"mgmtsession/change"
	"mgmtsession/connect"
	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
	"mgmtsession/probe"
	"mgmtsession/steps"
)

// writeDeps are the steps' dependencies for the write steps: a journal
// directory of the test's own and the demo's short pause between read-backs.
func writeDeps(t *testing.T, accessible bool) steps.Deps {
	dir := t.TempDir()
	return steps.Deps{Ctx: context.Background(), Accessible: accessible, VerifyPause: 20 * time.Millisecond,
		JournalDir: func(tenantID string) (string, error) { return change.TenantDir(dir, tenantID) }}
}

// plannedOn is a signed-in state on a tenant the test can reach, with the
// plan the Allowed IPs step makes for 20.190.128.0/24.
func plannedOn(t *testing.T, scenario string) (*steps.State, *connect.Env) {
	t.Helper()
	env := demo(t, scenario)
	state := signedIn(t, env)
	d := newDriver(t, steps.NewAllowedIPs(deps(true)), state)
	d.enter()
	d.send(steps.LineMsg{Text: "20.190.128.0/24"})
	d.send(steps.LineMsg{Text: ""})
	planDone(d)
	if state.Plan == nil {
		t.Fatalf("no plan:\n%s", d.view())
	}
	return state, env
}

func settled(d *driver) func() bool {
	return func() bool { s := d.step.Status(); return s != steps.Running && !d.step.Busy() }
}

// created runs the Create step to its end on a planned state.
func created(t *testing.T, state *steps.State, dp steps.Deps) *driver {
	t.Helper()
	d := newDriver(t, steps.NewCreate(dp), state)
	d.enter()
	d.key('a')
	d.until("created", settled(d))
	if d.step.Status() != steps.Done {
		t.Fatalf("Create did not finish:\n%s", d.view())
	}
	return d
}

// TestCreateWritesOnceOnItsKeyAndNeverOnRevisit: entering Create writes
// nothing; a applies the plan with every change's progress, Busy while the
// engine writes; going back to it and forward again writes nothing more, and
// neither does a second a. The password is handed out hidden until revealed,
// is needed before moving on, and is in no journal or report.
func TestCreateWritesOnceOnItsKeyAndNeverOnRevisit(t *testing.T) {
	state, env := plannedOn(t, "default")
	dp := writeDeps(t, false)
	d := newDriver(t, steps.NewCreate(dp), state)
	before := env.Sim.Writes()
	d.enter()
	d.enter()
	if got := env.Sim.Writes(); got != before {
		t.Fatalf("entering Create wrote %d times", got-before)
	}
	if d.step.Status() != steps.Pending || !strings.Contains(d.flat(), "Press a to apply them") {
		t.Fatalf("Create does not offer the changes before writing (status %v):\n%s", d.step.Status(), d.view())
	}
	if ok, _ := d.step.CanAdvance(); ok {
		t.Error("Create lets the operator move on before anything was created")
	}
	d.key('a')
	if !d.step.Busy() || d.step.Status() != steps.Running {
		t.Fatalf("Create is not busy while it writes (status %v)", d.step.Status())
	}
	d.until("created", settled(d))
	if d.step.Status() != steps.Done {
		t.Fatalf("Create did not finish:\n%s", d.view())
	}
	view := d.flat()
	for _, want := range []string{"create the account coreview.admin@contosodemo.onmicrosoft.com (verified in", "15 changes made and verified", "Journal:", "Report:", "hidden: p reveals it"} {
		if !strings.Contains(view, want) {
			t.Errorf("the view lacks %q:\n%s", want, d.view())
		}
	}
	pw := state.Run.Password.Reveal()
	if pw == "" {
		t.Fatal("the run handed out no password")
	}
	if strings.Contains(d.view(), pw) {
		t.Fatal("the password is on screen before it was revealed")
	}
	if ok, why := d.step.CanAdvance(); ok || !strings.Contains(why, "password") {
		t.Errorf("moving on before the password was taken: ok=%v %q", ok, why)
	}
	d.key('p')
	if !strings.Contains(d.view(), pw) {
		t.Errorf("p does not reveal the password:\n%s", d.view())
	}
	d.key('p')
	if strings.Contains(d.view(), pw) {
		t.Error("p again does not hide the password")
	}
	if ok, why := d.step.CanAdvance(); !ok {
		t.Errorf("after the password was revealed: %s", why)
	}
	// The shared state now plans from the tenant as Create left it.
	if state.Plan == nil || !createdEverything(state.Plan) || state.Management == nil || state.Management.Session != change.SessionOff {
		t.Errorf("the State was not brought up to date: plan %+v, session %+v", state.Plan, state.Management)
	}

	// Back and forth, and a again: nothing more is written.
	writes := env.Sim.Writes()
	d.enter()
	d.key('a')
	d.enter()
	d.key('r')
	time.Sleep(200 * time.Millisecond)
	if got := env.Sim.Writes(); got != writes {
		t.Errorf("a revisit of Create wrote %d times", got-writes)
	}
	again := newDriver(t, steps.NewCreate(dp), state) // as a new wizard would
	again.enter()
	if again.step.Status() != steps.Done {
		t.Errorf("a plan already applied comes back with changes:\n%s", again.view())
	}

	// The password is in no file the run wrote.
	noSecretIn(t, filepath.Dir(state.Run.Journal), pw)
	if state.ReportPath == "" {
		t.Error("no report was written")
	}
}

// createdEverything says that nothing is left to create: what is left is
// turning the session on.
func createdEverything(p *change.Plan) bool {
	for _, c := range p.Changes {
		if c.Action != change.ActEnable && c.Object != change.ObjSessionRecord {
			return false
		}
	}
	return true
}

func noSecretIn(t *testing.T, dir, secret string) {
	t.Helper()
	files, _ := os.ReadDir(dir)
	if len(files) == 0 {
		t.Fatalf("no file in %s", dir)
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), secret) {
			t.Errorf("%s holds the password", f.Name())
		}
	}
}

// TestCreatePermissionErrorNamesWhatIsMissing: a write Graph refuses with
// 403 stops the step, naming the role and the scope it needs; the operator
// cannot move on, and r retries without repeating what was done.
func TestCreatePermissionErrorNamesWhatIsMissing(t *testing.T) {
	state, env := plannedOn(t, "default")
	env.Sim.InjectFault(tenantsim.Fault{Method: http.MethodPost, Path: "/identity/conditionalAccess/namedLocations", Status: http.StatusForbidden})
	d := newDriver(t, steps.NewCreate(writeDeps(t, false)), state)
	d.enter()
	d.key('a')
	d.until("stopped", settled(d))
	if d.step.Status() != steps.Failed {
		t.Fatalf("status %v after a 403, want Failed:\n%s", d.step.Status(), d.view())
	}
	view := d.flat()
	for _, want := range []string{"Graph refused to write the named location", "Policy.ReadWrite.ConditionalAccess", "Conditional Access Administrator", "press r to retry"} {
		if !strings.Contains(view, want) {
			t.Errorf("the view lacks %q:\n%s", want, d.view())
		}
	}
	if ok, _ := d.step.CanAdvance(); ok {
		t.Error("the operator may move on from a failed Create")
	}
	d.key('r')
	d.until("retried", settled(d))
	if d.step.Status() != steps.Done {
		t.Fatalf("the retry did not finish:\n%s", d.view())
	}
	if strings.Contains(d.flat(), "create the account") {
		t.Errorf("the retry created the account again:\n%s", d.view())
	}
}

// onState is a state after Create.
func onState(t *testing.T) (*steps.State, *connect.Env, steps.Deps) {
	t.Helper()
	state, env := plannedOn(t, "default")
	dp := writeDeps(t, false)
	created(t, state, dp)
	return state, env, dp
}

// TestTurnOnConfirmsThenTurnsOn: the What If is asked again of the tenant
// as it is (Graph's beside the local one, the account existing), the
// session goes on only on o, the State (the header) says ON, and a revisit
// writes nothing.
func TestTurnOnConfirmsThenTurnsOn(t *testing.T) {
	state, env, dp := onState(t)
	d := newDriver(t, steps.NewTurnOn(dp), state)
	writes := env.Sim.Writes()
	d.enter()
	d.until("checked", settled(d))
	if env.Sim.Writes() != writes {
		t.Fatal("the confirmation What If wrote")
	}
	view := d.flat()
	for _, want := range []string{"from allowed 20.190.128.0/24 (20.190.128.1): ALLOWED", "MFA REQUIRED by Management session", "Graph's own What If agrees", "The condition holds", "Press o"} {
		if !strings.Contains(view, want) {
			t.Errorf("the view lacks %q:\n%s", want, d.view())
		}
	}
	if ok, _ := d.step.CanAdvance(); ok {
		t.Error("moving on before the session is on")
	}
	d.key('o')
	if !d.step.Busy() {
		t.Error("Turn on is not busy while it writes")
	}
	d.until("turned on", settled(d))
	if d.step.Status() != steps.Done || state.Management == nil || state.Management.Session != change.SessionOn {
		t.Fatalf("the session is not on (status %v, %+v):\n%s", d.step.Status(), state.Management, d.view())
	}
	u, err := state.Client.User(context.Background(), state.Plan.UPN)
	if err != nil || !u.AccountEnabled {
		t.Fatalf("the account is not enabled in the tenant: %+v %v", u, err)
	}
	writes = env.Sim.Writes()
	d.enter()
	d.key('o')
	time.Sleep(200 * time.Millisecond)
	if env.Sim.Writes() != writes {
		t.Error("a revisit of Turn on wrote")
	}
}

// TestTurnOnRefusesWhenTheConditionFails: with the account's own policy
// switched off by someone, the account would sign in from outside with no
// MFA: the step says so and o writes nothing.
func TestTurnOnRefusesWhenTheConditionFails(t *testing.T) {
	state, env, dp := onState(t)
	ctx := context.Background()
	pol, err := state.Client.Policy(ctx, state.Management.Policy.ID)
	if err != nil {
		t.Fatal(err)
	}
	pol.State = "disabled"
	if err := state.Client.UpdatePolicy(ctx, pol); err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, steps.NewTurnOn(dp), state)
	d.enter()
	d.until("checked", settled(d))
	if d.step.Status() != steps.Failed || !strings.Contains(d.flat(), "From outside (") || !strings.Contains(d.flat(), "the session stays off") {
		t.Fatalf("status %v; the failed condition is not explained:\n%s", d.step.Status(), d.view())
	}
	writes := env.Sim.Writes()
	d.key('o')
	time.Sleep(200 * time.Millisecond)
	if env.Sim.Writes() != writes {
		t.Error("o wrote although the condition does not hold")
	}
}

// TestAutoEnableRecordsTheChoiceAndTheReport: the toggle is recorded in the
// tenant, the report is written again with the final state (no password),
// and the summary says what to paste into the platform.
func TestAutoEnableRecordsTheChoiceAndTheReport(t *testing.T) {
	state, _, dp := onState(t)
	on := newDriver(t, steps.NewTurnOn(dp), state)
	on.enter()
	on.until("checked", settled(on))
	on.key('o')
	on.until("on", settled(on))
	d := newDriver(t, steps.NewAutoEnable(dp), state)
	d.enter()
	if d.step.Status() != steps.Pending || !strings.Contains(d.flat(), "Auto-enable OFF") {
		t.Fatalf("auto-enable is not offered off by default:\n%s", d.view())
	}
	d.key('t')
	if !strings.Contains(d.flat(), "the session is turned OFF") {
		t.Fatalf("t does not offer to turn the session off:\n%s", d.view())
	}
	d.key('t')
	if !strings.Contains(d.flat(), "Auto-enable ON") {
		t.Fatalf("t does not toggle:\n%s", d.view())
	}
	d.key('f')
	d.until("finished", settled(d))
	if d.step.Status() != steps.Done {
		t.Fatalf("not finished:\n%s", d.view())
	}
	if !state.Management.AutoEnable || state.Management.Session != change.SessionOn {
		t.Errorf("the tenant does not hold auto-enable on with the session on: %+v", state.Management)
	}
	view := d.flat()
	for _, want := range []string{"Management session: ON; auto-enable on", "Report:", "Paste into the platform", "Account: coreview.admin@contosodemo.onmicrosoft.com"} {
		if !strings.Contains(view, want) {
			t.Errorf("the summary lacks %q:\n%s", want, d.view())
		}
	}
	data, err := os.ReadFile(strings.TrimSuffix(state.ReportPath, ".md") + ".json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"autoEnable": true`) {
		t.Errorf("the report's final state lacks auto-enable:\n%s", data)
	}
	noSecretIn(t, filepath.Dir(state.ReportPath), state.Run.Password.Reveal())
}

// detailsDriver runs the details view as the root does.
type detailsDriver struct {
	t     *testing.T
	d     *steps.Details
	state *steps.State
	msgs  chan tea.Msg
	inner *driver
}

func newDetailsDriver(t *testing.T, dp steps.Deps, state *steps.State) *detailsDriver {
	dd := &detailsDriver{t: t, d: steps.NewDetails(dp), state: state}
	dd.inner = newDriver(t, steps.NewLater("x", "x", "x"), state)
	return dd
}

func (dd *detailsDriver) send(msg tea.Msg, open bool) {
	if ch, ok := msg.(steps.Change); ok {
		ch.Apply(dd.state)
	}
	dd.inner.run(dd.d.Update(msg, dd.state, open))
}

func (dd *detailsDriver) until(what string, cond func() bool) {
	dd.t.Helper()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case msg := <-dd.inner.msgs:
			dd.send(msg, true)
		case <-deadline:
			dd.t.Fatalf("never %s; the view shows:\n%s", what, dd.view())
		}
	}
}

func (dd *detailsDriver) key(k rune) { dd.send(tea.KeyPressMsg{Code: k, Text: string(k)}, true) }

func (dd *detailsDriver) view() string { return dd.d.View(dd.inner.theme, 80) }

func (dd *detailsDriver) flat() string { return strings.Join(strings.Fields(dd.view()), " ") }

// TestDetailsTurnOffAsksFirst: the badge's view reads the session fresh,
// Turn off asks, n writes nothing, y turns it off as mgmtsession off does.
func TestDetailsTurnOffAsksFirst(t *testing.T) {
	state, env, dp := onState(t)
	on := newDriver(t, steps.NewTurnOn(dp), state)
	on.enter()
	on.until("checked", settled(on))
	on.key('o')
	on.until("on", settled(on))

	dd := newDetailsDriver(t, dp, state)
	dd.inner.run(dd.d.Open(state))
	dd.until("read", func() bool {
		return strings.Contains(dd.flat(), "o turns the session off") && !strings.Contains(dd.flat(), "Reading the session")
	})
	for _, want := range []string{"Management session: ON", "Roles: Authentication Administrator", "Allowed IPs: 20.190.128.0/24", "(enabled)", "Auto-enable: off", "No drift"} {
		if !strings.Contains(dd.flat(), want) {
			t.Errorf("the details lack %q:\n%s", want, dd.view())
		}
	}
	writes := env.Sim.Writes()
	dd.key('o')
	if !strings.Contains(dd.flat(), "Turn the session off") {
		t.Fatalf("o does not ask:\n%s", dd.view())
	}
	dd.key('n')
	time.Sleep(100 * time.Millisecond)
	if env.Sim.Writes() != writes {
		t.Fatal("answering n wrote")
	}
	dd.key('o')
	dd.key('y')
	if !dd.d.Busy() {
		t.Error("Turn off is not busy while it writes")
	}
	dd.until("off", func() bool { return !dd.d.Busy() && state.Management.Session == change.SessionOff })
	u, err := state.Client.User(context.Background(), state.Plan.UPN)
	if err != nil || u.AccountEnabled {
		t.Fatalf("the account is still enabled: %+v %v", u, err)
	}
}

// TestUnfinishedRunOfferedForUndo: a run of apply cut short leaves an
// unfinished run; the next wizard for the tenant
// says so at start, and u (confirmed) takes back what it changed.
func TestUnfinishedRunOfferedForUndo(t *testing.T) {
	state, _ := plannedOn(t, "default")
	dp := writeDeps(t, false)
	// A run of apply stopped from outside right after the account's policy
	// was verified (as Ctrl+C or a dropped SSH session stops it).
	dir, err := dp.JournalDir(state.Session.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	j, err := change.CreateJournal(dir, change.NewRunID(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, err = change.Apply(ctx, state.Client, state.Plan, change.Options{Journal: j, VerifyPause: 20 * time.Millisecond,
		Observer: func(e change.Event) {
			if e.Kind == change.EventVerified && e.Change.Object == change.ObjPolicy {
				cancel()
			}
		}})
	j.Close()
	if err == nil {
		t.Fatal("the run was not stopped")
	}

	dd := newDetailsDriver(t, dp, state)
	dd.send(tea.WindowSizeMsg{}, false) // any message once signed in starts the scan
	dd.until("found the run", func() bool { return dd.d.Notice() != "" })
	if !strings.Contains(dd.d.Notice(), "unfinished run") || !strings.Contains(dd.flat(), "Resume: the Create step's apply converges it") {
		t.Fatalf("the unfinished run is not offered: %q\n%s", dd.d.Notice(), dd.view())
	}
	dd.key('u')
	dd.key('y')
	dd.until("undone", func() bool { return !dd.d.Busy() && dd.d.Notice() == "" })
	if !strings.Contains(dd.flat(), "The unfinished run was undone") {
		t.Fatalf("the undo did not finish:\n%s", dd.view())
	}
	if _, err := state.Client.User(context.Background(), state.Plan.UPN); err == nil {
		t.Error("the account the unfinished run created is still there")
	}
}

// TestCreateShowsReplicationWaits: while Graph has not made a new object
// visible everywhere, the change says it waits for replication, with the
// time so far, and then verifies.
func TestCreateShowsReplicationWaits(t *testing.T) {
	state, env := plannedOn(t, "default")
	env.Sim.SetReplicationDelay(2500 * time.Millisecond)
	d := newDriver(t, steps.NewCreate(writeDeps(t, false)), state)
	d.enter()
	d.key('a')
	d.until("waited for replication", func() bool { return strings.Contains(d.flat(), "waiting for directory replication (") })
	if !strings.Contains(d.flat(), "s so far") {
		t.Errorf("the wait does not say the time so far:\n%s", d.view())
	}
	d.until("created", settled(d))
	if d.step.Status() != steps.Done || strings.Contains(d.flat(), "waiting for directory replication") {
		t.Fatalf("Create did not finish after the wait:\n%s", d.view())
	}
}

// TestTurnOnProbe: once the session is on, p signs in as the account with
// its password alone through the real probe; from this machine, outside the
// allowed range, Entra answers MFA required by the account's own policy.
func TestTurnOnProbe(t *testing.T) {
	state, env, dp := onState(t)
	dp.Probe = func(ctx context.Context, log *graph.Client, upn string, pw change.Secret) (steps.ProbeAnswer, error) {
		res, err := probe.Try(ctx, env, probe.Request{UPN: upn, Password: pw, Log: log})
		if err != nil {
			return steps.ProbeAnswer{}, err
		}
		ans := steps.ProbeAnswer{Outcome: string(res.Outcome), Title: res.Outcome.Title(), Cause: res.Cause, Fix: res.Fix}
		for _, p := range res.Policies {
			ans.Policies = append(ans.Policies, p.DisplayName)
		}
		return ans, nil
	}
	d := newDriver(t, steps.NewTurnOn(dp), state)
	d.enter()
	d.until("checked", settled(d))
	d.key('o')
	d.until("on", settled(d))
	if !strings.Contains(d.flat(), "Optional: p signs in as the account") {
		t.Fatalf("the probe is not offered:\n%s", d.view())
	}
	d.key('p')
	d.until("probed", settled(d))
	if !strings.Contains(d.flat(), "Probe from this machine: MFA required") || d.step.Status() != steps.Done {
		t.Fatalf("the probe's answer is not shown (status %v):\n%s", d.step.Status(), d.view())
	}
	if strings.Contains(d.view(), state.Run.Password.Reveal()) {
		t.Error("the probe shows the password")
	}
}

// TestDetailsShowDrift: an exclusion taken out by someone after Create is
// drift in the badge's view, with its fix.
func TestDetailsShowDrift(t *testing.T) {
	state, _, dp := onState(t)
	ctx := context.Background()
	id := state.Management.ExcludedFrom[0]
	pol, err := state.Client.Policy(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, u := range pol.Conditions.Users.ExcludeUsers {
		if u != state.Management.Account.ID {
			kept = append(kept, u)
		}
	}
	if err := state.Client.SetPolicyExcludedUsers(ctx, id, kept); err != nil {
		t.Fatal(err)
	}
	dd := newDetailsDriver(t, dp, state)
	dd.inner.run(dd.d.Open(state))
	dd.until("read", func() bool { return !strings.Contains(dd.flat(), "Reading the session") })
	if strings.Contains(dd.flat(), "No drift") || !strings.Contains(dd.flat(), "Fix: mgmtsession apply") {
		t.Fatalf("the exclusion taken out is not shown as drift with its fix:\n%s", dd.view())
	}
}
