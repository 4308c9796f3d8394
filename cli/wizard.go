package cli

import (
	"context"
	"flag"
	"time"

	tea "charm.land/bubbletea/v2"

	"mgmtsession/preflight"
	"mgmtsession/ui"
)

// demoApproveAfter leaves the device code on screen long enough to read
// before the simulated tenant approves it.
const demoApproveAfter = 1800 * time.Millisecond

// runWizard runs the interactive wizard.
func runWizard(ctx context.Context, args []string, s Streams) error {
	var g globals
	fs := flag.NewFlagSet("mgmtsession", flag.ContinueOnError)
	g.register(fs)
	if err := parse(fs, args, s); err != nil {
		return err
	}
	if !s.Interactive {
		return usagef("the wizard needs a terminal; without one use the headless commands (mgmtsession status, ...)")
	}
	env, err := openEnv(g)
	if err != nil {
		return err
	}
	defer env.Close()
	env.SetDemoApproveAfter(demoApproveAfter)
	cloud := g.cloud
	if g.demo {
		cloud = "simulated (demo)"
	}
	model := ui.New(ctx, ui.Config{Auth: env, Cloud: cloud, Accessible: g.accessible, Preflight: preflight.Run})
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
