package text_test

import (
	"strings"
	"testing"

	"mgmtsession/preflight"
	"mgmtsession/text"
)

// An unknown check has a mark of its own in every palette, and its fix:
// it is neither a pass nor a finding, but a read that failed.
func TestCheckMarksUnknown(t *testing.T) {
	c := preflight.Check{ID: "licence", Title: "Entra ID P1 licence", Result: preflight.Unknown,
		Reason: "Unknown: reading the licences: 500 generalException: boom (request-id rid-1)", Fix: "Run the checks again."}
	plain := text.Check(text.PlainPalette(), c, 0)
	if !strings.HasPrefix(plain, "[UNKNOWN] Entra ID P1 licence: Unknown: reading the licences") || !strings.Contains(plain, "rid-1") ||
		!strings.Contains(plain, "Fix: Run the checks again.") {
		t.Errorf("plain:\n%s", plain)
	}
	// A palette made before the unknown mark existed still names it.
	pal := text.PlainPalette()
	pal.MarkUnknown = ""
	if got := text.Check(pal, c, 0); !strings.HasPrefix(got, "[UNKNOWN] ") {
		t.Errorf("without a mark:\n%s", got)
	}
	for _, r := range []preflight.Result{preflight.Pass, preflight.Warn, preflight.Fail, preflight.Info} {
		c.Result = r
		if strings.Contains(text.Check(text.PlainPalette(), c, 0), "UNKNOWN") {
			t.Errorf("%s is marked unknown", r)
		}
	}
}
