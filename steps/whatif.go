package steps

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"mgmtsession/ca"
	"mgmtsession/change"
	"mgmtsession/iprange"
	"mgmtsession/safe"
	"mgmtsession/text"
	"mgmtsession/whatif"
)

// WhatIfResult is the What If step's "before" picture: the matrix of the
// account's sign-ins (Graph's own verdicts beside the local ones when the
// account exists), and the sweep's headlines when the allowed ranges are
// known.
type WhatIfResult struct {
	Subject whatif.Subject
	Source  whatif.Source
	Outside netip.Addr
	Matrix  *whatif.Matrix
	// Sweep is nil until the allowed ranges are known.
	Sweep *whatif.Sweep
	// GraphNote says why Graph's What If is not beside the local one.
	GraphNote string
}

// WhatIfMsg puts the "before" picture into the shared State, with the facts
// read for it (nil when they were already there), so that the plan is made
// from them without reading the tenant again.
type WhatIfMsg struct {
	Result   *WhatIfResult
	Facts    *change.Facts
	FactsUPN string
}

// Apply records it.
func (m WhatIfMsg) Apply(s *State) {
	s.WhatIf = m.Result
	if m.Facts != nil {
		s.Facts, s.FactsUPN = m.Facts, m.FactsUPN
	}
}

// WhatIfStep is step 2: which policies would demand MFA of the management
// account, or block it, from an outside IP and (when known) from the
// allowed ranges, in the words of mgmtsession whatif.
type WhatIfStep struct {
	deps    Deps
	state   *State
	job     *Job
	busy    bool   // from the start until the job's last message is handled
	forUPN  string // the account evaluated ("" for the default service account)
	err     error
	result  *WhatIfResult
	runs    int
	outside netip.Addr // the operator's outside address; zero is the default
	// editing is the outside address being typed (a form, or in accessible
	// mode a question).
	editing   bool
	ipInput   string
	problem   string
	form      *huh.Form
	details   []rendered // each sign-in's table, made once per result and width
	spin      spinner.Model
	editIP    key.Binding
	readAgain key.Binding
	skip      key.Binding
	// skipped: the What If failed and the operator chose to go on without
	// it (the plan reads the tenant itself).
	skipped bool
}

// NewWhatIf builds the step; it evaluates on its first visit after the
// sign-in.
func NewWhatIf(deps Deps) *WhatIfStep {
	return &WhatIfStep{
		deps:      deps,
		spin:      spinner.New(spinner.WithSpinner(spinner.Dot)),
		editIP:    key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "another outside IP")),
		readAgain: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "read again")),
		skip:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "skip")),
	}
}

func (w *WhatIfStep) Title() string { return "What If check" }

func (w *WhatIfStep) Status() Status {
	switch {
	case w.busy:
		return Running
	case w.err != nil:
		return Failed
	case w.result != nil && w.result.Matrix.Disagreements() > 0:
		return Warning
	case w.result != nil:
		return Done
	case w.state == nil || w.state.Client == nil:
		return Unavailable
	}
	return Pending
}

func (w *WhatIfStep) Focused() bool { return w.editing }
func (w *WhatIfStep) Busy() bool    { return false }

func (w *WhatIfStep) Keys() []key.Binding {
	switch {
	case w.editing:
		return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "evaluate")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))}
	case w.busy || w.state == nil || w.state.Client == nil:
		return nil
	case w.err != nil && !w.skipped:
		return []key.Binding{w.readAgain, w.skip}
	case w.err != nil:
		return []key.Binding{w.readAgain}
	}
	return []key.Binding{w.editIP, w.readAgain}
}

// CanAdvance: the "before" picture informs the plan but decides nothing, so
// only a What If still running or failed holds the operator here.
func (w *WhatIfStep) CanAdvance() (bool, string) {
	switch {
	case w.editing:
		return false, "Finish the outside IP first (Enter), or Esc."
	case w.busy:
		return false, "Wait for the What If."
	case w.err != nil && !w.skipped:
		return false, "The What If could not run: press r to try again, or s to go on without it."
	case w.err != nil:
		return true, ""
	case w.result == nil:
		return false, "Sign in first."
	}
	return true, ""
}

