// Package cli is the command line: the command tree of SPEC section 3 on
// cobra and fang, the global options and their environment variables, the
// one way into a tenant (factory.go), exit codes, and the headless
// commands. main.go only calls Run.
package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"charm.land/fang/v2"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"mgmtsession/change"
	"mgmtsession/safe"
	"mgmtsession/steps"
)

// Exit codes (listed in 'mgmtsession --help').
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

// DefaultStreams are the process's own.
func DefaultStreams() Streams {
	return Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		Interactive: term.IsTerminal(os.Stdin.Fd()) && term.IsTerminal(os.Stdout.Fd())}
}

// usageError is bad usage or input: exit code 2. cmd is the command whose
// --help the message points to.
type usageError struct {
	msg string
	cmd string
}

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// errAborted is the user stopping the program: exit code 130.
var errAborted = errors.New("aborted")

// problemsError reports checks that found problems when asked to fail on
// them: exit code 3.
type problemsError struct{ n int }

func (e *problemsError) Error() string {
	if e.n == 1 {
		return "1 check found a problem"
	}
	return fmt.Sprintf("%d checks found problems", e.n)
}

// Run runs the command line and returns the exit code.
func Run(ctx context.Context, args []string, s Streams) int {
	f := &factory{streams: s, plain: plainRequested(args)}
	root := newRoot(f)
	root.SetArgs(args)
	err := fang.Execute(ctx, root,
		fang.WithVersion(buildVersion()),
		fang.WithoutManpage(), // 'mgmtsession man' is a listed command instead
		fang.WithErrorHandler(f.printError),
	)
	return exitCode(ctx, err)
}

// exitCode is the one place that maps an error to an exit code.
func exitCode(ctx context.Context, err error) int {
	var ue *usageError
	var pe *problemsError
	var ce *changesError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errAborted), errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return ExitAborted
	case errors.As(err, &ue), errors.Is(err, change.ErrInvalidInput):
		return ExitUsage
	case errors.As(err, &pe), errors.As(err, &ce):
		return ExitProblems
	}
	return ExitFailure
}

// printError prints an error on stderr: one line naming the problem (then
// any explanation lines), and for bad usage a pointer to the command's
// --help. Every line goes through the sanitiser: error texts carry what
// Graph, the authority or a proxy sent.
func (f *factory) printError(w io.Writer, styles fang.Styles, err error) {
	if errors.Is(err, errAborted) || errors.Is(err, context.Canceled) {
		fmt.Fprintln(w, "mgmtsession: aborted")
		return
	}
	lines := strings.Split(strings.TrimRight(err.Error(), "\n"), "\n")
	prefix := "mgmtsession: "
	if f.styled() {
		prefix = styles.ErrorHeader.UnsetMargins().Render("ERROR") + " "
	}
	for i, l := range lines {
		if i == 0 {
			fmt.Fprintln(w, prefix+safe.Text(l))
		} else {
			fmt.Fprintln(w, "  "+safe.Text(l))
		}
	}
	var ue *usageError
	if errors.As(err, &ue) {
		cmd := ue.cmd
		if cmd == "" && f.cmd != nil {
			cmd = f.cmd.CommandPath()
		}
		if cmd == "" {
			cmd = "mgmtsession"
		}
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", cmd)
	}
}

// styled reports whether errors may be styled: stderr is a terminal and
// plain output was not asked for.
func (f *factory) styled() bool {
	if f.plain {
		return false
	}
	return isTerminal(f.streams.Err)
}

// plainRequested is NO_COLOR (any non-empty value), ACCESSIBLE=1 or
// --accessible anywhere on the command line: it decides how help and errors
// look before the flags are parsed.
func plainRequested(args []string) bool {
	if os.Getenv("NO_COLOR") != "" || truthy(os.Getenv("ACCESSIBLE")) {
		return true
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--accessible" || a == "--accessible=true" || a == "--accessible=1" {
			return true
		}
	}
	return false
}

