//go:build unix

package change

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestLoadConfigRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	tests := []struct{ path, want string }{
		{fifo, fifo + ": not a regular file (a named pipe)"},
		{dir, dir + ": not a regular file (a directory)"},
		{filepath.Join(dir, "missing.yaml"), filepath.Join(dir, "missing.yaml") + ": no such configuration file"},
	}
	for _, tt := range tests {
		done := make(chan error, 1)
		go func() {
			_, err := LoadConfig(tt.path)
			done <- err
		}()
		// A FIFO with no writer blocks an ordinary open for ever; the
		// deadline only turns that hang into a failure instead of a stuck
		// test run.
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalidInput) {
				t.Errorf("LoadConfig(%s) = %v, want %q", tt.path, err, tt.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("LoadConfig(%s) blocked", tt.path)
		}
	}
}
