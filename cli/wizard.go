package cli

import (
	"context"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"mgmtsession/change"
	"mgmtsession/connect"
	"mgmtsession/graph"
	"mgmtsession/preflight"
	"mgmtsession/probe"
	"mgmtsession/steps"
	"mgmtsession/ui"
)

func wizardCmd(f *factory) *cobra.Command {
	var desired desiredFlags
	cmd := &cobra.Command{
		Use:     "wizard",
		Short:   "The interactive wizard (also: mgmtsession with no command)",
		Long:    "Walks the procedure step by step in the terminal: sign in, preflight, What If, allowed IPs, the service account, create, turn on, auto-enable. Needs a terminal, except in accessible mode (--accessible, ACCESSIBLE=1, TERM=dumb), where it asks plain questions answered line by line on standard input and can be scripted; the other commands work without one.",
		GroupID: groupWizard,
		Args:    noArgs,
		Example: `  mgmtsession wizard --demo
  mgmtsession wizard --demo --demo-scenario no-p1 --accessible
  printf 'n\nq\n' | mgmtsession --accessible --demo
  mgmtsession wizard --tenant contoso.onmicrosoft.com
  # prefilled from a config file prepared by support: review, confirm
  mgmtsession wizard --config tenant.yaml`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, o, err := desired.read(cmd)
			if err != nil {
				return err
			}
			return runWizard(cmd.Context(), f, steps.Prefill{Config: cfg, Overrides: o})
		},
	}
	// The same --config and flags as apply, so that a prepared file
	// prefills the wizard and the operator only reviews and confirms.
	desired.register(cmd)
	return cmd
}

// runWizard runs the interactive wizard: full screen in a terminal, or as
// line-based prompts in accessible mode, which a dumb terminal gets too
// because it cannot move the cursor.
func runWizard(ctx context.Context, f *factory, prefill steps.Prefill) error {
	s := f.streams
	accessible := f.g.accessible || os.Getenv("TERM") == "dumb"
	if !s.Interactive && !accessible {
		return usagef("the wizard needs a terminal; without one use accessible mode (--accessible), which reads answers line by line, or the headless commands (mgmtsession status, ...)")
	}
	env, err := f.open(true)
	if err != nil {
		return err
	}
	defer env.Close()
	cfg := ui.Config{Auth: env, Cloud: env.CloudLabel(), Accessible: accessible, Preflight: preflight.Run, Prefill: prefill,
		JournalDir: f.journalDir, Probe: wizardProbe(env)}
	if f.g.demo {
		// The same pause between read-backs as the commands give the
		// simulated tenant (runOptions).
		cfg.VerifyPause = 50 * time.Millisecond
	}
	if accessible {
		aborted, err := ui.RunAccessible(ctx, cfg, s.In, s.Out)
		if err != nil {
			return err
		}
		if aborted {
			return errAborted
		}
		return nil
	}
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(s.In), tea.WithOutput(s.Out)}
	final, err := tea.NewProgram(ui.New(ctx, cfg), opts...).Run()
	if err != nil {
		return err
	}
	if m, ok := final.(ui.Model); ok && m.Aborted() {
		return errAborted
	}
	return nil
}

// wizardProbe is the Turn on step's live sign-in probe, through the
// connection the operator signed in with (its cloud, proxy and CAs).
func wizardProbe(env *connect.Env) steps.Prober {
	return func(ctx context.Context, log *graph.Client, upn string, pw change.Secret) (steps.ProbeAnswer, error) {
		res, err := probe.Try(ctx, env, probe.Request{UPN: upn, Password: pw, Log: log})
		if err != nil {
			return steps.ProbeAnswer{}, err
		}
		ans := steps.ProbeAnswer{Outcome: string(res.Outcome), Title: res.Outcome.Title(), Cause: res.Cause, Fix: res.Fix}
		for _, p := range res.Policies {
			ans.Policies = append(ans.Policies, p.DisplayName)
		}
		return ans, nil
	}
}
