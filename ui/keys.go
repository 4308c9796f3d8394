package ui

import "charm.land/bubbles/v2/key"

// keyMap holds the root's key bindings; it implements help.KeyMap.
type keyMap struct {
	Next, Back, Up, Down, Badge, Help, Quit key.Binding
	extra                                   []key.Binding // the active step's own
}

func newKeyMap() keyMap {
	return keyMap{
		Next:  key.NewBinding(key.WithKeys("n", "right", "enter"), key.WithHelp("n/→", "next step")),
		Back:  key.NewBinding(key.WithKeys("b", "left"), key.WithHelp("b/←", "previous step")),
		Up:    key.NewBinding(key.WithKeys("up", "k", "pgup"), key.WithHelp("↑/↓", "scroll")),
		Down:  key.NewBinding(key.WithKeys("down", "j", "pgdown")),
		Badge: key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "management details")),
		Help:  key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more keys")),
		Quit:  key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

func (k keyMap) ShortHelp() []key.Binding {
	return append(append([]key.Binding{}, k.extra...), k.Next, k.Back, k.Badge, k.Quit)
}

func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{append([]key.Binding{}, k.extra...), {k.Next, k.Back, k.Up}, {k.Badge, k.Help, k.Quit}}
}
