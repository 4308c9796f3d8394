package change

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// The journal (SPEC section 9) is one append-only JSON-lines file per run
// and tenant under the user's state directory: an intent entry before each
// write and a result entry after it, each flushed and synced, so that a
// crash or a dropped SSH connection at any point leaves a file from which a
// re-run converges and undo restores. It never holds a secret: entries are
// built from Changes and objects, and the password is never part of either.

// Entry types.
const (
	EntryBegin  = "begin"
	EntryIntent = "intent"
	EntryResult = "result"
	EntryEnd    = "end"
)

// Entry is one line of a journal.
type Entry struct {
	Seq  int    `json:"seq"`
	Time string `json:"time"`
	Run  string `json:"run"`
	Type string `json:"type"`
	// Command is what wrote the run (apply, undo, remove, on, off), on the
	// begin entry; Operator who ran it.
	Command  string `json:"command,omitempty"`
	Operator string `json:"operator,omitempty"`
	Tenant   string `json:"tenant,omitempty"`
	// Index is the change's place in the run; Change the change itself.
	Index  int     `json:"index,omitempty"`
	Change *Change `json:"change,omitempty"`
	// ObjectID is the id of the object written (known after a create);
	// AccountID the management account's.
	ObjectID  string `json:"objectId,omitempty"`
	AccountID string `json:"accountId,omitempty"`
	RequestID string `json:"requestId,omitempty"`
	// Before and After are the object as read just before the write (every
	// property Graph returned) and as read back after it.
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
	Error  string          `json:"error,omitempty"`
	// Written says Graph accepted the write, even when Error then reports
	// that reading it back failed.
	Written bool `json:"written,omitempty"`
	// Refused says Graph answered the write with an error: it did not
	// happen. An error without it (a dropped connection) leaves the write
	// unknown, and undo looks at the tenant.
	Refused bool `json:"refused,omitempty"`
	// Outcome on the end entry: done, failed, or stopped.
	Outcome string `json:"outcome,omitempty"`
}

// Journal is an open run journal.
type Journal struct {
	mu   sync.Mutex
	f    *os.File
	Path string
	Run  string
	seq  int
	now  func() time.Time
}

// StateDir is where journals and reports live: $XDG_STATE_HOME/mgmtsession,
// or ~/.local/state/mgmtsession.
func StateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "mgmtsession"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the state directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "mgmtsession"), nil
}

var tenantDirName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// TenantDir is the tenant's directory under the state directory, created
// 0700 (and the state directory with it).
func TenantDir(stateDir, tenantID string) (string, error) {
	if !tenantDirName.MatchString(tenantID) || tenantID == "." || tenantID == ".." {
		return "", fmt.Errorf("the tenant id %q cannot name a directory", tenantID)
	}
	dir := filepath.Join(stateDir, tenantID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating the journal directory: %w", err)
	}
	for _, d := range []string{stateDir, dir} {
		fi, err := os.Lstat(d)
		if err != nil {
			return "", fmt.Errorf("checking the journal directory: %w", err)
		}
		if !fi.IsDir() {
			return "", fmt.Errorf("%s is not a directory", d)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(d, 0o700); err != nil {
				return "", fmt.Errorf("making %s private: %w", d, err)
			}
		}
	}
	return dir, nil
}

// NewRunID names a run by its start time (sortable) and a random suffix.
func NewRunID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + fmt.Sprintf("-%x", b)
}

// StartRun starts the journal of a new run in dir (a TenantDir), named by
// the time it starts.
func StartRun(dir string) (*Journal, error) {
	return CreateJournal(dir, NewRunID(time.Now()), nil)
}

// CreateJournal starts the journal of a new run in dir (a TenantDir).
func CreateJournal(dir, run string, now func() time.Time) (*Journal, error) {
	if now == nil {
		now = time.Now
	}
	path := filepath.Join(dir, run+".jsonl")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating the journal: %w", err)
	}
	return &Journal{f: f, Path: path, Run: run, now: now}, nil
}

// Write appends an entry and syncs it to disk before returning, so that an
// intent is on disk before its write is sent.
func (j *Journal) Write(e Entry) error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	e.Seq, e.Run = j.seq, j.Run
	if e.Time == "" {
		e.Time = j.now().UTC().Format(time.RFC3339Nano)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("writing the journal: %w", err)
	}
	if _, err := j.f.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("writing the journal %s: %w", j.Path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("writing the journal %s: %w", j.Path, err)
	}
	return nil
}

// Close closes the journal file.
func (j *Journal) Close() error {
	if j == nil {
		return nil
	}
	return j.f.Close()
}

// ReadJournal reads a journal. A last line cut short by a crash is ignored;
// any other bad line is an error naming it.
func ReadJournal(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the journal: %w", err)
	}
	defer f.Close()
	var out []Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	var pending error
	line := 0
	for sc.Scan() {
		line++
		if pending != nil {
			return nil, pending
		}
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			pending = fmt.Errorf("%s:%d: not a journal entry: %w", path, line, err)
			continue
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the journal %s: %w", path, err)
	}
	return out, nil
}

// RunInfo is one run found in a tenant's directory.
type RunInfo struct {
	Run      string
	Path     string
	Command  string
	Finished bool   // it has an end entry
	Outcome  string // from the end entry
	Entries  []Entry
}

// Runs lists the tenant's runs, oldest first.
func Runs(dir string) ([]RunInfo, error) {
	names, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	var out []RunInfo
	for _, n := range names {
		if n.IsDir() || !strings.HasSuffix(n.Name(), ".jsonl") || !n.Type().IsRegular() {
			continue
		}
		path := filepath.Join(dir, n.Name())
		es, err := ReadJournal(path)
		if err != nil {
			return nil, err
		}
		ri := RunInfo{Run: strings.TrimSuffix(n.Name(), ".jsonl"), Path: path, Entries: es}
		for _, e := range es {
			switch e.Type {
			case EntryBegin:
				ri.Command = e.Command
			case EntryEnd:
				ri.Finished, ri.Outcome = true, e.Outcome
			}
		}
		out = append(out, ri)
	}
	slices.SortFunc(out, func(a, b RunInfo) int { return strings.Compare(a.Run, b.Run) })
	return out, nil
}
