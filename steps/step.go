// Package steps holds one model per wizard step. Each depends on the
// smallest interface it needs, does its I/O in tea.Cmds that return
// messages, and renders only its own content; the root model in ui/ owns the
// layout, the shared State and the Theme, and hands both to the steps.
package steps

import (
	"context"
	"net/netip"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"mgmtsession/change"
	"mgmtsession/graph"
	"mgmtsession/preflight"
	"mgmtsession/text"
)

// Status is where a step stands, shown in the step list.
type Status int

// Step states.
const (
	Unavailable Status = iota // not built yet, or blocked by an earlier step
	Pending                   // available, not started
	Running                   // working (a Graph call, a sign-in)
	Done                      // finished and verified
	Warning                   // finished, with warnings to read
	Failed                    // failed; retry is offered
)

// Step is one step of the wizard. The root calls Enter each time the step
// becomes active, sends it every message (its own find it even after the
// operator has moved on), and asks Focused, Busy and CanAdvance before it
// acts on a key itself.
type Step interface {
	Title() string
	Status() Status
	// Enter is called on every visit. Entering is not starting: a step
	// starts its work once, from the first Enter that finds what it needs
	// in the State, and a revisit shows the result. A write step must
	// never write again because it was entered again.
	Enter(*State) tea.Cmd
	Update(tea.Msg) (Step, tea.Cmd)
	// View renders the step's content at the given width with the theme
	// of the moment (the background may change while the wizard runs).
	View(th *Theme, width int) string
	// Keys are the step's own key bindings, for the help footer.
	Keys() []key.Binding
	// Focused says that the step has an input with focus: it gets every
	// key first, and the root keeps only Ctrl+C.
	Focused() bool
	// Busy says that the step is in the middle of something that must not
	// be cut short (a write): quitting or leaving asks first.
	Busy() bool
	// CanAdvance says whether the operator may go to the next step, and
	// if not, why and what to do (retry, or the explicit skip).
	CanAdvance() (bool, string)
}

// State is what the wizard has learnt so far, shared by every step. The root
// owns it; a step reads it and proposes changes with a message implementing
// Change, which the root applies before any step sees the message.
type State struct {
	Client  *graph.Client
	Session *graph.Session
	Report  *preflight.Report
	// Config is what --config and the flags gave (the same as apply's), to
	// prefill the steps; the zero Config when neither was given.
	Config Prefill
	// WhatIf is the What If step's "before" picture.
	WhatIf *WhatIfResult
	// AllowedIPs are the ranges the operator confirmed, normalised.
	AllowedIPs []netip.Prefix
	// Method is how the platform signs in: a service account or an
	// existing Global Administrator.
	Method Method
	// Desired, Facts and Plan are made by the Allowed IPs step and made
	// again by the method step when the method changes.
	Desired *change.Desired
	Facts   *change.Facts
	Plan    *change.Plan
	// FactsUPN is the account UPN the Facts were read for ("" for the
	// default service account): facts read for another account are read
	// again, facts for the same one are reused.
	FactsUPN string
	// Run is the Create step's applied run.
	Run *change.Result
	// Management is the management session as the tenant last showed it
	// (read, or written by Create, Turn on, Auto-enable or Turn off): the
	// header's badge and the details view read it.
	Management *change.Status
	// Applied is the part of the plan the Create step applied, and
	// ReportPath the Markdown report of that run.
	Applied    *change.Plan
	ReportPath string
}

// Prefill is the configuration the wizard was started with: the file's
// settings and the flags, not yet resolved because the allowed IPs may
// come only from the wizard.
type Prefill struct {
	Config    change.Config
	Overrides change.Overrides
}

// Method is the sign-in method the operator chose.
type Method struct {
	// Mode is change.ServiceAccount (the default, when empty) or
	// change.GlobalAdmin.
	Mode change.AccountMode
	// UPN is the Global Administrator's user principal name.
	UPN string
	// Password is the Global Administrator's password, held in memory only:
	// a Secret prints as a redaction mark, so it cannot reach a view, a
	// log or a golden file by mistake.
	Password change.Secret
}

// GlobalAdmin says whether the Global Admin method was chosen.
func (m Method) GlobalAdmin() bool { return m.Mode == change.GlobalAdmin }

// LineMsg is a whole answer typed in accessible mode to a step with focus:
// there, an input is a question answered by a line, not keys.
type LineMsg struct{ Text string }

// SecretInput is implemented by a step whose focused input is a secret (a
// password): accessible mode neither echoes nor prints the answer.
type SecretInput interface {
	SecretInput() bool
}

// Change is a message that changes the shared State.
type Change interface {
	Apply(*State)
}

// Theme is the styling of the moment: the palette built from the terminal's
// background, and whether the wizard is in accessible mode (no animation).
type Theme struct {
	Pal        text.Palette
	Accessible bool
}

// Spinner is the spinner's frame, or a still mark in accessible mode where
// nothing may animate.
func (th *Theme) Spinner(s spinner.Model) string {
	if th.Accessible {
		return "…"
	}
	return s.View()
}

// Deps are the dependencies the steps are built with once: the context that
// ends with the program, how to sign in, and how to run the preflight.
type Deps struct {
	Ctx       context.Context
	Auth      Authenticator
	Preflight func(context.Context, *graph.Client, graph.Session) (*preflight.Report, error)
	// Accessible makes the input steps ask plain questions answered by a
	// LineMsg instead of showing forms.
	Accessible bool
	// JournalDir is the tenant's journal directory, the same as apply's
	// (engine.go); VerifyPause is the engine's pause between read-backs
	// (shorter for the simulated tenant, as the commands make it).
	JournalDir  func(tenantID string) (string, error)
	VerifyPause time.Duration
	// Probe is the live sign-in probe of the Turn on step; nil when this
	// build or this cloud has none.
	Probe Prober
}
