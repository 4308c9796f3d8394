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

	"mgmtsession/change"
	"mgmtsession/safe"
	"mgmtsession/text"
)

// CreateStep is step 5: the plan made by the Allowed IPs and method steps,
// applied through the engine once the operator asks for it (a), with each
// change's progress from the engine's events, the replication waits with
// the time so far, and the new account's password handed out on this step
// only, hidden until revealed.
//
// It never writes because it was entered again: writing starts from a key,
// and what it applies is planned again from a fresh read just before, so
// that a plan already applied comes back empty (SPEC section 9).
type CreateStep struct {
	deps  Deps
	state *State
	job   *Job
	busy  bool
	spin  spinner.Model
	// applying is the part of the plan being applied (or last applied),
	// and lines each of its changes' progress, by index.
	applying *change.Plan
	lines    []progressLine
	resumed  []string // unfinished runs this one converges
	result   *change.Result
	// awaiting is the run whose CreatedMsg is on its way to the State:
	// the step stays busy until the State has it, so that nothing reads
	// the plan of before the run in between.
	awaiting *change.Result
	err      error
	runs     int
	report   string
	// planSeen says that a plan reached the State before the first visit
	// (the step list shows the step as ready).
	planSeen bool
	// revealed shows the password; handedOut records that the operator
	// revealed or copied it at least once.
	revealed, handedOut, copied bool

	applyKey, retryKey, revealKey, copyKey key.Binding
}

// progressLine is one change's progress.
type progressLine struct {
	change  change.Change
	kind    change.EventKind
	elapsed time.Duration
}

// createPlannedEvent is the Create job's first report: the part of a plan
// made from a fresh read that it is about to apply.
type createPlannedEvent struct {
	plan    *change.Plan
	resumed []string
}

// NewCreate builds the step.
func NewCreate(deps Deps) *CreateStep {
	return &CreateStep{
		deps:      deps,
		spin:      spinner.New(spinner.WithSpinner(spinner.Dot)),
		applyKey:  key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "apply the changes")),
		retryKey:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		revealKey: key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "reveal the password")),
		copyKey:   key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy it (OSC 52)")),
	}
}

func (c *CreateStep) Title() string { return "Create" }

// pending is what the State's plan still has to create; nil without a plan.
func (c *CreateStep) pending() []change.Change {
	if c.state == nil || c.state.Plan == nil {
		return nil
	}
	return createPart(c.state.Plan).Changes
}

func (c *CreateStep) Status() Status {
	switch {
	case c.busy:
		return Running
	case c.err != nil:
		return Failed
	case c.state == nil && c.planSeen:
		return Pending // planned, not visited yet
	case c.state == nil || c.state.Plan == nil:
		return Unavailable
	case len(c.pending()) > 0:
		return Pending
	}
	return Done
}

func (c *CreateStep) Focused() bool { return false }

// Busy: the engine is writing; stopping now leaves a run for the next
// apply (or this step's retry) to finish, so quitting asks first.
func (c *CreateStep) Busy() bool { return c.busy }

func (c *CreateStep) password() change.Secret {
	if c.result == nil {
		return change.Secret{}
	}
	return c.result.Password
}

func (c *CreateStep) Keys() []key.Binding {
	switch st := c.Status(); {
	case st == Running || st == Unavailable:
		return nil
	case st == Failed:
		return []key.Binding{c.retryKey}
	case st == Pending:
		return []key.Binding{c.applyKey}
	}
	if c.password().IsZero() {
		return nil
	}
	if c.revealed {
		c.revealKey.SetHelp("p", "hide the password")
	} else {
		c.revealKey.SetHelp("p", "reveal the password")
	}
	if c.deps.Accessible {
		return []key.Binding{c.revealKey} // no escape sequence in accessible mode
	}
	return []key.Binding{c.revealKey, c.copyKey}
}

func (c *CreateStep) CanAdvance() (bool, string) {
	switch c.Status() {
	case Running:
		return false, "Wait for the changes to be written and verified."
	case Failed:
		return false, "The changes are not all made: see the reason, then press r to retry."
	case Unavailable:
		return false, "The plan comes first: the Allowed IPs and method steps make it."
	case Pending:
		return false, "Press a to apply the changes first."
	}
	if !c.password().IsZero() && !c.handedOut {
		return false, "Take the password first (p reveals it" + map[bool]string{true: "", false: ", c copies it"}[c.deps.Accessible] + "): it is shown only here, and the platform needs it."
	}
	return true, ""
}

// Enter only shows: the writes start from a key.
func (c *CreateStep) Enter(s *State) tea.Cmd {
	c.state = s
	return nil
}

