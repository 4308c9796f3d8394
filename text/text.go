// Package text is the product's plain-text output: palettes, hanging
// indents, wrapping, plurals and the preflight check lines. The headless
// commands (cli/) and the wizard's steps (steps/) both render through it, so
// a check reads the same on a pipe and on screen. It imports no Bubble Tea.
package text

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Palette is the small set of styles output uses, built by whoever owns the
// terminal (the wizard's root, or PlainPalette for a pipe) so that colour,
// light/dark and accessible mode are decided in one place.
type Palette struct {
	Pass, Warn, Fail, Info, Muted, Bold, Code func(...string) string
	// Marks are the status symbols (plain words in accessible mode).
	MarkPass, MarkWarn, MarkFail, MarkInfo string
	// MarkUnknown marks a check whose input could not be read.
	MarkUnknown string
}

// PlainPalette renders without colour and with words for marks: the
// accessible mode and plain-text output.
func PlainPalette() Palette {
	id := func(s ...string) string { return strings.Join(s, " ") }
	return Palette{Pass: id, Warn: id, Fail: id, Info: id, Muted: id, Bold: id, Code: id,
		MarkPass: "[PASS]", MarkWarn: "[WARN]", MarkFail: "[FAIL]", MarkInfo: "[INFO]", MarkUnknown: "[UNKNOWN]"}
}

// Hang wraps text to width and indents every line after the first by indent
// columns, so that a wrapped item stays visibly one item. A width of 0 leaves
// the text unwrapped (plain output to a pipe).
func Hang(text string, width, indent int) string {
	if width <= indent+20 {
		return text
	}
	// ansi.Wrap breaks after every hyphen, which split flags such as
	// "--auth secret" across lines; a non-breaking hyphen keeps them whole.
	const nonBreaking = "\u2011"
	wrapped := ansi.Wrap(strings.ReplaceAll(text, "-", nonBreaking), width-indent, "")
	lines := strings.Split(strings.ReplaceAll(wrapped, nonBreaking, "-"), "\n")
	pad := strings.Repeat(" ", indent)
	for i := 1; i < len(lines); i++ {
		lines[i] = pad + lines[i]
	}
	return strings.Join(lines, "\n")
}

// Plural says "1 warning", "2 warnings", "3 policies".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if l := len(noun); l > 1 && noun[l-1] == 'y' && !strings.ContainsRune("aeiou", rune(noun[l-2])) {
		return fmt.Sprintf("%d %sies", n, noun[:l-1])
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Fit truncates s to width display columns.
func Fit(s string, width int) string {
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// Wrap wraps words into lines of at most width display columns; a word
// longer than a line is cut.
func Wrap(s string, width int) []string {
	var lines []string
	cur := ""
	for _, word := range strings.Fields(s) {
		switch {
		case cur == "":
			cur = word
		case ansi.StringWidth(cur)+1+ansi.StringWidth(word) <= width:
			cur += " " + word
		default:
			lines = append(lines, Fit(cur, width))
			cur = word
		}
	}
	if cur != "" || len(lines) == 0 {
		lines = append(lines, Fit(cur, width))
	}
	return lines
}

// Labelled writes text wrapped under a label: the first line after the
// label, the others indented to line up with it ("Verdict:  ...").
func Labelled(label, s string, width int) []string {
	lines := Wrap(s, width-ansi.StringWidth(label))
	pad := strings.Repeat(" ", ansi.StringWidth(label))
	for i := range lines {
		if i == 0 {
			lines[i] = label + lines[i]
		} else {
			lines[i] = pad + lines[i]
		}
	}
	return lines
}
