package ui

import (
	"image/color"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"mgmtsession/text"
)

// Styles are built from the terminal background (light or dark) and the
// accessible setting, in one place; steps get a Palette from them.
type Styles struct {
	Header     lipgloss.Style
	BadgeOn    lipgloss.Style
	BadgeOff   lipgloss.Style
	StepActive lipgloss.Style
	StepIdle   lipgloss.Style
	StepMuted  lipgloss.Style
	Footer     lipgloss.Style
	Status     lipgloss.Style
	pal        text.Palette
	markWidth  int // the widest of the step list's marks, to line titles up
}

func newStyles(dark, accessible bool) Styles {
	s := paletteStyles(dark, accessible)
	for _, mark := range []string{s.pal.MarkPass, s.pal.MarkWarn, s.pal.MarkFail, s.pal.Info("…"), s.pal.Info("•"), s.pal.Muted("·")} {
		s.markWidth = max(s.markWidth, ansi.StringWidth(mark))
	}
	return s
}

func paletteStyles(dark, accessible bool) Styles {
	if accessible {
		plain := lipgloss.NewStyle()
		return Styles{
			Header: plain, BadgeOn: plain, BadgeOff: plain, StepActive: plain,
			StepIdle: plain, StepMuted: plain, Footer: plain, Status: plain, pal: text.PlainPalette(),
		}
	}
	ld := lipgloss.LightDark(dark)
	green := ld(lipgloss.Color("#1A7F37"), lipgloss.Color("#3FB950"))
	amber := ld(lipgloss.Color("#9A6700"), lipgloss.Color("#D29922"))
	red := ld(lipgloss.Color("#CF222E"), lipgloss.Color("#F85149"))
	blue := ld(lipgloss.Color("#0969DA"), lipgloss.Color("#58A6FF"))
	muted := ld(lipgloss.Color("#6E7781"), lipgloss.Color("#8B949E"))
	fg := func(c color.Color) func(...string) string {
		st := lipgloss.NewStyle().Foreground(c)
		return func(s ...string) string { return st.Render(strings.Join(s, " ")) }
	}
	bold := lipgloss.NewStyle().Bold(true)
	code := lipgloss.NewStyle().Bold(true).Foreground(blue)
	return Styles{
		Header:     lipgloss.NewStyle().Bold(true),
		BadgeOn:    lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#FFFFFF")).Background(green).Padding(0, 1),
		BadgeOff:   lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#FFFFFF")).Background(muted).Padding(0, 1),
		StepActive: lipgloss.NewStyle().Bold(true).Foreground(blue),
		StepIdle:   lipgloss.NewStyle(),
		StepMuted:  lipgloss.NewStyle().Foreground(muted),
		Footer:     lipgloss.NewStyle().Foreground(muted),
		Status:     lipgloss.NewStyle().Foreground(amber),
		pal: text.Palette{
			Pass: fg(green), Warn: fg(amber), Fail: fg(red), Info: fg(blue), Muted: fg(muted),
			Bold:     func(s ...string) string { return bold.Render(strings.Join(s, " ")) },
			Code:     func(s ...string) string { return code.Render(strings.Join(s, " ")) },
			MarkPass: fg(green)("✓"), MarkWarn: fg(amber)("!"), MarkFail: fg(red)("✗"), MarkInfo: fg(blue)("i"),
			MarkUnknown: fg(red)("?"),
		},
	}
}