func (c *CreateStep) Update(msg tea.Msg) (Step, tea.Cmd) {
	if c.job.Owns(msg) {
		return c, c.handleJob(msg)
	}
	switch msg := msg.(type) {
	case PlannedMsg:
		c.planSeen = true
	case CreatedMsg:
		if c.awaiting != nil && msg.Run == c.awaiting {
			c.busy, c.awaiting = false, nil
		}
	case spinner.TickMsg:
		if c.busy && msg.ID == c.spin.ID() {
			var cmd tea.Cmd
			c.spin, cmd = c.spin.Update(msg)
			return c, cmd
		}
	case tea.KeyPressMsg:
		switch st := c.Status(); {
		case key.Matches(msg, c.applyKey) && st == Pending, key.Matches(msg, c.retryKey) && st == Failed:
			return c, c.start()
		case key.Matches(msg, c.revealKey) && st == Done && !c.password().IsZero():
			c.revealed = !c.revealed
			c.handedOut = true
		case key.Matches(msg, c.copyKey) && st == Done && !c.password().IsZero() && !c.deps.Accessible:
			c.copied, c.handedOut = true, true
			return c, tea.SetClipboard(c.password().Reveal())
		}
	}
	return c, nil
}

// start applies the plan: read the tenant fresh, plan again for the same
// desired state, and apply what is left to create, as `mgmtsession apply`
// does, converging any unfinished run of this tenant.
func (c *CreateStep) start() tea.Cmd {
	if c.state.Desired == nil || c.state.Session == nil || c.busy {
		return nil
	}
	c.busy, c.err, c.lines, c.applying, c.resumed = true, nil, nil, nil, nil
	c.runs++
	deps, s := c.deps, c.state
	d, client, sess := *s.Desired, s.Client, *s.Session
	var cmd tea.Cmd
	c.job, cmd = StartJob(deps.Ctx, func(ctx context.Context, report func(any)) (any, error) {
		dir, err := journalDir(deps, sess.TenantID)
		if err != nil {
			return nil, fmt.Errorf("finding the journal directory: %w", err)
		}
		runs, err := change.Runs(dir)
		if err != nil {
			return nil, fmt.Errorf("reading the journal: %w", err)
		}
		var resumed []string
		for _, u := range change.Unfinished(runs) {
			resumed = append(resumed, u.Run)
			if change.NeedsPasswordReset(u) {
				d.ResetPassword = true
			}
		}
		facts, err := change.ReadFacts(ctx, client, sess, d)
		if err != nil {
			return nil, fmt.Errorf("reading the tenant before writing (nothing was written): %w", err)
		}
		plan, err := change.MakePlan(d, facts)
		if err != nil {
			return nil, err
		}
		part := createPart(plan)
		report(createPlannedEvent{plan: part, resumed: resumed})
		out := CreatedMsg{Run: &change.Result{Done: []change.Change{}}, Applied: part}
		var runErr error
		if !part.Empty() {
			j, err := newJournal(deps, facts.TenantID)
			if err != nil {
				return nil, err
			}
			defer j.Close()
			out.Run, runErr = change.Apply(ctx, client, part, engineOptions(deps, sess, j, report))
			if ctx.Err() != nil {
				return out, runErr
			}
			out.ReportPath, out.Status, err = writeReport(ctx, deps, s, part, out.Run, runErr)
			if err != nil && runErr == nil {
				runErr = err
			}
		}
		if runErr != nil {
			return out, runErr
		}
		// The plan again from the tenant as it now stands: the later
		// steps (and a revisit of the earlier ones) plan from it.
		if out.Facts, err = change.ReadFacts(ctx, client, sess, d); err == nil {
			out.Plan, _ = change.MakePlan(d, out.Facts)
			out.Status = change.SessionStatus(out.Facts)
		}
		if out.Plan == nil {
			out.Facts = nil
		}
		return out, nil
	})
	return tea.Batch(cmd, c.spin.Tick)
}

