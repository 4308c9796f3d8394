// Package cli is the command line: the command tree of SPEC section 3, the
// global options, exit codes, and the headless commands. main.go only calls
// Run.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Exit codes (documented in the README).
const (
	ExitOK       = 0
	ExitFailure  = 1
	ExitUsage    = 2
	ExitProblems = 3
	ExitAborted  = 130
)

// Streams are the program's input and output, abstracted so tests capture
// them.
type Streams struct {
	In          io.Reader
	Out, Err    io.Writer
	Interactive bool // stdin and stdout are terminals: the wizard may run
}

// globals are the options every tenant command takes.
type globals struct {
	tenant, cloud, auth, clientID, certPath string
	demo                                    bool
	demoState, demoScenario                 string
	accessible, json                        bool
	debugLog                                string
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.tenant, "tenant", "", "tenant id or domain (default: the one you sign in to)")
	fs.StringVar(&g.cloud, "cloud", "global", "cloud: global, usgov, usgovdod or china")
	fs.StringVar(&g.auth, "auth", "", "sign-in: devicecode, browser, secret, certificate or azcli (default: devicecode over SSH or without a display, else browser)")
	fs.StringVar(&g.clientID, "client-id", "", "app (client) id to sign in with (default: Microsoft Graph Command Line Tools)")
	fs.StringVar(&g.certPath, "cert", "", "certificate file for --auth certificate")
	fs.BoolVar(&g.demo, "demo", false, "use the built-in simulated tenant instead of a real one")
	fs.StringVar(&g.demoState, "demo-state", "", "file that keeps the simulated tenant between commands")
	fs.StringVar(&g.demoScenario, "demo-scenario", "", "simulated tenant scenario (see 'mgmtsession emulator --list-scenarios')")
	fs.BoolVar(&g.accessible, "accessible", false, "plain text: no colour, no full-screen UI, screen-reader friendly")
	fs.BoolVar(&g.json, "json", false, "print JSON")
	fs.StringVar(&g.debugLog, "debug-log", "", "write a diagnostic log (never secrets) to this file")
}

// usageError is bad usage or input: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// errAborted is the user stopping the program: exit code 130.
var errAborted = errors.New("aborted")

// problemsError reports checks that found problems when asked to fail on
// them: exit code 3.
type problemsError struct{ n int }

func (e *problemsError) Error() string { return fmt.Sprintf("%d check(s) found problems", e.n) }

type command struct {
	summary string
	run     func(ctx context.Context, args []string, s Streams) error
}

func commands() map[string]command {
	return map[string]command{
		"whatif":   {"Conditional Access What If for an account and sign-in", runWhatIf},
		"export":   {"write a tenant snapshot for offline analysis", runExport},
		"plan":     {"show the changes apply would make (read-only)", notYet("plan")},
		"apply":    {"make the planned changes, verify and record them", notYet("apply")},
		"status":   {"Management ON/OFF, the account, licence, security defaults, checks", runStatus},
		"on":       {"turn the management session on", notYet("on")},
		"off":      {"turn the management session off", notYet("off")},
		"undo":     {"restore what a recorded run changed", notYet("undo")},
		"emulator": {"serve the simulated tenant on loopback for scripts", runEmulator},
	}
}

// notYet is a command of the tree whose implementation comes in a later
// release: it says so plainly instead of pretending.
func notYet(name string) func(context.Context, []string, Streams) error {
	return func(context.Context, []string, Streams) error {
		return fmt.Errorf("'mgmtsession %s' is not available in this build yet; run 'mgmtsession --help' for what is", name)
	}
}

// Run runs the command line and returns the exit code.
func Run(ctx context.Context, args []string, s Streams) int {
	err := dispatch(ctx, args, s)
	return report(err, s)
}

func dispatch(ctx context.Context, args []string, s Streams) error {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name := args[0]
		cmd, ok := commands()[name]
		if !ok {
			return usagef("unknown command %q (run 'mgmtsession --help')", name)
		}
		return cmd.run(ctx, args[1:], s)
	}
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			printUsage(s.Out)
			return nil
		}
	}
	return runWizard(ctx, args, s)
}

func report(err error, s Streams) int {
	var ue *usageError
	var pe *problemsError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.Is(err, errAborted), errors.Is(err, context.Canceled):
		fmt.Fprintln(s.Err, "mgmtsession: aborted")
		return ExitAborted
	case errors.As(err, &ue):
		fmt.Fprintln(s.Err, "mgmtsession:", err)
		return ExitUsage
	case errors.As(err, &pe):
		fmt.Fprintln(s.Err, "mgmtsession:", err)
		return ExitProblems
	default:
		fmt.Fprintln(s.Err, "mgmtsession:", err)
		return ExitFailure
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, `mgmtsession prepares a Microsoft 365 tenant for a delegated management session.

Usage:
  mgmtsession [options]            the interactive wizard
  mgmtsession COMMAND [options]

Commands:`)
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, `
Try it with no tenant: mgmtsession --demo   (or: mgmtsession status --demo)
Options of a command: mgmtsession COMMAND --help
Exit codes: 0 success, 1 failure, 2 bad usage or input, 3 checks found problems, 130 aborted.`)
}

// parse parses a command's flags; extra positional arguments are refused.
func parse(fs *flag.FlagSet, args []string, s Streams) error {
	fs.SetOutput(s.Err)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// DefaultStreams are the process's own.
func DefaultStreams() Streams {
	return Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Interactive: isTerminal(os.Stdin) && isTerminal(os.Stdout)}
}
