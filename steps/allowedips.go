package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/charmbracelet/x/ansi"

	"mgmtsession/change"
	"mgmtsession/iprange"
	"mgmtsession/safe"
	"mgmtsession/text"
)

// AllowedIPsMsg puts the ranges the operator confirmed, normalised, into the
// shared State.
type AllowedIPsMsg struct{ Prefixes []netip.Prefix }

// Apply records the ranges.
func (m AllowedIPsMsg) Apply(s *State) { s.AllowedIPs = m.Prefixes }

// PlannedMsg puts a plan, the desired state and the facts it was made from
// into the shared State. The Allowed IPs step makes it, and the method step
// makes it again when the method changes.
type PlannedMsg struct {
	Desired  change.Desired
	Facts    *change.Facts
	FactsUPN string
	Plan     *change.Plan
}

// Apply records the plan.
func (m PlannedMsg) Apply(s *State) {
	d := m.Desired
	s.Desired, s.Facts, s.FactsUPN, s.Plan = &d, m.Facts, m.FactsUPN, m.Plan
}

// resolveDesired makes the desired state from the configuration the wizard
// was started with and what the operator chose in the wizard: the ranges,
// the policy state and the method win over the file and the flags, as a
// flag wins over the file. Bad input is a *change.InputError naming it.
func resolveDesired(pre Prefill, ips []netip.Prefix, state change.PolicyState, m Method) (change.Desired, error) {
	o := pre.Overrides
	if len(ips) > 0 {
		o.AllowedIPs = []string{iprange.Format(ips)}
	}
	if state != "" {
		s := string(state)
		o.PolicyState = &s
	}
	if m.Mode != "" {
		mode := string(m.Mode)
		o.Mode = &mode
		if m.GlobalAdmin() {
			upn := m.UPN
			o.UPN = &upn
			// A Global Administrator keeps its own roles: roles from the
			// file or the flags are for a service account.
			o.Roles = nil
			pre.Config.Roles = change.Setting[[]change.RoleRef]{}
		} else if prefilledGlobalAdmin(pre) {
			// Switching from a prefilled Global Admin to a service
			// account: the admin's UPN is not the account's.
			o.UPN = nil
			pre.Config.UPN = change.Setting[string]{}
		}
	}
	return change.Resolve(pre.Config, o)
}

// prefilledGlobalAdmin says whether the file or the flags chose Global
// Admin mode.
func prefilledGlobalAdmin(pre Prefill) bool {
	if pre.Overrides.Mode != nil {
		return *pre.Overrides.Mode == string(change.GlobalAdmin)
	}
	return pre.Config.Mode.Value == change.GlobalAdmin
}

// placeholderRange stands in for the allowed ranges when the account is
// resolved before the operator has given them (the What If step): Resolve
// insists on ranges, and only the account is used.
const placeholderRange = "20.190.128.0/24"

// accountDesired is the desired state's account before the ranges are
// known, for reading the facts and the What If's subject.
func accountDesired(s *State) (change.Desired, error) {
	ips := s.AllowedIPs
	if len(ips) == 0 && len(s.Config.Config.AllowedIPs.Value) == 0 && s.Config.Overrides.AllowedIPs == nil {
		ips = []netip.Prefix{netip.MustParsePrefix(placeholderRange)}
	}
	return resolveDesired(s.Config, ips, "", s.Method)
}

// planner makes a plan as a Job: it reads the facts unless the State has
// them for the same account, then plans. The Allowed IPs and method steps
// share it.
type planner struct {
	job  *Job
	busy bool // from the start until its plan is in the State
	err  error
	runs int
	// pending is the plan made, on its way to the State.
	pending *change.Plan
}

