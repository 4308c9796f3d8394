package steps

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"mgmtsession/change"
	"mgmtsession/safe"
	"mgmtsession/text"
)

// Details is what the header's Management badge opens: the session as the
// tenant holds it (account, roles, allowed IPs, policy state, auto-enable,
// drift), read fresh each time it opens, with Turn off (confirmed) as
// `mgmtsession off` does it; and, found once signed in, an unfinished run of
// this tenant offered for resume (Create's apply converges it) or undo.
type Details struct {
	deps  Deps
	state *State

	read     *Job
	reading  bool
	readErr  error
	awaiting *change.Status // what was read, on its way to the State

	scanned    bool
	unfinished []change.RunInfo

	confirm string // "off" or "undo" while the question is asked
	write   *Job
	writing string // what is being written: "off" or "undo"
	wrote   string // what the last write did, in words
	err     error

	offKey, undoKey, yesKey, noKey key.Binding
}

// NewDetails builds the details view.
func NewDetails(deps Deps) *Details {
	return &Details{
		deps:    deps,
		offKey:  key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "turn off")),
		undoKey: key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "undo the unfinished run")),
		yesKey:  key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes")),
		noKey:   key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n", "no")),
	}
}

// sessionDesired is the desired state the session is read for: the
// wizard's, or the default account when the steps have not made one yet.
func sessionDesired(s *State) (change.Desired, error) {
	if s.Desired != nil {
		return *s.Desired, nil
	}
	return accountDesired(s)
}

// Open reads the session fresh; it is called each time the view opens.
func (d *Details) Open(s *State) tea.Cmd {
	d.state, d.err, d.wrote, d.confirm = s, nil, "", ""
	if s.Client == nil || s.Session == nil || d.reading || d.writing != "" {
		return nil
	}
	des, err := sessionDesired(s)
	if err != nil {
		d.readErr = err
		return nil
	}
	client, sess := s.Client, *s.Session
	d.reading, d.readErr = true, nil
	var cmd tea.Cmd
	d.read, cmd = StartJob(d.deps.Ctx, func(ctx context.Context, _ func(any)) (any, error) {
		_, st, err := readSession(ctx, client, sess, des)
		return st, err
	})
	return cmd
}

// unfinishedMsg carries the unfinished runs of the tenant found at start.
type unfinishedMsg struct{ runs []change.RunInfo }

// Notice is the one line the root shows while nothing else needs the status
// row: an unfinished run found for this tenant.
func (d *Details) Notice() string {
	if len(d.unfinished) == 0 {
		return ""
	}
	return fmt.Sprintf("An unfinished run of this tenant (%s) was found: m offers to resume or undo it.", d.unfinished[len(d.unfinished)-1].Run)
}

// Busy says whether Turn off or an undo is writing.
func (d *Details) Busy() bool { return d.writing != "" }

// Keys are the view's own keys now.
func (d *Details) Keys() []key.Binding {
	switch {
	case d.writing != "" || d.reading:
		return nil
	case d.confirm != "":
		return []key.Binding{d.yesKey, d.noKey}
	}
	var keys []key.Binding
	if d.canTurnOff() {
		keys = append(keys, d.offKey)
	}
	if len(d.unfinished) > 0 {
		keys = append(keys, d.undoKey)
	}
	return keys
}

func (d *Details) canTurnOff() bool {
	s := d.state
	return s != nil && s.Management != nil && s.Management.Session == change.SessionOn
}

// Update handles the view's jobs, the scan for unfinished runs once signed
// in, and the keys while the view is open (open says so).
func (d *Details) Update(msg tea.Msg, s *State, open bool) tea.Cmd {
	d.state = s
	switch {
	case d.read.Owns(msg):
		done, ok := msg.(JobDoneMsg)
		if !ok {
			return d.read.Handle(msg)
		}
		if done.Err != nil {
			d.reading, d.readErr = false, done.Err
			return nil
		}
		// Reading ends when the State (the badge) has what was read.
		st := done.Result.(*change.Status)
		d.awaiting = st
		return func() tea.Msg { return ManagementMsg{Status: st} }
	case d.write.Owns(msg):
		done, ok := msg.(JobDoneMsg)
		if !ok {
			return d.write.Handle(msg)
		}
		what := d.writing
		d.writing = ""
		if done.Err != nil {
			d.err = done.Err
			return nil
		}
		if what == "undo" {
			d.wrote = "The unfinished run was undone: what it changed is restored."
			d.unfinished = nil
		} else {
			d.wrote = "The session is OFF: the account is disabled and its sign-in sessions revoked."
		}
		st, _ := done.Result.(*change.Status)
		if st == nil {
			return nil
		}
		return func() tea.Msg { return ManagementMsg{Status: st} }
	}
	switch msg := msg.(type) {
	case ManagementMsg:
		if d.awaiting != nil && msg.Status == d.awaiting {
			d.reading, d.awaiting = false, nil
		}
		return nil
	case unfinishedMsg:
		d.unfinished = msg.runs
		return nil
	case tea.KeyPressMsg:
		if !open {
			return nil
		}
		return d.key(msg)
	}
	if !d.scanned && s.Session != nil {
		d.scanned = true
		return d.scan(s)
	}
	return nil
}

