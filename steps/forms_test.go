package steps_test

import (
	"reflect"
	"time"

	tea "charm.land/bubbletea/v2"
)

// sequence unpacks tea.Sequence's message (its type is unexported), which
// huh's forms return from Init, so that the test drivers run its commands
// as Bubble Tea does.
func sequence(msg tea.Msg) ([]tea.Cmd, bool) {
	v := reflect.ValueOf(msg)
	if v.Kind() != reflect.Slice || v.Type().Elem() != reflect.TypeOf(tea.Cmd(nil)) {
		return nil, false
	}
	cmds := make([]tea.Cmd, v.Len())
	for i := range cmds {
		cmds[i] = v.Index(i).Interface().(tea.Cmd)
	}
	return cmds, true
}

// drain feeds back what the commands sent so far, until nothing comes for a
// moment: a form moves from field to field through its own commands.
func drain(d *driver) {
	for {
		select {
		case msg := <-d.msgs:
			d.send(msg)
		case <-time.After(100 * time.Millisecond):
			return
		}
	}
}
