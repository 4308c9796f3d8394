// Package ui is the wizard's root Bubble Tea model: the header with the
// Management ON/OFF badge, the step list, the active step's content and the
// key help. It owns the layout and forwards messages to the active step; it
// does no I/O itself.
package ui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"mgmtsession/graph"
	"mgmtsession/preflight"
	"mgmtsession/safe"
	"mgmtsession/steps"
)

// Config is what the wizard needs from the command line.
type Config struct {
	Auth       steps.Authenticator
	Cloud      string
	Accessible bool
	// Preflight reads and judges the tenant once signed in.
	Preflight func(context.Context, *graph.Client, graph.Session) (*preflight.Report, error)
}

// Model is the root model.
type Model struct {
	ctx        context.Context
	cfg        Config
	styles     Styles
	keys       keyMap
	help       help.Model
	vp         viewport.Model
	width      int
	height     int
	steps      []steps.Step
	active     int
	session    *graph.Session
	report     *preflight.Report
	showBadge  bool
	statusLine string
	aborted    bool
}

// Aborted reports whether the operator stopped the wizard with Ctrl+C.
func (m Model) Aborted() bool { return m.aborted }

const listWidth = 24

// New builds the wizard with its steps; only Sign in starts available.
func New(ctx context.Context, cfg Config) Model {
	m := Model{ctx: ctx, cfg: cfg, keys: newKeyMap(), help: help.New(), width: 80, height: 24}
	m.styles = newStyles(true, cfg.Accessible)
	m.vp = viewport.New()
	m.vp.KeyMap.Left.SetEnabled(false) // ← and → move between steps
	m.vp.KeyMap.Right.SetEnabled(false)
	m.steps = []steps.Step{
		steps.NewSignIn(ctx, cfg.Auth, m.styles.pal),
		steps.NewLater("Preflight", "Read-only checks of the tenant."),
		steps.NewLater("What If check", "Which Conditional Access policies would demand MFA of the management account, or block it, from the allowed IPs and from elsewhere."),
		steps.NewLater("Allowed IPs", "The platform's egress ranges, and the named location and policy that keep MFA mandatory everywhere else."),
		steps.NewLater("Choose the method", "A management service account (recommended) or Global Admin credentials."),
		steps.NewLater("Create", "Create the account, assign its roles, apply the location, policy and exclusions, and verify each write."),
		steps.NewLater("Turn on", "Confirm the condition and turn the management session on."),
		steps.NewLater("Auto-enable", "Whether the session turns on by itself when operators act; the summary and report."),
	}
	m.layout()
	return m
}

func (m Model) Init() tea.Cmd {
	return tea.Batch(tea.RequestBackgroundColor, m.steps[0].Init())
}

func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.BackgroundColorMsg:
		m.styles = newStyles(msg.IsDark(), m.cfg.Accessible)
	case steps.SignedInMsg:
		sess := msg.Session
		m.session = &sess
		client, run := msg.Client, m.cfg.Preflight
		m.steps[1] = steps.NewPreflight(m.ctx, func(ctx context.Context) (*preflight.Report, error) {
			return run(ctx, client, sess)
		}, m.styles.pal)
		m.statusLine = "Signed in. Press n for the preflight checks."
	case steps.PreflightDoneMsg:
		m.report = msg.Report
		m.statusLine = ""
	case tea.KeyPressMsg:
		if cmd, handled := m.handleKey(msg); handled {
			m.layout()
			return m, cmd
		}
	}
	// Messages go to every step: a step's own messages find it even after
	// the operator has moved on, and the others ignore them.
	for i, st := range m.steps {
		if _, isKey := msg.(tea.KeyPressMsg); isKey && i != m.active {
			continue
		}
		next, cmd := st.Update(msg)
		m.steps[i] = next
		cmds = append(cmds, cmd)
	}
	m.layout()
	return m, tea.Batch(cmds...)
}

func (m *Model) handleKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	switch {
	case key.Matches(msg, m.keys.Quit):
		m.aborted = msg.String() == "ctrl+c"
		return tea.Quit, true
	case key.Matches(msg, m.keys.Help):
		m.help.ShowAll = !m.help.ShowAll
		return nil, true
	case key.Matches(msg, m.keys.Badge):
		m.showBadge = !m.showBadge
		return nil, true
	case key.Matches(msg, m.keys.Next):
		return m.move(+1), true
	case key.Matches(msg, m.keys.Back):
		return m.move(-1), true
	case key.Matches(msg, m.keys.Up), key.Matches(msg, m.keys.Down):
		var cmd tea.Cmd
		m.vp, cmd = m.vp.Update(msg)
		return cmd, true
	}
	return nil, false
}

// move goes to the previous or next step when it is available, starting it.
func (m *Model) move(delta int) tea.Cmd {
	to := m.active + delta
	if to < 0 || to >= len(m.steps) {
		return nil
	}
	cur := m.steps[m.active].Status()
	if delta > 0 && cur != steps.Done && cur != steps.Warning && cur != steps.Failed {
		m.statusLine = "Finish this step first."
		return nil
	}
	if m.steps[to].Status() == steps.Unavailable {
		m.statusLine = m.steps[to].Title() + " is not available in this build yet."
		return nil
	}
	m.active, m.statusLine, m.showBadge = to, "", false
	m.vp.GotoTop()
	return m.steps[to].Init()
}

