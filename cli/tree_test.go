package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"
)

// TestMain fixes fang's help width (it reads the terminal's otherwise) so
// that the golden help pages do not depend on where the tests run.
func TestMain(m *testing.M) {
	os.Setenv("__FANG_TEST_WIDTH", "80")
	os.Unsetenv("NO_COLOR")
	os.Exit(m.Run())
}

// commandPaths is every command of SPEC section 3, and the tools.
var commandPaths = [][]string{
	{}, {"wizard"}, {"status"}, {"whatif"}, {"export"}, {"plan"}, {"signins"},
	{"apply"}, {"on"}, {"off"}, {"undo"}, {"remove"},
	{"emulator"}, {"completion"}, {"man"}, {"help"},
}

// TestHelpPages: every command's --help, without colour, as golden files
// (testdata/TestHelpPages/*.golden; refresh with go test ./cli -update
// after reading the change). Each has an example, and the global options
// are shown as --flag.
func TestHelpPages(t *testing.T) {
	for _, path := range commandPaths {
		name := strings.Join(append([]string{"mgmtsession"}, path...), "_")
		t.Run(name, func(t *testing.T) {
			r := run(t, append(path, "--help")...)
			if r.code != 0 || r.err != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.err)
			}
			if strings.ContainsRune(r.out, '\x1b') {
				t.Error("help to a pipe has escape sequences")
			}
			for _, want := range []string{"USAGE", "EXAMPLES", "--help"} {
				if !strings.Contains(r.out, want) {
					t.Errorf("help lacks %q", want)
				}
			}
			if len(path) > 0 && path[0] != "completion" && path[0] != "help" && path[0] != "man" {
				for _, want := range []string{"--tenant", "--demo", "--accessible", "--json", "[$MGMTSESSION_TENANT]"} {
					if !strings.Contains(r.out, want) {
						t.Errorf("help lacks the global option %q", want)
					}
				}
			}
			golden.RequireEqual(t, r.out)
		})
	}
}

// TestRootHelpGroupsAndExitCodes: the wizard's own options, the four groups,
// the environment variables and the exit codes are all in --help, and
// 'help' is a command.
func TestRootHelpGroupsAndExitCodes(t *testing.T) {
	r := run(t, "--help")
	for _, want := range []string{
		"WIZARD", "READ-ONLY", "CHANGES", "TOOLS", "--demo", "--tenant", "--auth", "--accessible",
		"MGMTSESSION_CLOUD", "MGMTSESSION_CLIENT_ID", "NO_COLOR",
		"Exit codes: 0 success, 1 failure, 2 bad usage or input, 3 problems found", "130 aborted",
		"plan", "signins",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	if h := run(t, "help"); h.code != 0 || !strings.Contains(h.out, "READ-ONLY") || !strings.Contains(h.out, "Exit codes") {
		t.Errorf("'mgmtsession help' differs from --help (exit %d, stderr %q)", h.code, h.err)
	}
	if h := run(t, "help", "status"); h.code != 0 || !strings.Contains(h.out, "--fail-on-problems") || !strings.Contains(h.out, "--tenant") {
		t.Errorf("'mgmtsession help status' = exit %d:\n%s", h.code, h.out)
	}
}

// TestUsageErrorsSuggest: a mistyped command or flag gets one line with the
// likely meaning, a pointer to --help, and exit code 2.
func TestUsageErrorsSuggest(t *testing.T) {
	for _, c := range []struct {
		args    []string
		line    string
		pointer string
	}{
		{[]string{"stauts"}, `mgmtsession: unknown command "stauts"; did you mean "status"?`, "mgmtsession"},
		{[]string{"wahtif"}, `mgmtsession: unknown command "wahtif"; did you mean "whatif"?`, "mgmtsession"},
		{[]string{"--dmeo"}, "mgmtsession: unknown flag: --dmeo; did you mean --demo?", "mgmtsession"},
		{[]string{"status", "--demo", "--fail-on-problem"}, "mgmtsession: unknown flag: --fail-on-problem; did you mean --fail-on-problems?", "mgmtsession status"},
		{[]string{"whatif", "--demo", "--new-account", "--ip"}, "mgmtsession: flag needs an argument: --ip", "mgmtsession whatif"},
		{[]string{"status", "--json=maybe"}, `mgmtsession: invalid argument "maybe" for "--json" flag`, "mgmtsession status"},
		{[]string{"export", "--demo"}, "mgmtsession: missing --out FILE", "mgmtsession export"},
		{[]string{"status", "--demo", "--tenant", "contoso/../../me"}, `mgmtsession: unknown --tenant "contoso/../../me"`, "mgmtsession status"},
	} {
		r := run(t, c.args...)
		lines := strings.Split(strings.TrimSuffix(r.err, "\n"), "\n")
		if r.code != 2 || len(lines) != 2 || !strings.HasPrefix(lines[0], c.line) || lines[1] != "Run '"+c.pointer+" --help' for usage." || r.out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and %q", c.args, r.code, r.out, r.err, c.line)
		}
	}
}

