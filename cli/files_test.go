package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var newAccountArgs = []string{"--new-account", "--ip", outsideIP, "--country", "US"}

// runWithin is run for a command that might block for ever (opening a
// FIFO): the test fails at the deadline instead of hanging with it.
func runWithin(t *testing.T, deadline time.Duration, args ...string) result {
	t.Helper()
	done := make(chan result, 1)
	go func() { done <- run(t, args...) }()
	select {
	case r := <-done:
		return r
	case <-time.After(deadline):
		t.Fatalf("%q still running after %v: blocked", args, deadline)
		return result{}
	}
}

// usageLine checks a bad-input refusal: exit 2, nothing on stdout, one line
// naming the problem and the pointer to --help, and returns that line.
func usageLine(t *testing.T, r result, cmd string) string {
	t.Helper()
	line, pointer, _ := strings.Cut(strings.TrimSuffix(r.err, "\n"), "\n")
	if r.code != 2 || r.out != "" || pointer != "Run 'mgmtsession "+cmd+" --help' for usage." {
		t.Errorf("exit %d, stdout %.80q, stderr %q; want exit 2 and one line with the pointer to --help", r.code, r.out, r.err)
	}
	return line
}

// TestWhatIfUserMustBeAUPNOrAnID: --user goes into a Graph URL; "." named
// the user list and was read as one user with an empty id. A value that is
// neither a UPN nor an object id is bad input, named in one line, and costs
// no sign-in.
func TestWhatIfUserMustBeAUPNOrAnID(t *testing.T) {
	for _, user := range []string{".", "..", "../users", "adele", "adele@contoso", "a/b@contoso-demo.com", "adele admin@contoso-demo.com", "x\x1b[2J@contoso-demo.com"} {
		r := run(t, append([]string{"whatif", "--demo", "--user", user, "--ip", outsideIP}, "--country", "US")...)
		line := usageLine(t, r, "whatif")
		if !strings.Contains(line, "--user") || strings.Contains(line, "\x1b") {
			t.Errorf("--user %q: %q does not name --user, or carries ESC raw", user, line)
		}
	}
	// Snapshot mode reads no URL, but the same input is the same mistake.
	r := run(t, append([]string{"whatif", "--snapshot", "/nonexistent.json", "--user", "."}, "--ip", outsideIP)...)
	if line := usageLine(t, r, "whatif"); !strings.Contains(line, `"."`) {
		t.Errorf("--snapshot with --user .: %q does not name the value", line)
	}
	// A guest's UPN and an object id are accounts.
	for _, user := range []string{"pat.partner_fabrikam.com#EXT#@contosodemo.onmicrosoft.com", "0a1b2c3d-0001-4000-8000-000000000001"} {
		if w, _ := whatif(t, "--demo", "--user", user, "--ip", outsideIP, "--country", "US"); w.Verdict == "" {
			t.Errorf("--user %q: no verdict", user)
		}
	}
}

// TestSnapshotFIFOIsRefused: a FIFO as --snapshot is refused at once
// instead of blocking for ever; so are a directory and a device.
func TestSnapshotFIFOIsRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "snap.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	for path, kind := range map[string]string{fifo: "named pipe", dir: "directory", "/dev/zero": "device"} {
		r := runWithin(t, 30*time.Second, append([]string{"whatif", "--snapshot", path}, newAccountArgs...)...)
		if line := usageLine(t, r, "whatif"); !strings.Contains(line, path) || !strings.Contains(line, kind) {
			t.Errorf("--snapshot %s: %q does not say it is a %s", path, line, kind)
		}
	}
}

