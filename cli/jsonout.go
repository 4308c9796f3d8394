package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"
)

// writeJSON writes v as indented JSON. Beyond what encoding/json escapes
// (C0 controls, U+2028, U+2029), it escapes the C1 controls (U+0080-U+009F,
// CSI among them) and the bidirectional controls, so that cat-ing the
// output or the export file is safe on a terminal too.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(escapeTerminalRunes(buf.Bytes()))
	return err
}

// escapeTerminalRunes rewrites the runes a terminal acts on as \uXXXX.
// They can only occur inside JSON strings, where the escape is the same
// character to a JSON reader.
func escapeTerminalRunes(b []byte) []byte {
	if !bytes.ContainsFunc(b, dangerous) {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if dangerous(r) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}

func dangerous(r rune) bool {
	return (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}
