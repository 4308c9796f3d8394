// Package steps holds one model per wizard step. Each depends on the
// smallest interface it needs, does its I/O in tea.Cmds that return
// messages, and renders only its own content; the root model in ui/ owns the
// layout.
package steps

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Status is where a step stands, shown in the step list.
type Status int

// Step states.
const (
	Unavailable Status = iota // not built yet, or blocked by an earlier step
	Pending                   // available, not started
	Running                   // working (a Graph call, a sign-in)
	Done                      // finished and verified
	Warning                   // finished, with warnings to read
	Failed                    // failed; retry is offered
)

// Step is one step of the wizard.
type Step interface {
	Title() string
	Status() Status
	// Init starts the step's work when it becomes active.
	Init() tea.Cmd
	Update(tea.Msg) (Step, tea.Cmd)
	// View renders the step's content for the given width.
	View(width int) string
	// Keys are the step's own key bindings, for the help footer.
	Keys() []key.Binding
}
