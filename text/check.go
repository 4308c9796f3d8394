package text

import (
	"fmt"
	"strings"

	"mgmtsession/preflight"
	"mgmtsession/safe"
)

// Check renders one preflight check: mark, title, reason, and the fix when
// the check did not pass, wrapped to width (0: unwrapped). Tenant strings
// are sanitised. An unknown check has a mark of its own: it is neither a
// pass nor a finding about the tenant, but a read that failed.
func Check(pal Palette, c preflight.Check, width int) string {
	mark := map[preflight.Result]string{preflight.Pass: pal.MarkPass, preflight.Warn: pal.MarkWarn, preflight.Fail: pal.MarkFail,
		preflight.Info: pal.MarkInfo, preflight.Unknown: pal.MarkUnknown}[c.Result]
	if mark == "" {
		// A palette built without a mark for this result still says
		// what the result is rather than nothing.
		mark = "[" + strings.ToUpper(string(c.Result)) + "]"
	}
	var b strings.Builder
	b.WriteString(Hang(fmt.Sprintf("%s %s: %s", mark, pal.Bold(safe.Text(c.Title)), safe.Text(c.Reason)), width, 2) + "\n")
	if c.Fix != "" && c.Result != preflight.Pass {
		b.WriteString("  " + Hang(fmt.Sprintf("%s %s", pal.Muted("Fix:"), safe.Text(c.Fix)), width-2, 7) + "\n")
	}
	return b.String()
}
