package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"mgmtsession/connect"
	"mgmtsession/graph"
	"mgmtsession/preflight"
	"mgmtsession/steps"
)

// driver runs the root model at the Update level, as huh's tests do: it
// sends synthetic messages, runs the commands they return as Bubble Tea
// would (each in a goroutine) and feeds their messages back.
type driver struct {
	t     testing.TB
	m     Model
	msgs  chan tea.Msg
	quit  bool
	reads atomic.Int32 // preflight runs
}

func newDriver(t testing.TB, scenario string, width, height int, demoState string) *driver {
	t.Helper()
	return newDriverWith(t, connect.Options{Demo: true, DemoScenario: scenario, DemoState: demoState, DemoApproveAfter: 200 * time.Millisecond}, width, height)
}

func newDriverWith(t testing.TB, opts connect.Options, width, height int) *driver {
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
	d.m = New(context.Background(), Config{Auth: env, Cloud: "simulated (demo)", Preflight: run})
	d.send(tea.WindowSizeMsg{Width: width, Height: height})
	d.run(d.m.Init())
	return d
}

func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		switch msg := cmd().(type) {
		case nil, spinner.TickMsg:
		case tea.BatchMsg:
			for _, c := range msg {
				d.run(c)
			}
		default:
			if seq, ok := sequence(msg); ok {
				for _, c := range seq {
					d.run(c)
				}
				return
			}
			d.msgs <- msg
		}
	}()
}

func (d *driver) send(msg tea.Msg) {
	if _, ok := msg.(tea.QuitMsg); ok {
		d.quit = true
		return
	}
	next, cmd := d.m.Update(msg)
	d.m = next.(Model)
	d.run(cmd)
}

// press sends a key and says whether the root quit at once.
func (d *driver) press(keys ...string) {
	for _, k := range keys {
		var msg tea.KeyPressMsg
		switch k {
		case "enter":
			msg = tea.KeyPressMsg{Code: tea.KeyEnter}
		case "esc":
			msg = tea.KeyPressMsg{Code: tea.KeyEscape}
		case "left":
			msg = tea.KeyPressMsg{Code: tea.KeyLeft}
		case "end":
			msg = tea.KeyPressMsg{Code: tea.KeyEnd}
		case "home":
			msg = tea.KeyPressMsg{Code: tea.KeyHome}
		case "ctrl+c":
			msg = tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
		default:
			msg = tea.KeyPressMsg{Code: []rune(k)[0], Text: k}
		}
		next, cmd := d.m.Update(msg)
		d.m = next.(Model)
		if cmd != nil && d.m.steps[d.m.active].Status() != steps.Running {
			// The root's own answers to keys are immediate (quit or
			// nothing); run them here so the test sees a quit at once.
			if _, ok := cmd().(tea.QuitMsg); ok {
				d.quit = true
				continue
			}
		}
		d.run(cmd)
	}
}

func (d *driver) until(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case msg := <-d.msgs:
			d.send(msg)
		case <-deadline:
			d.t.Fatalf("never %s; the screen shows:\n%s", what, d.screen())
		}
	}
}

// settle feeds back what is already queued, for a moment.
func (d *driver) settle() {
	for {
		select {
		case msg := <-d.msgs:
			d.send(msg)
		case <-time.After(300 * time.Millisecond):
			return
		}
	}
}

func (d *driver) screen() string { return ansi.Strip(d.m.View().Content) }
func (d *driver) flat() string   { return strings.Join(strings.Fields(d.screen()), " ") }

func (d *driver) signedIn() {
	d.t.Helper()
	d.until("signed in", func() bool { return d.m.steps[0].Status() == steps.Done })
}

func (d *driver) preflightRead() {
	d.t.Helper()
	d.press("n")
	d.until("read the tenant", func() bool { s := d.m.steps[1].Status(); return s != steps.Running && s != steps.Pending })
}

// inputStep is a step with a text field that has focus, as the Allowed IPs
// step will have (there with huh's text area): the smallest step that shows
// who gets the keys.
type inputStep struct {
	value, submitted string
}

