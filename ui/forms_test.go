package ui

import (
	"reflect"

	tea "charm.land/bubbletea/v2"
)

// sequence unpacks tea.Sequence's message (its type is unexported), which
// huh's forms return from Init, so that the driver runs its commands as
// Bubble Tea does.
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
