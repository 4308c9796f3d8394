package steps

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"mgmtsession/graph"
	"mgmtsession/preflight"
	"mgmtsession/safe"
	"mgmtsession/text"
)

// Authenticator signs in to the tenant (connect.Env in the product, which ui/ is given).
type Authenticator interface {
	SignIn(ctx context.Context, onCode func(graph.DeviceCode)) (*graph.Client, graph.Session, error)
	Method() string
}

// SignedInMsg puts the signed-in client and session into the shared State.
type SignedInMsg struct {
	Client  *graph.Client
	Session graph.Session
}

// Apply records the sign-in; a new sign-in makes the earlier preflight
// report stale, so it is dropped.
func (m SignedInMsg) Apply(s *State) {
	sess := m.Session
	s.Client, s.Session, s.Report = m.Client, &sess, nil
}

type signInResult struct {
	client  *graph.Client
	session graph.Session
}

// SignIn is step 0: sign in and show who, where and with which scopes.
type SignIn struct {
	deps    Deps
	status  Status
	job     *Job
	code    *graph.DeviceCode
	session graph.Session
	err     error
	spin    spinner.Model
	retry   key.Binding
}

// NewSignIn builds the sign-in step.
func NewSignIn(deps Deps) *SignIn {
	return &SignIn{
		deps: deps, status: Pending,
		spin:  spinner.New(spinner.WithSpinner(spinner.Dot)),
		retry: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry sign-in")),
	}
}

func (s *SignIn) Title() string  { return "Sign in" }
func (s *SignIn) Status() Status { return s.status }
func (s *SignIn) Focused() bool  { return false }
func (s *SignIn) Busy() bool     { return false }

func (s *SignIn) Keys() []key.Binding {
	if s.status == Failed {
		return []key.Binding{s.retry}
	}
	return nil
}

// CanAdvance: nothing after this step works without a sign-in.
func (s *SignIn) CanAdvance() (bool, string) {
	switch s.status {
	case Done:
		return true, ""
	case Failed:
		return false, "Sign-in failed: press r to try again, or quit and sign in with another --auth."
	}
	return false, "Finish signing in first."
}

// Enter starts the sign-in on the first visit only.
func (s *SignIn) Enter(*State) tea.Cmd {
	if s.status != Pending {
		return nil
	}
	return s.start()
}

// start signs in. The credential reports the device code from its own
// goroutine while the sign-in waits, which is what a Job streams.
func (s *SignIn) start() tea.Cmd {
	s.status, s.err, s.code = Running, nil, nil
	auth := s.deps.Auth
	var cmd tea.Cmd
	s.job, cmd = StartJob(s.deps.Ctx, func(ctx context.Context, report func(any)) (any, error) {
		client, sess, err := auth.SignIn(ctx, func(dc graph.DeviceCode) { report(dc) })
		return signInResult{client, sess}, err
	})
	return tea.Batch(s.spin.Tick, cmd)
}

func (s *SignIn) Update(msg tea.Msg) (Step, tea.Cmd) {
	if s.job.Owns(msg) {
		next := s.job.Handle(msg)
		switch msg := msg.(type) {
		case JobEventMsg:
			if dc, ok := msg.Event.(graph.DeviceCode); ok {
				s.code = &dc
			}
		case JobDoneMsg:
			if msg.Err != nil {
				s.status, s.err = Failed, msg.Err
				return s, nil
			}
			// The step is done when the shared state has the session,
			// so that the next step finds it there.
			res := msg.Result.(signInResult)
			return s, func() tea.Msg { return SignedInMsg{Client: res.client, Session: res.session} }
		}
		return s, next
	}
	switch msg := msg.(type) {
	case SignedInMsg:
		s.status, s.session = Done, msg.Session
	case spinner.TickMsg:
		if s.status != Running || msg.ID != s.spin.ID() {
			return s, nil
		}
		var cmd tea.Cmd
		s.spin, cmd = s.spin.Update(msg)
		return s, cmd
	case tea.KeyPressMsg:
		if s.status == Failed && key.Matches(msg, s.retry) {
			return s, s.start()
		}
	}
	return s, nil
}

func (s *SignIn) View(th *Theme, width int) string {
	var b strings.Builder
	p := th.Pal
	switch s.status {
	case Running:
		if s.code == nil {
			fmt.Fprintf(&b, "%s Signing in (%s)…\n", th.Spinner(s.spin), s.deps.Auth.Method())
			break
		}
		b.WriteString(text.Hang(fmt.Sprintf("To sign in, open %s in a browser and enter the code", p.Bold(safe.Text(s.code.VerificationURL))), width, 0) + "\n\n")
		fmt.Fprintf(&b, "    %s\n\n", p.Code(safe.Text(s.code.UserCode)))
		b.WriteString(text.Hang(fmt.Sprintf("%s Waiting for you to finish in the browser (the code is valid for 15 minutes)…", th.Spinner(s.spin)), width, 2) + "\n")
	case Done:
		sess := s.session
		who := sess.UPN
		if sess.AppOnly {
			who = "an application (app-only): Conditional Access for users does not apply to it"
		}
		b.WriteString(text.Hang(fmt.Sprintf("%s Signed in as %s", p.MarkPass, p.Bold(safe.Text(who))), width, 2) + "\n")
		fmt.Fprintf(&b, "  Tenant  %s\n", safe.Text(sess.TenantID))
		b.WriteString(text.Hang("  Scopes  "+safe.Text(strings.Join(sess.Scopes, ", ")), width, 10) + "\n")
		if missing := preflight.Missing(sess.Scopes); len(missing) > 0 {
			b.WriteString("\n")
			for _, m := range missing {
				mark := p.MarkFail
				if m.Optional {
					mark = p.MarkWarn
				}
				b.WriteString(text.Hang(fmt.Sprintf("%s Missing %s: needed to %s", mark, strings.Join(m.AnyOf, " or "), m.For), width, 2) + "\n")
			}
			b.WriteString(text.Hang(p.Muted("  Fix: an administrator grants consent to these scopes for the app you sign in with (--client-id)."), width, 7) + "\n")
		} else {
			b.WriteString(p.Muted("  Every scope the later steps need was granted.") + "\n")
		}
		b.WriteString("\nNext: press n for the preflight checks.\n")
	case Failed:
		fmt.Fprintf(&b, "%s Sign-in failed\n\n", p.MarkFail)
		for _, line := range strings.Split(graph.ExplainSignIn(s.err, s.deps.Auth.Method()).Text(), "\n") {
			b.WriteString(text.Hang(safe.Text(line), width, 5) + "\n")
		}
	}
	return b.String()
}
