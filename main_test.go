package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	"github.com/creack/pty"
)

// TestMain lets the test binary stand in for the real program: run with
// MGMTSESSION_AS_MAIN=1 it is mgmtsession, main() and all.
func TestMain(m *testing.M) {
	if os.Getenv("MGMTSESSION_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// terminal runs the real program in a pseudo-terminal of 80x24 and keeps a
// terminal emulator's view of its screen.
type terminal struct {
	t    testing.TB
	cmd  *exec.Cmd
	ptmx *os.File
	mu   sync.Mutex // the emulator's String does not lock, so its writes and reads share this
	emu  *vt.Emulator
	raw  []byte // every byte the program wrote
}

// Write feeds the program's output to the emulator.
func (term *terminal) Write(p []byte) (int, error) {
	term.mu.Lock()
	defer term.mu.Unlock()
	term.raw = append(term.raw, p...)
	return term.emu.Write(p)
}

// output is every byte the program wrote so far.
func (term *terminal) output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return string(term.raw)
}

// screen is the text the terminal shows.
func (term *terminal) screen() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.emu.String()
}

func startInTerminal(t testing.TB, args ...string) *terminal {
	t.Helper()
	return startInTerminalEnv(t, nil, args...)
}

// startInTerminalEnv is startInTerminal with more environment variables.
func startInTerminalEnv(t testing.TB, env []string, args ...string) *terminal {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "MGMTSESSION_AS_MAIN=1", "TERM=xterm-256color", "COLORTERM=truecolor")
	for _, k := range []string{"NO_COLOR", "ACCESSIBLE"} {
		cmd.Env = slices.DeleteFunc(cmd.Env, func(kv string) bool { return strings.HasPrefix(kv, k+"=") })
	}
	cmd.Env = append(cmd.Env, env...)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, cmd: cmd, ptmx: ptmx, emu: vt.NewEmulator(80, 24)}
	go io.Copy(term, ptmx)     // what the program draws
	go io.Copy(ptmx, term.emu) // the terminal's answers to the program's queries
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		ptmx.Close()
	})
	return term
}

// waitFor polls the emulated screen until it shows text.
func (term *terminal) waitFor(text string) {
	term.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(term.screen(), text) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	term.t.Fatalf("the screen never showed %q; it shows:\n%s", text, term.screen())
}

func (term *terminal) press(keys string) {
	if _, err := term.ptmx.Write([]byte(keys)); err != nil {
		term.t.Fatal(err)
	}
}

func (term *terminal) exitCode() int {
	term.t.Helper()
	done := make(chan error, 1)
	go func() { done <- term.cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			term.t.Fatal(err)
		}
		return 0
	case <-time.After(10 * time.Second):
		term.t.Fatalf("the program did not exit; the screen shows:\n%s", term.screen())
		return -1
	}
}

// TestDemoInTerminal runs `mgmtsession --demo` as a person does: the device
// code appears, the demo tenant approves it, n opens the preflight checks, q
// quits with exit code 0.
func TestDemoInTerminal(t *testing.T) {
	term := startInTerminal(t, "--demo")
	term.waitFor("enter the code")
	term.waitFor("Signed in as adele.admin@contoso-demo.com")
	term.press("n")
	term.waitFor("passed,")
	term.waitFor("Management OFF")
	term.press("q")
	if code := term.exitCode(); code != 0 {
		t.Errorf("exit code %d after q, want 0", code)
	}
}

// TestCtrlCInTerminal: Ctrl+C aborts the wizard with exit code 130.
func TestCtrlCInTerminal(t *testing.T) {
	term := startInTerminal(t, "--demo", "--demo-scenario", "no-p1")
	term.waitFor("Signed in as")
	term.press("\x03")
	if code := term.exitCode(); code != 130 {
		t.Errorf("exit code %d after Ctrl+C, want 130", code)
	}
}

// TestHelpColour: in a terminal, help is styled; NO_COLOR (any value),
// ACCESSIBLE=1 and --accessible make it plain, with no escape sequence.
func TestHelpColour(t *testing.T) {
	for _, c := range []struct {
		name  string
		env   []string
		args  []string
		plain bool
	}{
		{"default", nil, []string{"--help"}, false},
		{"NO_COLOR", []string{"NO_COLOR=yes"}, []string{"--help"}, true},
		{"ACCESSIBLE", []string{"ACCESSIBLE=1"}, []string{"status", "--help"}, true},
		{"--accessible", nil, []string{"status", "--accessible", "--help"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			term := startInTerminalEnv(t, c.env, c.args...)
			if code := term.exitCode(); code != 0 {
				t.Fatalf("exit %d", code)
			}
			out := term.output()
			for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out, "--tenant") && time.Now().Before(deadline); out = term.output() {
				time.Sleep(20 * time.Millisecond)
			}
			if !strings.Contains(out, "USAGE") {
				t.Fatalf("no help: %q", out)
			}
			// Only the program's own help counts: a plain help may still
			// have been preceded by the colour library's terminal queries.
			body := out[strings.Index(out, "USAGE")-20:]
			if got := strings.ContainsRune(body, '\x1b'); got == c.plain {
				t.Errorf("escape sequences in help: %v, want %v:\n%q", got, !c.plain, body[:min(len(body), 300)])
			}
		})
	}
}

