// Package ui is the wizard's root Bubble Tea model: the header with the
// Management ON/OFF badge, the step list, the active step's content and the
// key help. It owns the layout, the shared steps.State and the theme, and
// forwards messages to the steps; it does no I/O itself. Accessible mode
// (accessible.go) drives the same steps as line-based prompts instead.
package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

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
	"mgmtsession/text"
)

// Config is what the wizard needs from the command line.
type Config struct {
	Auth       steps.Authenticator
	Cloud      string
	Accessible bool
	// Preflight reads and judges the tenant once signed in.
	Preflight func(context.Context, *graph.Client, graph.Session) (*preflight.Report, error)
	// Prefill is what --config and the flags (the same as apply's) gave,
	// for the steps to start from.
	Prefill steps.Prefill
	// JournalDir, VerifyPause and Probe are the write steps' (see
	// steps.Deps): the same journal and pauses as the commands.
	JournalDir  func(tenantID string) (string, error)
	VerifyPause time.Duration
	Probe       steps.Prober
}

// Model is the root model.
type Model struct {
	cfg         Config
	state       *steps.State
	theme       *steps.Theme
	styles      Styles
	keys        keyMap
	help        help.Model
	vp          viewport.Model
	width       int
	height      int
	steps       []steps.Step
	active      int
	showDetails bool
	details     *steps.Details
	confirmQuit bool
	statusLine  string
	aborted     bool
}

// Aborted reports whether the operator stopped the wizard with Ctrl+C.
func (m Model) Aborted() bool { return m.aborted }

const listWidth = 24

// New builds the wizard with its steps, once: a step keeps its own state for
// the whole run, and revisiting it shows that state.
func New(ctx context.Context, cfg Config) Model {
	m := Model{cfg: cfg, state: &steps.State{Config: cfg.Prefill}, keys: newKeyMap(), help: help.New(), width: 80, height: 24}
	m.setBackground(true)
	m.vp = viewport.New()
	m.vp.KeyMap = viewport.KeyMap{} // the root maps the scrolling keys itself
	deps := cfg.deps(ctx, cfg.Accessible)
	m.steps = newSteps(deps)
	m.details = steps.NewDetails(deps)
	m.layout()
	return m
}

// newSteps lists the procedure of SPEC section 4; the steps this build does
// not run yet say what they will do and which command does it meanwhile.
func newSteps(deps steps.Deps) []steps.Step {
	return []steps.Step{
		steps.NewSignIn(deps),
		steps.NewPreflight(deps),
		steps.NewWhatIf(deps),
		steps.NewAllowedIPs(deps),
		steps.NewMethod(deps),
		steps.NewCreate(deps),
		steps.NewTurnOn(deps),
		steps.NewAutoEnable(deps),
	}
}

// setBackground rebuilds the styles and the theme every step renders with.
func (m *Model) setBackground(dark bool) {
	m.styles = newStyles(dark, m.cfg.Accessible)
	m.theme = &steps.Theme{Pal: m.styles.pal, Accessible: m.cfg.Accessible}
}

func (m Model) Init() tea.Cmd {
	return tea.Batch(tea.RequestBackgroundColor, m.steps[0].Enter(m.state))
}

func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.BackgroundColorMsg:
		m.setBackground(msg.IsDark())
	case steps.Change:
		// The shared state changes before any step sees the message, and
		// the active step may now have what it needs to start.
		msg.Apply(m.state)
	case tea.KeyPressMsg:
		if cmd, handled := m.handleKey(msg); handled {
			m.layout()
			return m, cmd
		}
	}
	// Messages go to every step: a step's own messages find it even after
	// the operator has moved on, and the others ignore them. Keys go to
	// the active step only.
	for i, st := range m.steps {
		if _, isKey := msg.(tea.KeyPressMsg); isKey && i != m.active {
			continue
		}
		next, cmd := st.Update(msg)
		m.steps[i] = next
		cmds = append(cmds, cmd)
	}
	if _, isKey := msg.(tea.KeyPressMsg); !isKey {
		cmds = append(cmds, m.details.Update(msg, m.state, false))
	}
	if _, isChange := msg.(steps.Change); isChange {
		cmds = append(cmds, m.steps[m.active].Enter(m.state))
	}
	m.layout()
	return m, tea.Batch(cmds...)
}