// Enter evaluates on the first visit with a signed-in client; a revisit
// shows the result, evaluated again only when the allowed ranges changed
// since (the sweep needs them; no tenant read is repeated).
func (w *WhatIfStep) Enter(s *State) tea.Cmd {
	w.state = s
	if s.Client == nil || s.Session == nil || w.editing || w.busy || w.err != nil {
		return nil
	}
	if w.result == nil || w.staleSweep() || w.otherAccount() {
		return w.start()
	}
	return nil
}

// otherAccount says whether the method chosen since names another account
// (a Global Administrator instead of the service account, or back): the
// picture is then for that account.
func (w *WhatIfStep) otherAccount() bool {
	d, err := accountDesired(w.state)
	return err == nil && !strings.EqualFold(d.Account.UPN, w.forUPN)
}

// staleSweep says whether the allowed ranges were given since the sweep.
func (w *WhatIfStep) staleSweep() bool {
	allowed := w.allowed()
	if w.result.Sweep == nil {
		return len(allowed) > 0
	}
	return strings.Join(w.result.Sweep.Allowed, ",") != strings.Join(prefixStrings(allowed), ",")
}

// allowed is the allowed ranges when known: confirmed in the wizard, or from
// the configuration.
func (w *WhatIfStep) allowed() []netip.Prefix {
	s := w.state
	if len(s.AllowedIPs) > 0 {
		return s.AllowedIPs
	}
	if d, err := resolveDesired(s.Config, nil, "", s.Method); err == nil {
		return d.AllowedIPs
	}
	return nil
}

func (w *WhatIfStep) start() tea.Cmd {
	w.err, w.busy, w.skipped = nil, true, false
	w.runs++
	s := w.state
	client, sess := s.Client, *s.Session
	allowed := w.allowed()
	outside := w.outside
	d, err := accountDesired(s)
	if err != nil {
		w.err, w.busy = err, false // nothing runs: the step has failed already
		return nil
	}
	w.forUPN = d.Account.UPN
	facts := s.Facts
	if s.FactsUPN != d.Account.UPN {
		facts = nil
	}
	var cmd tea.Cmd
	w.job, cmd = StartJob(w.deps.Ctx, func(ctx context.Context, _ func(any)) (any, error) {
		read := facts == nil
		if read {
			f, err := change.ReadFacts(ctx, client, sess, d)
			if err != nil {
				return nil, fmt.Errorf("reading the tenant's policies for the What If: %w", err)
			}
			facts = f
		}
		res, err := evaluateBefore(ctx, client, d, facts, allowed, outside)
		if err != nil {
			return nil, err
		}
		msg := WhatIfMsg{Result: res}
		if read {
			msg.Facts, msg.FactsUPN = facts, d.Account.UPN
		}
		return msg, nil
	})
	return tea.Batch(cmd, w.spin.Tick)
}

