package steps_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"mgmtsession/change"
	"mgmtsession/steps"
)

func deps(accessible bool) steps.Deps {
	return steps.Deps{Ctx: context.Background(), Accessible: accessible}
}

// evaluated is the What If step run to its result on a signed-in state.
func evaluated(t *testing.T, state *steps.State, accessible bool) *driver {
	t.Helper()
	d := newDriver(t, steps.NewWhatIf(deps(accessible)), state)
	d.enter()
	d.until("evaluated", func() bool { s := d.step.Status(); return s == steps.Done || s == steps.Warning || s == steps.Failed })
	if d.step.Status() == steps.Failed {
		t.Fatalf("the What If failed:\n%s", d.view())
	}
	return d
}

// TestWhatIfBeforeForTheAccountToCreate: before the account exists, the
// What If evaluates the account to be created with its planned roles, from
// outside, in the words of mgmtsession whatif, and says why Graph's own
// What If is not beside it. The facts it read are kept for the plan, and a
// revisit does not evaluate again.
func TestWhatIfBeforeForTheAccountToCreate(t *testing.T) {
	state := signedIn(t, demo(t, "default"))
	d := evaluated(t, state, false)
	flat := d.flat()
	for _, want := range []string{
		"the management account before it exists; roles: Global Reader",
		"from outside (198.51.100.77): MFA REQUIRED by CA001: Require MFA for administrators, CA002: Require MFA for all users",
		"Graph's What If needs an existing account",
		"Enforced policies (decide the verdict)", // WriteText's own table
		"The allowed ranges are not known yet",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("the What If lacks %q:\n%s", want, d.view())
		}
	}
	if state.WhatIf == nil || state.Facts == nil || state.FactsUPN != "" {
		t.Fatalf("the result and the facts are not in the shared state: %+v", state)
	}
	if d.step.Enter(state) != nil {
		t.Error("a revisit evaluates again")
	}
	if ok, why := d.step.CanAdvance(); !ok {
		t.Errorf("cannot go on after the What If: %s", why)
	}
}

// TestWhatIfExistingAccountBesideGraph: for an existing account (the
// Global Admin of the configuration), Graph's own What If is asked and
// shown beside the local one.
func TestWhatIfExistingAccountBesideGraph(t *testing.T) {
	state := signedIn(t, demo(t, "default"))
	mode, upn := string(change.GlobalAdmin), "adele.admin@contoso-demo.com"
	state.Config.Overrides = change.Overrides{Mode: &mode, UPN: &upn, AllowedIPs: []string{"20.190.128.0/24"}}
	d := evaluated(t, state, false)
	if state.WhatIf.Matrix.GraphRequests == 0 {
		t.Fatal("Graph's What If was not asked for an existing account")
	}
	flat := d.flat()
	for _, want := range []string{"adele.admin@contoso-demo.com", "Graph's own What If agrees with the local evaluator",
		"from allowed 20.190.128.0/24 (20.190.128.1)", "From the allowed IPs:", "From outside:"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the What If lacks %q:\n%s", want, d.view())
		}
	}
	if state.FactsUPN != upn {
		t.Errorf("facts read for %q, want the admin's", state.FactsUPN)
	}
}

// TestWhatIfAnotherOutsideIP: the operator types an outside address; a bad
// one is named and changes nothing, a good one is evaluated without reading
// the tenant again.
func TestWhatIfAnotherOutsideIP(t *testing.T) {
	state := signedIn(t, demo(t, "default"))
	d := evaluated(t, state, true)
	facts := state.Facts
	d.key('i')
	if !d.step.Focused() {
		t.Fatal("i does not ask for an address")
	}
	for _, bad := range []string{"not-an-ip", "10.0.0.1", "::1"} {
		d.send(steps.LineMsg{Text: bad})
		if !d.step.Focused() || !strings.Contains(d.view(), "[FAIL]") {
			t.Errorf("%q was not refused with a reason:\n%s", bad, d.view())
		}
	}
	d.send(steps.LineMsg{Text: "52.96.0.9"})
	d.until("evaluated again", func() bool { return d.step.Status() == steps.Done && strings.Contains(d.view(), "52.96.0.9") })
	if state.Facts != facts {
		t.Error("another outside IP read the tenant again")
	}
	if !strings.Contains(d.flat(), "from outside (52.96.0.9): MFA REQUIRED") {
		t.Errorf("the new address's verdict is not shown:\n%s", d.view())
	}
}