// TestVersion: --version of a built binary names the module version and
// the VCS revision it was built from.
func TestVersion(t *testing.T) {
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skip("not a git checkout: no revision to compare")
	}
	bin := filepath.Join(t.TempDir(), "mgmtsession")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The go command stamps the revision from .git; in a linked worktree
	// (where .git is a file) some versions do not, and then there is no
	// revision for --version to show.
	if info, err := exec.Command("go", "version", "-m", bin).Output(); err != nil || !strings.Contains(string(info), "vcs.revision=") {
		t.Skip("the go command stamped no revision into the binary (a linked git worktree?)")
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(string(rev))[:12]
	if !strings.HasPrefix(string(out), "mgmtsession version ") || !strings.Contains(string(out), want) {
		t.Errorf("--version = %q, want the revision %s", out, want)
	}
}

// program runs the real program without a terminal, its stderr captured.
type program struct {
	t      *testing.T
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr strings.Builder
	done   chan struct{}
	err    error
}

func (p *program) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.Write(b)
}

func (p *program) errText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func startProgram(t *testing.T, args ...string) *program {
	t.Helper()
	p := &program{t: t, done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], args...)
	p.cmd.Env = append(os.Environ(), "MGMTSESSION_AS_MAIN=1", "NO_COLOR=1")
	p.cmd.Stderr = p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// exitCode waits for the program to end, failing the test if it has not
// within the deadline: a program that blocks is the defect.
func (p *program) exitCode(deadline time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(deadline):
		p.t.Fatalf("the program did not end within %v; stderr so far: %q", deadline, p.errText())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		p.t.Fatal(p.err)
	}
	return 0
}

// TestSnapshotFIFOFailsAtOnce: a FIFO as the snapshot used to block the
// program for ever, deaf to Ctrl+C; it is refused as bad input.
func TestSnapshotFIFOFailsAtOnce(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "snap.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	p := startProgram(t, "whatif", "--snapshot", fifo, "--new-account", "--ip", "20.190.128.5", "--country", "US")
	if code := p.exitCode(20 * time.Second); code != 2 {
		t.Errorf("exit code %d, want 2 (bad input); stderr %q", code, p.errText())
	}
	if !strings.Contains(p.errText(), "named pipe") {
		t.Errorf("stderr does not say the snapshot is a named pipe: %q", p.errText())
	}
}

// TestInterruptDuringSignIn: Ctrl+C (SIGINT) while a headless command waits
// for its device code to be approved ends it as aborted, exit code 130,
// not as a failed sign-in to try again.
func TestInterruptDuringSignIn(t *testing.T) {
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			p := startProgram(t, "whatif", "--demo", "--demo-approve-after", "1h",
				"--new-account", "--ip", "20.190.128.5", "--country", "US")
			deadline := time.Now().Add(45 * time.Second)
			for !strings.Contains(p.errText(), "enter the code") {
				if time.Now().After(deadline) {
					t.Fatalf("no device code shown; stderr %q", p.errText())
				}
				select {
				case <-p.done:
					t.Fatalf("the program ended before the sign-in; stderr %q", p.errText())
				case <-time.After(50 * time.Millisecond):
				}
			}
			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := p.exitCode(20 * time.Second); code != 130 {
				t.Errorf("exit code %d after %v, want 130; stderr %q", code, sig, p.errText())
			}
			if got := p.errText(); !strings.Contains(got, "mgmtsession: aborted") || strings.Contains(got, "try again") {
				t.Errorf("stderr %q, want \"mgmtsession: aborted\" and no advice to try again", got)
			}
		})
	}
}

