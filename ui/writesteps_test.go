package ui

import (
	"context"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"mgmtsession/change"
	"mgmtsession/connect"
	"mgmtsession/graph"
	"mgmtsession/preflight"
	"mgmtsession/steps"
)

// newWriteDriver is a driver whose wizard writes: the journal in dir (a
// path of fixed length, so that the screens wrap the same way each run),
// the demo's pause between read-backs, and the simulated tenant at hand to
// count its writes.
func newWriteDriver(t testing.TB, opts connect.Options, width, height int, dir string) (*driver, *connect.Env) {
	t.Helper()
	env, err := connect.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	d := &driver{t: t, msgs: make(chan tea.Msg, 64)}
	run := func(ctx context.Context, c *graph.Client, s graph.Session) (*preflight.Report, error) {
		d.reads.Add(1)
		return preflight.Run(ctx, c, s)
	}
	d.m = New(context.Background(), Config{Auth: env, Cloud: "simulated (demo)", Preflight: run, VerifyPause: 20 * time.Millisecond,
		JournalDir: func(tenantID string) (string, error) { return change.TenantDir(dir, tenantID) }})
	d.send(tea.WindowSizeMsg{Width: width, Height: height})
	d.run(d.m.Init())
	return d, env
}

func demoOpts(scenario, state string) connect.Options {
	return connect.Options{Demo: true, DemoScenario: scenario, DemoState: state, DemoApproveAfter: 200 * time.Millisecond}
}

// toCreate walks the wizard to the Create step with the plan for
// 20.190.128.0/24 and a service account.
func toCreate(t testing.TB, d *driver) {
	t.Helper()
	toAllowedIPs(t, d)
	d.typeKeys("20.190.128.0/24")
	d.planned()
	d.press("n")
	d.settle()
	d.press("enter")
	d.until("chose the method", func() bool { return d.m.steps[4].Status() == steps.Done })
	d.press("n")
	d.settle()
	if d.m.active != 5 {
		t.Fatalf("not at Create:\n%s", d.screen())
	}
}

func (d *driver) stepSettled(i int) func() bool {
	return func() bool { st := d.m.steps[i]; return st.Status() != steps.Running && !st.Busy() }
}

// throughCreate applies the plan and takes the password (revealed and
// hidden again, so that no screen shows it).
func (d *driver) throughCreate() {
	d.t.Helper()
	d.press("a")
	d.until("created", d.stepSettled(5))
	if d.m.steps[5].Status() != steps.Done {
		d.t.Fatalf("Create did not finish:\n%s", d.screen())
	}
	d.press("p", "p")
}

// throughTurnOn checks the condition and turns the session on.
func (d *driver) throughTurnOn() {
	d.t.Helper()
	d.press("n")
	d.until("checked", func() bool { return d.m.steps[6].Status() == steps.Pending || d.m.steps[6].Status() == steps.Failed })
	d.press("o")
	d.until("turned on", d.stepSettled(6))
	if d.m.steps[6].Status() != steps.Done {
		d.t.Fatalf("Turn on did not finish:\n%s", d.screen())
	}
}

// masked hides what changes from run to run without changing a line's
// length: run ids and the seconds a write took.
func masked(s string) string {
	s = regexp.MustCompile(`[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}`).ReplaceAllString(s, "YYYYMMDDThhmmssZ-xxxxxx")
	// A duration may wrap between its figure and its unit.
	s = regexp.MustCompile(`[0-9]\.[0-9]( +\n[^\n]*?)? s\)`).ReplaceAllStringFunc(s, func(m string) string {
		return "0.0" + m[3:]
	})
	return regexp.MustCompile(`Since:[^\n]*`).ReplaceAllString(s, "")
}

// goldenDir is the journal directory of the screens: always the same path,
// so that a path on screen wraps the same way on every run.
func goldenDir(t *testing.T, w, h int) string {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("mgmtsession-golden-%dx%d", w, h))
	_ = os.RemoveAll(dir)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// TestWriteStepScreens pins the screens of steps 5-7 and the badge's view
