package ui

import (
	"strings"
	"testing"

	"mgmtsession/steps"
)

// The views at 120x40, the size the README's figures are for (goal: under
// 2 ms a frame). Each benchmark brings the wizard to its step against the
// simulated tenant once, then times only the layout and the view: what
// Bubble Tea does for every frame.

func benchView(b *testing.B, d *driver) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d.m.layout()
		_ = d.m.View()
	}
}

// BenchmarkViewPreflight renders the preflight's checks.
func BenchmarkViewPreflight(b *testing.B) {
	d := newDriver(b, "default", 120, 40, "")
	d.signedIn()
	d.preflightRead()
	benchView(b, d)
}

// BenchmarkViewWhatIf renders the What If's "before" picture, the longest
// content of steps 2-4.
func BenchmarkViewWhatIf(b *testing.B) {
	d := newDriver(b, "default", 120, 40, "")
	toAllowedIPs(b, d)
	d.press("esc", "b")
	benchView(b, d)
}

// BenchmarkViewAllowedIPsForm renders the ranges' form with its live check.
func BenchmarkViewAllowedIPsForm(b *testing.B) {
	d := newDriver(b, "default", 120, 40, "")
	toAllowedIPs(b, d)
	d.typeKeys("20.190.128.9/24, 10.1.2.3, 52.96.0.0/24")
	benchView(b, d)
}

// BenchmarkViewPlan renders the plan and the "after" picture.
func BenchmarkViewPlan(b *testing.B) {
	d := newDriver(b, "default", 120, 40, "")
	toAllowedIPs(b, d)
	d.typeKeys("20.190.128.9/24, 52.96.0.0/24")
	d.planned()
	benchView(b, d)
}

// BenchmarkViewMethod renders the method form.
func BenchmarkViewMethod(b *testing.B) {
	d := newDriver(b, "default", 120, 40, "")
	toAllowedIPs(b, d)
	d.typeKeys("20.190.128.0/24")
	d.planned()
	d.press("n")
	d.settle()
	benchView(b, d)
}

// BenchmarkViewSignIn renders the signed-in step with its scopes.
func BenchmarkViewSignIn(b *testing.B) {
	d := newDriver(b, "default", 120, 40, "")
	d.signedIn()
	benchView(b, d)
}

// writeStepsBench walks a fresh wizard through Create to the step named
// and renders it.
func writeStepsBench(b *testing.B, until func(d *driver)) {
	d, _ := newWriteDriver(b, demoOpts("default", ""), 120, 40, b.TempDir())
	toCreate(b, d)
	until(d)
	benchView(b, d)
}

// BenchmarkViewCreate renders Create once done: every change verified.
func BenchmarkViewCreate(b *testing.B) {
	writeStepsBench(b, func(d *driver) { d.throughCreate() })
}

// BenchmarkViewTurnOn renders Turn on's confirmation What If.
func BenchmarkViewTurnOn(b *testing.B) {
	writeStepsBench(b, func(d *driver) {
		d.throughCreate()
		d.press("n")
		d.until("checked", func() bool { return d.m.steps[6].Status() == steps.Pending })
	})
}

// BenchmarkViewAutoEnable renders the last step's summary.
func BenchmarkViewAutoEnable(b *testing.B) {
	writeStepsBench(b, func(d *driver) {
		d.throughCreate()
		d.throughTurnOn()
		d.press("n", "f")
		d.until("finished", d.stepSettled(7))
	})
}

// BenchmarkViewDetails renders the badge's view of the session.
func BenchmarkViewDetails(b *testing.B) {
	writeStepsBench(b, func(d *driver) {
		d.throughCreate()
		d.throughTurnOn()
		d.press("m")
		d.until("read the session", func() bool { return !strings.Contains(d.screen(), "Reading the session") })
	})
}
