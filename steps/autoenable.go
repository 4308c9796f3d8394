package steps

import (
	"context"
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

// AutoEnableStep is step 7: the auto-enable toggle and what it means (SPEC
// section 8), whether to leave the session on when auto-enable is off, then
// on the operator's key the setting recorded in the tenant (through
// change.Apply of a plan made again, as `mgmtsession apply --auto-enable`
// does), the session turned off if so chosen (change.SetSession), the
// report written again with the final state, and the summary with what to
// paste into the platform.
type AutoEnableStep struct {
	deps  Deps
	state *State
	spin  spinner.Model

	autoEnable bool
	leaveOn    bool
	set        bool // the choices were prefilled from the State

	job      *Job
	busy     bool
	err      error
	finished *finishResult

	toggleKey, finishKey, retryKey key.Binding
}

// finishResult is what finishing did.
type finishResult struct {
	status *change.Status
	report string
	wrote  int
}

// NewAutoEnable builds the step.
func NewAutoEnable(deps Deps) *AutoEnableStep {
	return &AutoEnableStep{
		deps:      deps,
		spin:      spinner.New(spinner.WithSpinner(spinner.Dot)),
		leaveOn:   true,
		toggleKey: key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "choose")),
		finishKey: key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "finish")),
		retryKey:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
	}
}

func (a *AutoEnableStep) Title() string { return "Auto-enable" }

// ready says whether the session has been turned on (or is on).
func (a *AutoEnableStep) ready() bool {
	s := a.state
	return s != nil && s.Management != nil && s.Management.Session != change.SessionAbsent && s.Desired != nil && s.Run != nil
}

func (a *AutoEnableStep) Status() Status {
	switch {
	case a.busy:
		return Running
	case a.err != nil:
		return Failed
	case a.finished != nil:
		return Done
	case !a.ready():
		return Unavailable
	}
	return Pending
}

func (a *AutoEnableStep) Focused() bool { return false }
func (a *AutoEnableStep) Busy() bool    { return a.busy }

func (a *AutoEnableStep) Keys() []key.Binding {
	switch {
	case a.busy || !a.ready():
		return nil
	case a.err != nil:
		return []key.Binding{a.retryKey}
	}
	return []key.Binding{a.toggleKey, a.finishKey}
}

func (a *AutoEnableStep) CanAdvance() (bool, string) {
	if a.finished != nil {
		return false, "This is the last step: q ends the wizard."
	}
	return false, "Press f to finish: the setting is recorded and the report written."
}

// Enter prefills the choices from the desired state once; a revisit shows
// what was chosen and done.
func (a *AutoEnableStep) Enter(s *State) tea.Cmd {
	a.state = s
	if !a.set && s.Desired != nil {
		a.autoEnable, a.set = s.Desired.AutoEnable, true
	}
	return nil
}

func (a *AutoEnableStep) Update(msg tea.Msg) (Step, tea.Cmd) {
	if a.job.Owns(msg) {
		done, ok := msg.(JobDoneMsg)
		if !ok {
			return a, a.job.Handle(msg)
		}
		a.busy = false
		if done.Err != nil {
			a.err = done.Err
			return a, nil
		}
		f := done.Result.(*finishResult)
		a.finished = f
		a.busy = true // until the State has what finishing left
		return a, func() tea.Msg { return finishedMsg{status: f.status, report: f.report, from: f} }
	}
	switch msg := msg.(type) {
	case finishedMsg:
		if msg.from == a.finished {
			a.busy = false
		}
	case spinner.TickMsg:
		if a.busy && msg.ID == a.spin.ID() {
			var cmd tea.Cmd
			a.spin, cmd = a.spin.Update(msg)
			return a, cmd
		}
	case tea.KeyPressMsg:
		keys := a.Keys()
		switch {
		case hasKey(keys, a.toggleKey) && key.Matches(msg, a.toggleKey):
			a.next()
		case hasKey(keys, a.finishKey) && key.Matches(msg, a.finishKey), hasKey(keys, a.retryKey) && key.Matches(msg, a.retryKey):
			return a, a.finish()
		}
	}
	return a, nil
}

