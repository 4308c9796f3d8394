package cli

import (
	"fmt"
	"io"
	"io/fs"
	"os"
)

// The files the command line reads and writes (a snapshot, the export, the
// debug log) are handled as a careful tool handles them: only regular files
// are read or replaced, opening never blocks on a FIFO or a device, and a
// symbolic link is never followed to a file the operator did not name.

// kindOf names what a non-regular file is, for an error message.
func kindOf(mode fs.FileMode) string {
	switch {
	case mode.IsDir():
		return "a directory"
	case mode&fs.ModeSymlink != 0:
		return "a symbolic link"
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// openRegularForReading opens path for reading when it is a regular file.
// It opens without blocking (a FIFO with no writer would otherwise block
// the open for ever, deaf to Ctrl+C) and then checks the opened file
// itself, so that what is checked is what is read. A symbolic link to a
// regular file is read: the operator named it to be read.
func openRegularForReading(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("it is %s, not a regular file", kindOf(fi.Mode()))
	}
	return f, nil
}

// openPrivateLog opens path for appending, as a file only its owner can
// read: the debug log names the tenant, its accounts and its policies. It
// refuses a symbolic link (which could point the log at any file the
// operator can write) and anything not a regular file. An existing log
// readable by others is narrowed to 0600 rather than refused: the operator
// named the file to be written, a log from an earlier run is the usual
// case, and narrowing takes nothing from anyone who should have it; the
// note says it happened. A file that cannot be narrowed (another owner's)
// is refused.
func openPrivateLog(path string) (f *os.File, note string, err error) {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, "", fmt.Errorf("it is %s, not a regular file", kindOf(fi.Mode()))
	}
	// O_NOFOLLOW closes the window between the Lstat and the open: a link
	// put in place meanwhile makes the open fail rather than be followed.
	f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|openNoFollow|openNonblock, 0o600)
	if err != nil {
		if isSymlinkLoop(err) {
			return nil, "", fmt.Errorf("it is a symbolic link, not a regular file")
		}
		return nil, "", err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, "", err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, "", fmt.Errorf("it is %s, not a regular file", kindOf(fi.Mode()))
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, "", fmt.Errorf("it is readable by others (mode %04o) and cannot be made private: %w", perm, err)
		}
		note = fmt.Sprintf("%s was readable by others (mode %04o); it is now readable by its owner only (0600)", path, perm)
	}
	return f, note, nil
}

// readRegularFile reads the whole of path, a regular file.
func readRegularFile(path string) ([]byte, error) {
	f, err := openRegularForReading(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// checkRegularFile refuses, before it is opened by code that would block on
// it, a path that is not a regular file (a symbolic link to one is fine).
func checkRegularFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("it is %s, not a regular file", kindOf(fi.Mode()))
	}
	return nil
}
