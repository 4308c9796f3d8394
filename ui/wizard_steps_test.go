package ui

import (
	"fmt"
	"image/color"
	"regexp"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"mgmtsession/steps"
)

// typeKeys sends each character as a key press through the root.
func (d *driver) typeKeys(s string) {
	for _, r := range s {
		d.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// toAllowedIPs walks the wizard to the Allowed IPs step with its form open.
func toAllowedIPs(t testing.TB, d *driver) {
	t.Helper()
	d.signedIn()
	d.preflightRead()
	d.press("n")
	d.until("evaluated the What If", func() bool { return d.m.state.WhatIf != nil && d.m.steps[2].Status() != steps.Running })
	d.press("n")
	d.settle()
	if d.m.active != 3 || !d.m.steps[3].Focused() {
		t.Fatalf("not at the Allowed IPs form:\n%s", d.screen())
	}
}

// planned confirms the ranges typed and waits for the plan.
func (d *driver) planned() {
	d.t.Helper()
	d.press("enter")
	d.settle()
	d.press("enter")
	d.until("planned", func() bool {
		s := d.m.steps[3].Status()
		return s == steps.Done || s == steps.Warning || s == steps.Failed
	})
}

// TestRootGivesTheRangesEveryKey: through the root, a step with focus gets
// the letters the root would take (n, b, q, m, j, k, ?), Enter included:
// nothing quits, moves or opens a view while the ranges are typed.
func TestRootGivesTheRangesEveryKey(t *testing.T) {
	d := newDriver(t, "default", 120, 40, "")
	toAllowedIPs(t, d)
	d.typeKeys("nbqmjk?")
	if d.quit || d.m.active != 3 || d.m.showDetails || d.m.help.ShowAll {
		t.Fatalf("a root key acted while the ranges were typed: quit %v, step %d", d.quit, d.m.active)
	}
	if !strings.Contains(d.flat(), `"nbqmjk?": not an IP address`) {
		t.Fatalf("the letters did not reach the text area:\n%s", d.screen())
	}
	d.press("enter")
	d.settle()
	if d.m.active != 3 || !d.m.steps[3].Focused() || d.m.state.AllowedIPs != nil {
		t.Fatal("Enter with a bad token left the input")
	}
	for range "nbqmjk?" {
		d.send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	d.typeKeys("20.190.128.0/24")
	d.planned()
	d.press("n")
	d.settle()
	if d.m.active != 4 || !d.m.steps[4].Focused() {
		t.Fatalf("not at the method form:\n%s", d.screen())
	}
	d.press("enter")
	d.until("chose the method", func() bool { return d.m.steps[4].Status() == steps.Done })
	if !strings.Contains(d.flat(), "Method: service account (recommended)") {
		t.Errorf("the method step does not show the choice:\n%s", d.screen())
	}
}

// TestStepScreens pins the screens of steps 2-4 at 80x24 and 120x40,
// without colour: the What If, the ranges with a bad token and a
// normalisation, the plan, the method form and the choice.
func TestStepScreens(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			d := newDriver(t, "default", w, h, "")
			toAllowedIPs(t, d)
			d.press("esc", "b")
			t.Run("what-if", func(t *testing.T) { golden.RequireEqual(t, []byte(d.screen())) })
			d.press("end")
			t.Run("what-if-end", func(t *testing.T) { golden.RequireEqual(t, []byte(d.screen())) })
			d.press("n")
			d.settle()
			d.typeKeys("20.190.128.9/24, 10.1.2.3")
			t.Run("allowed-ips-bad", func(t *testing.T) { golden.RequireEqual(t, []byte(d.screen())) })
			for range ", 10.1.2.3" {
				d.send(tea.KeyPressMsg{Code: tea.KeyBackspace})
			}
			d.planned()
			t.Run("plan", func(t *testing.T) { golden.RequireEqual(t, []byte(d.screen())) })
			d.press("n")
			d.settle()
			t.Run("method-form", func(t *testing.T) { golden.RequireEqual(t, []byte(d.screen())) })
			d.press("enter")
			d.until("chose the method", func() bool { return d.m.steps[4].Status() == steps.Done })
			t.Run("method-chosen", func(t *testing.T) { golden.RequireEqual(t, []byte(d.screen())) })
		})
	}
}

// TestLightBackgroundRethemesStepsTwoToFour: the steps' result views, made
// before a light background is reported, render with the light palette.
func TestLightBackgroundRethemesStepsTwoToFour(t *testing.T) {
	d := newDriver(t, "default", 120, 40, "")
	toAllowedIPs(t, d)
	d.typeKeys("20.190.128.9/24")
	d.planned()
	d.press("n")
	d.settle()
	d.press("enter")
	d.until("chose the method", func() bool { return d.m.steps[4].Status() == steps.Done })
	d.send(tea.BackgroundColorMsg{Color: color.White})
	for i := 2; i <= 4; i++ {
		view := d.m.steps[i].View(d.m.theme, 100)
		light := strings.Contains(view, lightGreen) || strings.Contains(view, lightMuted)
		dark := strings.Contains(view, darkGreen) || strings.Contains(view, darkMuted)
		if !light || dark {
			t.Errorf("step %d (%s) on a light background: light colours %v, dark colours %v", i, d.m.steps[i].Title(), light, dark)
		}
	}
}

// TestHostileStringsInertInStepsTwoToFour: policy and account names with a
// screen clear, a cursor move and an OSC 52 clipboard write are shown inert
// in the What If, the plan (its exclusions name the policies) and the
// method's "after" picture.
func TestHostileStringsInertInStepsTwoToFour(t *testing.T) {
	state := hostileTenant(t, false)
	d := newDriver(t, "default", 120, 40, state)
	toAllowedIPs(t, d)
	d.typeKeys("20.190.128.0/24")
	d.planned()
	d.press("n")
	d.settle()
	d.press("enter")
	d.until("chose the method", func() bool { return d.m.steps[4].Status() != steps.Running && !d.m.steps[4].Focused() })
	sgr := regexp.MustCompile("\x1b\\[[0-9;:]*m")
	shown := 0
	for i := 2; i <= 4; i++ {
		view := d.m.steps[i].View(d.m.theme, 100)
		if strings.Contains(view, "CA001") {
			shown++
		}
		if rest := sgr.ReplaceAllString(view, ""); strings.ContainsAny(rest, "\x1b\x07\u009b") {
			t.Errorf("step %d lets a control through: %q", i, rest[:min(len(rest), 400)])
		}
	}
	if shown < 2 {
		t.Error("the policies' names are not shown, so the test proves nothing")
	}
}