// next goes to the next of the three choices: auto-enable off with the
// session left on, off with the session turned off, and auto-enable on.
func (a *AutoEnableStep) next() {
	switch {
	case a.autoEnable:
		a.autoEnable, a.leaveOn = false, true
	case a.leaveOn:
		a.leaveOn = false
	default:
		a.autoEnable = true
	}
	a.finished = nil
}

// finishedMsg records the session as finishing left it, and the report.
type finishedMsg struct {
	status *change.Status
	report string
	from   *finishResult
}

// Apply records it.
func (m finishedMsg) Apply(s *State) {
	if m.status != nil {
		s.Management = m.status
	}
	if m.report != "" {
		s.ReportPath = m.report
	}
}

// finish records the choices in the tenant and writes the report again with
// the state the tenant ends in.
func (a *AutoEnableStep) finish() tea.Cmd {
	s, deps := a.state, a.deps
	d, client, sess := *s.Desired, s.Client, *s.Session
	d.AutoEnable = a.autoEnable
	turnOff := !a.autoEnable && !a.leaveOn
	applied, created := s.Applied, s.Run
	a.busy, a.err = true, nil
	var cmd tea.Cmd
	a.job, cmd = StartJob(deps.Ctx, func(ctx context.Context, report func(any)) (any, error) {
		out := &finishResult{}
		facts, err := change.ReadFacts(ctx, client, sess, d)
		if err != nil {
			return nil, fmt.Errorf("reading the tenant before recording auto-enable (nothing was written): %w", err)
		}
		plan, err := change.MakePlan(d, facts)
		if err != nil {
			return nil, err
		}
		if !plan.Empty() {
			// The record's auto-enable (and anything that drifted since
			// Create) converges as apply converges it; the session is on,
			// so nothing else is planned.
			j, err := newJournal(deps, facts.TenantID)
			if err != nil {
				return nil, err
			}
			res, err := change.Apply(ctx, client, plan, engineOptions(deps, sess, j, report))
			j.Close()
			if err != nil {
				return nil, fmt.Errorf("recording auto-enable: %w", err)
			}
			out.wrote += len(res.Done)
			if applied == nil || created == nil || created.Run == "" {
				applied, created = plan, res
			}
		}
		if turnOff {
			facts, err = change.ReadFacts(ctx, client, sess, d)
			if err != nil {
				return nil, fmt.Errorf("reading the account before turning the session off (nothing more was written): %w", err)
			}
			j, err := newJournal(deps, facts.TenantID)
			if err != nil {
				return nil, err
			}
			res, err := change.SetSession(ctx, client, facts, false, false, engineOptions(deps, sess, j, report))
			j.Close()
			if err != nil {
				return nil, fmt.Errorf("turning the session off: %w", err)
			}
			out.wrote += len(res.Done)
		}
		if applied == nil {
			applied = plan
		}
		if created == nil || created.Run == "" {
			created = &change.Result{Run: change.NewRunID(time.Now()), Done: []change.Change{}}
		}
		out.report, out.status, err = writeReport(ctx, deps, s, applied, created, nil)
		if err != nil {
			return nil, err
		}
		return out, nil
	})
	return tea.Batch(cmd, a.spin.Tick)
}

const (
	autoEnableOnText  = "Auto-enable ON: the account stays enabled, so the platform can start a session whenever an operator acts. mgmtsession off then warns and needs --force."
	autoEnableOffText = "Auto-enable OFF: the session is just-in-time: turned on when needed (mgmtsession on, or this wizard) and off afterwards (mgmtsession off), which disables the account and revokes its sign-in sessions."
)

// offText is what auto-enable off means for the method chosen.
func (a *AutoEnableStep) offText() string {
	if a.state != nil && a.state.Method.GlobalAdmin() {
		return "Auto-enable OFF: the session is just-in-time: recorded as on when needed (mgmtsession on, or this wizard) and off afterwards (mgmtsession off); in Global Admin mode the admin is never disabled, only the state is recorded."
	}
	return autoEnableOffText
}

