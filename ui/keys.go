package ui

import "charm.land/bubbles/v2/key"

// keyMap holds the root's key bindings; it implements help.KeyMap. The root
// acts on them only when the active step has no input with focus.
type keyMap struct {
	Next, Back, Up, Down, PageUp, PageDown, Top, Bottom, Badge, Help, Close, Quit, Abort key.Binding
	extra                                                                                []key.Binding // the active step's own
	first                                                                                bool          // on step 0, where going back goes nowhere
	focused                                                                              bool          // the step's input has the keys: only its own and Ctrl+C act
	details                                                                              bool          // the badge's view is open: no step to move to from it
}

func newKeyMap() keyMap {
	return keyMap{
		Next:     key.NewBinding(key.WithKeys("n", "right", "enter"), key.WithHelp("n/→", "next")),
		Back:     key.NewBinding(key.WithKeys("b", "left"), key.WithHelp("b/←", "back")),
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/↓ j/k", "scroll")),
		Down:     key.NewBinding(key.WithKeys("down", "j")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("PgUp/PgDn", "page")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "space")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("Home/End", "top, bottom")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G")),
		Badge:    key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "management")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "keys")),
		Close:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close")),
		Quit:     key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Abort:    key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "abort")),
	}
}

func (k keyMap) ShortHelp() []key.Binding {
	out := append([]key.Binding{}, k.extra...)
	if k.focused {
		return append(out, k.Abort)
	}
	if k.details {
		return append(out, k.Close, k.Help, k.Quit)
	}
	out = append(out, k.Next)
	if !k.first {
		out = append(out, k.Back)
	}
	return append(out, k.Badge, k.Help, k.Quit)
}

func (k keyMap) FullHelp() [][]key.Binding {
	if k.focused {
		return [][]key.Binding{append(append([]key.Binding{}, k.extra...), k.Abort)}
	}
	var move []key.Binding
	if !k.details {
		move = append(move, k.Next)
		if !k.first {
			move = append(move, k.Back)
		}
	}
	return [][]key.Binding{
		append([]key.Binding{}, k.extra...),
		append(move, k.Up, k.PageUp, k.Top),
		{k.Badge, k.Close, k.Help, k.Quit, k.Abort},
	}
}