// start plans for d; facts read earlier for the same account are reused.
func (p *planner) start(deps Deps, s *State, d change.Desired) tea.Cmd {
	p.err, p.busy = nil, true
	p.runs++
	client, sess := s.Client, *s.Session
	facts, factsUPN := s.Facts, s.FactsUPN
	if factsUPN != d.Account.UPN {
		facts = nil
	}
	var cmd tea.Cmd
	p.job, cmd = StartJob(deps.Ctx, func(ctx context.Context, _ func(any)) (any, error) {
		if facts == nil {
			f, err := change.ReadFacts(ctx, client, sess, d)
			if err != nil {
				return nil, fmt.Errorf("reading the tenant for the plan (nothing was written): %w", err)
			}
			facts = f
		}
		plan, err := change.MakePlan(d, facts)
		if err != nil {
			return nil, err
		}
		return PlannedMsg{Desired: d, Facts: facts, FactsUPN: d.Account.UPN, Plan: plan}, nil
	})
	return cmd
}

// update handles the planner's job messages; done reports the end of the
// job, and cmd is the PlannedMsg to apply on success.
func (p *planner) update(msg tea.Msg) (mine, done bool, cmd tea.Cmd) {
	if !p.job.Owns(msg) {
		return false, false, nil
	}
	d, ok := msg.(JobDoneMsg)
	if !ok {
		return true, false, p.job.Handle(msg)
	}
	if d.Err != nil {
		p.busy, p.err = false, d.Err
		return true, true, nil
	}
	// Planning ends when the shared State has the plan (planned).
	planned := d.Result.(PlannedMsg)
	p.pending = planned.Plan
	return true, true, func() tea.Msg { return planned }
}

// planned ends the planning when the plan it made reaches the State.
func (p *planner) planned(msg tea.Msg) {
	if m, ok := msg.(PlannedMsg); ok && p.busy && m.Plan == p.pending {
		p.busy, p.pending = false, nil
	}
}

func (p *planner) running() bool { return p.busy }

// viewError says why there is no plan: a guard's refusal as cause and fix,
// bad input naming the setting, or a read that failed.
func (p *planner) viewError(th *Theme, width int) string {
	var b strings.Builder
	var refused *change.RefusedError
	switch {
	case errors.As(p.err, &refused):
		b.WriteString(th.Pal.MarkFail + " " + text.Hang("Refused, nothing will be written: "+safe.Text(refused.Cause)+".", width-2, 2) + "\n")
		b.WriteString("  " + text.Hang("Fix: "+safe.Text(refused.Fix), width-2, 2) + "\n")
	case errors.Is(p.err, change.ErrInvalidInput):
		b.WriteString(th.Pal.MarkFail + " Refused, nothing will be written:\n")
		for _, l := range strings.Split(p.err.Error(), "\n") {
			b.WriteString("  " + text.Hang(safe.Text(l), width-2, 2) + "\n")
		}
		b.WriteString("  " + text.Hang("Fix: press e to change the answer; a setting from --config or a flag is corrected there, then the wizard started again.", width-2, 2) + "\n")
	default:
		b.WriteString(th.Pal.MarkFail + " " + text.Hang("No plan: "+safe.Text(p.err.Error()), width-2, 2) + "\n")
		b.WriteString("  Fix: press r to try again.\n")
	}
	return b.String()
}

// maxRangesFile bounds a file of ranges loaded with @FILE: 2000 ranges fit
// in far less.
const maxRangesFile = 1 << 20

// expandFiles replaces each line "@FILE" of the input by the file's text, so
// that a vendor's published list can be loaded as it is. A file that cannot
// be read is a problem naming it.
func expandFiles(input string) (string, []string) {
	var out []string
	var problems []string
	for _, line := range strings.Split(input, "\n") {
		t := strings.TrimSpace(line)
		if !strings.HasPrefix(t, "@") {
			out = append(out, line)
			continue
		}
		path := strings.TrimSpace(t[1:])
		data, err := readRangesFile(path)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%q: %v", path, err))
			continue
		}
		out = append(out, string(data))
	}
	return strings.Join(out, "\n"), problems
}