func (s *inputStep) Title() string                     { return "Input" }
func (s *inputStep) Status() steps.Status              { return steps.Pending }
func (s *inputStep) Enter(*steps.State) tea.Cmd        { return nil }
func (s *inputStep) Keys() []key.Binding               { return nil }
func (s *inputStep) Focused() bool                     { return s.submitted == "" }
func (s *inputStep) Busy() bool                        { return false }
func (s *inputStep) CanAdvance() (bool, string)        { return s.submitted != "", "Type something first." }
func (s *inputStep) View(_ *steps.Theme, _ int) string { return "> " + s.value }
func (s *inputStep) Update(msg tea.Msg) (steps.Step, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case k.Code == tea.KeyEnter:
			s.submitted = s.value
		case k.Text != "":
			s.value += k.Text
		default:
			s.value += "<" + k.String() + ">"
		}
	}
	return s, nil
}

// TestFocusedStepGetsEveryKey: while a step's input has focus, the keys the
// root otherwise owns (n, b, q, m, j, k, ?, the arrows, Enter) reach it;
// Ctrl+C still aborts.
func TestFocusedStepGetsEveryKey(t *testing.T) {
	d := newDriver(t, "default", 80, 24, "")
	step := &inputStep{}
	d.m.steps[2] = step
	d.m.active = 2
	d.press("n", "b", "q", "m", "j", "k", "?", "g", " ", "left", "enter")
	if d.quit {
		t.Fatal("q quit the wizard while a step's input had focus")
	}
	if want := "nbqmjk?g <left>"; step.submitted != want {
		t.Errorf("the input received %q, want every key (%q) and Enter", step.submitted, want)
	}
	if d.m.active != 2 || d.m.showDetails || d.m.help.ShowAll {
		t.Errorf("the root acted on keys meant for the input: active %d, details %v, help %v", d.m.active, d.m.showDetails, d.m.help.ShowAll)
	}
	d.press("ctrl+c")
	if !d.quit || !d.m.Aborted() {
		t.Error("Ctrl+C does not abort while an input has focus")
	}
}

// busyStep is a step in the middle of a write, as Create will be.
type busyStep struct{ *steps.Later }

func (busyStep) Busy() bool { return true }

// TestQuitWhileBusyAsksFirst: q during a write asks before quitting; n
// keeps the wizard running, y quits.
func TestQuitWhileBusyAsksFirst(t *testing.T) {
	d := newDriver(t, "default", 80, 24, "")
	d.m.steps[5] = busyStep{steps.NewLater("Create", "Writes.", "mgmtsession apply")}
	d.m.active = 5
	d.press("q")
	if d.quit {
		t.Fatal("q quit at once in the middle of a write")
	}
	if !strings.Contains(d.flat(), "Create is still working") || !strings.Contains(d.flat(), "Quit anyway? y/n") {
		t.Errorf("no question asked:\n%s", d.screen())
	}
	d.press("n")
	if d.quit || strings.Contains(d.flat(), "Quit anyway") {
		t.Fatal("n did not keep the wizard running")
	}
	d.press("q", "y")
	if !d.quit || d.m.Aborted() {
		t.Errorf("y after q: quit %v, aborted %v; want a normal quit", d.quit, d.m.Aborted())
	}
}

// TestFailedSignInThenNext: n after a refused sign-in names the real reason
// and the retry; the line goes with the next key.
func TestFailedSignInThenNext(t *testing.T) {
	d := newDriver(t, "device-code-blocked", 80, 24, "")
	d.until("failed", func() bool { return d.m.steps[0].Status() == steps.Failed })
	d.press("n")
	flat := d.flat()
	if d.m.active != 0 || !strings.Contains(flat, "Sign-in failed: press r to try again") || strings.Contains(flat, "not available") {
		t.Errorf("n after a failed sign-in: step %d, screen:\n%s", d.m.active, d.screen())
	}
	d.press("r")
	if strings.Contains(d.flat(), "Sign-in failed: press r") {
		t.Errorf("the refusal stays through the retry:\n%s", d.screen())
	}
}

// TestGoingBackDoesNotReadAgain: moving back and forth while the preflight
// reads, and after, starts no second read.
func TestGoingBackDoesNotReadAgain(t *testing.T) {
	d := newDriver(t, "default", 80, 24, "")
	d.signedIn()
	d.press("n", "b", "n", "b", "n")
	d.until("read the tenant", func() bool { return d.m.steps[1].Status() == steps.Warning })
	d.press("b", "n")
	d.settle()
	if got := d.reads.Load(); got != 1 {
		t.Errorf("%d preflight reads, want 1", got)
	}
}

