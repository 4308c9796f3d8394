package safe

import (
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain ASCII is untouched", "CA001: Require MFA", "CA001: Require MFA"},
		{"accents are kept", "Zoë Ångström", "Zoë Ångström"},
		{"CSI colour sequence is defused", "a\x1b[31mred", "a␛[31mred"},
		{"OSC 52 clipboard write is defused", "x\x1b]52;c;ZXZpbA==\x07", "x␛]52;c;ZXZpbA==␇"},
		{"C1 CSI is replaced", "a\u009b2Jb", "a\uFFFD2Jb"},
		{"newline becomes a space", "line1\nline2", "line1 line2"},
		{"right-to-left override is replaced", "admin\u202egnp.exe", "admin\uFFFDgnp.exe"},
		{"invalid UTF-8 is repaired", "bad\xffbyte", "bad\uFFFDbyte"},
		{"DEL is shown as a symbol", "a\x7fb", "a␡b"},
	}
	for _, c := range cases {
		if got := Text(c.in); got != c.want {
			t.Errorf("%s: Text(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
}

func FuzzText(f *testing.F) {
	f.Add("\x1b]0;title\x07")
	f.Add("\u202e\u0085\x9b")
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		for _, r := range out {
			if r < 0x20 || (r >= 0x7f && r < 0xa0) || isBidiControl(r) {
				t.Fatalf("Text(%q) kept control %U", s, r)
			}
		}
		if strings.ContainsRune(out, 0x1b) {
			t.Fatalf("escape survived in %q", out)
		}
	})
}
