package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"mgmtsession/ca"
	"mgmtsession/change"
	"mgmtsession/safe"
	"mgmtsession/text"
	"mgmtsession/whatif"
)

// TurnOnStep is step 6: the confirmation What If against the tenant as it
// now is (read again; the local evaluator and, the account existing, Graph's
// own), which must show the account allowed from the allowed ranges and
// asked for MFA from outside; then, on the operator's key, the session on
// through change.SetSession, as `mgmtsession on` does. The header's badge
// flips to Management ON from the State. After it, an optional live
// sign-in probe.
type TurnOnStep struct {
	deps  Deps
	state *State
	spin  spinner.Model

	check      *Job
	checking   bool
	checkErr   error
	result     *WhatIfResult
	problems   []string // why the condition does not hold
	checkFacts *change.Facts

	write    *Job
	writing  bool
	awaiting *change.Status
	writeErr error
	on       bool

	probe    *Job
	probing  bool
	probeAns *ProbeAnswer
	probeErr error

	onKey, recheckKey, retryKey, probeKey key.Binding
}

// NewTurnOn builds the step.
func NewTurnOn(deps Deps) *TurnOnStep {
	return &TurnOnStep{
		deps:       deps,
		spin:       spinner.New(spinner.WithSpinner(spinner.Dot)),
		onKey:      key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "turn on")),
		recheckKey: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "re-check")),
		retryKey:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		probeKey:   key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "probe a sign-in")),
	}
}

func (t *TurnOnStep) Title() string { return "Turn on" }

// ready says whether Create has left nothing to create: the account and its
// protection exist.
func (t *TurnOnStep) ready() bool {
	s := t.state
	return s != nil && s.Session != nil && s.Plan != nil && s.Facts != nil && s.Facts.Account != nil && createPart(s.Plan).Empty()
}

// sessionOn says whether the tenant shows the session on.
func (t *TurnOnStep) sessionOn() bool {
	return t.on || t.state != nil && t.state.Management != nil && t.state.Management.Session == change.SessionOn
}

func (t *TurnOnStep) Status() Status {
	switch {
	case t.checking || t.writing || t.probing:
		return Running
	case t.checkErr != nil || t.writeErr != nil:
		return Failed
	case t.sessionOn():
		if t.probeAns != nil && t.probeAns.Outcome != "mfaRequired" && t.probeAns.Outcome != "succeeded" {
			return Warning
		}
		return Done
	case t.result != nil && len(t.problems) > 0:
		return Failed
	case !t.ready():
		return Unavailable
	}
	return Pending
}

func (t *TurnOnStep) Focused() bool { return false }
func (t *TurnOnStep) Busy() bool    { return t.writing }

func (t *TurnOnStep) Keys() []key.Binding {
	switch {
	case t.checking || t.writing || t.probing || !t.ready() && !t.sessionOn():
		return nil
	case t.writeErr != nil:
		return []key.Binding{t.retryKey}
	case t.sessionOn():
		if t.deps.Probe != nil && !t.probePassword().IsZero() {
			return []key.Binding{t.probeKey}
		}
		return nil
	case t.result != nil && len(t.problems) == 0:
		return []key.Binding{t.onKey, t.recheckKey}
	}
	return []key.Binding{t.recheckKey}
}

func (t *TurnOnStep) CanAdvance() (bool, string) {
	switch {
	case t.writing:
		return false, "Wait for the session to be turned on and verified."
	case t.sessionOn():
		return true, ""
	case !t.ready():
		return false, "Create comes first: it makes the account and its protection."
	case t.checking:
		return false, "Wait for the What If."
	case t.writeErr != nil:
		return false, "The session is not on: see the reason, then press r to retry."
	case len(t.problems) > 0:
		return false, "The What If does not show the condition yet: see why, then press r to check again."
	}
	return false, "Press o to turn the session on."
}

// Enter checks the condition on the first visit once Create is done; a
// revisit shows the check and the session as they are.
func (t *TurnOnStep) Enter(s *State) tea.Cmd {
	t.state = s
	if !t.ready() || t.sessionOn() || t.checking || t.result != nil || t.checkErr != nil {
		return nil
	}
	return t.startCheck()
}

