package tenantsim

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrStateInUse is returned by New when another process (or another Server
// in this one) holds the --demo-state file: two tenants sharing a file
// would each overwrite the other's changes.
var ErrStateInUse = errors.New("in use by another mgmtsession process")

// stateFile is the --demo-state file, held under an exclusive lock for the
// Server's life. The lock is on a sibling FILE.lock rather than on the
// file itself, because every save replaces the file by rename and a lock
// on the old inode would protect nothing.
type stateFile struct {
	path      string   // the file written: the --demo-state path with symlinks resolved
	lock      *os.File // FILE.lock, locked
	createdLk bool     // New created FILE.lock (removed again when the start fails)
	mode      fs.FileMode

	// saved is the digest of the tenant last written or read, without its
	// sign-in log: a request that leaves the tenant as it was does not
	// rewrite the file. The sign-in log is written with the next change,
	// or at Close (signIns counts entries since the last write).
	saved   [sha256.Size]byte
	signIns int
}

// openStateFile checks and locks the state file and reads it (nil data
// when it does not exist yet). It refuses what it must not replace: a
// read-only file, and anything but a regular file, which it also never
// reads (a FIFO would block the command for ever).
func openStateFile(path string) (sf *stateFile, data []byte, err error) {
	sf = &stateFile{path: path, mode: 0o600}
	switch fi, err := os.Stat(path); {
	case errors.Is(err, fs.ErrNotExist):
		if _, lerr := os.Lstat(path); lerr == nil {
			return nil, nil, fmt.Errorf("the demo state %s is a symbolic link to nothing; remove it or choose another file", path)
		}
	case err != nil:
		return nil, nil, fmt.Errorf("checking the demo state: %w", err)
	case !fi.Mode().IsRegular():
		return nil, nil, fmt.Errorf("the demo state %s is not a regular file (%s); choose a file", path, kind(fi.Mode()))
	case fi.Mode().Perm()&0o222 == 0 || !writable(path):
		return nil, nil, fmt.Errorf("the demo state %s is read-only; make it writable (chmod u+w) or choose another file", path)
	default:
		// Saving replaces the file by rename: write where a symlink
		// points, so that the link survives, and keep the file's mode.
		if sf.path, err = filepath.EvalSymlinks(path); err != nil {
			return nil, nil, fmt.Errorf("checking the demo state: %w", err)
		}
		sf.mode = fi.Mode().Perm()
	}
	if err := sf.acquire(); err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			sf.release(true)
		}
	}()
	if data, err = readRegular(sf.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("reading the demo state: %w", err)
	}
	return sf, data, nil
}

// acquire takes the exclusive lock, without waiting: a second process is
// told at once that the file is in use.
func (sf *stateFile) acquire() error {
	name := sf.path + ".lock"
	_, statErr := os.Lstat(name)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("locking the demo state: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return fmt.Errorf("the demo state %s is %w", sf.path, ErrStateInUse)
		}
		return fmt.Errorf("locking the demo state %s: %w", sf.path, err)
	}
	sf.lock, sf.createdLk = f, errors.Is(statErr, fs.ErrNotExist)
	return nil
}

// release gives the lock up; failed also removes a lock file New created,
// so that a start that failed leaves nothing behind.
func (sf *stateFile) release(failed bool) {
	if sf == nil || sf.lock == nil {
		return
	}
	if failed && sf.createdLk {
		os.Remove(sf.lock.Name())
	}
	unlockFile(sf.lock)
	sf.lock.Close()
	sf.lock = nil
}

// readRegular reads a file only if it is a regular one, checking the file
// it opened (not the name), without blocking on a FIFO.
func readRegular(path string) ([]byte, error) {
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, kind(fi.Mode()))
	}
	return io.ReadAll(f)
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	}
	return m.Type().String()
}

// digest is what decides whether the tenant changed: everything but the
// sign-in log (which a refused sign-in grows).
func digest(st *state) ([sha256.Size]byte, error) {
	core := *st
	core.SignIns = nil
	data, err := json.Marshal(&core)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	return sha256.Sum256(data), nil
}

// remember records the tenant as it is on disk.
func (sf *stateFile) remember(st *state) error {
	d, err := digest(st)
	if err != nil {
		return fmt.Errorf("saving the demo state: %w", err)
	}
	sf.saved, sf.signIns = d, 0
	return nil
}

// saveIfChanged writes the tenant when it differs from what was last
// written (or, with signIns, when the sign-in log grew).
func (sf *stateFile) saveIfChanged(st *state, signIns bool) error {
	d, err := digest(st)
	if err != nil {
		return fmt.Errorf("saving the demo state: %w", err)
	}
	if d == sf.saved && !(signIns && sf.signIns > 0) {
		return nil
	}
	if err := sf.write(st); err != nil {
		return err
	}
	sf.saved, sf.signIns = d, 0
	return nil
}

// write replaces the file atomically: a temporary file in the same
// directory, synced, renamed over it, and the directory synced, so that a
// crash leaves the old tenant or the new one, never half of either.
func (sf *stateFile) write(st *state) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("saving the demo state %s: %w", sf.path, err)
		}
	}()
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(sf.path)
	tmp, err := os.CreateTemp(dir, ".demo-state-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(sf.mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), sf.path); err != nil {
		return err
	}
	return syncDir(dir)
}