func readRangesFile(path string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("no file named after @")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %w", errors.Unwrap(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("is not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxRangesFile+1))
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %w", err)
	}
	if len(data) > maxRangesFile {
		return nil, fmt.Errorf("is larger than %d bytes: not a list of ranges", maxRangesFile)
	}
	return data, nil
}

// rangesCheck is the live validation of what the operator typed: the
// accepted ranges, normalised, with the notes, and every refused token.
type rangesCheck struct {
	result   iprange.Result
	problems []string
	empty    bool
}

func checkRanges(input string) rangesCheck {
	expanded, fileProblems := expandFiles(input)
	res, problems := iprange.Parse(expanded)
	c := rangesCheck{result: res, problems: fileProblems, empty: strings.TrimSpace(input) == ""}
	for _, p := range problems {
		c.problems = append(c.problems, p.Error())
	}
	if c.empty {
		c.problems = append(c.problems, "no range given: type or paste the platform's public egress ranges")
	}
	return c
}

func (c rangesCheck) err() error {
	if len(c.problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s refused: %s", text.Plural(len(c.problems), "entry"), c.problems[0])
}

// view shows the live validation: each refused token with its reason, then
// how the accepted ranges were normalised.
func (c rangesCheck) view(th *Theme, width int) string {
	var b strings.Builder
	if c.empty {
		return ""
	}
	for _, p := range c.problems {
		b.WriteString(th.Pal.MarkFail + " " + text.Hang(safe.Text(p), width-2, 2) + "\n")
	}
	if n := len(c.result.Prefixes); n > 0 {
		b.WriteString(fmt.Sprintf("%s: %s\n", text.Plural(n, "range")+" accepted", text.Fit(strings.Join(prefixStrings(c.result.Prefixes), ", "), max(10, width-20))))
	}
	for _, n := range c.result.Notes {
		b.WriteString(th.Pal.Muted("  note: "+text.Hang(safe.Text(n.String()), width-8, 8)) + "\n")
	}
	return b.String()
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// AllowedIPs is step 3: the platform's egress ranges, validated as they are
// typed; then the plan as a diff and the "after" picture.
type AllowedIPs struct {
	deps   Deps
	state  *State
	form   *huh.Form
	input  string // the text area's content, bound to the form
	policy change.PolicyState
	check  rangesCheck
	// confirmed is the check of the ranges last confirmed: Esc goes back
	// to it.
	confirmed rangesCheck
	// asking is the accessible mode's question: 0 none, 1 the ranges, 2
	// the policy state.
	asking  int
	editing bool
	plan    planner
	spin    spinner.Model
	edit    key.Binding
	retry   key.Binding
	width   int
	// planText is the plan in words, made once per plan and width: it
	// evaluates the "after" picture, too much for every frame.
	planText rendered
}

// NewAllowedIPs builds the step; it is prefilled from the configuration
// when it is first entered.
func NewAllowedIPs(deps Deps) *AllowedIPs {
	return &AllowedIPs{
		deps:  deps,
		spin:  spinner.New(spinner.WithSpinner(spinner.Dot)),
		edit:  key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit the ranges")),
		retry: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "plan again")),
	}
}

func (a *AllowedIPs) Title() string { return "Allowed IPs" }

func (a *AllowedIPs) Status() Status {
	switch {
	case a.plan.running():
		return Running
	case a.plan.err != nil:
		return Failed
	case a.planned() && len(a.state.Plan.Warnings) > 0:
		return Warning
	case a.planned():
		return Done
	case a.state == nil || a.state.Client == nil:
		return Unavailable
	}
	return Pending
}

// planned says whether the shared State has a plan for the ranges as they
// stand (the method step may have made it).
func (a *AllowedIPs) planned() bool {
	return a.state != nil && a.state.Plan != nil && !a.editing && a.plan.err == nil
}

func (a *AllowedIPs) Focused() bool { return a.editing }
func (a *AllowedIPs) Busy() bool    { return false }