func (t *TurnOnStep) Update(msg tea.Msg) (Step, tea.Cmd) {
	switch {
	case t.check.Owns(msg):
		return t, t.handleCheck(msg)
	case t.write.Owns(msg):
		return t, t.handleWrite(msg)
	case t.probe.Owns(msg):
		return t, t.handleProbe(msg)
	}
	switch msg := msg.(type) {
	case ManagementMsg:
		if t.awaiting != nil && msg.Status == t.awaiting {
			t.writing, t.awaiting = false, nil
		}
	case spinner.TickMsg:
		if (t.checking || t.writing || t.probing) && msg.ID == t.spin.ID() {
			var cmd tea.Cmd
			t.spin, cmd = t.spin.Update(msg)
			return t, cmd
		}
	case tea.KeyPressMsg:
		switch keys := t.Keys(); {
		case hasKey(keys, t.onKey) && key.Matches(msg, t.onKey):
			return t, t.startOn()
		case hasKey(keys, t.retryKey) && key.Matches(msg, t.retryKey) && t.writeErr != nil:
			return t, t.startOn()
		case hasKey(keys, t.recheckKey) && key.Matches(msg, t.recheckKey):
			return t, t.startCheck()
		case hasKey(keys, t.probeKey) && key.Matches(msg, t.probeKey):
			return t, t.startProbe()
		}
	}
	return t, nil
}

// hasKey says whether b is among the keys offered now: a key not offered
// does nothing.
func hasKey(keys []key.Binding, b key.Binding) bool {
	for _, k := range keys {
		if k.Help() == b.Help() {
			return true
		}
	}
	return false
}

// turnOnCheck is the confirmation's result.
type turnOnCheck struct {
	result *WhatIfResult
	facts  *change.Facts
}

func (t *TurnOnStep) startCheck() tea.Cmd {
	s := t.state
	d, client, sess := *s.Desired, s.Client, *s.Session
	t.checking, t.checkErr, t.problems = true, nil, nil
	var cmd tea.Cmd
	t.check, cmd = StartJob(t.deps.Ctx, func(ctx context.Context, _ func(any)) (any, error) {
		facts, err := change.ReadFacts(ctx, client, sess, d)
		if err != nil {
			return nil, fmt.Errorf("reading the tenant for the confirmation What If: %w", err)
		}
		res, err := evaluateBefore(ctx, client, d, facts, d.AllowedIPs, change.OutsideAddress(d.AllowedIPs))
		if err != nil {
			return nil, err
		}
		return turnOnCheck{result: res, facts: facts}, nil
	})
	return tea.Batch(cmd, t.spin.Tick)
}

func (t *TurnOnStep) handleCheck(msg tea.Msg) tea.Cmd {
	done, ok := msg.(JobDoneMsg)
	if !ok {
		return t.check.Handle(msg)
	}
	t.checking = false
	if done.Err != nil {
		t.checkErr = done.Err
		return nil
	}
	r := done.Result.(turnOnCheck)
	t.result, t.checkFacts = r.result, r.facts
	t.problems = judgeCondition(r.result)
	return nil
}

// judgeCondition lists why the What If does not show the condition: from
// each allowed range the account signs in with no MFA and no block, and
// from outside it is asked for MFA. Graph's own What If disagreeing counts
// as a reason: the product cannot promise what Graph does not confirm.
func judgeCondition(r *WhatIfResult) []string {
	var out []string
	for _, c := range r.Matrix.Cases {
		outside := c.Case.Label == "from outside"
		switch {
		case outside && c.Verdict != ca.VerdictMFA:
			out = append(out, fmt.Sprintf("From outside (%s) the account is not asked for MFA: %s.", c.Case.IP, whatif.VerdictHeadline[c.Verdict]))
		case !outside && c.Verdict != ca.VerdictAllow:
			out = append(out, fmt.Sprintf("%s (%s): %s, where it must be allowed.", strings.ToUpper(c.Case.Label[:1])+c.Case.Label[1:], c.Case.IP, whatif.VerdictHeadline[c.Verdict]))
		}
	}
	if n := r.Matrix.Disagreements(); n > 0 {
		out = append(out, fmt.Sprintf("Graph's own What If disagrees with the local evaluator on %s.", text.Plural(n, "policy")))
	}
	return out
}

// startOn turns the session on as `mgmtsession on` does, from facts read
// fresh by SetSession's caller.
func (t *TurnOnStep) startOn() tea.Cmd {
	s := t.state
	d, client, sess, deps := *s.Desired, s.Client, *s.Session, t.deps
	t.writing, t.writeErr = true, nil
	var cmd tea.Cmd
	t.write, cmd = StartJob(deps.Ctx, func(ctx context.Context, report func(any)) (any, error) {
		facts, err := change.ReadFacts(ctx, client, sess, d)
		if err != nil {
			return nil, fmt.Errorf("reading the account before turning it on (nothing was written): %w", err)
		}
		j, err := newJournal(deps, facts.TenantID)
		if err != nil {
			return nil, err
		}
		defer j.Close()
		if _, err := change.SetSession(ctx, client, facts, true, false, engineOptions(deps, sess, j, report)); err != nil {
			return nil, err
		}
		_, status, err := readSession(ctx, client, sess, d)
		if err != nil {
			return nil, err
		}
		return ManagementMsg{Status: status}, nil
	})
	return tea.Batch(cmd, t.spin.Tick)
}