// with the session on, at 80x24 and 120x40 without colour. The password
// is taken (revealed and hidden again), so no screen shows it.
func TestWriteStepScreens(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			d, _ := newWriteDriver(t, demoOpts("default", ""), w, h, goldenDir(t, w, h))
			toCreate(t, d)
			pin := func(name string) {
				t.Run(name, func(t *testing.T) { golden.RequireEqual(t, []byte(masked(d.screen()))) })
			}
			pin("create-plan")
			d.throughCreate()
			pin("create-done")
			d.press("end")
			pin("create-done-end")
			pw := d.m.state.Run.Password.Reveal()
			d.press("n")
			d.until("checked", func() bool { return d.m.steps[6].Status() == steps.Pending })
			pin("turn-on-check")
			d.press("o")
			d.until("turned on", d.stepSettled(6))
			pin("turn-on-on")
			d.press("n")
			pin("auto-enable")
			d.press("f")
			d.until("finished", d.stepSettled(7))
			pin("auto-enable-summary")
			d.press("m")
			d.until("read the session", func() bool { return !strings.Contains(d.screen(), "Reading the session") })
			pin("details-on")
			d.press("o")
			pin("details-turn-off")
			if strings.Contains(d.screen(), pw) {
				t.Fatal("a screen shows the password")
			}
		})
	}
}

// TestQuitDuringCreateAsksFirst: q while Create writes asks; n goes on and
// the run finishes; q after it quits at once.
func TestQuitDuringCreateAsksFirst(t *testing.T) {
	d, _ := newWriteDriver(t, demoOpts("default", ""), 120, 40, t.TempDir())
	toCreate(t, d)
	d.press("a")
	if !d.m.steps[5].Busy() {
		t.Fatal("Create is not busy right after a")
	}
	d.press("q")
	if d.quit || !strings.Contains(d.screen(), "Create is still working") {
		t.Fatalf("q during Create did not ask first (quit %v):\n%s", d.quit, d.screen())
	}
	d.press("n")
	d.until("created", d.stepSettled(5))
	if d.quit || d.m.steps[5].Status() != steps.Done {
		t.Fatalf("the run did not go on after n:\n%s", d.screen())
	}
	d.press("q")
	if !d.quit {
		t.Error("q after Create did not quit")
	}
}

// TestGoingBackToCreateDoesNotWriteAgain: through the root, back to Create
// and forward again, a and r there, write nothing; neither does Turn on
// when visited again.
func TestGoingBackToCreateDoesNotWriteAgain(t *testing.T) {
	d, env := newWriteDriver(t, demoOpts("default", ""), 120, 40, t.TempDir())
	toCreate(t, d)
	d.throughCreate()
	d.throughTurnOn()
	writes := env.Sim.Writes()
	d.press("b", "a", "r", "b", "b", "n", "n", "a", "n", "o")
	d.settle()
	if got := env.Sim.Writes(); got != writes {
		t.Fatalf("going back and forth wrote %d times:\n%s", got-writes, d.screen())
	}
	if d.m.active != 6 || !strings.Contains(d.screen(), "Management ON") {
		t.Errorf("not back at Turn on with the session on:\n%s", d.screen())
	}
}

// TestLightBackgroundRethemesTheWriteSteps: steps 5-7 and the badge's view,
// with their results, render with the light palette once a light
// background is reported.
func TestLightBackgroundRethemesTheWriteSteps(t *testing.T) {
	d, _ := newWriteDriver(t, demoOpts("default", ""), 120, 40, t.TempDir())
	toCreate(t, d)
	d.throughCreate()
	d.throughTurnOn()
	d.press("n", "f")
	d.until("finished", d.stepSettled(7))
	d.send(tea.BackgroundColorMsg{Color: color.White})
	views := map[string]string{"details": d.m.details.View(d.m.theme, 80)}
	for i := 5; i <= 7; i++ {
		views[d.m.steps[i].Title()] = d.m.steps[i].View(d.m.theme, 80)
	}
	for name, view := range views {
		light := strings.Contains(view, lightGreen) || strings.Contains(view, lightMuted)
		dark := strings.Contains(view, darkGreen) || strings.Contains(view, darkMuted)
		if !light || dark {
			t.Errorf("%s on a light background: light colours %v, dark colours %v", name, light, dark)
		}
	}
}

// TestHostileTenantStringsInertToTheEnd: a tenant whose names carry a
// screen clear, a cursor move and an OSC 52 clipboard write, through the
// whole journey: no control reaches the screen on steps 5-7 or the badge's
// view.
func TestHostileTenantStringsInertToTheEnd(t *testing.T) {
	state := hostileTenant(t, false)
	d, _ := newWriteDriver(t, demoOpts("default", state), 120, 40, t.TempDir())
	toCreate(t, d)
	sgr := regexp.MustCompile("\x1b\\[[0-9;:]*m")
	check := func(when string) {
		for _, details := range []bool{false, true} {
			d.m.showDetails = details
			d.m.layout()
			if rest := sgr.ReplaceAllString(d.m.View().Content, ""); strings.ContainsAny(rest, "\x1b\x07\u009b") {
				t.Errorf("%s (details %v) lets a control through: %q", when, details, rest[:min(len(rest), 400)])
			}
		}
		d.m.showDetails = false
		d.m.layout()
	}
	check("Create before writing")
	d.throughCreate()
	check("Create done")
	d.throughTurnOn()
	check("Turn on")
	d.press("n", "f")
	d.until("finished", d.stepSettled(7))
	check("Auto-enable")
	if !strings.Contains(d.screen(), "Excluded from") {
		t.Errorf("the journey did not reach the summary:\n%s", d.screen())
	}
}