// TestGlobalOptionsFromEnvironment: each global option works from its
// variable, and its flag wins. A bad value names where it came from.
func TestGlobalOptionsFromEnvironment(t *testing.T) {
	// A bad value from the variable is refused, naming the variable; the
	// flag given beside it wins, so validation passes and the command goes
	// on to the (deliberately unknown) demo scenario.
	for _, c := range []struct{ env, bad, flag, good string }{
		{"MGMTSESSION_CLOUD", "mars", "--cloud", "global"},
		{"MGMTSESSION_AUTH", "carrier-pigeon", "--auth", "devicecode"},
		{"MGMTSESSION_TENANT", "not a tenant", "--tenant", "contosodemo.onmicrosoft.com"},
		{"MGMTSESSION_CLIENT_ID", "my-app", "--client-id", "14d82eec-204b-4c2f-b7e8-296a70dab67e"},
	} {
		t.Run(c.env, func(t *testing.T) {
			t.Setenv(c.env, c.bad)
			r := run(t, "status", "--demo", "--demo-scenario", "nope")
			if r.code != 2 || !strings.Contains(r.err, "unknown "+c.env+` "`+c.bad+`"`) {
				t.Errorf("from the variable: exit %d, stderr %q", r.code, r.err)
			}
			r = run(t, "status", "--demo", "--demo-scenario", "nope", c.flag, c.good)
			if r.code != 2 || !strings.Contains(r.err, `unknown demo scenario "nope"`) {
				t.Errorf("the flag did not win: exit %d, stderr %q", r.code, r.err)
			}
		})
	}
	t.Run("MGMTSESSION_CERT", func(t *testing.T) {
		r := run(t, "status", "--demo", "--auth", "certificate", "--demo-scenario", "nope")
		if r.code != 2 || !strings.Contains(r.err, "needs --cert") {
			t.Errorf("without a certificate: exit %d, stderr %q", r.code, r.err)
		}
		t.Setenv("MGMTSESSION_CERT", "/nonexistent/cert.pem")
		r = run(t, "status", "--demo", "--auth", "certificate", "--demo-scenario", "nope")
		if r.code != 2 || !strings.Contains(r.err, `unknown demo scenario "nope"`) {
			t.Errorf("with MGMTSESSION_CERT: exit %d, stderr %q", r.code, r.err)
		}
	})
	t.Run("MGMTSESSION_DEBUG_LOG", func(t *testing.T) {
		dir := t.TempDir()
		fromEnv, fromFlag := filepath.Join(dir, "env.log"), filepath.Join(dir, "flag.log")
		t.Setenv("MGMTSESSION_DEBUG_LOG", fromEnv)
		if r := run(t, "status", "--demo"); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.err)
		}
		if fi, err := os.Stat(fromEnv); err != nil || fi.Size() == 0 {
			t.Errorf("MGMTSESSION_DEBUG_LOG wrote no log: %v", err)
		}
		os.Remove(fromEnv)
		if r := run(t, "status", "--demo", "--debug-log", fromFlag); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.err)
		}
		if _, err := os.Stat(fromEnv); err == nil {
			t.Error("the variable was used although --debug-log was given")
		}
		if _, err := os.Stat(fromFlag); err != nil {
			t.Errorf("--debug-log wrote no log: %v", err)
		}
	})
}

// TestCompletion: value completion for the demo scenarios and the --app
// aliases, and a script for each shell.
func TestCompletion(t *testing.T) {
	r := run(t, "__complete", "status", "--demo-scenario", "")
	for _, want := range []string{"default\t", "security-defaults-on\t", "throttled\t", ":4"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("--demo-scenario completion lacks %q:\n%s", want, r.out)
		}
	}
	r = run(t, "__complete", "whatif", "--app", "")
	var got []string
	for _, l := range strings.Split(r.out, "\n") {
		if name, _, ok := strings.Cut(l, "\t"); ok {
			got = append(got, name)
		}
	}
	if strings.Join(got, " ") != "platform all office365 adminportals" {
		t.Errorf("--app completion = %q", got)
	}
	for _, flag := range []string{"--cloud", "--auth", "--client-app", "--platform"} {
		if r := run(t, "__complete", "whatif", flag, ""); strings.Count(r.out, "\n") < 3 {
			t.Errorf("%s completion:\n%s", flag, r.out)
		}
	}
	for shell, want := range map[string]string{"bash": "bash completion", "zsh": "#compdef mgmtsession", "fish": "complete -c mgmtsession", "powershell": "Register-ArgumentCompleter"} {
		if r := run(t, "completion", shell); r.code != 0 || !strings.Contains(r.out, want) {
			t.Errorf("completion %s: exit %d, lacks %q", shell, r.code, want)
		}
	}
}

// TestManPage: 'mgmtsession man' writes a roff page naming the commands.
func TestManPage(t *testing.T) {
	r := run(t, "man")
	if r.code != 0 || !strings.HasPrefix(r.out, ".TH MGMTSESSION 1") || !strings.Contains(r.out, "whatif") {
		t.Errorf("man: exit %d:\n%.300s", r.code, r.out)
	}
}

// TestPlainOutput: NO_COLOR and ACCESSIBLE=1 are honoured (the terminal
// case is in main_test.go; here, that errors stay one plain line).
func TestPlainOutput(t *testing.T) {
	t.Setenv("ACCESSIBLE", "1")
	r := run(t, "stauts")
	if r.code != 2 || strings.ContainsRune(r.err, '\x1b') || !strings.HasPrefix(r.err, "mgmtsession: unknown command") {
		t.Errorf("exit %d, stderr %q", r.code, r.err)
	}
}

// TestErrorsAreSanitised: an error text carrying escape sequences (here
// from a snapshot's own content, named in the message) reaches stderr
// defused.
func TestErrorsAreSanitised(t *testing.T) {
	dir := t.TempDir()
	evil := filepath.Join(dir, "evil\x1b]52;c;aGk=\x07\u202e.json")
	r := run(t, "whatif", "--snapshot", evil, "--new-account", "--ip", "20.190.128.5")
	if r.code != 2 {
		t.Fatalf("exit %d: %q", r.code, r.err)
	}
	for _, bad := range []string{"\x1b", "\x07", "\u202e"} {
		if strings.Contains(r.err, bad) {
			t.Errorf("stderr carries %q raw: %q", bad, r.err)
		}
	}
}