func (t *TurnOnStep) handleWrite(msg tea.Msg) tea.Cmd {
	done, ok := msg.(JobDoneMsg)
	if !ok {
		return t.write.Handle(msg)
	}
	if done.Err != nil {
		t.writing, t.writeErr = false, done.Err
		return nil
	}
	// Writing ends when the State (the header's badge) has the session.
	m := done.Result.(ManagementMsg)
	t.on, t.awaiting = m.Status.Session == change.SessionOn, m.Status
	return func() tea.Msg { return m }
}

// probePassword is the password the probe signs in with: the one Create
// generated, or the Global Admin's, held in memory.
func (t *TurnOnStep) probePassword() change.Secret {
	s := t.state
	if s == nil {
		return change.Secret{}
	}
	if s.Method.GlobalAdmin() {
		return s.Method.Password
	}
	if s.Run != nil {
		return s.Run.Password
	}
	return change.Secret{}
}

func (t *TurnOnStep) startProbe() tea.Cmd {
	upn, pw, probe, client := t.state.Plan.UPN, t.probePassword(), t.deps.Probe, t.state.Client
	t.probing, t.probeErr, t.probeAns = true, nil, nil
	var cmd tea.Cmd
	t.probe, cmd = StartJob(t.deps.Ctx, func(ctx context.Context, _ func(any)) (any, error) {
		ans, err := probe(ctx, client, upn, pw)
		return ans, err
	})
	return tea.Batch(cmd, t.spin.Tick)
}

func (t *TurnOnStep) handleProbe(msg tea.Msg) tea.Cmd {
	done, ok := msg.(JobDoneMsg)
	if !ok {
		return t.probe.Handle(msg)
	}
	t.probing = false
	if done.Err != nil {
		t.probeErr = done.Err
		return nil
	}
	ans := done.Result.(ProbeAnswer)
	t.probeAns = &ans
	return nil
}

const turnOnIntro = "Before the session goes on, the What If is asked again against the tenant as it now is: from the allowed IPs the account must sign in with no MFA and no block, from outside it must be asked for MFA. Then the account is enabled, read back, and the session recorded as on in the tenant."

const turnOnIntroGlobalAdmin = "Before the session goes on, the What If is asked again against the tenant as it now is: from the allowed IPs the Global Administrator must sign in with no MFA and no block, from outside it must be asked for MFA. Then the session is recorded as on in the tenant (in Global Admin mode nothing is enabled or disabled)."

func (t *TurnOnStep) View(th *Theme, width int) string {
	var b strings.Builder
	intro := turnOnIntro
	if t.state != nil && t.state.Method.GlobalAdmin() {
		intro = turnOnIntroGlobalAdmin
	}
	b.WriteString(text.Hang(intro, width, 0) + "\n\n")
	if !t.ready() && !t.sessionOn() && t.result == nil {
		b.WriteString(th.Pal.Muted(text.Hang("Create comes first: it makes the account and its protection.", width, 0)) + "\n")
		return b.String()
	}
	switch {
	case t.checking:
		fmt.Fprintf(&b, "%s Asking the What If again… %s\n", th.Spinner(t.spin), seconds(t.check.Elapsed()))
	case t.checkErr != nil:
		fmt.Fprintf(&b, "%s %s\n", th.Pal.MarkFail, text.Hang(safe.Text(t.checkErr.Error()), width-2, 2))
		b.WriteString("Fix: press r to check again.\n")
	case t.result != nil:
		for _, c := range t.result.Matrix.Cases {
			b.WriteString(caseLine(th, c, width) + "\n")
		}
		switch {
		case t.result.GraphNote != "":
			b.WriteString(th.Pal.Muted(text.Hang(safe.Text(t.result.GraphNote), width, 0)) + "\n")
		case t.result.Matrix.Disagreements() == 0:
			b.WriteString(th.Pal.MarkPass + " " + text.Hang(fmt.Sprintf("Graph's own What If agrees (%s).", text.Plural(t.result.Matrix.GraphRequests, "request")), width-2, 2) + "\n")
		}
		if len(t.problems) > 0 {
			b.WriteString("\n" + th.Pal.MarkFail + " The condition does not hold, so the session stays off:\n")
			for _, p := range t.problems {
				b.WriteString("  " + text.Hang(safe.Text(p), width-2, 4) + "\n")
			}
			b.WriteString(text.Hang("Fix: the Allowed IPs step shows the plan and the policies in the way; after a change there, come back and press r.", width, 2) + "\n")
		} else if !t.sessionOn() {
			b.WriteString("\n" + th.Pal.MarkPass + " The condition holds.\n")
		}
	}
	switch {
	case t.writing:
		fmt.Fprintf(&b, "\n%s Turning the session on and reading it back… %s\n", th.Spinner(t.spin), seconds(t.write.Elapsed()))
	case t.writeErr != nil:
		b.WriteString("\n" + t.viewWriteError(th, width))
	case t.sessionOn():
		done := "Management ON: the account is enabled and verified, and the session is recorded as on in the tenant."
		if t.state.Method.GlobalAdmin() {
			done = "Management ON: the session is recorded as on in the tenant."
		}
		b.WriteString("\n" + th.Pal.MarkPass + " " + text.Hang(done, width-2, 2) + "\n")
		b.WriteString(t.viewProbe(th, width))
	case t.result != nil && len(t.problems) == 0:
		b.WriteString("\n" + text.Hang("Press o to turn the session on.", width, 0) + "\n")
	}
	return b.String()
}