// TestAccessibleScripted: in accessible mode (--accessible, ACCESSIBLE=1,
// TERM=dumb) the wizard is plain line-based prompts read from standard
// input, so that `printf 'n\nq\n' | mgmtsession --accessible --demo` signs
// in, runs the preflight and quits: no escape sequence, no repaint, no
// carriage return, exit code 0.
func TestAccessibleScripted(t *testing.T) {
	for _, c := range []struct {
		name string
		env  []string
		args []string
	}{
		{"--accessible", nil, []string{"--accessible", "--demo"}},
		{"ACCESSIBLE=1", []string{"ACCESSIBLE=1"}, []string{"--demo"}},
		{"TERM=dumb", []string{"TERM=dumb"}, []string{"wizard", "--demo"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], c.args...)
			cmd.Env = slices.DeleteFunc(append(os.Environ(), "MGMTSESSION_AS_MAIN=1"), func(kv string) bool {
				return strings.HasPrefix(kv, "ACCESSIBLE=") || strings.HasPrefix(kv, "NO_COLOR=") || strings.HasPrefix(kv, "TERM=")
			})
			cmd.Env = append(cmd.Env, c.env...)
			cmd.Stdin = strings.NewReader("n\nr\nq\n")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v; output:\n%s", err, out)
			}
			text := string(out)
			for _, want := range []string{
				"[PASS] Signed in as adele.admin@contoso-demo.com",
				"== Step 1 of 7: Preflight ==",
				"Contoso Demo Ltd (contosodemo.onmicrosoft.com): 7 passed, 3 warnings, 0 failed",
				"Read 2 times; this is the latest read.",
				"[r read again, n next, b back, m management, q quit] > q",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("the transcript lacks %q:\n%s", want, text)
				}
			}
			if strings.ContainsAny(text, "\x1b\r") {
				t.Errorf("the transcript has escape sequences or carriage returns: %q", text[:min(len(text), 600)])
			}
		})
	}
}

// TestAccessibleInTerminal: --accessible in a real terminal prints lines and
// never moves the cursor or animates: after the first line there is no
// escape sequence, the answers typed are echoed once (by the terminal), and q
// ends it with exit code 0.
func TestAccessibleInTerminal(t *testing.T) {
	term := startInTerminal(t, "--accessible", "--demo")
	term.waitFor("[n next, m management, q quit] >")
	term.press("n\r")
	term.waitFor("[r read again, n next")
	term.press("q\r")
	if code := term.exitCode(); code != 0 {
		t.Errorf("exit code %d after q, want 0", code)
	}
	out := term.output()
	start := strings.Index(out, "mgmtsession wizard, accessible mode")
	if start < 0 {
		t.Fatalf("no accessible transcript:\n%q", out)
	}
	if body := out[start:]; strings.Contains(body, "\x1b") {
		t.Errorf("escape sequences in accessible mode: %q", body[:min(len(body), 800)])
	}
	if answer := strings.ReplaceAll(out, "\r", ""); !strings.Contains(answer, "> n\n") || strings.Contains(answer, "> n\nn\n") {
		t.Errorf("the answer n is not echoed exactly once (by the terminal):\n%q", answer[strings.Index(answer, "> n"):][:40])
	}
}

// journeyAnswers is the whole accessible journey as typed lines: sign in,
// preflight, What If, the allowed range (and the policy enforced), the
// service account, Create (a, then the password revealed), Turn on (o),
// Auto-enable (f), quit.
const journeyAnswers = "n\nn\nn\n20.190.128.0/24\n\nn\ns\nn\na\np\nn\no\nn\nf\nq\n"

// tenantStatus is `mgmtsession status --json` of the persisted demo tenant.
type tenantStatus struct {
	Session    string `json:"session"`
	AutoEnable bool   `json:"autoEnable"`
	Account    *struct {
		UserPrincipalName string   `json:"userPrincipalName"`
		AccountEnabled    bool     `json:"accountEnabled"`
		Roles             []string `json:"roles"`
	} `json:"account"`
	AllowedIPs    []string             `json:"allowedIPs"`
	NamedLocation *struct{ ID string } `json:"namedLocation"`
	Policy        *struct {
		ID    string `json:"id"`
		State string `json:"state"`
	} `json:"policy"`
	ExcludedFrom []string         `json:"excludedFrom"`
	Drift        []map[string]any `json:"drift"`
}

// runJSON runs a headless command of the real program and decodes its JSON.
func runJSON(t *testing.T, env []string, out any, args ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "MGMTSESSION_AS_MAIN=1", "NO_COLOR=1"), env...)
	data, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, data)
	}
}