// TestExportReplacesOnlyRegularFiles: --force replaces a regular file and
// nothing else: not a symbolic link (nor what it points to), a FIFO or a
// device; and a directory is called a directory, without suggesting
// --force.
func TestExportReplacesOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.txt")
	if err := os.WriteFile(target, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling.json")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "out.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "folder")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ path, kind string }{
		{link, "symbolic link"}, {dangling, "symbolic link"}, {fifo, "named pipe"}, {sub, "directory"},
	}
	for _, c := range cases {
		for _, force := range []bool{false, true} {
			args := []string{"export", "--demo", "--out", c.path}
			if force {
				args = append(args, "--force")
			}
			line := usageLine(t, run(t, args...), "export")
			if !strings.Contains(line, c.path) || !strings.Contains(line, c.kind) || strings.Contains(line, "--force") {
				t.Errorf("%q: %q should say it is a %s, without suggesting --force", args, line, c.kind)
			}
		}
		if fi, err := os.Lstat(c.path); err != nil || fi.Mode().IsRegular() {
			t.Errorf("%s was replaced: %v %v", c.path, fi.Mode(), err)
		}
	}
	if data, _ := os.ReadFile(target); string(data) != "keep me" {
		t.Errorf("the link's target was changed: %q", data)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); err == nil {
		t.Errorf("the dangling link's target was created")
	}
	// A device node, where the test may make one: the same refusal.
	dev := filepath.Join(dir, "null.json")
	if err := syscall.Mknod(dev, syscall.S_IFCHR|0o600, 0x0103); err == nil {
		line := usageLine(t, run(t, "export", "--demo", "--out", dev, "--force"), "export")
		if !strings.Contains(line, "device") {
			t.Errorf("device node: %q", line)
		}
		if fi, err := os.Lstat(dev); err != nil || fi.Mode()&os.ModeDevice == 0 {
			t.Errorf("the device node was replaced")
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".mgmtsession-export-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// TestDebugLogIsPrivate: --debug-log creates its file 0600, narrows an
// existing 0644 log to 0600 (and says so), and refuses a symbolic link, a
// FIFO and a directory without touching what they point to.
func TestDebugLogIsPrivate(t *testing.T) {
	dir := t.TempDir()
	args := func(log string) []string {
		return append([]string{"whatif", "--demo", "--json", "--debug-log", log}, newAccountArgs...)
	}

	fresh := filepath.Join(dir, "fresh.log")
	if r := run(t, args(fresh)...); r.code != 0 {
		t.Fatalf("new log: exit %d: %s", r.code, r.err)
	}
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() == 0 {
		t.Errorf("new log: %v, %v; want a non-empty file with mode 0600", fi.Mode(), err)
	}

	wide := filepath.Join(dir, "wide.log")
	if err := os.WriteFile(wide, []byte("earlier run\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(wide, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	r := run(t, args(wide)...)
	if r.code != 0 {
		t.Fatalf("existing 0644 log: exit %d: %s", r.code, r.err)
	}
	if fi, _ := os.Stat(wide); fi.Mode().Perm() != 0o600 {
		t.Errorf("existing log kept mode %v, want 0600", fi.Mode().Perm())
	}
	if !strings.Contains(r.err, "note: --debug-log "+wide) || !strings.Contains(r.err, "0644") {
		t.Errorf("no note that the log's mode changed: %q", r.err)
	}
	if data, _ := os.ReadFile(wide); !strings.HasPrefix(string(data), "earlier run\n") || len(data) <= len("earlier run\n") {
		t.Errorf("the existing log was not appended to: %q", data)
	}

	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.log")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling.log")
	if err := os.Symlink(filepath.Join(dir, "created-through-link"), dangling); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "log.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, kind := range map[string]string{link: "symbolic link", dangling: "symbolic link", fifo: "named pipe", dir: "directory"} {
		line := usageLine(t, runWithin(t, 30*time.Second, args(path)...), "whatif")
		if !strings.Contains(line, "--debug-log "+path) || !strings.Contains(line, kind) {
			t.Errorf("--debug-log %s: %q does not say it is a %s", path, line, kind)
		}
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep me" {
		t.Errorf("the log was written through the link: %q", data)
	}
	if fi, _ := os.Stat(victim); fi.Mode().Perm() != 0o644 {
		t.Errorf("the link's target changed mode: %v", fi.Mode().Perm())
	}
	if _, err := os.Lstat(filepath.Join(dir, "created-through-link")); err == nil {
		t.Errorf("a file was created through the dangling link")
	}
}

// TestCertFIFOIsRefused: --cert naming a FIFO is refused before the
// credential reads it (a plain read would block for ever); nothing is sent
// anywhere.
func TestCertFIFOIsRefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "cert.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	args := append([]string{"whatif", "--tenant", "contoso.onmicrosoft.com", "--auth", "certificate", "--cert", fifo}, newAccountArgs...)
	line := usageLine(t, runWithin(t, 30*time.Second, args...), "whatif")
	if !strings.Contains(line, "--cert "+fifo) || !strings.Contains(line, "named pipe") {
		t.Errorf("%q does not say --cert is a named pipe", line)
	}
}

// TestExportPathShownSafely: the --out path is echoed on stdout; a name
// with an escape sequence is shown defused.
func TestExportPathShownSafely(t *testing.T) {
	out := filepath.Join(t.TempDir(), "snap\x1b]0;owned\x07.json")
	r := run(t, "export", "--demo", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	if strings.ContainsAny(r.out, "\x1b\x07") {
		t.Errorf("stdout carries the path's control characters raw: %q", r.out)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("the snapshot was not written under its own name: %v", err)
	}
}