// TestAccessibleDetailsTurnOff: in accessible mode, m opens the session's
// details as lines; its answers go to it (o asks, n keeps the session, o
// and y turn it off), m goes back to the step, and the summary follows.
func TestAccessibleDetailsTurnOff(t *testing.T) {
	env, err := connect.Open(demoOpts("default", ""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	dir := t.TempDir()
	cfg := Config{Auth: env, Cloud: "simulated (demo)", Preflight: preflight.Run, VerifyPause: 20 * time.Millisecond,
		JournalDir: func(tenantID string) (string, error) { return change.TenantDir(dir, tenantID) }}
	answers := "n\nn\nn\n20.190.128.0/24\n\nn\ns\nn\na\np\nn\no\nn\nf\nm\no\nn\no\ny\nm\nq\n"
	var out strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := RunAccessible(ctx, cfg, strings.NewReader(answers), &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	_, details, ok := strings.Cut(text, "== Management session ==")
	if !ok {
		t.Fatalf("m did not open the details:\n%s", text)
	}
	for _, want := range []string{
		"Management session: ON",
		"[o turn off, m close] > o",
		"Turn the session off: disable the account and revoke its sign-in sessions? y/n",
		"[y yes, n no, m close] > n",
		"[y yes, n no, m close] > y",
		"[PASS] The session is OFF",
		"Account:     coreview.admin@contosodemo.onmicrosoft.com (disabled)",
		"== Back to step 7 of 7: Auto-enable ==",
		"Management session: OFF; auto-enable off",
	} {
		if !strings.Contains(details, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, details)
		}
	}
	if strings.ContainsAny(text, "\x1b\r") {
		t.Error("escape sequences or carriage returns in accessible mode")
	}
}

// unfinishedRun leaves, in dir, a run of apply for the demo tenant that
// began and never ended (a crash before its first write).
func unfinishedRun(t *testing.T, dir string) string {
	t.Helper()
	tdir, err := change.TenantDir(dir, "6f1c2a9e-3b7d-4e15-9a8c-2d4b5e6f7a81")
	if err != nil {
		t.Fatal(err)
	}
	j, err := change.CreateJournal(tdir, change.NewRunID(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.Write(change.Entry{Type: change.EntryBegin, Command: "apply", Tenant: "6f1c2a9e-3b7d-4e15-9a8c-2d4b5e6f7a81"}); err != nil {
		t.Fatal(err)
	}
	return j.Run
}

// TestUnfinishedRunOfferedAtStart: once signed in, an unfinished run of the
// tenant is named in the status row; m shows it with resume and undo, and u
// (confirmed) takes it back. In accessible mode the notice is a line.
func TestUnfinishedRunOfferedAtStart(t *testing.T) {
	dir := t.TempDir()
	run := unfinishedRun(t, dir)
	d, _ := newWriteDriver(t, demoOpts("default", ""), 120, 40, dir)
	d.signedIn()
	d.until("found the run", func() bool { return strings.Contains(d.screen(), "An unfinished run of this tenant ("+run+")") })
	d.press("m")
	d.settle()
	if !strings.Contains(d.flat(), "Run "+run+" of this tenant did not finish") || !strings.Contains(d.flat(), "Resume: the Create step's apply converges it") {
		t.Fatalf("the details do not offer resume and undo:\n%s", d.screen())
	}
	d.press("u", "y")
	d.until("undone", func() bool { return strings.Contains(d.flat(), "The unfinished run was undone") })
	if strings.Contains(d.screen(), "An unfinished run") {
		t.Errorf("the notice stays after the undo:\n%s", d.screen())
	}

	env, err := connect.Open(demoOpts("default", ""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	dir2 := t.TempDir()
	run2 := unfinishedRun(t, dir2)
	cfg := Config{Auth: env, Cloud: "simulated (demo)", Preflight: preflight.Run,
		JournalDir: func(tenantID string) (string, error) { return change.TenantDir(dir2, tenantID) }}
	var out strings.Builder
	if _, err := RunAccessible(context.Background(), cfg, strings.NewReader("q\n"), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "An unfinished run of this tenant ("+run2+") was found") {
		t.Errorf("accessible mode does not say so:\n%s", out.String())
	}
}