// handleKey acts on the keys the root owns, in order of precedence: Ctrl+C
// always; the quit question while it is asked; everything else goes to a
// step with focus; then the open help or details view; then the root keys.
// It says whether the key was the root's.
func (m *Model) handleKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	m.statusLine = "" // a refusal or a hint answers one key press
	cur := m.steps[m.active]
	switch {
	case key.Matches(msg, m.keys.Abort):
		m.aborted = true
		return tea.Quit, true
	case m.confirmQuit:
		switch msg.String() {
		case "y", "Y":
			return tea.Quit, true
		case "n", "N", "esc":
			m.confirmQuit = false
		default:
			m.statusLine = m.quitQuestion()
		}
		return nil, true
	case cur.Focused():
		return nil, false
	case m.help.ShowAll && (key.Matches(msg, m.keys.Help) || key.Matches(msg, m.keys.Close)):
		m.help.ShowAll = false
		return nil, true
	case m.showDetails && (key.Matches(msg, m.keys.Badge) || key.Matches(msg, m.keys.Close)):
		m.showDetails = false
		m.vp.GotoTop()
		return nil, true
	case key.Matches(msg, m.keys.Quit):
		if cur.Busy() || m.details.Busy() {
			m.confirmQuit = true
			m.statusLine = m.quitQuestion()
			return nil, true
		}
		return tea.Quit, true
	case key.Matches(msg, m.keys.Help):
		m.help.ShowAll = true
		return nil, true
	case key.Matches(msg, m.keys.Badge):
		m.showDetails = true
		m.vp.GotoTop()
		return m.details.Open(m.state), true
	case m.scroll(msg):
		return nil, true
	case m.showDetails:
		// The details view takes no step keys, only its own.
		return m.details.Update(msg, m.state, true), true
	case key.Matches(msg, m.keys.Next):
		return m.move(+1), true
	case key.Matches(msg, m.keys.Back):
		return m.move(-1), true
	}
	return nil, false
}

func (m Model) quitQuestion() string {
	return m.steps[m.active].Title() + " is still working: stopping may leave it half done. Quit anyway? y/n"
}

// scroll moves the content on a scrolling key, and says whether it was one.
func (m *Model) scroll(msg tea.KeyPressMsg) bool {
	switch {
	case key.Matches(msg, m.keys.Up):
		m.vp.ScrollUp(1)
	case key.Matches(msg, m.keys.Down):
		m.vp.ScrollDown(1)
	case key.Matches(msg, m.keys.PageUp):
		m.vp.PageUp()
	case key.Matches(msg, m.keys.PageDown):
		m.vp.PageDown()
	case key.Matches(msg, m.keys.Top):
		m.vp.GotoTop()
	case key.Matches(msg, m.keys.Bottom):
		m.vp.GotoBottom()
	default:
		return false
	}
	return true
}

// move goes to the previous or next step. Forward needs the current step's
// consent (a failed step needs its retry or an explicit skip); entering the
// step starts its work only if it has not started yet.
func (m *Model) move(delta int) tea.Cmd {
	to := m.active + delta
	if to < 0 || to >= len(m.steps) {
		if delta > 0 {
			m.statusLine = "This is the last step."
		}
		return nil
	}
	if delta > 0 {
		if ok, why := m.steps[m.active].CanAdvance(); !ok {
			m.statusLine = why
			return nil
		}
	}
	m.active = to
	m.vp.GotoTop()
	return m.steps[to].Enter(m.state)
}

func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "mgmtsession"
	return v
}

// layout recomputes what depends on the size and the active step: the help
// keys and the viewport's size and content. It runs in Update, so that View
// only assembles and scrolling keeps its place.
func (m *Model) layout() {
	m.help.SetWidth(m.width)
	m.keys.extra = m.steps[m.active].Keys()
	if m.showDetails {
		m.keys.extra = m.details.Keys()
	}
	m.keys.first = m.active == 0
	m.keys.details = m.showDetails
	m.keys.focused = m.steps[m.active].Focused()
	if m.help.ShowAll {
		m.keys.Help.SetHelp("?", "close keys")
	} else {
		m.keys.Help.SetHelp("?", "keys")
	}
	var content string
	if m.showDetails {
		content = m.styles.Header.Render("Management session") + "\n\n" + m.details.View(m.theme, m.contentWidth())
	} else {
		title := m.styles.Header.Render(fmt.Sprintf("Step %d · %s", m.active, m.steps[m.active].Title()))
		content = title + "\n\n" + m.steps[m.active].View(m.theme, m.contentWidth())
	}
	content = lipgloss.NewStyle().Width(m.contentWidth()).Render(strings.TrimRight(content, "\n"))
	// The header, one status row (a hint, a refusal or where the content
	// continues) and the footer.
	chrome := lipgloss.Height(m.renderHeader()) + 1 + lipgloss.Height(m.renderFooter())
	m.vp.SetWidth(m.contentWidth())
	m.vp.SetHeight(max(3, m.height-chrome))
	m.vp.SetContent(content)
}

// renderFooter is the key help. When a step's keys leave no room, their
// descriptions shrink to a word before the root's keys go: q and ? must
// stay visible.
func (m Model) renderFooter() string {
	// Measured without a width limit: the help model cuts the line itself,
	// dropping the root's keys (q, ?) that come last.
	whole := m.help
	whole.SetWidth(0)
	view := m.help.View(m.keys)
	if !m.help.ShowAll && ansi.StringWidth(whole.View(m.keys)) > m.width {
		short := m.keys
		short.extra = nil
		for _, k := range m.keys.extra {
			word, _, _ := strings.Cut(k.Help().Desc, " ")
			short.extra = append(short.extra, key.NewBinding(key.WithKeys(k.Keys()...), key.WithHelp(k.Help().Key, word)))
		}
		view = ansi.Truncate(m.help.View(short), m.width, "…")
	}
	return m.styles.Footer.Render(view)
}

