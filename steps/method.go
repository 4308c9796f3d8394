package steps

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"mgmtsession/change"
	"mgmtsession/ident"
	"mgmtsession/safe"
	"mgmtsession/text"
)

// MethodMsg puts the chosen method into the shared State.
type MethodMsg struct{ Method Method }

// Apply records the method.
func (m MethodMsg) Apply(s *State) { s.Method = m.Method }

// The trade-offs of each method, two lines each, the same in both modes.
const (
	serviceAccountTradeOffs = "+ A dedicated account with only the least-privilege roles; its password is generated and shown once.\n" +
		"- One more account in the tenant to look after."
	globalAdminTradeOffs = "+ Nothing is created: an existing Global Administrator gets the same allowed-IP protection.\n" +
		"- The platform holds a password with every power in the tenant, used without MFA from the allowed IPs."
)

// MethodStep is step 4: a service account (recommended) or an existing
// Global Administrator's credentials, with the plan made again for the
// choice.
type MethodStep struct {
	deps     Deps
	state    *State
	form     *huh.Form
	mode     change.AccountMode
	upn      string
	password string // bound to the masked input; moved into a Secret on submit
	asking   int    // accessible mode: 0 none, 1 the method, 2 the UPN, 3 the password
	problem  string // accessible mode: why the last answer was refused
	editing  bool
	plan     planner
	spin     spinner.Model
	change   key.Binding
	retry    key.Binding
	width    int
	after    rendered // the "after" picture of the plan, made once per plan and width
	pending  Method   // the method being planned, for the State once its plan is made
}

// NewMethod builds the step.
func NewMethod(deps Deps) *MethodStep {
	return &MethodStep{
		deps:   deps,
		spin:   spinner.New(spinner.WithSpinner(spinner.Dot)),
		change: key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "change the method")),
		retry:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "plan again")),
	}
}

func (m *MethodStep) Title() string { return "Choose the method" }

func (m *MethodStep) Status() Status {
	switch {
	case m.plan.running():
		return Running
	case m.plan.err != nil:
		return Failed
	case m.chosen() && len(m.state.Plan.Warnings) > 0:
		return Warning
	case m.chosen():
		return Done
	case m.state == nil || m.state.Plan == nil:
		return Unavailable
	}
	return Pending
}

// chosen says whether a method was confirmed and the State's plan is for it.
func (m *MethodStep) chosen() bool {
	if m.state == nil || m.state.Plan == nil || m.editing || m.plan.err != nil || m.mode == "" {
		return false
	}
	return m.state.Plan.Desired().Account.Mode == m.mode
}

func (m *MethodStep) Focused() bool { return m.editing }
func (m *MethodStep) Busy() bool    { return false }

// SecretInput: the password question must be neither echoed nor printed.
func (m *MethodStep) SecretInput() bool { return m.editing && m.asking == 3 }

func (m *MethodStep) Keys() []key.Binding {
	switch {
	case m.editing:
		return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))}
	case m.plan.err != nil:
		return []key.Binding{m.change, m.retry}
	case m.plan.running():
		return nil
	}
	return []key.Binding{m.change}
}

func (m *MethodStep) CanAdvance() (bool, string) {
	switch {
	case m.editing:
		return false, "Choose the method first (Enter)."
	case m.plan.running():
		return false, "Wait for the plan."
	case m.plan.err != nil:
		return false, "This method cannot be used as it stands: see the reason above, press e to change it."
	case !m.chosen():
		return false, "Choose the method first."
	}
	return true, ""
}

// Enter asks for the method on the first visit, prefilled from the
// configuration; a revisit shows the choice and its plan.
func (m *MethodStep) Enter(s *State) tea.Cmd {
	m.state = s
	if m.editing || m.plan.running() || m.chosen() || m.plan.err != nil || s.Plan == nil {
		return nil
	}
	return m.startEditing()
}

func (m *MethodStep) startEditing() tea.Cmd {
	s := m.state
	m.editing, m.problem, m.password = true, "", ""
	m.mode, m.upn = s.Method.Mode, s.Method.UPN
	if m.mode == "" {
		m.mode = change.ServiceAccount
		if prefilledGlobalAdmin(s.Config) {
			m.mode = change.GlobalAdmin
			m.upn = s.Config.Config.UPN.Value
			if s.Config.Overrides.UPN != nil {
				m.upn = *s.Config.Overrides.UPN
			}
		}
	}
	if m.deps.Accessible {
		m.asking = 1
		return nil
	}
	notGA := func() bool { return m.mode != change.GlobalAdmin }
	m.form = huh.NewForm(
		huh.NewGroup(huh.NewSelect[change.AccountMode]().Title("How the platform signs in").
			Options(
				huh.NewOption("Service account (recommended)", change.ServiceAccount),
				huh.NewOption("Global Admin credentials", change.GlobalAdmin),
			).Value(&m.mode)),
		huh.NewGroup(
			huh.NewInput().Title("The Global Administrator's user principal name").Value(&m.upn).
				Validate(func(s string) error { return ident.CheckUPN(strings.TrimSpace(s)) }),
			huh.NewInput().Title("Its password (held in memory only, never shown or written)").
				EchoMode(huh.EchoModePassword).Value(&m.password).
				Validate(func(s string) error {
					if s == "" {
						return fmt.Errorf("the password is empty")
					}
					return nil
				}),
		).WithHideFunc(notGA),
	).WithShowHelp(false).WithTheme(huh.ThemeFunc(huh.ThemeBase16))
	if m.width > 0 {
		m.form.WithWidth(m.width)
	}
	return m.form.Init()
}