func (t *TurnOnStep) viewWriteError(th *Theme, width int) string {
	var perm *change.PermissionError
	var se *change.SessionError
	switch {
	case errors.As(t.writeErr, &perm):
		return th.Pal.MarkFail + " " + text.Hang(fmt.Sprintf("Graph refused to write the %s %s. Missing: %s. Fix: have a role granted, then press r to retry; a scope, or a sign-in as another administrator, needs a new sign-in: quit, and start the wizard again.", perm.Object, safe.Text(perm.Name), perm.Need), width-2, 2) + "\n"
	case errors.As(t.writeErr, &se):
		return th.Pal.MarkFail + " " + text.Hang(safe.Text(se.Cause)+". Fix: "+safe.Text(se.Fix)+".", width-2, 2) + "\n"
	}
	return th.Pal.MarkFail + " " + text.Hang(safe.Text(t.writeErr.Error())+"\nFix: press r to retry.", width-2, 2) + "\n"
}

// viewProbe offers the optional live sign-in probe and shows its answer.
func (t *TurnOnStep) viewProbe(th *Theme, width int) string {
	var b strings.Builder
	switch {
	case t.deps.Probe == nil:
		b.WriteString("\n" + th.Pal.Muted(text.Hang("A live sign-in probe is not available in this build; mgmtsession status shows the What If sweep.", width, 0)) + "\n")
	case t.probePassword().IsZero():
		b.WriteString("\n" + th.Pal.Muted(text.Hang("The live sign-in probe needs the account's password, which this run did not generate: it is not offered.", width, 0)) + "\n")
	case t.probing:
		fmt.Fprintf(&b, "\n%s Signing in as the account with its password alone… %s\n", th.Spinner(t.spin), seconds(t.probe.Elapsed()))
	case t.probeErr != nil:
		b.WriteString("\n" + th.Pal.MarkWarn + " " + text.Hang("The probe could not ask: "+safe.Text(t.probeErr.Error()), width-2, 2) + "\n")
	case t.probeAns != nil:
		a := t.probeAns
		mark := th.Pal.MarkWarn
		if a.Outcome == "mfaRequired" {
			mark = th.Pal.MarkPass
		}
		b.WriteString("\n" + mark + " " + text.Hang("Probe from this machine: "+safe.Text(a.Title), width-2, 2) + "\n")
		if a.Cause != "" {
			b.WriteString("  " + text.Hang(safe.Text(a.Cause), width-2, 2) + "\n")
		}
		if len(a.Policies) > 0 {
			b.WriteString("  " + text.Hang("Policies: "+safe.Text(strings.Join(a.Policies, ", ")), width-2, 2) + "\n")
		}
		if a.Fix != "" {
			b.WriteString("  " + text.Hang("Fix: "+safe.Text(a.Fix), width-2, 2) + "\n")
		}
	default:
		b.WriteString("\n" + text.Hang("Optional: p signs in as the account with its password alone from this machine; from outside the allowed IPs Entra must answer MFA required.", width, 0) + "\n")
	}
	return b.String()
}
