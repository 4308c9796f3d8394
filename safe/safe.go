// Package safe makes text from the tenant (display names, policy names, UPNs)
// harmless on a terminal: no escape sequence in tenant data can move the
// cursor, retitle the window, write the clipboard or hide text.
package safe

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text returns s with every control character, escape sequence introducer
// and bidirectional override replaced by a visible stand-in, and invalid
// UTF-8 repaired. Newlines and tabs become spaces: tenant strings are one
// line.
func Text(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			b.WriteRune('\uFFFD')
		case r == '\n' || r == '\t' || r == '\r':
			b.WriteByte(' ')
		case r == 0x7f:
			b.WriteRune('\u2421') // ␡
		case r < 0x20:
			b.WriteRune(0x2400 + r) // ␛ for ESC, ␇ for BEL, …
		case r >= 0x80 && r < 0xa0: // C1 controls, CSI (0x9b) among them
			b.WriteRune('\uFFFD')
		case isBidiControl(r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// isBidiControl reports the invisible direction marks and overrides that can
// make a name read differently from what it is.
func isBidiControl(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return unicode.Is(unicode.Cc, r)
}