func (c *CreateStep) handleJob(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case JobEventMsg:
		switch ev := msg.Event.(type) {
		case createPlannedEvent:
			c.applying, c.resumed = ev.plan, ev.resumed
			c.lines = make([]progressLine, len(ev.plan.Changes))
			for i, ch := range ev.plan.Changes {
				c.lines[i] = progressLine{change: ch}
			}
		case change.Event:
			if ev.Index >= 0 && ev.Index < len(c.lines) {
				c.lines[ev.Index].kind, c.lines[ev.Index].elapsed = ev.Kind, ev.Elapsed
			}
		}
	case JobDoneMsg:
		out, _ := msg.Result.(CreatedMsg)
		if out.Run != nil {
			c.result, c.report = out.Run, out.ReportPath
		}
		c.err = msg.Err
		if out.Run == nil {
			c.busy = false
			return nil
		}
		c.awaiting = out.Run
		if msg.Err != nil {
			// The account may exist with its password, which must not be
			// lost with the failure: the run and the password stay shown.
			out = CreatedMsg{Run: out.Run, Applied: out.Applied, ReportPath: out.ReportPath, Status: out.Status}
		}
		return func() tea.Msg { return out }
	}
	return c.job.Handle(msg)
}

const createIntro = "Create the account and its roles, then the named location of the allowed IPs, the account's policy (MFA outside them), verified before any exclusion, and the exclusions. Every write is read back until Graph shows it, and journaled so that undo restores it. The session stays off: the next step turns it on."

const createIntroGlobalAdmin = "Nothing is created: the Global Administrator gets the named location of the allowed IPs, its own policy (MFA outside them), verified before any exclusion, and the exclusions. Every write is read back until Graph shows it, and journaled so that undo restores it. The next step turns the session on."

func (c *CreateStep) View(th *Theme, width int) string {
	var b strings.Builder
	intro := createIntro
	if c.state != nil && c.state.Method.GlobalAdmin() {
		intro = createIntroGlobalAdmin
	}
	b.WriteString(text.Hang(intro, width, 0) + "\n\n")
	switch st := c.Status(); {
	case st == Unavailable:
		b.WriteString(th.Pal.Muted(text.Hang("The plan comes first: the Allowed IPs and method steps make it.", width, 0)) + "\n")
		return b.String()
	case st == Pending && !c.busy && c.err == nil:
		if c.result != nil {
			b.WriteString(text.Hang("The plan changed since the last run (planned again from a fresh read):", width, 0) + "\n")
		}
		p := createPart(c.state.Plan)
		fmt.Fprintf(&b, "%s to make in %s:\n", text.Plural(len(p.Changes), "change"), safe.Text(p.TenantName))
		for i, ch := range p.Changes {
			b.WriteString(text.Hang(fmt.Sprintf("  %2d %s %s", i+1, change.ActionMark[ch.Action], change.ChangeLine(ch)), width, 7) + "\n")
		}
		b.WriteString("\n" + text.Hang("Press a to apply them. The tenant is read again first: what is already so is not written again.", width, 0) + "\n")
		return b.String()
	}
	if len(c.resumed) > 0 {
		b.WriteString(text.Hang("Converging the unfinished run "+strings.Join(c.resumed, ", ")+" of this tenant as well.", width, 0) + "\n")
	}
	if c.busy && c.applying == nil {
		fmt.Fprintf(&b, "%s Reading the tenant before writing… %s\n", th.Spinner(c.spin), seconds(c.job.Elapsed()))
	}
	// Once the run is over, what the operator must act on comes first,
	// where a small terminal shows it without scrolling: the outcome and
	// the password; the changes one by one follow. Read aloud or piped,
	// it comes after them, so that the transcript only adds lines.
	var outcome strings.Builder
	if !c.busy {
		switch {
		case c.err != nil:
			outcome.WriteString(c.viewError(th, width) + "\n")
		case c.applying != nil && len(c.lines) == 0:
			outcome.WriteString(th.Pal.MarkPass + " Nothing to create: the tenant already holds the plan.\n")
		case c.result != nil:
			fmt.Fprintf(&outcome, "%s %s made and verified.\n", th.Pal.MarkPass, text.Plural(len(c.result.Done), "change"))
		}
		if pw := c.password(); !pw.IsZero() {
			outcome.WriteString("\n" + c.viewPassword(th, pw, width) + "\n")
		}
	}
	if !th.Accessible {
		b.WriteString(outcome.String())
	}
	for i, l := range c.lines {
		// Read aloud or piped, the progress only adds lines: a change
		// is said once it is done, never repainted as it goes.
		if th.Accessible && c.busy && (l.kind == "" || l.kind == change.EventStarted) {
			continue
		}
		b.WriteString(c.viewLine(th, i, l, width) + "\n")
	}
	if th.Accessible {
		b.WriteString("\n" + outcome.String())
	}
	if c.result != nil && !c.busy && (c.result.Journal != "" || c.report != "") {
		b.WriteString("\n")
		if c.result.Journal != "" {
			b.WriteString(text.Hang("Journal: "+safe.Text(c.result.Journal)+" (mgmtsession undo "+safe.Text(c.result.Run)+" restores this run)", width, 2) + "\n")
		}
		if c.report != "" {
			b.WriteString(text.Hang("Report:  "+safe.Text(c.report)+" (and .json)", width, 2) + "\n")
		}
	}
	return b.String()
}

