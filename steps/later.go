package steps

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"mgmtsession/text"
)

// Later is a step of the procedure that this build lists and describes but
// does not run yet. It says what it will do instead of pretending.
type Later struct {
	title, what, meanwhile string
}

// NewLater lists a step that comes with the next build; meanwhile is the
// command that does its work today.
func NewLater(title, what, meanwhile string) *Later {
	return &Later{title: title, what: what, meanwhile: meanwhile}
}

func (l *Later) Title() string                  { return l.title }
func (l *Later) Status() Status                 { return Unavailable }
func (l *Later) Enter(*State) tea.Cmd           { return nil }
func (l *Later) Update(tea.Msg) (Step, tea.Cmd) { return l, nil }
func (l *Later) Keys() []key.Binding            { return nil }
func (l *Later) Focused() bool                  { return false }
func (l *Later) Busy() bool                     { return false }
func (l *Later) CanAdvance() (bool, string) {
	return false, l.title + " comes with the next build: this one ends here."
}
func (l *Later) View(th *Theme, width int) string {
	return text.Hang(l.what, width, 0) + "\n\n" + th.Pal.Muted(text.Hang("This step comes with the next build. Until then, "+l.meanwhile+" does it from the command line.", width, 0)) + "\n"
}