// submit records the method and plans again when it changes what is
// planned: the account, and so the facts and the guards.
func (m *MethodStep) submit() tea.Cmd {
	m.editing, m.asking, m.form = false, 0, nil
	meth := Method{Mode: m.mode}
	if m.mode == change.GlobalAdmin {
		meth.UPN = strings.TrimSpace(m.upn)
		meth.Password = change.NewSecret(m.password)
	}
	m.password = "" // the Secret holds it now, and only it
	setMethod := func() tea.Msg { return MethodMsg{Method: meth} }
	policy := change.PolicyState("")
	if m.state.Desired != nil {
		policy = m.state.Desired.PolicyState
	}
	// A method refused (bad input, or by the engine's guards) never
	// reaches the State: the steps around keep planning with the last
	// good one.
	d, err := resolveDesired(m.state.Config, m.state.AllowedIPs, policy, meth)
	if err != nil {
		m.plan.err = err
		return nil
	}
	m.plan.err = nil
	if p := m.state.Plan; p != nil && p.Desired().Account.Mode == d.Account.Mode && strings.EqualFold(p.Desired().Account.UPN, d.Account.UPN) {
		return setMethod // the plan is already the plan for this method
	}
	m.pending = meth
	return tea.Batch(m.plan.start(m.deps, m.state, d), m.spin.Tick)
}

func (m *MethodStep) Update(msg tea.Msg) (Step, tea.Cmd) {
	if mine, done, cmd := m.plan.update(msg); mine {
		if done && m.plan.err == nil {
			meth := m.pending
			cmd = tea.Batch(cmd, func() tea.Msg { return MethodMsg{Method: meth} })
		}
		if done {
			m.pending = Method{}
		}
		return m, cmd
	}
	m.plan.planned(msg)
	switch msg := msg.(type) {
	case spinner.TickMsg:
		if m.plan.running() && msg.ID == m.spin.ID() {
			var cmd tea.Cmd
			m.spin, cmd = m.spin.Update(msg)
			return m, cmd
		}
		return m, nil
	case LineMsg:
		if m.editing && m.deps.Accessible {
			return m, m.answer(msg.Text)
		}
		return m, nil
	case tea.KeyPressMsg:
		if m.editing && msg.String() == "esc" {
			// The way out of the form: the method chosen before stands.
			m.editing, m.form, m.asking, m.password = false, nil, 0, ""
			m.mode = m.state.Method.Mode
			return m, nil
		}
		if !m.editing {
			switch {
			case key.Matches(msg, m.change) && !m.plan.running():
				m.plan.err = nil
				return m, m.startEditing()
			case key.Matches(msg, m.retry) && m.plan.err != nil:
				m.state.Facts = nil
				m.state.Plan = nil
				return m, m.submit()
			}
			return m, nil
		}
	}
	if m.form == nil || !m.editing {
		return m, nil
	}
	f, cmd := m.form.Update(msg)
	m.form = f.(*huh.Form)
	if m.form.State == huh.StateCompleted {
		return m, m.submit()
	}
	return m, cmd
}

// answer takes one line in accessible mode.
func (m *MethodStep) answer(line string) tea.Cmd {
	line = strings.TrimSpace(line)
	m.problem = ""
	switch m.asking {
	case 1:
		switch strings.ToLower(line) {
		case "":
		case "s", "service", "service account", "serviceaccount":
			m.mode = change.ServiceAccount
		case "g", "ga", "global admin", "globaladmin":
			m.mode = change.GlobalAdmin
		default:
			m.problem = fmt.Sprintf("%q is not a method: answer s (service account) or g (Global Admin)", line)
			return nil
		}
		if m.mode == change.ServiceAccount {
			return m.submit()
		}
		m.asking = 2
	case 2:
		if line == "" && m.upn != "" {
			line = m.upn
		}
		if err := ident.CheckUPN(line); err != nil {
			m.problem = "the user principal name is refused: " + err.Error()
			return nil
		}
		m.upn, m.asking = line, 3
	case 3:
		if line == "" {
			m.problem = "the password is empty"
			return nil
		}
		m.password = line
		return m.submit()
	}
	return nil
}