// viewLine is one change with its progress.
func (c *CreateStep) viewLine(th *Theme, i int, l progressLine, width int) string {
	mark, tail := th.Pal.Muted("·"), ""
	switch l.kind {
	case change.EventStarted:
		mark = th.Spinner(c.spin)
	case change.EventWaiting:
		mark = th.Spinner(c.spin)
		tail = fmt.Sprintf(": waiting for directory replication (%d s so far; Graph makes a new object visible everywhere within a minute or two)", int(l.elapsed.Seconds()))
	case change.EventVerified:
		mark, tail = th.Pal.MarkPass, fmt.Sprintf(" (verified in %.1f s)", l.elapsed.Seconds())
	case change.EventSkipped:
		mark, tail = th.Pal.MarkPass, " (already so)"
	case change.EventFailed:
		mark = th.Pal.MarkFail
	}
	if l.kind == "" && c.err != nil {
		mark, tail = th.Pal.Muted("·"), " (not made)"
	}
	return mark + " " + text.Hang(fmt.Sprintf("%2d %s%s", i+1, change.ChangeLine(l.change), tail), width-2, 5)
}

// viewError is the failure as cause and fix; a missing permission names the
// role and scope, and Retry resumes.
func (c *CreateStep) viewError(th *Theme, width int) string {
	var b strings.Builder
	var perm *change.PermissionError
	var changed *change.ChangedError
	var refused *change.RefusedError
	switch {
	case errors.As(c.err, &perm):
		fmt.Fprintf(&b, "%s Graph refused to write the %s %s.\n", th.Pal.MarkFail, perm.Object, safe.Text(perm.Name))
		b.WriteString(text.Hang("Missing: "+perm.Need+".", width, 2) + "\n")
		b.WriteString(text.Hang("Fix: have a role granted to "+safe.Text(c.state.Session.UPN)+", then press r to retry: what was done is kept and not repeated. A scope, or a sign-in as another administrator, needs a new sign-in: quit and start the wizard again: its plan then holds only what is left.", width, 2) + "\n")
		if id := requestID(c.err); id != "" {
			b.WriteString("Request id: " + safe.Text(id) + "\n")
		}
	case errors.As(c.err, &changed):
		fmt.Fprintf(&b, "%s Stopped: %s\n", th.Pal.MarkFail, text.Hang(safe.Text(changed.Error()), width-2, 2))
		b.WriteString(text.Hang("Fix: look at the change, then press r: the tenant is read again and the plan made from what it holds now.", width, 2) + "\n")
	case errors.As(c.err, &refused):
		fmt.Fprintf(&b, "%s Refused, nothing written: %s\n", th.Pal.MarkFail, text.Hang(safe.Text(refused.Cause), width-2, 2))
		b.WriteString(text.Hang("Fix: "+safe.Text(refused.Fix), width, 2) + "\n")
	default:
		fmt.Fprintf(&b, "%s %s\n", th.Pal.MarkFail, text.Hang(safe.Text(c.err.Error()), width-2, 2))
		b.WriteString(text.Hang("Fix: press r to retry: the tenant is read again, and what was done is not repeated.", width, 2) + "\n")
	}
	return b.String()
}

// viewPassword hands the new password out: hidden until revealed, so that a
// shared screen does not show it by accident.
func (c *CreateStep) viewPassword(th *Theme, pw change.Secret, width int) string {
	var b strings.Builder
	b.WriteString(th.Pal.Bold(text.Hang("Password of "+safe.Text(c.applyingUPN())+" (handed out here only; paste it into the platform):", width, 0)) + "\n")
	if c.revealed {
		b.WriteString("  " + pw.Reveal() + "\n")
	} else {
		b.WriteString("  " + strings.Repeat("•", 16) + "  (hidden: p reveals it)\n")
	}
	if c.copied {
		b.WriteString(th.Pal.Muted(text.Hang("Copied to the clipboard through the terminal (OSC 52); a terminal that does not allow it copies nothing: reveal it instead.", width, 0)) + "\n")
	}
	return b.String()
}

func (c *CreateStep) applyingUPN() string {
	if c.applying != nil {
		return c.applying.UPN
	}
	if c.state != nil && c.state.Plan != nil {
		return c.state.Plan.UPN
	}
	return ""
}
