package text

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestPlural(t *testing.T) {
	for _, c := range []struct {
		n          int
		noun, want string
	}{
		{0, "warning", "0 warnings"}, {1, "warning", "1 warning"}, {2, "policy", "2 policies"},
		{1, "enforced policy", "1 enforced policy"}, {3, "enforced policy", "3 enforced policies"}, {2, "day", "2 days"},
	} {
		if got := Plural(c.n, c.noun); got != c.want {
			t.Errorf("Plural(%d, %q) = %q, want %q", c.n, c.noun, got, c.want)
		}
	}
}

// Wrapped lines never pass the width, a word longer than a line is cut, and
// a label's continuation lines line up under the text.
func TestWrapAndLabelled(t *testing.T) {
	s := "the platform's 6 applications from 20.190.128.5 (US), browser on windows " + strings.Repeat("x", 90)
	for _, l := range Wrap(s, 40) {
		if w := ansi.StringWidth(l); w > 40 {
			t.Errorf("line %q is %d wide", l, w)
		}
	}
	lines := Labelled("Sign-in:  ", "one two three four five six seven", 20)
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "Sign-in:  one") || !strings.HasPrefix(lines[1], "          ") {
		t.Errorf("Labelled = %q", lines)
	}
}

func TestHang(t *testing.T) {
	got := Hang("[PASS] Security defaults: Off, so Conditional Access policies can be used to protect the account", 40, 2)
	lines := strings.Split(got, "\n")
	if len(lines) < 2 {
		t.Fatalf("not wrapped: %q", got)
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "  ") {
			t.Errorf("continuation %q is not indented", l)
		}
	}
	if Hang("short", 0, 2) != "short" {
		t.Error("width 0 must leave the text alone")
	}
}
