// Package steps holds one model per wizard step. Each depends on the
// smallest interface it needs, does its I/O in tea.Cmds that return
// messages, and renders only its own content; the root model in ui/ owns the
// layout.
package steps

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

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

// Palette is the small set of styles steps use, passed in by the root so
// that colour, light/dark and accessible mode are decided in one place.
type Palette struct {
	Pass, Warn, Fail, Info, Muted, Bold, Code func(...string) string
	// Marks are the status symbols (plain words in accessible mode).
	MarkPass, MarkWarn, MarkFail, MarkInfo string
}

// PlainPalette renders without colour and with words for marks: the
// accessible mode and plain-text output.
func PlainPalette() Palette {
	id := func(s ...string) string { return strings.Join(s, " ") }
	return Palette{Pass: id, Warn: id, Fail: id, Info: id, Muted: id, Bold: id, Code: id,
		MarkPass: "[PASS]", MarkWarn: "[WARN]", MarkFail: "[FAIL]", MarkInfo: "[INFO]"}
}

// Hang wraps text to width and indents every line after the first by indent
// columns, so that a wrapped item stays visibly one item. A width of 0 leaves
// the text unwrapped (plain output to a pipe).
func Hang(text string, width, indent int) string {
	if width <= indent+20 {
		return text
	}
	lines := strings.Split(ansi.Wrap(text, width-indent, ""), "\n")
	pad := strings.Repeat(" ", indent)
	for i := 1; i < len(lines); i++ {
		lines[i] = pad + lines[i]
	}
	return strings.Join(lines, "\n")
}

// Plural says "1 warning", "2 warnings".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
