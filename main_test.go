package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
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
	t    *testing.T
	cmd  *exec.Cmd
	ptmx *os.File
	emu  *vt.SafeEmulator
}

func startInTerminal(t *testing.T, args ...string) *terminal {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "MGMTSESSION_AS_MAIN=1", "TERM=xterm-256color", "COLORTERM=truecolor")
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, cmd: cmd, ptmx: ptmx, emu: vt.NewSafeEmulator(80, 24)}
	go io.Copy(term.emu, ptmx) // what the program draws
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
		if strings.Contains(term.emu.String(), text) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	term.t.Fatalf("the screen never showed %q; it shows:\n%s", text, term.emu.String())
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
		term.t.Fatalf("the program did not exit; the screen shows:\n%s", term.emu.String())
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