func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = !m.cfg.Accessible
	v.WindowTitle = "mgmtsession"
	return v
}

// layout recomputes what depends on the size and the active step: the help
// keys and the viewport's size and content. It runs in Update, so that View
// only assembles and scrolling keeps its place.
func (m *Model) layout() {
	m.help.SetWidth(m.width)
	m.keys.extra = m.steps[m.active].Keys()
	content := m.steps[m.active].View(m.contentWidth())
	if m.showBadge {
		content = m.badgeDetails()
	}
	title := m.styles.Header.Render(fmt.Sprintf("Step %d · %s", m.active, m.steps[m.active].Title()))
	content = lipgloss.NewStyle().Width(m.contentWidth()).Render(title + "\n\n" + content)
	chrome := lipgloss.Height(m.renderHeader()) + lipgloss.Height(m.renderFooter()) + 1
	if m.statusLine != "" {
		chrome++
	}
	m.vp.SetWidth(m.contentWidth())
	m.vp.SetHeight(max(3, m.height-chrome))
	m.vp.SetContent(content)
}

func (m Model) renderFooter() string { return m.styles.Footer.Render(m.help.View(m.keys)) }

func (m Model) render() string {
	parts := []string{m.renderHeader()}
	if m.width >= 60 {
		list := lipgloss.NewStyle().Width(listWidth).Height(m.vp.Height()).Render(m.renderStepList())
		parts = append(parts, lipgloss.JoinHorizontal(lipgloss.Top, list, m.vp.View()))
	} else {
		parts = append(parts, m.vp.View())
	}
	if m.statusLine != "" {
		parts = append(parts, m.styles.Status.Render(ansi.Truncate(m.statusLine, m.width, "…")))
	}
	parts = append(parts, m.renderFooter())
	return lipgloss.JoinVertical(lipgloss.Left, parts...)
}

func (m Model) contentWidth() int {
	if m.width >= 60 {
		return m.width - listWidth - 1
	}
	return m.width
}

// management is the badge state: unknown until preflight has read it.
func (m Model) management() string {
	if m.report == nil {
		return "?"
	}
	return m.report.Management
}

func (m Model) renderHeader() string {
	tenant, operator := "not signed in", ""
	if m.session != nil {
		tenant = m.session.TenantID
		operator = m.session.UPN
	}
	// A tenant whose organization could not be read keeps the id it was
	// signed in to, rather than "()".
	if m.report != nil && (m.report.TenantName != "" || m.report.InitialDomain != "") {
		tenant = m.report.TenantName + " (" + m.report.InitialDomain + ")"
	}
	badgeStyle := m.styles.BadgeOff
	if m.management() == "ON" {
		badgeStyle = m.styles.BadgeOn
	}
	badge := badgeStyle.Render("Management " + m.management())
	left := fmt.Sprintf("mgmtsession · %s · %s · cloud: %s", safe.Text(tenant), safe.Text(operator), safe.Text(m.cfg.Cloud))
	room := max(10, m.width-lipgloss.Width(badge)-1)
	left = ansi.Truncate(left, room, "…")
	gap := strings.Repeat(" ", max(1, m.width-lipgloss.Width(left)-lipgloss.Width(badge)))
	return m.styles.Header.Render(left) + gap + badge + "\n" + strings.Repeat("─", max(0, m.width))
}

func (m Model) renderStepList() string {
	var b strings.Builder
	for i, st := range m.steps {
		pointer, style := " ", m.styles.StepIdle
		switch {
		case i == m.active:
			pointer, style = "›", m.styles.StepActive
		case st.Status() == steps.Unavailable:
			style = m.styles.StepMuted
		}
		title := ansi.Truncate(fmt.Sprintf("%d %s", i, st.Title()), listWidth-5, "…")
		b.WriteString(pointer + stepMark(m.styles, st.Status()) + " " + style.Render(title) + "\n")
	}
	return b.String()
}

func stepMark(s Styles, st steps.Status) string {
	p := s.pal
	switch st {
	case steps.Done:
		return p.MarkPass
	case steps.Warning:
		return p.MarkWarn
	case steps.Failed:
		return p.MarkFail
	case steps.Running:
		return p.Info("…")
	case steps.Pending:
		return p.Info("•")
	}
	return p.Muted("·")
}

// badgeDetails is what the Management badge opens.
func (m Model) badgeDetails() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Management session: %s\n\n", m.management())
	if m.report == nil {
		b.WriteString("Not known yet: it is read during preflight.\n")
		return b.String()
	}
	if len(m.report.Accounts) == 0 {
		b.WriteString("No management account exists yet; the Create step makes one.\n")
	}
	for _, a := range m.report.Accounts {
		state := "disabled"
		if a.Enabled {
			state = "enabled"
		}
		fmt.Fprintf(&b, "Account %s (%s)\n  Roles: %s\n", safe.Text(a.UPN), state, safe.Text(strings.Join(a.Roles, ", ")))
	}
	b.WriteString("\nTurning the session off comes with the Turn on step in a later build.\nPress m to close.\n")
	return b.String()
}
