package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"mgmtsession/preflight"
	"mgmtsession/safe"
	"mgmtsession/text"
)

// PreflightDoneMsg puts the preflight report into the shared State (the
// header's Management badge and the later steps read it there).
type PreflightDoneMsg struct{ Report *preflight.Report }

// Apply records the report.
func (m PreflightDoneMsg) Apply(s *State) { s.Report = m.Report }

// slowRead is how long a read may take before the view explains the wait:
// the demo tenant and a healthy one answer well within it, a throttled one
// does not.
const slowRead = 2 * time.Second

// Preflight is step 1: every read-only check, with reason and fix.
type Preflight struct {
	deps    Deps
	state   *State
	status  Status
	job     *Job
	runs    int // how many times the checks have been read, shown so that r visibly runs
	report  *preflight.Report
	err     error
	skipped bool
	spin    spinner.Model
	rerun   key.Binding
	skip    key.Binding
}

// NewPreflight builds the step; it reads the tenant on its first visit
// after the sign-in.
func NewPreflight(deps Deps) *Preflight {
	return &Preflight{
		deps: deps, status: Pending,
		spin:  spinner.New(spinner.WithSpinner(spinner.Dot)),
		rerun: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "read again")),
		skip:  key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "skip")),
	}
}

func (p *Preflight) Title() string  { return "Preflight" }
func (p *Preflight) Status() Status { return p.status }
func (p *Preflight) Focused() bool  { return false }
func (p *Preflight) Busy() bool     { return false }

func (p *Preflight) Keys() []key.Binding {
	switch p.status {
	case Running, Pending:
		return nil
	case Failed:
		if !p.skipped {
			return []key.Binding{p.rerun, p.skip}
		}
	}
	return []key.Binding{p.rerun}
}

// CanAdvance: a failed check is no pass; going on needs a read that passes
// or the operator's explicit skip.
func (p *Preflight) CanAdvance() (bool, string) {
	switch {
	case p.status == Done || p.status == Warning || p.skipped && p.status == Failed:
		return true, ""
	case p.status == Failed:
		return false, "Preflight failed: press r to read again once fixed, or s to go on anyway."
	}
	return false, "Wait for the checks to finish."
}

// Enter reads the tenant the first time it is entered with a signed-in
// client; a revisit shows the result, and r reads again.
func (p *Preflight) Enter(s *State) tea.Cmd {
	p.state = s
	if p.status != Pending || s.Client == nil || s.Session == nil {
		return nil
	}
	return p.start()
}

func (p *Preflight) start() tea.Cmd {
	p.status, p.err, p.skipped = Running, nil, false
	p.runs++
	run, client, sess := p.deps.Preflight, p.state.Client, *p.state.Session
	var cmd tea.Cmd
	p.job, cmd = StartJob(p.deps.Ctx, func(ctx context.Context, _ func(any)) (any, error) {
		return run(ctx, client, sess)
	})
	return tea.Batch(p.spin.Tick, cmd)
}

func (p *Preflight) Update(msg tea.Msg) (Step, tea.Cmd) {
	if p.job.Owns(msg) {
		done, ok := msg.(JobDoneMsg)
		if !ok {
			return p, p.job.Handle(msg) // a tick: the view shows the time so far
		}
		if done.Err != nil {
			p.status, p.err = Failed, done.Err
			return p, nil
		}
		// The step is judged when the report is in the shared state, so
		// that the next step finds it there.
		r := done.Result.(*preflight.Report)
		return p, func() tea.Msg { return PreflightDoneMsg{Report: r} }
	}
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
	case SignedInMsg:
		// A new sign-in makes the last read stale: read again on the
		// next visit.
		if p.status != Running {
			p.status, p.report, p.err = Pending, nil, nil
		}
	case spinner.TickMsg:
		if p.status == Running && msg.ID == p.spin.ID() {
			var cmd tea.Cmd
			p.spin, cmd = p.spin.Update(msg)
			return p, cmd
		}
	case tea.KeyPressMsg:
		switch {
		case p.status != Running && p.status != Pending && key.Matches(msg, p.rerun):
			return p, p.start()
		case p.status == Failed && key.Matches(msg, p.skip):
			p.skipped = true
		}
	}
	return p, nil
}

func (p *Preflight) View(th *Theme, width int) string {
	pal := th.Pal
	var b strings.Builder
	switch {
	case p.status == Pending:
		b.WriteString("Waiting for the sign-in.\n")
	case p.status == Running:
		fmt.Fprintf(&b, "%s Reading the tenant (every read at once)… %s\n", th.Spinner(p.spin), seconds(p.job.Elapsed()))
		if p.job.Elapsed() >= slowRead {
			b.WriteString("\n" + text.Hang("The tenant is slow to answer: it is most likely throttling (Conditional Access allows one request a second per tenant, and a throttled read waits its turn). A wait of a few seconds is expected; nothing is wrong.", width, 0) + "\n")
		}
	case p.err != nil:
		fmt.Fprintf(&b, "%s The checks could not run\n\n", pal.MarkFail)
		b.WriteString(text.Hang(safe.Text(p.err.Error()), width, 2) + "\n")
		if errors.Is(p.err, context.Canceled) {
			b.WriteString("The read was cancelled.\n")
		}
		b.WriteString("Fix: press r to try again.\n")
	case p.report != nil:
		r := p.report
		n := r.Counts()
		fmt.Fprintf(&b, "%s (%s): %s passed, %s, %s failed", pal.Bold(safe.Text(orUnread(r.TenantName))), safe.Text(orUnread(r.InitialDomain)),
			pal.Pass(fmt.Sprint(n.Pass)), pal.Warn(text.Plural(n.Warn, "warning")), pal.Fail(fmt.Sprint(n.Fail)))
		if n.Unknown > 0 {
			fmt.Fprintf(&b, ", %s", pal.Fail(fmt.Sprintf("%d unknown (a read failed: press r to read again)", n.Unknown)))
		}
		b.WriteString("\n")
		if p.runs > 1 {
			b.WriteString(pal.Muted(fmt.Sprintf("Read %d times; this is the latest read.", p.runs)) + "\n")
		}
		if p.skipped {
			b.WriteString(pal.Warn("Continuing despite the failures, as you chose (s).") + "\n")
		}
		b.WriteString("\n")
		for _, c := range r.Checks {
			b.WriteString(text.Check(pal, c, width))
		}
	}
	return b.String()
}

// seconds shows a wait's time so far, once it is worth showing.
func seconds(d time.Duration) string {
	if d < time.Second {
		return ""
	}
	return fmt.Sprintf("%d s", int(d.Seconds()))
}

// orUnread stands in for a tenant fact that could not be read.
func orUnread(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
