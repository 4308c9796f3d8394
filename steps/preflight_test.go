package steps_test

import (
	"context"
	"strings"
	"testing"

	"mgmtsession/preflight"
	"mgmtsession/steps"
	"mgmtsession/text"
)

// TestPreflightUnknownIsNoPass: a report whose only problem is a check that
// could not be judged leaves the step failed (not done, not a warning),
// with the check's own mark, the count of unknown checks and how to retry.
func TestPreflightUnknownIsNoPass(t *testing.T) {
	report := &preflight.Report{TenantName: "Contoso", InitialDomain: "contoso.onmicrosoft.com", Checks: []preflight.Check{
		{ID: "scopes", Title: "Granted scopes", Result: preflight.Pass, Reason: "Every scope."},
		{ID: "policy-count", Title: "Conditional Access policies", Result: preflight.Unknown, Read: "policies",
			Reason: "Unknown: reading Conditional Access policies: EOF", Fix: "Run the checks again."},
	}}
	var p steps.Step = steps.NewPreflight(context.Background(), nil, text.PlainPalette())
	p, _ = p.Update(steps.PreflightDoneMsg{Report: report})
	if p.Status() != steps.Failed {
		t.Errorf("status %v with an unknown check, want Failed", p.Status())
	}
	view := p.View(80)
	for _, want := range []string{"1 passed", "1 unknown", "press r", "[UNKNOWN] Conditional Access policies: Unknown: reading", "policies: EOF"} {
		if !strings.Contains(view, want) {
			t.Errorf("the view lacks %q:\n%s", want, view)
		}
	}
}
