package steps

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Later is a step of the procedure that this build lists but does not offer
// yet. It says so instead of pretending.
type Later struct {
	title, what string
}

// NewLater lists a step that is not available yet.
func NewLater(title, what string) *Later { return &Later{title: title, what: what} }

func (l *Later) Title() string                  { return l.title }
func (l *Later) Status() Status                 { return Unavailable }
func (l *Later) Init() tea.Cmd                  { return nil }
func (l *Later) Update(tea.Msg) (Step, tea.Cmd) { return l, nil }
func (l *Later) Keys() []key.Binding            { return nil }
func (l *Later) View(int) string {
	return l.what + "\n\nThis step is not available in this build yet."
}
