//go:build unix

package tenantsim_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mgmtsession/graph/tenantsim"
)

// --demo-state is held for the process's life: a second tenant on the same
// file is refused with a clear error (and so is a second process, which
// takes the same lock), and the file is free again after Close.
func TestStateFileIsLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	first := newSimWith(t, tenantsim.Options{StatePath: path})
	_, err := tenantsim.New(tenantsim.Options{StatePath: path})
	if !errors.Is(err, tenantsim.ErrStateInUse) || !strings.Contains(err.Error(), path+" is in use by another mgmtsession process") {
		t.Fatalf("second tenant on one file: %v", err)
	}
	// Through a symlink it is the same file, and the same lock.
	link := filepath.Join(t.TempDir(), "link.json")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if _, err := tenantsim.New(tenantsim.Options{StatePath: link}); !errors.Is(err, tenantsim.ErrStateInUse) {
		t.Fatalf("second tenant through a symlink: %v", err)
	}
	first.srv.Close()
	second := newSimWith(t, tenantsim.Options{StatePath: link})
	second.call("POST", "/users", newUserBody("via-link@"+initialDomain, nil)).want(t, http.StatusCreated)
	second.srv.Close()
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("saving replaced the symlink: %v %v", fi.Mode(), err)
	}
	if data, err := os.ReadFile(path); err != nil || !strings.Contains(string(data), "via-link@") {
		t.Errorf("the change was not written where the link points: %v", err)
	}
}

// What the tenant must not replace or read is refused with a clear error
// before anything is created: a read-only file, a FIFO (reading it would
// block for ever), a device, a directory, a symlink to a FIFO.
func TestStateFileRefusesWhatItMustNotReplace(t *testing.T) {
	dir := t.TempDir()
	readOnly := filepath.Join(dir, "ro.json")
	if err := os.WriteFile(readOnly, []byte("{}"), 0o444); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	fifoLink := filepath.Join(dir, "fifo-link")
	if err := os.Symlink(fifo, fifoLink); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{readOnly, "is read-only"},
		{fifo, "not a regular file (a named pipe)"},
		{fifoLink, "not a regular file (a named pipe)"},
		{"/dev/null", "not a regular file (a device)"},
		{dir, "not a regular file (a directory)"},
	} {
		done := make(chan error, 1)
		go func() {
			srv, err := tenantsim.New(tenantsim.Options{StatePath: c.path})
			if err == nil {
				srv.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want %q", c.path, err, c.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: New blocked", c.path)
		}
	}
	if data, err := os.ReadFile(readOnly); err != nil || string(data) != "{}" {
		t.Errorf("the read-only file was replaced: %q %v", data, err)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".lock") || strings.HasPrefix(e.Name(), ".demo-state") {
			t.Errorf("a refused start left %s behind", e.Name())
		}
	}
}

// A start that fails (here: the listen address is taken) creates no state
// file and holds no lock.
func TestFailedStartCreatesNoStateFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	busy := newSim(t, "")
	_, err := tenantsim.New(tenantsim.Options{StatePath: path, Listen: strings.TrimPrefix(busy.srv.BaseURL(), "https://")})
	if err == nil {
		t.Fatal("a second server on a taken address started")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		t.Errorf("a failed start left %s behind", e.Name())
	}
	// And the file is not locked.
	newSimWith(t, tenantsim.Options{StatePath: path}).srv.Close()
}

// The lock holds across processes: a second mgmtsession process (here this
// test binary run again) is told the file is in use, and may start once
// the first has closed.
func TestStateFileIsLockedAcrossProcesses(t *testing.T) {
	if path := os.Getenv("TENANTSIM_STATE_CHILD"); path != "" {
		srv, err := tenantsim.New(tenantsim.Options{StatePath: path})
		if err != nil {
			fmt.Print(err)
			os.Exit(3)
		}
		srv.Close()
		os.Exit(0)
	}
	path := filepath.Join(t.TempDir(), "state.json")
	child := func() (string, int) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStateFileIsLockedAcrossProcesses$")
		cmd.Env = append(os.Environ(), "TENANTSIM_STATE_CHILD="+path)
		out, err := cmd.Output()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return string(out), cmd.ProcessState.ExitCode()
	}
	first := newSimWith(t, tenantsim.Options{StatePath: path})
	if out, code := child(); code != 3 || !strings.Contains(out, path+" is in use by another mgmtsession process") {
		t.Errorf("second process while the first holds the file: exit %d, %q", code, out)
	}
	first.srv.Close()
	if out, code := child(); code != 0 {
		t.Errorf("second process after the first closed: exit %d, %q", code, out)
	}
}
