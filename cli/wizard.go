package cli

import (
	"context"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"mgmtsession/preflight"
	"mgmtsession/ui"
)

func wizardCmd(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:     "wizard",
		Short:   "The interactive wizard (also: mgmtsession with no command)",
		Long:    "Walks the procedure step by step in the terminal: sign in, preflight, What If, allowed IPs, the service account, create, turn on, auto-enable. Needs a terminal; the other commands work without one.",
		GroupID: groupWizard,
		Args:    noArgs,
		Example: `  mgmtsession wizard --demo
  mgmtsession wizard --demo --demo-scenario no-p1 --accessible
  mgmtsession wizard --tenant contoso.onmicrosoft.com`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runWizard(cmd.Context(), f) },
	}
}

// runWizard runs the interactive wizard.
func runWizard(ctx context.Context, f *factory) error {
	s := f.streams
	if !s.Interactive {
		return usagef("the wizard needs a terminal; without one use the headless commands (mgmtsession status, ...)")
	}
	env, err := f.open(true)
	if err != nil {
		return err
	}
	defer env.Close()
	model := ui.New(ctx, ui.Config{Auth: env, Cloud: env.CloudLabel(), Accessible: f.g.accessible, Preflight: preflight.Run})
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(s.In), tea.WithOutput(s.Out)}
	final, err := tea.NewProgram(model, opts...).Run()
	if err != nil {
		return err
	}
	if m, ok := final.(ui.Model); ok && m.Aborted() {
		return errAborted
	}
	return nil
}