func truthy(v string) bool {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// plainWriter hides the terminal behind a writer, so that fang's colour
// detection sees no terminal and writes no escape sequence, and drops the
// spaces fang pads its blocks with at the ends of lines.
type plainWriter struct{ w io.Writer }

func (p plainWriter) Write(b []byte) (int, error) {
	lines := bytes.Split(b, []byte("\n"))
	for i := range lines {
		lines[i] = bytes.TrimRight(lines[i], " ")
	}
	if _, err := p.w.Write(bytes.Join(lines, []byte("\n"))); err != nil {
		return 0, err
	}
	return len(b), nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// root help, groups and the commands of SPEC section 3.
const (
	groupWizard   = "wizard"
	groupReadOnly = "read-only"
	groupChanges  = "changes"
	groupTools    = "tools"
)

func newRoot(f *factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "mgmtsession",
		Short: "Prepare a Microsoft 365 tenant for a delegated management session",
		Long: `Prepares a Microsoft 365 / Entra ID tenant for a delegated management session: a dedicated service account that the management platform uses without MFA, only from its allowed IP addresses, while MFA stays mandatory everywhere else. With no command it runs the interactive wizard.

Environment: ` + envHelp() + `; MGMTSESSION_CLIENT_SECRET holds the secret for --auth secret; NO_COLOR or ACCESSIBLE=1 make output plain. A flag wins over its variable.

Exit codes: 0 success, 1 failure, 2 bad usage or input, 3 problems found or changes to make (--fail-on-problems, --fail-on-changes), 130 aborted.`,
		Example: `  # the wizard against the built-in simulated tenant: no account needed
  mgmtsession --demo
  # the wizard against your tenant, signing in with a device code
  mgmtsession --tenant contoso.onmicrosoft.com --auth devicecode
  # the preflight facts without the wizard
  mgmtsession status --demo`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf("; did you mean %q?", s[0])
			}
			return &usageError{msg: msg, cmd: "mgmtsession"}
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return runWizard(cmd.Context(), f, steps.Prefill{}) },
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			f.cmd = cmd
			return f.applyEnv(cmd)
		},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SuggestionsMinimumDistance = 2
	root.AddGroup(
		&cobra.Group{ID: groupWizard, Title: "wizard"},
		&cobra.Group{ID: groupReadOnly, Title: "read-only"},
		&cobra.Group{ID: groupChanges, Title: "changes"},
		&cobra.Group{ID: groupTools, Title: "tools"},
	)
	// Help and errors go through fang's colour writer; hiding the terminal
	// from it makes them plain (NO_COLOR, ACCESSIBLE=1, --accessible). Set
	// before the completion command is made: it keeps the writer it sees.
	s := f.streams
	out, errw := s.Out, s.Err
	if f.plain || !isTerminal(s.Out) {
		out = plainWriter{s.Out}
	}
	if f.plain || !isTerminal(s.Err) {
		errw = plainWriter{s.Err}
	}
	root.SetIn(s.In)
	root.SetOut(out)
	root.SetErr(errw)
	f.register(root)
	root.SetFlagErrorFunc(flagError)

	root.AddCommand(
		wizardCmd(f),
		statusCmd(f), whatifCmd(f), exportCmd(f), planCmd(f), signinsCmd(f),
		applyCmd(f), onCmd(f), offCmd(f), undoCmd(f), removeCmd(f),
		emulatorCmd(f), manCmd(),
	)
	root.SetHelpCommandGroupID(groupTools)
	root.SetCompletionCommandGroupID(groupTools)
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Short = "Help about any command"
			c.Example = "  mgmtsession help whatif"
		case "completion":
			c.Example = `  # bash, for this shell only
  source <(mgmtsession completion bash)
  # zsh, fish and PowerShell
  mgmtsession completion zsh > "${fpath[1]}/_mgmtsession"
  mgmtsession completion fish \
    > ~/.config/fish/completions/mgmtsession.fish
  mgmtsession completion powershell | Out-String | Invoke-Expression`
			for _, sub := range c.Commands() {
				sub.Example = "  mgmtsession completion " + sub.Name() + " --help"
			}
		}
	}
	return root
}

// flagError turns cobra's flag errors into usage errors, with the flag
// that was probably meant.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		if s := closestFlag(cmd, name); s != "" {
			msg += fmt.Sprintf("; did you mean --%s?", s)
		}
	}
	return &usageError{msg: msg, cmd: cmd.CommandPath()}
}

// noArgs refuses positional arguments as bad usage.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{msg: fmt.Sprintf("unexpected argument %q", args[0]), cmd: cmd.CommandPath()}
	}
	return nil
}
