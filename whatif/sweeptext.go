package whatif

import (
	"fmt"
	"io"
	"strings"

	"mgmtsession/safe"
	"mgmtsession/text"
)

// WriteSweepText writes a sweep for people: the two headline answers, each
// followed by its conditions, then what depends on facts not given, then
// Graph's confirmation. Policy names come from the tenant and are
// sanitised.
func WriteSweepText(w io.Writer, sw *Sweep, src Source, width int) {
	line := func(s string) { fmt.Fprintln(w, s) }
	items := func(gs []SweepGroup) {
		for _, g := range gs {
			line("  - " + text.Hang(safe.Text(g.String())+" ("+text.Plural(g.Combinations, "sign-in")+")", width-4, 4))
		}
	}
	para := func(label, s string) {
		for _, l := range text.Labelled(label, s, width) {
			line(l)
		}
	}
	para("Account:  ", DescribeSubject(sw.Subject))
	para("Policies: ", DescribeSource(src))
	para("Places:   ", "allowed "+strings.Join(sw.Allowed, ", ")+"; outside "+sw.Outside)
	para("Swept:    ", fmt.Sprintf("%s: every application, client app type, platform and place, with and without a country",
		text.Plural(len(sw.Combinations), "sign-in")))
	line("")
	h := sw.Headlines()
	line(text.Hang(safe.Text(h[0]), width, 2))
	items(sw.Challenged)
	line(text.Hang(safe.Text(h[1]), width, 2))
	items(sw.Unprotected)
	if len(sw.Undetermined) > 0 {
		line("Depends on facts not given (counted as not applying above):")
		items(sw.Undetermined)
	}
	if g := sw.Graph; g != nil {
		switch {
		case !g.Compared:
			para("Graph:    ", safe.Text(g.Note))
		case len(g.Disagreements) == 0:
			para("Graph:    ", fmt.Sprintf("Graph's What If agrees on the %s it was asked about.", text.Plural(g.Requests, "sampled sign-in")))
		default:
			para("Graph:    ", fmt.Sprintf("Graph's What If disagrees on %s:", text.Plural(len(g.Disagreements), "policy")))
			for _, d := range g.Disagreements {
				line("  - " + text.Hang(safe.Text(d), width-4, 4))
			}
		}
	}
}