func (m Model) render() string {
	parts := []string{m.renderHeader()}
	if m.width >= 60 {
		list := lipgloss.NewStyle().Width(listWidth).Height(m.vp.Height()).Render(m.renderStepList())
		parts = append(parts, lipgloss.JoinHorizontal(lipgloss.Top, list, m.vp.View()))
	} else {
		parts = append(parts, m.vp.View())
	}
	parts = append(parts, m.renderStatusRow(), m.renderFooter())
	return lipgloss.JoinVertical(lipgloss.Left, parts...)
}

// renderStatusRow is the one-line answer to the last key, or else where the
// content continues when it does not fit.
func (m Model) renderStatusRow() string {
	if m.statusLine != "" {
		return m.styles.Status.Render(ansi.Truncate(m.statusLine, m.width, "…"))
	}
	total, shown := m.vp.TotalLineCount(), m.vp.VisibleLineCount()
	if notice := m.details.Notice(); notice != "" && !m.showDetails && (total <= shown || m.vp.AtTop()) {
		return m.styles.Status.Render(ansi.Truncate(notice, m.width, "…"))
	}
	if total <= shown {
		return ""
	}
	var where string
	switch {
	case m.vp.AtTop():
		where = "↓ " + text.Plural(total-shown, "more line") + " below: ↓/j, PgDn, End"
	case m.vp.AtBottom():
		where = "↑ the end; more above: ↑/k, PgUp, Home"
	default:
		where = fmt.Sprintf("↕ %d%%: ↑/↓, PgUp/PgDn, Home/End", int(m.vp.ScrollPercent()*100))
	}
	pad := max(0, m.width-ansi.StringWidth(where))
	return strings.Repeat(" ", pad) + m.styles.Footer.Render(ansi.Truncate(where, m.width, "…"))
}

// maxContentWidth keeps lines readable on a wide terminal.
const maxContentWidth = 110

func (m Model) contentWidth() int {
	if m.width >= 60 {
		return min(maxContentWidth, m.width-listWidth-1)
	}
	return m.width
}

// management is the badge's text: what preflight read, or that it has not
// read it yet.
func (m Model) management() string {
	// What the write steps and the details view read or wrote last is
	// newer than what preflight read.
	if st := m.state.Management; st != nil {
		if st.Session == "on" {
			return preflight.ManagementOn
		}
		return preflight.ManagementOff // off, or no session at all
	}
	switch {
	case m.state.Report == nil:
		return "not read yet"
	case m.state.Report.Management == preflight.ManagementUnknown || m.state.Report.Management == "":
		return "unknown"
	}
	return m.state.Report.Management
}

func (m Model) renderHeader() string {
	var parts []string
	switch sess := m.state.Session; {
	case sess == nil:
		parts = append(parts, "not signed in")
	default:
		tenant := sess.TenantID
		// A tenant whose organization could not be read keeps the id it
		// was signed in to, rather than "()".
		if r := m.state.Report; r != nil && (r.TenantName != "" || r.InitialDomain != "") {
			tenant = strings.TrimSpace(r.TenantName + " (" + r.InitialDomain + ")")
		}
		parts = append(parts, safe.Text(tenant))
		switch {
		case sess.AppOnly:
			parts = append(parts, "app-only sign-in")
		case sess.UPN != "":
			parts = append(parts, safe.Text(sess.UPN))
		}
	}
	parts = append(parts, "cloud: "+safe.Text(m.cfg.Cloud))
	badgeStyle := m.styles.BadgeOff
	if m.management() == preflight.ManagementOn {
		badgeStyle = m.styles.BadgeOn
	}
	badge := badgeStyle.Render("Management " + m.management())
	left := strings.Join(parts, " · ")
	room := max(10, m.width-lipgloss.Width(badge)-1)
	// The program's name comes only when it fits: the tenant and the
	// operator need the room more.
	if named := "mgmtsession · " + left; ansi.StringWidth(named) <= room {
		left = named
	}
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
		title := ansi.Truncate(fmt.Sprintf("%d %s", i, st.Title()), listWidth-3-m.styles.markWidth, "…")
		b.WriteString(pointer + stepMark(m.styles, st.Status()) + " " + style.Render(title) + "\n")
	}
	return b.String()
}

// stepMark is a step's mark, padded to the widest mark so that the titles
// line up whatever the palette's marks look like.
func stepMark(s Styles, st steps.Status) string {
	p := s.pal
	var mark string
	switch st {
	case steps.Done:
		mark = p.MarkPass
	case steps.Warning:
		mark = p.MarkWarn
	case steps.Failed:
		mark = p.MarkFail
	case steps.Running:
		mark = p.Info("…")
	case steps.Pending:
		mark = p.Info("•")
	default:
		mark = p.Muted("·")
	}
	return mark + strings.Repeat(" ", max(0, s.markWidth-ansi.StringWidth(mark)))
}