func (m *MethodStep) View(th *Theme, width int) string {
	if m.form != nil && width != m.width {
		m.form.WithWidth(width)
	}
	m.width = width
	var b strings.Builder
	switch {
	case m.state == nil || m.state.Plan == nil && !m.editing && m.plan.err == nil && !m.plan.running():
		b.WriteString("Service account (recommended):\n" + tradeOffs(serviceAccountTradeOffs, width) + "\n")
		b.WriteString("Global Admin credentials:\n" + tradeOffs(globalAdminTradeOffs, width) + "\n\n")
		b.WriteString(th.Pal.Muted("The allowed IPs come first: the method is planned with them.") + "\n")
	case m.editing && m.deps.Accessible:
		b.WriteString("Service account (recommended):\n" + tradeOffs(serviceAccountTradeOffs, width) + "\n")
		b.WriteString("Global Admin credentials:\n" + tradeOffs(globalAdminTradeOffs, width) + "\n\n")
		if m.problem != "" {
			b.WriteString(th.Pal.MarkFail + " " + text.Hang(safe.Text(m.problem), width-2, 2) + "\n")
		}
		switch m.asking {
		case 1:
			fmt.Fprintf(&b, "The method: s (service account) or g (Global Admin)? An empty line keeps %s.\n", methodName(m.mode))
		case 2:
			if m.upn != "" {
				fmt.Fprintf(&b, "The Global Administrator's user principal name? An empty line keeps %s.\n", safe.Text(m.upn))
			} else {
				b.WriteString("The Global Administrator's user principal name?\n")
			}
		case 3:
			b.WriteString("Its password (held in memory only, never shown or written)?\n")
		}
	case m.editing:
		b.WriteString(m.form.View() + "\n\n")
		b.WriteString("Service account (recommended):\n" + tradeOffs(serviceAccountTradeOffs, width) + "\n")
		b.WriteString("Global Admin credentials:\n" + tradeOffs(globalAdminTradeOffs, width) + "\n")
	case m.plan.running():
		fmt.Fprintf(&b, "%s Planning for %s… %s\n", th.Spinner(m.spin), methodName(m.mode), seconds(m.plan.job.Elapsed()))
		b.WriteString(slowNote(m.plan.job, width))
	case m.plan.err != nil:
		fmt.Fprintf(&b, "Method: %s", methodName(m.mode))
		if m.mode == change.GlobalAdmin {
			fmt.Fprintf(&b, " (%s)", safe.Text(m.upn))
		}
		b.WriteString("\n\n" + m.plan.viewError(th, width))
	case m.chosen():
		b.WriteString(m.viewChosen(th, width))
	default:
		b.WriteString("Service account (recommended):\n" + tradeOffs(serviceAccountTradeOffs, width) + "\n")
		b.WriteString("Global Admin credentials:\n" + tradeOffs(globalAdminTradeOffs, width) + "\n\n")
		b.WriteString(th.Pal.Muted("No method chosen yet: press e to choose.") + "\n")
	}
	return b.String()
}

// viewChosen is the choice, its trade-offs, and what the plan now says for
// the account: the "after" picture and the warnings.
func (m *MethodStep) viewChosen(th *Theme, width int) string {
	var b strings.Builder
	p := m.state.Plan
	fmt.Fprintf(&b, "%s Method: %s\n", th.Pal.MarkPass, methodName(m.mode))
	trade := serviceAccountTradeOffs
	if m.mode == change.GlobalAdmin {
		trade = globalAdminTradeOffs
		b.WriteString(text.Hang("Global Administrator: "+safe.Text(p.UPN)+"; its role, break-glass status and MFA methods were checked.", width, 2) + "\n")
		b.WriteString("Password: held in memory only.\n")
	} else {
		b.WriteString(text.Hang("Account to create: "+safe.Text(p.UPN), width, 2) + "\n")
	}
	b.WriteString(tradeOffs(trade, width) + "\n\n")
	fmt.Fprintf(&b, "%s, then the \"after\" picture:\n", text.Plural(len(p.Changes), "change"))
	b.WriteString(m.after.get(p, width, func() string {
		var after strings.Builder
		for _, v := range p.WhatIfAfter() {
			after.WriteString(hangLines(change.VerdictLine(v), width) + "\n")
		}
		return after.String()
	}))
	for _, w := range p.Warnings {
		b.WriteString("\n" + th.Pal.MarkWarn + " " + text.Hang(safe.Text(w), width-2, 2) + "\n")
	}
	b.WriteString("\n" + th.Pal.Muted(text.Hang("Nothing is written yet. Press e to change the method; the Allowed IPs step shows the whole plan.", width, 0)) + "\n")
	return b.String()
}

func methodName(m change.AccountMode) string {
	if m == change.GlobalAdmin {
		return "Global Admin credentials"
	}
	return "service account (recommended)"
}

// tradeOffs indents the two lines of trade-offs and wraps each to width.
func tradeOffs(s string, width int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		lines = append(lines, "  "+text.Hang(l, width-2, 4))
	}
	return strings.Join(lines, "\n")
}