// TestHeaderFooterAt80: the header has no empty slot and says plainly that
// the session state is not read yet; the footer fits 80 columns with m, ?
// and q, hides b/← on step 0, and the help view names ? for what it does.
func TestHeaderFooterAt80(t *testing.T) {
	d := newDriver(t, "device-code-blocked", 80, 24, "")
	d.until("failed", func() bool { return d.m.steps[0].Status() == steps.Failed })
	lines := strings.Split(d.screen(), "\n")
	header, footer := lines[0], lines[len(lines)-1]
	if strings.Contains(header, "·  ·") || !strings.Contains(header, "not signed in · cloud: simulated (demo)") || !strings.Contains(header, "Management not read yet") {
		t.Errorf("header %q", header)
	}
	for _, want := range []string{"r retry sign-in", "n/→ next", "m management", "? keys", "q quit"} {
		if !strings.Contains(footer, want) {
			t.Errorf("the footer at 80 columns lacks %q: %q", want, footer)
		}
	}
	if strings.Contains(footer, "b/←") || strings.Contains(footer, "…") {
		t.Errorf("footer on step 0 shows b/← or is cut: %q", footer)
	}
	d.press("?")
	if !strings.Contains(d.flat(), "? close keys") || !strings.Contains(d.flat(), "esc close") {
		t.Errorf("the help view does not say ? closes it:\n%s", d.screen())
	}
}

// TestHeaderAppOnly: an app-only sign-in says so in the header instead of
// leaving the operator's slot empty.
func TestHeaderAppOnly(t *testing.T) {
	t.Setenv("MGMTSESSION_CLIENT_SECRET", "") // the demo application's own
	d := newDriverWith(t, connect.Options{Demo: true, DemoScenario: "default", Auth: "secret"}, 120, 40)
	d.signedIn()
	header := strings.Split(d.screen(), "\n")[0]
	if !strings.Contains(header, "· app-only sign-in · cloud: simulated (demo)") || strings.Contains(header, "·  ·") {
		t.Errorf("header after an app-only sign-in: %q", header)
	}
}

// TestScrollAndDetails: a step longer than the screen says so and where it
// continues; End and Home scroll; Esc closes the details view; after the
// preflight b/← shows.
func TestScrollAndDetails(t *testing.T) {
	d := newDriver(t, "default", 80, 24, "")
	d.signedIn()
	d.preflightRead()
	if !strings.Contains(d.screen(), "more lines below") {
		t.Errorf("nothing says the checks continue below:\n%s", d.screen())
	}
	if lines := strings.Split(d.screen(), "\n"); !strings.Contains(lines[len(lines)-1], "b/← back") || !strings.Contains(lines[len(lines)-1], "q quit") {
		t.Errorf("footer on step 1: %q", lines[len(lines)-1])
	}
	d.press("end")
	if !strings.Contains(d.screen(), "the end; more above") || !strings.Contains(d.flat(), "nor write to Azure resources with those tools") {
		t.Errorf("End did not reach the last check:\n%s", d.screen())
	}
	d.press("home")
	if !strings.Contains(d.screen(), "Step 1 · Preflight") {
		t.Errorf("Home did not go back to the top:\n%s", d.screen())
	}
	d.press("m")
	if !strings.Contains(d.screen(), "Management session: OFF") {
		t.Fatalf("m did not open the details:\n%s", d.screen())
	}
	d.press("esc")
	if strings.Contains(d.screen(), "Management session: OFF") {
		t.Errorf("Esc did not close the details:\n%s", d.screen())
	}
}

var (
	lightGreen = "38;2;26;127;55"   // #1A7F37
	darkGreen  = "38;2;63;185;80"   // #3FB950
	lightMuted = "38;2;110;119;129" // #6E7781
	darkMuted  = "38;2;139;148;158" // #8B949E
)

// TestLightBackgroundRethemesEveryStep: a light background, reported after
// the steps were built, reaches every step's view.
func TestLightBackgroundRethemesEveryStep(t *testing.T) {
	d := newDriver(t, "default", 120, 40, "")
	d.signedIn()
	d.preflightRead()
	d.send(tea.BackgroundColorMsg{Color: color.White})
	for i, st := range d.m.steps {
		view := st.View(d.m.theme, 80)
		light := strings.Contains(view, lightGreen) || strings.Contains(view, lightMuted)
		dark := strings.Contains(view, darkGreen) || strings.Contains(view, darkMuted)
		if !light || dark {
			t.Errorf("step %d (%s) on a light background: light colours %v, dark colours %v", i, st.Title(), light, dark)
		}
	}
}