// checkTenantAsPlanned reads the tenant the wizard wrote, through the real
// program: the session on with the account, its six least-privilege roles,
// the allowed range in its named location, its policy enforced, the
// exclusions the plan named, no drift; and a plan made now is empty.
func checkTenantAsPlanned(t *testing.T, env []string, state string) {
	t.Helper()
	var st tenantStatus
	runJSON(t, env, &st, "status", "--demo", "--demo-state", state, "--json")
	if st.Session != "on" || st.Account == nil || !st.Account.AccountEnabled || st.Account.UserPrincipalName != "coreview.admin@contosodemo.onmicrosoft.com" {
		t.Fatalf("the session is not on for the planned account: %+v", st)
	}
	wantRoles := []string{"Authentication Administrator", "Exchange Administrator", "Global Reader", "SharePoint Administrator", "Teams Administrator", "User Administrator"}
	if !slices.Equal(st.Account.Roles, wantRoles) {
		t.Errorf("roles %v, want %v", st.Account.Roles, wantRoles)
	}
	if !slices.Equal(st.AllowedIPs, []string{"20.190.128.0/24"}) || st.NamedLocation == nil || st.NamedLocation.ID == "" {
		t.Errorf("allowed IPs %v, location %+v", st.AllowedIPs, st.NamedLocation)
	}
	if st.Policy == nil || st.Policy.State != "enabled" {
		t.Errorf("the account's policy is not enforced: %+v", st.Policy)
	}
	if len(st.ExcludedFrom) != 5 || len(st.Drift) != 0 {
		t.Errorf("excluded from %v (want the 5 policies planned), drift %v", st.ExcludedFrom, st.Drift)
	}
	var plan struct {
		Changes []map[string]any `json:"changes"`
	}
	runJSON(t, env, &plan, "plan", "--demo", "--demo-state", state, "--allowed-ip", "20.190.128.0/24", "--json")
	if len(plan.Changes) != 0 {
		t.Errorf("a plan made after the wizard has %d changes: %v", len(plan.Changes), plan.Changes)
	}
}

// TestWizardJourneyInTerminal drives `mgmtsession --demo` from the sign-in
// to Auto-enable with keystrokes in a terminal of 80x24, as a person does,
// then reads the tenant it wrote: everything exactly as planned.
func TestWizardJourneyInTerminal(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "tenant.json")
	env := []string{"XDG_STATE_HOME=" + filepath.Join(dir, "state")}
	term := startInTerminalEnv(t, env, "--demo", "--demo-state", state)
	term.waitFor("Signed in as adele.admin@contoso-demo.com")
	term.press("n")
	term.waitFor("passed,")
	term.press("n")
	term.waitFor("from outside (198.51.100.77)")
	term.press("n")
	term.waitFor("Allowed IP ranges")
	term.press("20.190.128.0/24")
	term.waitFor("1 range accepted")
	term.press("\r")
	term.waitFor("enforced (recommended)")
	term.press("\r")
	term.waitFor("changes, in this order")
	term.press("n")
	term.waitFor("How the platform signs in")
	term.press("\r")
	term.waitFor("Method: service account")
	term.press("n")
	term.waitFor("15 changes to make")
	term.press("a")
	term.waitFor("(hidden: p reveals it)")
	term.press("n")
	term.waitFor("Take the password first")
	term.press("p")
	term.press("n")
	term.waitFor("The condition holds")
	term.press("o")
	term.waitFor("Management ON:")
	term.waitFor("…  Management ON") // the header's badge
	term.press("n")
	term.waitFor("t goes through the choices")
	term.press("f")
	term.waitFor("Management session: ON; auto-enable off")
	term.press("q")
	if code := term.exitCode(); code != 0 {
		t.Fatalf("exit code %d after q, want 0", code)
	}
	checkTenantAsPlanned(t, env, state)
}

// TestWizardJourneyAccessible is the same journey in accessible mode from
// scripted standard input: the transcript is plain lines, and the tenant
// ends exactly as planned.
func TestWizardJourneyAccessible(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "tenant.json")
	env := []string{"XDG_STATE_HOME=" + filepath.Join(dir, "state")}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "--accessible", "--demo", "--demo-state", state)
	cmd.Env = slices.DeleteFunc(append(os.Environ(), "MGMTSESSION_AS_MAIN=1"), func(kv string) bool {
		return strings.HasPrefix(kv, "ACCESSIBLE=") || strings.HasPrefix(kv, "NO_COLOR=") || strings.HasPrefix(kv, "TERM=")
	})
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(journeyAnswers)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v; output:\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"== Step 5 of 7: Create ==",
		"[PASS] 15 changes made and verified.",
		"== Step 6 of 7: Turn on ==",
		"[PASS] The condition holds.",
		"[PASS] Management ON: the account is enabled and verified",
		"== Step 7 of 7: Auto-enable ==",
		"Management session: ON; auto-enable off",
		"Paste into the platform",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, text)
		}
	}
	if strings.ContainsAny(text, "\x1b\r") {
		t.Errorf("the transcript has escape sequences or carriage returns")
	}
	// Progress is said once a change is done, never repainted.
	beforeReveal, _, _ := strings.Cut(text, "] > p\n")
	if n := strings.Count(beforeReveal, "create the account coreview.admin@contosodemo.onmicrosoft.com\n     (verified"); n != 1 {
		t.Errorf("the account's creation is said %d times, want once", n)
	}
	checkTenantAsPlanned(t, env, state)
}