// scan looks for an unfinished run of the signed-in tenant in the journal.
func (d *Details) scan(s *State) tea.Cmd {
	deps, tenant := d.deps, s.Session.TenantID
	return func() tea.Msg {
		dir, err := journalDir(deps, tenant)
		if err != nil {
			return nil
		}
		runs, err := change.Runs(dir)
		if err != nil {
			return nil
		}
		var out []change.RunInfo
		for _, u := range change.Unfinished(runs) {
			if u.Command == "apply" {
				out = append(out, u)
			}
		}
		return unfinishedMsg{runs: out}
	}
}

func (d *Details) key(msg tea.KeyPressMsg) tea.Cmd {
	keys := d.Keys()
	switch {
	case d.confirm != "" && key.Matches(msg, d.yesKey):
		what := d.confirm
		d.confirm = ""
		if what == "undo" {
			return d.startUndo()
		}
		return d.startOff()
	case d.confirm != "" && key.Matches(msg, d.noKey):
		d.confirm = ""
	case hasKey(keys, d.offKey) && key.Matches(msg, d.offKey):
		d.confirm, d.err, d.wrote = "off", nil, ""
	case hasKey(keys, d.undoKey) && key.Matches(msg, d.undoKey):
		d.confirm, d.err, d.wrote = "undo", nil, ""
	}
	return nil
}

// startOff turns the session off as `mgmtsession off` does; with auto-enable
// on, the confirmation said so and counts as --force.
func (d *Details) startOff() tea.Cmd {
	s, deps := d.state, d.deps
	des, err := sessionDesired(s)
	if err != nil {
		d.err = err
		return nil
	}
	client, sess := s.Client, *s.Session
	d.writing = "off"
	var cmd tea.Cmd
	d.write, cmd = StartJob(deps.Ctx, func(ctx context.Context, _ func(any)) (any, error) {
		facts, err := change.ReadFacts(ctx, client, sess, des)
		if err != nil {
			return nil, fmt.Errorf("reading the account before turning it off (nothing was written): %w", err)
		}
		j, err := newJournal(deps, facts.TenantID)
		if err != nil {
			return nil, err
		}
		defer j.Close()
		if _, err := change.SetSession(ctx, client, facts, false, true, engineOptions(deps, sess, j, nil)); err != nil {
			return nil, fmt.Errorf("turning the session off: %w", err)
		}
		_, st, err := readSession(ctx, client, sess, des)
		return st, err
	})
	return cmd
}

// startUndo takes the newest unfinished run back, as `mgmtsession undo RUN`
// does.
func (d *Details) startUndo() tea.Cmd {
	s, deps := d.state, d.deps
	client, sess := s.Client, *s.Session
	d.writing = "undo"
	var cmd tea.Cmd
	d.write, cmd = StartJob(deps.Ctx, func(ctx context.Context, _ func(any)) (any, error) {
		dir, err := journalDir(deps, sess.TenantID)
		if err != nil {
			return nil, err
		}
		runs, err := change.Runs(dir)
		if err != nil {
			return nil, err
		}
		idx := -1
		for i, r := range runs {
			if !r.Finished && r.Command == "apply" {
				idx = i
			}
		}
		if idx < 0 {
			return nil, nil
		}
		u, err := change.PlanUndo(ctx, client, runs[idx], runs[idx+1:], false)
		if err != nil {
			return nil, fmt.Errorf("planning the undo of run %s: %w", runs[idx].Run, err)
		}
		if len(u.Changes) > 0 {
			j, err := newJournal(deps, sess.TenantID)
			if err != nil {
				return nil, err
			}
			defer j.Close()
			if _, err := change.Undo(ctx, client, u, engineOptions(deps, sess, j, nil)); err != nil {
				return nil, fmt.Errorf("undoing run %s: %w", runs[idx].Run, err)
			}
		}
		return nil, nil
	})
	return cmd
}

