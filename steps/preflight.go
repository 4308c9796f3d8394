package steps

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"mgmtsession/preflight"
	"mgmtsession/safe"
	"mgmtsession/text"
)

// PreflightDoneMsg carries the report to the root (for the header) and to
// the step.
type PreflightDoneMsg struct{ Report *preflight.Report }

type preflightFailedMsg struct{ err error }

// Preflight is step 1: every read-only check, with reason and fix.
type Preflight struct {
	run    func(context.Context) (*preflight.Report, error)
	ctx    context.Context
	pal    text.Palette
	status Status
	report *preflight.Report
	err    error
	spin   spinner.Model
	rerun  key.Binding
}

// NewPreflight builds the step around the function that reads and judges
// the tenant.
func NewPreflight(ctx context.Context, run func(context.Context) (*preflight.Report, error), pal text.Palette) *Preflight {
	return &Preflight{
		run: run, ctx: ctx, pal: pal, status: Pending,
		spin:  spinner.New(spinner.WithSpinner(spinner.Dot)),
		rerun: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "run the checks again")),
	}
}

func (p *Preflight) Title() string       { return "Preflight" }
func (p *Preflight) Status() Status      { return p.status }
func (p *Preflight) Keys() []key.Binding { return []key.Binding{p.rerun} }

func (p *Preflight) Init() tea.Cmd {
	if p.status == Done || p.status == Warning || p.status == Failed {
		return nil
	}
	return p.start()
}

func (p *Preflight) start() tea.Cmd {
	p.status, p.err = Running, nil
	run, ctx := p.run, p.ctx
	return tea.Batch(p.spin.Tick, func() tea.Msg {
		r, err := run(ctx)
		if err != nil {
			return preflightFailedMsg{err}
		}
		return PreflightDoneMsg{Report: r}
	})
}

func (p *Preflight) Update(msg tea.Msg) (Step, tea.Cmd) {
	switch msg := msg.(type) {
	case PreflightDoneMsg:
		p.report = msg.Report
		n := msg.Report.Counts()
		switch {
		case n.Fail > 0 || n.Unknown > 0:
			// A check that could not be judged is no pass: the step
			// cannot be done until the read works.
			p.status = Failed
		case n.Warn > 0:
			p.status = Warning
		default:
			p.status = Done
		}
	case preflightFailedMsg:
		p.status, p.err = Failed, msg.err
	case spinner.TickMsg:
		if p.status == Running {
			var cmd tea.Cmd
			p.spin, cmd = p.spin.Update(msg)
			return p, cmd
		}
	case tea.KeyPressMsg:
		if p.status != Running && key.Matches(msg, p.rerun) {
			return p, p.start()
		}
	}
	return p, nil
}

func (p *Preflight) View(width int) string {
	pal := p.pal
	var b strings.Builder
	switch {
	case p.status == Running:
		fmt.Fprintf(&b, "%s Reading the tenant (every read at once)…\n", p.spin.View())
	case p.err != nil:
		fmt.Fprintf(&b, "%s The checks could not run\n\n%s\nFix: press r to try again.\n", pal.MarkFail, safe.Text(p.err.Error()))
	case p.report != nil:
		r := p.report
		n := r.Counts()
		fmt.Fprintf(&b, "%s (%s): %s passed, %s, %s failed", pal.Bold(safe.Text(orUnread(r.TenantName))), safe.Text(orUnread(r.InitialDomain)),
			pal.Pass(fmt.Sprint(n.Pass)), pal.Warn(text.Plural(n.Warn, "warning")), pal.Fail(fmt.Sprint(n.Fail)))
		if n.Unknown > 0 {
			fmt.Fprintf(&b, ", %s", pal.Fail(fmt.Sprintf("%d unknown (a read failed: press r to read again)", n.Unknown)))
		}
		b.WriteString("\n\n")
		for _, c := range r.Checks {
			b.WriteString(text.Check(pal, c, width))
		}
	}
	return b.String()
}

// orUnread stands in for a tenant fact that could not be read.
func orUnread(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