// evaluateBefore is the "before" picture: the account as it is (or will be
// created, with its roles) over the tenant's policies as they are.
func evaluateBefore(ctx context.Context, g whatif.GraphWhatIf, d change.Desired, f *change.Facts, allowed []netip.Prefix, outside netip.Addr) (*WhatIfResult, error) {
	ps := whatif.NewPolicySet(f.Policies, f.Locations)
	subject := beforeSubject(d, f)
	if !outside.IsValid() {
		outside = change.OutsideAddress(allowed)
	}
	var locs []whatif.Location
	for _, p := range allowed {
		locs = append(locs, whatif.Location{Label: "from allowed " + p.String(), IP: inside(p)})
	}
	locs = append(locs, whatif.Location{Label: "from outside", IP: outside})
	res := &WhatIfResult{Subject: subject, Outside: outside, Source: whatif.Source{Mode: "live", TenantID: f.TenantID,
		Policies: len(f.Policies), NamedLocations: len(f.Locations)}}
	in := whatif.MatrixInput{Subject: subject, Locations: locs}
	var err error
	switch {
	case !subject.Exists():
		res.GraphNote = "Graph's What If needs an existing account: the account does not exist yet, so the local evaluator answers alone."
		res.Matrix, err = ps.Matrix(ctx, nil, in)
	default:
		res.Matrix, err = ps.Matrix(ctx, g, in)
		if err != nil && ctx.Err() == nil {
			res.GraphNote = "Graph's What If could not be had, so the local result is shown alone: " + err.Error()
			res.Matrix, err = ps.Matrix(ctx, nil, in)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("evaluating the What If: %w", err)
	}
	if res.GraphNote != "" {
		for _, c := range res.Matrix.Cases {
			// WriteText ends the note with its own full stop, and prints
			// it as it is: an error may carry tenant text.
			c.Graph = &whatif.Comparison{Note: safe.Text(strings.TrimSuffix(res.GraphNote, ".")), Disagreements: []whatif.Disagreement{}}
		}
	}
	if len(allowed) > 0 && !slicesContain(allowed, outside) {
		if sw, err := ps.Sweep(whatif.SweepInput{Subject: subject, Allowed: allowed, Outside: outside}); err == nil {
			res.Sweep = sw
		}
	}
	return res, nil
}

func slicesContain(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// inside is an address inside the range to sign in from: the first host
// after the network address when there is one.
func inside(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	if n := a.Next(); n.IsValid() && p.Contains(n) && p.Bits() < a.BitLen() {
		return n
	}
	return a
}

// beforeSubject is the account as the What If sees it before any change:
// the existing user with its groups and roles, or the account about to be
// created with the roles it will get.
func beforeSubject(d change.Desired, f *change.Facts) whatif.Subject {
	if a := f.Account; a != nil {
		s := whatif.Subject{ID: a.User.ID, UserPrincipalName: a.User.UserPrincipalName,
			Guest: strings.EqualFold(a.User.UserType, "Guest"), Groups: []string{}, Roles: []string{}}
		for _, g := range a.Memberships.Groups {
			s.Groups = append(s.Groups, g.ID)
		}
		for _, r := range a.Memberships.Roles {
			s.Roles = append(s.Roles, r.RoleTemplateID)
		}
		return s
	}
	roles := make([]string, 0, len(d.Account.Roles))
	for _, r := range d.Account.Roles {
		roles = append(roles, r.TemplateID)
	}
	return whatif.NewAccount(roles, nil)
}

func (w *WhatIfStep) Update(msg tea.Msg) (Step, tea.Cmd) {
	if w.job.Owns(msg) {
		done, ok := msg.(JobDoneMsg)
		if !ok {
			return w, w.job.Handle(msg)
		}
		if done.Err != nil {
			w.busy, w.err = false, done.Err
			return w, nil
		}
		// The step is done once the shared State has the result.
		msg := done.Result.(WhatIfMsg)
		return w, func() tea.Msg { return msg }
	}
	switch msg := msg.(type) {
	case WhatIfMsg:
		w.busy, w.result = false, msg.Result
		return w, nil
	case SignedInMsg:
		// Another tenant or operator: the picture is stale.
		if !w.busy {
			w.result, w.err = nil, nil
		}
		return w, nil
	case spinner.TickMsg:
		if w.busy && msg.ID == w.spin.ID() {
			var cmd tea.Cmd
			w.spin, cmd = w.spin.Update(msg)
			return w, cmd
		}
		return w, nil
	case LineMsg:
		if w.editing {
			return w, w.setOutside(msg.Text)
		}
		return w, nil
	case tea.KeyPressMsg:
		if !w.editing {
			switch {
			case key.Matches(msg, w.editIP) && w.result != nil && !w.busy:
				return w, w.startEditing()
			case key.Matches(msg, w.skip) && w.err != nil:
				w.skipped = true
				return w, nil
			case key.Matches(msg, w.readAgain) && !w.busy && w.state != nil && w.state.Client != nil:
				w.state.Facts = nil // the tenant may have changed: read it again
				return w, w.start()
			}
			return w, nil
		}
		if msg.String() == "esc" {
			w.editing, w.form, w.problem = false, nil, ""
			return w, nil
		}
	}
	if w.form == nil || !w.editing {
		return w, nil
	}
	f, cmd := w.form.Update(msg)
	w.form = f.(*huh.Form)
	if w.form.State == huh.StateCompleted {
		return w, w.setOutside(w.ipInput)
	}
	return w, cmd
}

func (w *WhatIfStep) startEditing() tea.Cmd {
	w.editing, w.problem = true, ""
	w.ipInput = w.result.Outside.String()
	if w.deps.Accessible {
		return nil
	}
	w.form = huh.NewForm(huh.NewGroup(huh.NewInput().Title("An outside IP address to evaluate").
		Description("A public IPv4 or IPv6 address outside the allowed ranges, for example the office's.").
		Value(&w.ipInput).Validate(func(s string) error { _, err := w.parseOutside(s); return err }),
	)).WithShowHelp(false).WithTheme(huh.ThemeFunc(huh.ThemeBase16))
	return w.form.Init()
}

// parseOutside checks an outside address: a public address, not in the
// allowed ranges.
func (w *WhatIfStep) parseOutside(s string) (netip.Addr, error) {
	a, err := whatif.ParseIP(strings.TrimSpace(s))
	if err != nil {
		return netip.Addr{}, err
	}
	if reason := iprange.Judge(netip.PrefixFrom(a, a.BitLen())); reason != "" {
		return netip.Addr{}, fmt.Errorf("%s cannot be an outside sign-in: %s", a, reason)
	}
	if slicesContain(w.allowed(), a) {
		return netip.Addr{}, fmt.Errorf("%s is inside the allowed ranges: give an address outside them", a)
	}
	return a, nil
}

// setOutside evaluates again from the address typed; a bad one is named
// and the question stays.
func (w *WhatIfStep) setOutside(s string) tea.Cmd {
	if strings.TrimSpace(s) == "" && w.deps.Accessible {
		w.editing, w.problem = false, ""
		return nil
	}
	a, err := w.parseOutside(s)
	if err != nil {
		w.problem = err.Error()
		if !w.deps.Accessible {
			// The form validated it already; this is a safety net.
			return w.startEditing()
		}
		return nil
	}
	w.editing, w.form, w.problem, w.outside = false, nil, "", a
	return w.start()
}

const whatIfIntro = "Which Conditional Access policies would demand MFA of the management account, or block it, when the platform signs in: the \"before\" picture, with the tenant's policies as they are now."

func (w *WhatIfStep) View(th *Theme, width int) string {
	var b strings.Builder
	switch {
	case w.state == nil || w.state.Client == nil:
		b.WriteString(text.Hang(whatIfIntro, width, 0) + "\n\n" + th.Pal.Muted("It runs once you are signed in.") + "\n")
		return b.String()
	case w.editing:
		if w.deps.Accessible {
			if w.problem != "" {
				b.WriteString(th.Pal.MarkFail + " " + text.Hang(safe.Text(w.problem), width-2, 2) + "\n")
			}
			fmt.Fprintf(&b, "An outside IP address to evaluate (now %s)? An empty line keeps it.\n", w.ipInput)
		} else {
			b.WriteString(w.form.View() + "\n")
		}
		return b.String()
	case w.busy:
		fmt.Fprintf(&b, "%s Evaluating every policy for the account's sign-ins… %s\n", th.Spinner(w.spin), seconds(w.job.Elapsed()))
		b.WriteString(slowNote(w.job, width))
		return b.String()
	case w.err != nil:
		fmt.Fprintf(&b, "%s The What If could not run\n\n", th.Pal.MarkFail)
		b.WriteString(text.Hang(safe.Text(w.err.Error()), width, 2) + "\n")
		b.WriteString("Fix: press r to try again.\n")
		if w.skipped {
			b.WriteString(th.Pal.Warn("Going on without the What If, as you chose (s): the plan reads the tenant itself.") + "\n")
		}
		return b.String()
	case w.result == nil:
		return text.Hang(whatIfIntro, width, 0) + "\n\n" + th.Pal.Muted("It runs when you come to this step.") + "\n"
	}
	r := w.result
	b.WriteString(text.Hang(whatIfIntro, width, 0) + "\n\n")
	for _, l := range text.Labelled("Account:  ", whatif.DescribeSubject(r.Subject), width) {
		b.WriteString(l + "\n")
	}
	b.WriteString("\n")
	for _, c := range r.Matrix.Cases {
		b.WriteString(caseLine(th, c, width) + "\n")
	}
	if r.Sweep != nil {
		b.WriteString("\n")
		for _, h := range r.Sweep.Headlines() {
			b.WriteString(text.Hang(safe.Text(h), width, 2) + "\n")
		}
	} else {
		b.WriteString("\n" + th.Pal.Muted(text.Hang("The allowed ranges are not known yet: the next step asks for them and shows the What If from them, after the planned changes.", width, 0)) + "\n")
	}
	switch {
	case r.GraphNote != "":
		b.WriteString("\n" + text.Hang(safe.Text(r.GraphNote), width, 0) + "\n")
	case r.Matrix.Disagreements() == 0:
		b.WriteString("\n" + th.Pal.MarkPass + " " + text.Hang(fmt.Sprintf("Graph's own What If agrees with the local evaluator (%s).", text.Plural(r.Matrix.GraphRequests, "request")), width-2, 2) + "\n")
	default:
		b.WriteString("\n" + th.Pal.MarkWarn + " " + text.Hang(fmt.Sprintf("Graph's own What If disagrees on %s: each is explained below.", text.Plural(r.Matrix.Disagreements(), "policy")), width-2, 2) + "\n")
	}
	if w.runs > 1 {
		b.WriteString(th.Pal.Muted(fmt.Sprintf("Evaluated %d times; this is the latest.", w.runs)) + "\n")
	}
	// The details, per sign-in, exactly as mgmtsession whatif prints them.
	for i, c := range r.Matrix.Cases {
		b.WriteString("\n" + th.Pal.Bold(fmt.Sprintf("%s (%s)", c.Case.Label, c.Case.IP)) + "\n")
		if len(w.details) != len(r.Matrix.Cases) {
			w.details = make([]rendered, len(r.Matrix.Cases))
		}
		b.WriteString(w.details[i].get(c, width, func() string {
			var det strings.Builder
			whatif.WriteText(&det, c, r.Subject, r.Source, width)
			return det.String()
		}))
	}
	return b.String()
}

// caseLine is one sign-in's verdict on a line: where from, and what the
// enforced policies demand.
func caseLine(th *Theme, c *whatif.CaseResult, width int) string {
	mark := th.Pal.MarkPass
	switch c.Verdict {
	case ca.VerdictMFA, ca.VerdictControls:
		mark = th.Pal.MarkWarn
	case ca.VerdictBlock:
		mark = th.Pal.MarkFail
	}
	head := whatif.VerdictHeadline[c.Verdict]
	if culprits := c.Culprits(); len(culprits) > 0 && c.Verdict != ca.VerdictAllow {
		var names []string
		for _, p := range culprits {
			names = append(names, safe.Text(p.DisplayName))
		}
		head += " by " + strings.Join(names, ", ")
	}
	return mark + " " + text.Hang(fmt.Sprintf("%s (%s): %s", c.Case.Label, c.Case.IP, head), width-2, 2)
}

// slowNote explains a read that takes long: a throttled tenant answers
// Conditional Access reads one a second, and a spinner alone would look
// like a hang.
func slowNote(j *Job, width int) string {
	if j == nil || j.Elapsed() < slowRead {
		return ""
	}
	return "\n" + text.Hang("The tenant is slow to answer: it is most likely throttling (Conditional Access allows one request a second per tenant, and a throttled read waits its turn). A wait of a few seconds is expected; nothing is wrong.", width, 0) + "\n"
}
