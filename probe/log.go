package probe

import (
	"context"
	"fmt"
	"slices"
	"time"

	"mgmtsession/graph"
)

// Entry is one sign-in of the log as the product shows it: the entry, its
// outcome in the probe's words, and for a failure the cause and fix of its
// AADSTS code.
type Entry struct {
	graph.SignInEntry
	Outcome Outcome `json:"outcome"`
	Cause   string  `json:"cause,omitempty"`
	Fix     string  `json:"fix,omitempty"`
}

// Policies are the entry's Conditional Access policies that took part:
// those that applied (success or failure) and the report-only ones that
// would have.
func (e Entry) Policies() []graph.AppliedPolicy {
	var out []graph.AppliedPolicy
	for _, p := range e.AppliedPolicies {
		switch p.Result {
		case "success", "failure", "reportOnlySuccess", "reportOnlyFailure", "reportOnlyInterrupted":
			out = append(out, p)
		}
	}
	return out
}

// NoPremiumNote is what the product says when the tenant has no sign-in log
// to read.
const NoPremiumNote = "The sign-in log needs Entra ID P1 (or P2), and this tenant has neither: Graph does not list its sign-ins. " +
	"The sign-in probe still answers, and the Entra admin centre shows the last 7 days of sign-ins without P1."

// LagNote is why a sign-in that just happened may not be listed yet.
const LagNote = "Entra lists a sign-in about 2 to 15 minutes after it happens."

// ReadLog reads the sign-in log for q (an account, a time) and explains
// each entry, newest first. A tenant without P1 answers an error for which
// graph.IsNoPremium is true: say NoPremiumNote.
func ReadLog(ctx context.Context, client *graph.Client, q graph.SignInQuery) ([]Entry, error) {
	raw, err := client.SignInLog(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(raw))
	for i, e := range raw {
		out[i] = Explain(e)
	}
	return out, nil
}

// Explain gives a log entry its outcome and, for a failure, the cause and
// fix: in the probe's words for the outcomes it knows (a management
// account's MFA required from outside is the protection working, not a
// failure to mend), by its AADSTS code otherwise.
func Explain(e graph.SignInEntry) Entry {
	x := Entry{SignInEntry: e, Outcome: Succeeded}
	code := e.Status.ErrorCode
	if code == 0 {
		return x
	}
	x.Outcome = Classify(code, "")
	switch h, ok := graph.ExplainCode(code); {
	case x.Outcome != Refused:
		x.Cause, x.Fix = explain(x.Outcome, code, e.UserPrincipalName, nil)
	case ok:
		x.Cause, x.Fix = h.Cause, h.Fix
	default:
		x.Cause = fmt.Sprintf("AADSTS%d: %s", code, e.Status.FailureReason)
		x.Fix = fmt.Sprintf("look the code up at https://login.microsoftonline.com/error?code=%d.", code)
	}
	return x
}

// Follow reads the log for q every interval (never more often than
// graph.SignInLogThrottle allows) and calls fn with the entries not seen
// before, oldest first, until ctx ends (then it returns nil) or a read
// fails. The first call has the entries already there.
func Follow(ctx context.Context, client *graph.Client, q graph.SignInQuery, interval time.Duration, fn func([]Entry) error) error {
	interval = max(interval, graph.SignInLogThrottle)
	seen := map[string]bool{}
	for {
		entries, err := ReadLog(ctx, client, q)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		var fresh []Entry
		for _, e := range entries {
			if !seen[e.ID] {
				seen[e.ID] = true
				fresh = append(fresh, e)
			}
		}
		slices.Reverse(fresh)
		if err := fn(fresh); err != nil {
			return err
		}
		if len(entries) > 0 {
			// Read only from the newest seen on: the entries of that
			// second are read again and recognised by their id.
			q.Since = entries[0].CreatedDateTime
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}