func (a *AllowedIPs) Keys() []key.Binding {
	switch {
	case a.editing:
		return []key.Binding{
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next")),
			key.NewBinding(key.WithKeys("ctrl+j"), key.WithHelp("ctrl+j", "new line")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		}
	case a.plan.err != nil:
		return []key.Binding{a.edit, a.retry}
	case a.plan.running():
		return nil
	}
	return []key.Binding{a.edit}
}

func (a *AllowedIPs) CanAdvance() (bool, string) {
	switch {
	case a.editing:
		return false, "Finish the ranges first (Enter)."
	case a.plan.running():
		return false, "Wait for the plan."
	case a.plan.err != nil:
		return false, "There is no plan to go on with: see the reason above, press e to change the ranges or r to plan again."
	case !a.planned():
		return false, "Give the allowed ranges first."
	}
	return true, ""
}

// Enter prefills the ranges (what the operator confirmed before, or the
// configuration's) and asks for them; a revisit shows the plan.
func (a *AllowedIPs) Enter(s *State) tea.Cmd {
	a.state = s
	if a.policy == "" {
		a.policy = change.PolicyEnabled
		if d, err := resolveDesired(s.Config, []netip.Prefix{netip.MustParsePrefix(placeholderRange)}, "", Method{}); err == nil {
			a.policy = d.PolicyState
		}
	}
	if a.editing || a.plan.running() || a.planned() || a.plan.err != nil || s.Client == nil || s.Session == nil {
		return nil
	}
	return a.startEditing()
}

// prefill is the ranges the input starts with.
func (a *AllowedIPs) prefill() string {
	s := a.state
	switch {
	case len(s.AllowedIPs) > 0:
		return iprange.Format(s.AllowedIPs)
	case s.Config.Overrides.AllowedIPs != nil:
		return strings.Join(s.Config.Overrides.AllowedIPs, "\n")
	case len(s.Config.Config.AllowedIPs.Value) > 0:
		return iprange.Format(s.Config.Config.AllowedIPs.Value)
	}
	return ""
}

func (a *AllowedIPs) startEditing() tea.Cmd {
	a.editing = true
	a.input = a.prefill()
	a.check = checkRanges(a.input)
	if a.deps.Accessible {
		a.asking = 1
		return nil
	}
	a.form = huh.NewForm(huh.NewGroup(
		huh.NewText().Title("Allowed IP ranges").
			Description("One a line or comma-separated; @FILE loads a file.").
			Value(&a.input).Lines(3).ExternalEditor(false).CharLimit(0).
			Validate(func(s string) error { return checkRanges(s).err() }),
		huh.NewSelect[change.PolicyState]().Title("The account's policy (MFA outside the allowed IPs)").
			Options(
				huh.NewOption("enforced (recommended)", change.PolicyEnabled),
				huh.NewOption("report-only: a trial, MFA NOT enforced outside", change.PolicyReportOnly),
			).Value(&a.policy),
	)).WithShowHelp(false).WithTheme(huh.ThemeFunc(huh.ThemeBase16))
	if a.width > 0 {
		a.form.WithWidth(a.width)
	}
	return a.form.Init()
}

// submit takes the checked ranges into the State and plans.
func (a *AllowedIPs) submit() tea.Cmd {
	a.editing, a.asking, a.form = false, 0, nil
	a.confirmed = a.check
	prefixes := a.check.result.Prefixes
	d, err := resolveDesired(a.state.Config, prefixes, a.policy, a.state.Method)
	if err != nil {
		a.plan.err = err
		return func() tea.Msg { return AllowedIPsMsg{Prefixes: prefixes} }
	}
	a.plan.err = nil
	a.state.Plan = nil // the plan for the old ranges is no plan for these
	return tea.Batch(func() tea.Msg { return AllowedIPsMsg{Prefixes: prefixes} }, a.plan.start(a.deps, a.state, d), a.spin.Tick)
}

func (a *AllowedIPs) Update(msg tea.Msg) (Step, tea.Cmd) {
	if mine, _, cmd := a.plan.update(msg); mine {
		return a, cmd
	}
	a.plan.planned(msg)
	switch msg := msg.(type) {
	case spinner.TickMsg:
		if a.plan.running() && msg.ID == a.spin.ID() {
			var cmd tea.Cmd
			a.spin, cmd = a.spin.Update(msg)
			return a, cmd
		}
		return a, nil
	case LineMsg:
		if a.editing && a.deps.Accessible {
			return a, a.answer(msg.Text)
		}
		return a, nil
	case tea.KeyPressMsg:
		if a.editing && msg.String() == "esc" {
			// The way out of the input: what was typed is dropped, and
			// the plan made before, if any, stands.
			a.editing, a.form, a.asking = false, nil, 0
			a.check = a.confirmed
			return a, nil
		}
		if !a.editing {
			switch {
			case key.Matches(msg, a.edit) && !a.plan.running():
				a.plan.err = nil
				return a, a.startEditing()
			case key.Matches(msg, a.retry) && a.plan.err != nil:
				a.state.Facts = nil // read the tenant again: it may have changed
				return a, a.submit()
			}
			return a, nil
		}
	}
	if a.form == nil || !a.editing {
		return a, nil
	}
	m, cmd := a.form.Update(msg)
	a.form = m.(*huh.Form)
	a.check = checkRanges(a.input)
	if a.form.State == huh.StateCompleted {
		return a, a.submit()
	}
	return a, cmd
}

// answer takes one line in accessible mode: the ranges (an empty line keeps
// the ones shown), then the policy state.
func (a *AllowedIPs) answer(line string) tea.Cmd {
	switch a.asking {
	case 1:
		if strings.TrimSpace(line) != "" {
			a.input = line
		}
		a.check = checkRanges(a.input)
		if a.check.err() == nil {
			a.asking = 2
		}
	case 2:
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "":
		case "e", "enforced", "enabled":
			a.policy = change.PolicyEnabled
		case "r", "report-only", "reportonly":
			a.policy = change.PolicyReportOnly
		default:
			a.check.problems = []string{fmt.Sprintf("%q is not a policy state: answer enforced (e) or report-only (r)", line)}
			return nil
		}
		return a.submit()
	}
	return nil
}