// TestWhatIfRevisitWithRanges: once the allowed ranges are known, a
// revisit evaluates from them too, with the sweep's headlines, from the
// facts already read.
func TestWhatIfRevisitWithRanges(t *testing.T) {
	state := signedIn(t, demo(t, "default"))
	d := evaluated(t, state, false)
	facts := state.Facts
	state.AllowedIPs = []netip.Prefix{netip.MustParsePrefix("20.190.128.0/24")}
	d.enter()
	d.until("evaluated from the ranges", func() bool { return state.WhatIf.Sweep != nil && d.step.Status() != steps.Running })
	if state.Facts != facts {
		t.Error("the revisit read the tenant again")
	}
	flat := d.flat()
	for _, want := range []string{"from allowed 20.190.128.0/24 (20.190.128.1): MFA REQUIRED", "From the allowed IPs: challenged or blocked", "From outside:"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the revisit lacks %q:\n%s", want, d.view())
		}
	}
	if !strings.Contains(flat, "from outside (198.51.100.77)") {
		t.Error("the outside address is not the documentation address outside every allowed range")
	}
}

// TestWhatIfExistingServiceAccount: when the management account exists
// already (scenario account-exists), the What If is for it, Graph's own
// What If is beside the local one, and the plan reuses the facts.
func TestWhatIfExistingServiceAccount(t *testing.T) {
	state := signedIn(t, demo(t, "account-exists"))
	d := evaluated(t, state, false)
	if !state.WhatIf.Subject.Exists() || state.WhatIf.Matrix.GraphRequests == 0 {
		t.Fatalf("the existing account was not evaluated by Graph too:\n%s", d.view())
	}
	if !strings.Contains(d.flat(), "Graph's own What If") {
		t.Errorf("Graph's answer is not shown:\n%s", d.view())
	}
}

// TestWhatIfThrottledSaysWhy: a throttled tenant's slow read says that the
// wait is expected rather than showing a spinner alone.
func TestWhatIfThrottledSaysWhy(t *testing.T) {
	state := signedIn(t, demo(t, "throttled"))
	d := newDriver(t, steps.NewWhatIf(deps(false)), state)
	d.enter()
	d.until("explained the wait or finished", func() bool {
		return strings.Contains(d.flat(), "most likely throttling") || d.step.Status() != steps.Running
	})
	if !strings.Contains(d.flat(), "most likely throttling") {
		t.Errorf("a throttled read (4-8 s in this scenario) was not explained:\n%s", d.view())
	}
}

// TestWhatIfFollowsTheMethod: once a Global Administrator is chosen, a
// revisit shows the What If for that admin, with Graph beside it.
func TestWhatIfFollowsTheMethod(t *testing.T) {
	state := signedIn(t, demo(t, "default"))
	d := evaluated(t, state, false)
	state.Method = steps.Method{Mode: change.GlobalAdmin, UPN: "adele.admin@contoso-demo.com", Password: change.NewSecret("x")}
	d.enter()
	d.until("evaluated for the admin", func() bool { return state.WhatIf.Subject.Exists() && d.step.Status() != steps.Running })
	if state.WhatIf.Subject.UserPrincipalName != "adele.admin@contoso-demo.com" || state.WhatIf.Matrix.GraphRequests == 0 {
		t.Errorf("the What If is not for the admin, with Graph: %+v", state.WhatIf.Subject)
	}
}

// TestWhatIfFailedHoldsUntilRetryOrSkip: a What If that could not run (here
// a bad --upn) says why, and the operator goes on only by trying again or
// skipping it.
func TestWhatIfFailedHoldsUntilRetryOrSkip(t *testing.T) {
	state := signedIn(t, demo(t, "default"))
	bad := "not a upn"
	state.Config.Overrides.UPN = &bad // the account cannot be resolved
	d := newDriver(t, steps.NewWhatIf(deps(false)), state)
	d.enter()
	d.until("failed", func() bool { return d.step.Status() == steps.Failed })
	if ok, why := d.step.CanAdvance(); ok || !strings.Contains(why, "s to go on without it") {
		t.Errorf("a failed What If can be left without a choice: %v %q", ok, why)
	}
	d.key('s')
	if ok, _ := d.step.CanAdvance(); !ok || !strings.Contains(d.view(), "Going on without the What If") {
		t.Errorf("s does not let the operator go on, saying so:\n%s", d.view())
	}
}
