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

// SignedInMsg tells the root that the operator is signed in.
type SignedInMsg struct {
	Client  *graph.Client
	Session graph.Session
}

type deviceCodeMsg struct{ code graph.DeviceCode }

type signInFailedMsg struct{ err error }

// SignIn is step 0: sign in and show who, where and with which scopes.
type SignIn struct {
	auth    Authenticator
	pal     text.Palette
	ctx     context.Context
	status  Status
	code    *graph.DeviceCode
	session graph.Session
	err     error
	events  chan tea.Msg
	spin    spinner.Model
	retry   key.Binding
}

// NewSignIn builds the sign-in step.
func NewSignIn(ctx context.Context, auth Authenticator, pal text.Palette) *SignIn {
	return &SignIn{
		auth: auth, pal: pal, ctx: ctx, status: Pending,
		spin:  spinner.New(spinner.WithSpinner(spinner.Dot)),
		retry: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry sign-in")),
	}
}

func (s *SignIn) Title() string  { return "Sign in" }
func (s *SignIn) Status() Status { return s.status }

func (s *SignIn) Keys() []key.Binding {
	if s.status == Failed {
		return []key.Binding{s.retry}
	}
	return nil
}

// Init starts the sign-in. The credential reports the device code from its
// own goroutine, so both the code and the result arrive on a channel that a
// command waits on.
func (s *SignIn) Init() tea.Cmd {
	if s.status == Done {
		return nil
	}
	s.status, s.err, s.code = Running, nil, nil
	s.events = make(chan tea.Msg, 2)
	return tea.Batch(s.spin.Tick, startSignIn(s.ctx, s.auth, s.events), waitFor(s.events))
}

func startSignIn(ctx context.Context, auth Authenticator, events chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		client, sess, err := auth.SignIn(ctx, func(dc graph.DeviceCode) { events <- deviceCodeMsg{dc} })
		if err != nil {
			events <- signInFailedMsg{err}
		} else {
			events <- SignedInMsg{Client: client, Session: sess}
		}
		return nil
	}
}

// waitFor delivers the next message from the channel.
func waitFor(ch chan tea.Msg) tea.Cmd {
	return func() tea.Msg { return <-ch }
}

func (s *SignIn) Update(msg tea.Msg) (Step, tea.Cmd) {
	switch msg := msg.(type) {
	case deviceCodeMsg:
		s.code = &msg.code
		return s, waitFor(s.events)
	case SignedInMsg:
		s.status, s.session = Done, msg.Session
		return s, nil // the root picks this message up too
	case signInFailedMsg:
		s.status, s.err = Failed, msg.err
		return s, nil
	case spinner.TickMsg:
		if s.status != Running {
			return s, nil
		}
		var cmd tea.Cmd
		s.spin, cmd = s.spin.Update(msg)
		return s, cmd
	case tea.KeyPressMsg:
		if s.status == Failed && key.Matches(msg, s.retry) {
			return s, s.Init()
		}
	}
	return s, nil
}

func (s *SignIn) View(width int) string {
	var b strings.Builder
	p := s.pal
	switch s.status {
	case Running:
		if s.code == nil {
			fmt.Fprintf(&b, "%s Signing in (%s)…\n", s.spin.View(), s.auth.Method())
			break
		}
		fmt.Fprintf(&b, "To sign in, open %s in a browser and enter the code\n\n", p.Bold(safe.Text(s.code.VerificationURL)))
		fmt.Fprintf(&b, "    %s\n\n", p.Code(safe.Text(s.code.UserCode)))
		fmt.Fprintf(&b, "%s Waiting for you to finish in the browser (the code is valid for 15 minutes)…\n", s.spin.View())
	case Done:
		sess := s.session
		who := sess.UPN
		if sess.AppOnly {
			who = "an application (app-only): Conditional Access for users does not apply to it"
		}
		fmt.Fprintf(&b, "%s Signed in as %s\n", p.MarkPass, p.Bold(safe.Text(who)))
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
			b.WriteString(p.Muted("  Fix: an administrator grants consent to these scopes for the app you sign in with (--client-id).") + "\n")
		} else {
			b.WriteString(p.Muted("  Every scope the later steps need was granted.") + "\n")
		}
	case Failed:
		fmt.Fprintf(&b, "%s Sign-in failed\n\n", p.MarkFail)
		for _, line := range strings.Split(graph.ExplainSignIn(s.err, s.auth.Method()).Text(), "\n") {
			b.WriteString(text.Hang(safe.Text(line), width, 5) + "\n")
		}
	}
	return b.String()
}