const allowedIPsIntro = "The public IP ranges the platform signs in from (its egress ranges). Sign-ins from them need no MFA; from anywhere else the account is asked for MFA."

const allowedIPsShort = "The platform's public egress ranges: no MFA from them, MFA from anywhere else."

const reportOnlyConsequence = "Report-only is a trial: the policy only reports, so MFA is NOT enforced outside the allowed IPs, and once the account is excluded from the tenant's policies nothing asks it for MFA anywhere. Choose enforced (e) for the real thing."

func (a *AllowedIPs) View(th *Theme, width int) string {
	if a.form != nil && width != a.width {
		a.form.WithWidth(width)
	}
	a.width = width
	var b strings.Builder
	switch {
	case a.state == nil || a.state.Client == nil:
		b.WriteString(text.Hang(allowedIPsIntro, width, 0) + "\n\n" + th.Pal.Muted("It asks for them once you are signed in.") + "\n")
	case a.editing && a.deps.Accessible:
		b.WriteString(text.Hang(allowedIPsIntro, width, 0) + "\n\n")
		if v := a.check.view(th, width); v != "" {
			b.WriteString(v + "\n")
		}
		if a.asking == 1 {
			if strings.TrimSpace(a.input) != "" {
				b.WriteString(text.Hang("Now: "+safe.Text(strings.Join(strings.Fields(strings.ReplaceAll(a.input, ",", " ")), ", ")), width, 5) + "\n")
				b.WriteString("Type the allowed ranges on one line, separated by commas, or @FILE to load a file; an empty line keeps the ranges shown.\n")
			} else {
				b.WriteString("Type the allowed ranges on one line, separated by commas, or @FILE to load a file.\n")
			}
		} else {
			b.WriteString(text.Hang(reportOnlyConsequence, width, 0) + "\n")
			keep := "enforced"
			if a.policy == change.PolicyReportOnly {
				keep = "report-only"
			}
			b.WriteString("The account's policy: enforced (e, recommended) or report-only (r)? An empty line keeps " + keep + ".\n")
		}
	case a.editing:
		// The live check comes before the form, so that on a small
		// terminal it stays in sight while the ranges are typed (the
		// keys belong to the input, not to scrolling).
		b.WriteString(text.Hang(allowedIPsShort, width, 0) + "\n\n")
		if v := a.check.view(th, width); v != "" {
			b.WriteString(v + "\n")
		}
		b.WriteString(a.form.View() + "\n")
		if a.policy == change.PolicyReportOnly {
			b.WriteString("\n" + th.Pal.Warn(text.Hang(reportOnlyConsequence, width, 0)) + "\n")
		}
	case a.plan.running():
		fmt.Fprintf(&b, "%s Planning for %s… %s\n", th.Spinner(a.spin), text.Plural(len(a.check.result.Prefixes), "range"), seconds(a.plan.job.Elapsed()))
		b.WriteString(slowNote(a.plan.job, width))
	case a.plan.err != nil:
		b.WriteString(a.plan.viewError(th, width))
	case a.planned():
		b.WriteString(a.viewPlan(th, width))
	default:
		b.WriteString(text.Hang(allowedIPsIntro, width, 0) + "\n\n" + th.Pal.Muted("No ranges yet: press e to give them.") + "\n")
	}
	return b.String()
}

