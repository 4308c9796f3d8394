package ui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"mgmtsession/steps"
)

// deps are the dependencies every step and the details view are built with.
func (c Config) deps(ctx context.Context, accessible bool) steps.Deps {
	return steps.Deps{Ctx: ctx, Auth: c.Auth, Preflight: c.Preflight, Accessible: accessible,
		JournalDir: c.JournalDir, VerifyPause: c.VerifyPause, Probe: c.Probe}
}

// openDetails opens the details view in accessible mode: the session is
// read fresh and printed, and the next answers go to the view until m (or
// an empty line) closes it.
func (r *lineRunner) openDetails() {
	r.detailsOpen, r.shown = true, ""
	r.println("== Management session ==")
	r.exec(r.details.Open(r.state))
	r.show()
}

func (r *lineRunner) promptDetails() {
	var keys []string
	for _, k := range r.details.Keys() {
		keys = append(keys, k.Help().Key+" "+k.Help().Desc)
	}
	keys = append(keys, "m close")
	fmt.Fprintf(r.out, "[%s] > ", strings.Join(keys, ", "))
}

// answerDetails acts on one answer while the details view is open.
func (r *lineRunner) answerDetails(line string) bool {
	switch strings.ToLower(line) {
	case "m", "", "esc", "close":
		if r.details.Keys() != nil && len(r.details.Keys()) == 2 && r.details.Keys()[0].Help().Key == "y" {
			r.exec(r.details.Update(tea.KeyPressMsg{Code: 'n', Text: "n"}, r.state, true))
		}
		r.detailsOpen, r.shown = false, ""
		r.println("== Back to step %d of %d: %s ==", r.active, len(r.steps)-1, r.steps[r.active].Title())
		r.show()
		return false
	case "q", "quit":
		r.detailsOpen = false
		return r.answer(line)
	}
	k := []rune(line)
	if len(k) != 1 {
		r.println("%q is not an answer here; m closes the view.", line)
		return false
	}
	r.exec(r.details.Update(tea.KeyPressMsg{Code: k[0], Text: line}, r.state, true))
	r.show()
	return false
}

// showNotice prints the details' notice (an unfinished run found at start)
// once, when it appears: the full-screen wizard shows it in its status row.
func (r *lineRunner) showNotice() {
	if n := r.details.Notice(); n != r.notice {
		r.notice = n
		if n != "" {
			r.println("%s\n", n)
		}
	}
}