func (a *AutoEnableStep) View(th *Theme, width int) string {
	var b strings.Builder
	if !a.ready() {
		b.WriteString(text.Hang(autoEnableOnText, width, 0) + "\n\n" + text.Hang(a.offText(), width, 0) + "\n\n")
		b.WriteString(th.Pal.Muted(text.Hang("Turn on comes first.", width, 0)) + "\n")
		return b.String()
	}
	if a.autoEnable {
		b.WriteString(th.Pal.MarkPass + " " + text.Hang(autoEnableOnText, width-2, 2) + "\n")
	} else {
		b.WriteString(th.Pal.MarkPass + " " + text.Hang(a.offText(), width-2, 2) + "\n")
		if a.leaveOn {
			b.WriteString("  " + text.Hang("When you finish, the session is left ON.", width-2, 2) + "\n")
		} else {
			b.WriteString("  " + text.Hang("When you finish, the session is turned OFF.", width-2, 2) + "\n")
		}
	}
	switch {
	case a.busy:
		fmt.Fprintf(&b, "\n%s Recording the setting and writing the report… %s\n", th.Spinner(a.spin), seconds(a.job.Elapsed()))
	case a.err != nil:
		b.WriteString("\n" + th.Pal.MarkFail + " " + text.Hang(safe.Text(a.err.Error()), width-2, 2) + "\n")
		b.WriteString("Fix: press r to retry; what was done is not repeated.\n")
	case a.finished == nil:
		b.WriteString("\n" + text.Hang("t goes through the choices (auto-enable off and the session left on, off and turned off, auto-enable on); f finishes: the setting is recorded in the tenant and the report written.", width, 0) + "\n")
	default:
		b.WriteString("\n" + a.viewSummary(th, width))
	}
	return b.String()
}

// viewSummary is the end of the journey: the session as the tenant holds
// it, the report, and what the platform needs.
func (a *AutoEnableStep) viewSummary(th *Theme, width int) string {
	var b strings.Builder
	st, s := a.finished.status, a.state
	if s.Management != nil {
		st = s.Management // newer: turned off from the badge's view since
	}
	b.WriteString(th.Pal.Bold("Summary") + "\n")
	if st != nil {
		session := strings.ToUpper(st.Session)
		auto := "off"
		if st.AutoEnable {
			auto = "on"
		}
		fmt.Fprintf(&b, "  Management session: %s; auto-enable %s\n", session, auto)
		if st.Account != nil {
			b.WriteString("  " + text.Hang("Account: "+safe.Text(st.Account.UserPrincipalName)+"; roles: "+safe.Text(strings.Join(st.Account.Roles, ", ")), width-2, 4) + "\n")
		}
		b.WriteString("  " + text.Hang("Allowed IPs: "+safe.Text(strings.Join(st.AllowedIPs, ", ")), width-2, 4) + "\n")
		if st.Policy != nil {
			b.WriteString("  " + text.Hang("Policy: "+safe.Text(st.Policy.DisplayName)+" ("+safe.Text(st.Policy.State)+")", width-2, 4) + "\n")
		}
		fmt.Fprintf(&b, "  Excluded from %s\n", text.Plural(len(st.ExcludedFrom), "tenant policy"))
		for _, d := range st.Drift {
			b.WriteString("  " + th.Pal.MarkWarn + " " + text.Hang(safe.Text(d.What+" Fix: "+d.Fix), width-4, 4) + "\n")
		}
	}
	b.WriteString("\n" + text.Hang("Report: "+safe.Text(a.finished.report)+" (and .json)", width, 2) + "\n")
	b.WriteString("\n" + th.Pal.Bold("Paste into the platform") + "\n")
	fmt.Fprintf(&b, "  Tenant:   %s\n", safe.Text(s.Session.TenantID))
	if st != nil && st.Account != nil {
		fmt.Fprintf(&b, "  Account:  %s\n", safe.Text(st.Account.UserPrincipalName))
	}
	switch {
	case s.Method.GlobalAdmin():
		b.WriteString("  " + text.Hang("Password: the Global Administrator's own (not kept by this wizard).", width-2, 12) + "\n")
	case s.Run != nil && !s.Run.Password.IsZero():
		b.WriteString("  " + text.Hang("Password: the one handed out on the Create step (b goes back to it).", width-2, 12) + "\n")
	default:
		b.WriteString("  " + text.Hang("Password: unchanged (the account existed before this run).", width-2, 12) + "\n")
	}
	b.WriteString("\n" + th.Pal.Muted(text.Hang("Done. q ends the wizard; mgmtsession status shows the session at any time.", width, 0)) + "\n")
	return b.String()
}