// viewPlan is the plan as the plan command prints it, with the policy state
// and its consequence first.
func (a *AllowedIPs) viewPlan(th *Theme, width int) string {
	var b strings.Builder
	p := a.state.Plan
	for _, n := range a.check.result.Notes {
		b.WriteString(th.Pal.Muted("note: "+text.Hang(safe.Text(n.String()), width-6, 6)) + "\n")
	}
	if len(a.check.result.Notes) > 0 {
		b.WriteString("\n")
	}
	if p.Desired().PolicyState == change.PolicyReportOnly {
		b.WriteString(th.Pal.Warn(text.Hang("The account's policy: report-only. "+reportOnlyConsequence, width, 0)) + "\n\n")
	} else {
		b.WriteString(text.Hang("The account's policy: enforced. It targets this account only, so it affects no one else.", width, 0) + "\n\n")
	}
	b.WriteString(a.planText.get(p, width, func() string {
		var plan strings.Builder
		change.WritePlan(&plan, p, width)
		return hangLines(plan.String(), width)
	}))
	b.WriteString("\n" + th.Pal.Muted(text.Hang("Nothing is written yet: the Create step makes these changes. Press e to change the ranges or the policy.", width, 0)) + "\n")
	return b.String()
}

// hangPrefix finds where a line of the plan's text starts its words: after
// a change's number and mark, after a label ("Tenant       "), after an
// exclusion's state, or after the indentation.
var hangPrefix = regexp.MustCompile(`^(\s+\d+ [-+~] |[A-Z][A-Za-z ]*?\s{2,}|\s+(to add|in place)\s+|\s*)`)

// hangLines wraps each line of the plan's text that is too long for the
// step's width under where its words start, so that a wrapped change
// stays visibly one change on a narrow terminal; the command line prints
// the same text at 80 columns.
func hangLines(s string, width int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if ansi.StringWidth(l) <= width {
			continue
		}
		lines[i] = text.Hang(l, width, len(hangPrefix.FindString(l)))
	}
	return strings.Join(lines, "\n")
}

// rendered keeps a text made from one value at one width, so that a view
// redrawn every frame (a spinner elsewhere, a resize) does not evaluate
// policies again.
type rendered struct {
	of    any
	width int
	text  string
}

func (r *rendered) get(of any, width int, make func() string) string {
	if r.of != of || r.width != width || r.text == "" {
		r.of, r.width, r.text = of, width, make()
	}
	return r.text
}
