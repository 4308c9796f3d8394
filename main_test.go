package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
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
	mu   sync.Mutex // the emulator's String does not lock, so its writes and reads share this
	emu  *vt.Emulator
}

// Write feeds the program's output to the emulator.
func (term *terminal) Write(p []byte) (int, error) {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.emu.Write(p)
}

// screen is the text the terminal shows.
func (term *terminal) screen() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.emu.String()
}

func startInTerminal(t *testing.T, args ...string) *terminal {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "MGMTSESSION_AS_MAIN=1", "TERM=xterm-256color", "COLORTERM=truecolor")
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