// View renders the details.
func (d *Details) View(th *Theme, width int) string {
	var b strings.Builder
	s := d.state
	switch {
	case s == nil || s.Session == nil:
		b.WriteString("Not known yet: it is read once you are signed in.\n")
	case s.Management != nil:
		b.WriteString(viewStatus(th, s.Management, width))
	default:
		// Until the session is read, what preflight read.
		b.WriteString(viewReport(s, width))
		if d.readErr != nil {
			b.WriteString(th.Pal.MarkFail + " " + text.Hang(safe.Text(d.readErr.Error()), width-2, 2) + "\n")
		}
	}
	if d.reading {
		b.WriteString(th.Pal.Muted("Reading the session from the tenant…") + "\n")
	}
	if len(d.unfinished) > 0 {
		u := d.unfinished[len(d.unfinished)-1]
		b.WriteString("\n" + th.Pal.MarkWarn + " " + text.Hang(fmt.Sprintf("Run %s of this tenant did not finish (journal %s).", safe.Text(u.Run), safe.Text(u.Path)), width-2, 2) + "\n")
		b.WriteString("  " + text.Hang("Resume: the Create step's apply converges it (go on to Create and press a). Undo: u takes back what it changed.", width-2, 2) + "\n")
	}
	switch {
	case d.confirm == "off":
		q := "Turn the session off: disable the account and revoke its sign-in sessions?"
		if s.Management != nil && s.Management.AutoEnable {
			q = "Auto-enable is on: the platform expects the account to stay enabled. Turn the session off anyway?"
		}
		b.WriteString("\n" + th.Pal.Bold(text.Hang(q+" y/n", width, 0)) + "\n")
	case d.confirm == "undo":
		b.WriteString("\n" + th.Pal.Bold(text.Hang("Undo the unfinished run: take back everything it changed, exclusions first? y/n", width, 0)) + "\n")
	case d.writing == "off":
		b.WriteString("\nTurning the session off…\n")
	case d.writing == "undo":
		b.WriteString("\nUndoing the unfinished run…\n")
	case d.err != nil:
		b.WriteString("\n" + th.Pal.MarkFail + " " + text.Hang(safe.Text(d.err.Error()), width-2, 2) + "\n")
	case d.wrote != "":
		b.WriteString("\n" + th.Pal.MarkPass + " " + text.Hang(d.wrote, width-2, 2) + "\n")
	case d.canTurnOff():
		b.WriteString("\n" + text.Hang("o turns the session off (asks first).", width, 0) + "\n")
	}
	b.WriteString("\nPress m or Esc to close.\n")
	return b.String()
}

// viewStatus is the session as `mgmtsession status` shows it, in short.
func viewStatus(th *Theme, st *change.Status, width int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Management session: %s\n", strings.ToUpper(st.Session))
	if st.Account == nil {
		b.WriteString(text.Hang("No management account exists yet; the Create step makes one.", width, 0) + "\n")
		return b.String()
	}
	state := "disabled"
	if st.Account.AccountEnabled {
		state = "enabled"
	}
	b.WriteString(text.Hang(fmt.Sprintf("Account:     %s (%s)", safe.Text(st.Account.UserPrincipalName), state), width, 13) + "\n")
	b.WriteString(text.Hang("Roles:       "+safe.Text(strings.Join(st.Account.Roles, ", ")), width, 13) + "\n")
	b.WriteString(text.Hang("Allowed IPs: "+safe.Text(strings.Join(st.AllowedIPs, ", ")), width, 13) + "\n")
	if st.Policy != nil {
		b.WriteString(text.Hang("Policy:      "+safe.Text(st.Policy.DisplayName)+" ("+safe.Text(st.Policy.State)+")", width, 13) + "\n")
	} else {
		b.WriteString("Policy:      none\n")
	}
	auto := "off"
	if st.AutoEnable {
		auto = "on"
	}
	fmt.Fprintf(&b, "Auto-enable: %s\n", auto)
	fmt.Fprintf(&b, "Excluded from %s\n", text.Plural(len(st.ExcludedFrom), "tenant policy"))
	if len(st.Drift) == 0 {
		b.WriteString(th.Pal.MarkPass + " No drift: the tenant holds what the record says.\n")
	}
	for _, dr := range st.Drift {
		b.WriteString(th.Pal.MarkWarn + " " + text.Hang(safe.Text(dr.What)+" Fix: "+safe.Text(dr.Fix), width-2, 2) + "\n")
	}
	return b.String()
}

// viewReport is the session as preflight read it, shown until the session
// itself is read.
func viewReport(s *State, width int) string {
	var b strings.Builder
	r := s.Report
	if r == nil {
		return "Not known yet: preflight reads it once you are signed in.\n"
	}
	fmt.Fprintf(&b, "Management session: %s\n", r.Management)
	if len(r.Accounts) == 0 {
		b.WriteString(text.Hang("No management account exists yet; the Create step makes one.", width, 0) + "\n")
	}
	for _, a := range r.Accounts {
		state := "disabled"
		if a.Enabled {
			state = "enabled"
		}
		b.WriteString(text.Hang(fmt.Sprintf("Account %s (%s)", safe.Text(a.UPN), state), width, 2) + "\n")
		b.WriteString(text.Hang("  Roles: "+safe.Text(strings.Join(a.Roles, ", ")), width, 9) + "\n")
	}
	return b.String()
}
