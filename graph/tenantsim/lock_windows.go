//go:build windows

package tenantsim

import (
	"os"

	"golang.org/x/sys/windows"
)

var errWouldBlock = windows.ERROR_LOCK_VIOLATION

func lockFile(f *os.File) error {
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, new(windows.Overlapped))
}

func unlockFile(f *os.File) {
	windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, new(windows.Overlapped))
}

// openNonBlocking: Windows has no FIFOs on the file system to block on.
func openNonBlocking(path string) (*os.File, error) { return os.Open(path) }

// writable: the read-only attribute is what the file's mode shows.
func writable(string) bool { return true }

// syncDir: NTFS makes a rename durable without a directory sync.
func syncDir(string) error { return nil }