// TestHostileTenantStringsAreInert: a tenant whose names carry a screen
// clear, a cursor move and an OSC 52 clipboard write shows them inert on
// every step and in the details view.
func TestHostileTenantStringsAreInert(t *testing.T) {
	state := hostileTenant(t, true)
	d := newDriver(t, "default", 120, 40, state)
	d.signedIn()
	d.preflightRead()
	if !strings.Contains(d.screen(), "Contoso") {
		t.Fatalf("the tenant's name is not shown:\n%s", d.screen())
	}
	sgr := regexp.MustCompile("\x1b\\[[0-9;:]*m")
	for i := range d.m.steps {
		d.m.active = i
		for _, details := range []bool{false, true} {
			d.m.showDetails = details
			d.m.layout()
			if rest := sgr.ReplaceAllString(d.m.View().Content, ""); strings.ContainsAny(rest, "\x1b\x07\u009b") {
				t.Errorf("step %d (details %v) lets a control through: %q", i, details, rest[:min(len(rest), 400)])
			}
		}
	}
}

// TestScreens pins every screen of this build at 80x24 and 120x40, without
// colour; refresh with go test ./ui -update after checking them by eye.
func TestScreens(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		w, h := size[0], size[1]
		name := func(s string) string { return fmt.Sprintf("%s-%dx%d", s, w, h) }
		t.Run(name("signed-in"), func(t *testing.T) {
			d := newDriver(t, "default", w, h, "")
			d.signedIn()
			golden.RequireEqual(t, []byte(d.screen()))
			d.preflightRead()
			t.Run("preflight", func(t *testing.T) { golden.RequireEqual(t, []byte(d.screen())) })
			d.press("end")
			t.Run("preflight-end", func(t *testing.T) { golden.RequireEqual(t, []byte(d.screen())) })
			d.press("m")
			t.Run("details", func(t *testing.T) { golden.RequireEqual(t, []byte(d.screen())) })
			d.press("esc", "n")
			d.until("evaluated the What If", func() bool { return d.m.state.WhatIf != nil && d.m.steps[2].Status() != steps.Running })
			t.Run("what-if", func(t *testing.T) { golden.RequireEqual(t, []byte(d.screen())) })
			d.press("?")
			t.Run("help", func(t *testing.T) { golden.RequireEqual(t, []byte(d.screen())) })
		})
		t.Run(name("sign-in-failed"), func(t *testing.T) {
			d := newDriver(t, "device-code-blocked", w, h, "")
			d.until("failed", func() bool { return d.m.steps[0].Status() == steps.Failed })
			golden.RequireEqual(t, []byte(d.screen()))
		})
		t.Run(name("preflight-failed"), func(t *testing.T) {
			d := newDriver(t, "no-p1", w, h, "")
			d.signedIn()
			d.preflightRead()
			d.press("n")
			golden.RequireEqual(t, []byte(d.screen()))
		})
	}
}

// hostileTenant writes the demo tenant with a screen clear, a cursor move
// and an OSC 52 clipboard write in the tenant's and every policy's name
// (and every user's, with users), and returns the --demo-state path.
func hostileTenant(t testing.TB, users bool) string {
	t.Helper()
	raw, err := os.ReadFile("../assets/demo-tenant.json")
	if err != nil {
		t.Fatal(err)
	}
	var tenant map[string]any
	if err := json.Unmarshal(raw, &tenant); err != nil {
		t.Fatal(err)
	}
	evil := "\x1b[2J\x1b[H\x1b]52;c;ZXZpbA==\x07\x9b31m"
	tenant["displayName"] = "Contoso" + evil
	for _, p := range tenant["policies"].([]any) {
		p.(map[string]any)["displayName"] = p.(map[string]any)["displayName"].(string) + evil
	}
	if users {
		for _, u := range tenant["users"].([]any) {
			u.(map[string]any)["displayName"] = "User" + evil
		}
	}
	state := filepath.Join(t.TempDir(), "tenant.json")
	out, _ := json.Marshal(tenant)
	if err := os.WriteFile(state, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return state
}
