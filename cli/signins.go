package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"mgmtsession/graph"
	"mgmtsession/probe"
	"mgmtsession/safe"
)

type signinsOptions struct {
	upn   string
	since time.Duration
	top   int
	watch bool
}

// signinsWatchEvery is how often --watch reads the log: once every ten
// seconds stays well inside the sign-in log's documented limit (five
// requests per ten seconds per app and tenant), which other tools of the
// same app share. A variable so that tests need not wait.
var signinsWatchEvery = 10 * time.Second

func signinsCmd(f *factory) *cobra.Command {
	var o signinsOptions
	cmd := &cobra.Command{
		Use:   "signins",
		Short: "The management account's recent sign-ins, each failure explained",
		Long: "Lists the management account's recent sign-ins from the tenant's sign-in log, newest first: time, IP address, application, result, " +
			"and the Conditional Access policies applied with their result; each failure is explained by its AADSTS code. " +
			"The account is the one the tenant's session record names (--upn for another). The sign-in log needs Entra ID P1 and AuditLog.Read.All, " +
			"and Entra lists a sign-in 2 to 15 minutes after it happens. --watch keeps reading and prints new sign-ins as they appear, " +
			"one read every ten seconds (the log allows five per ten seconds).",
		GroupID: groupReadOnly,
		Args:    noArgs,
		Example: `  mgmtsession signins --demo
  mgmtsession signins --since 72h --upn admin@contoso.com
  mgmtsession signins --watch
  mgmtsession signins --json`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSignins(cmd.Context(), cmd, f, o) },
	}
	fs := cmd.Flags()
	fs.StringVar(&o.upn, "upn", "", "the account's user principal name (default: the management account the session record names)")
	fs.DurationVar(&o.since, "since", 24*time.Hour, "how far back to list (the log keeps 30 days)")
	fs.IntVar(&o.top, "top", 20, "at most this many sign-ins (1 to 1000)")
	fs.BoolVar(&o.watch, "watch", false, "keep reading and print new sign-ins as they appear, until interrupted")
	return cmd
}

func runSignins(ctx context.Context, cmd *cobra.Command, f *factory, o signinsOptions) error {
	if o.top < 1 || o.top > 1000 {
		return usagef("--top %d: give 1 to 1000", o.top)
	}
	if o.since <= 0 || o.since > 30*24*time.Hour {
		return usagef("--since %s: give a duration up to 720h (the log keeps 30 days)", o.since)
	}
	if o.watch && f.g.json {
		return usagef("--watch and --json do not go together: --watch prints lines as sign-ins appear")
	}
	t, err := f.signIn(ctx)
	if err != nil {
		return err
	}
	defer t.Close()
	upn, err := signinsAccount(ctx, cmd, t, o.upn)
	if err != nil {
		return err
	}
	out := f.streams.Out
	q := graph.SignInQuery{UPN: upn, Since: time.Now().Add(-o.since), Top: o.top}
	if o.watch {
		fmt.Fprintf(out, "Sign-ins of %s, following new ones (Ctrl+C stops). %s\n", safe.Text(upn), probe.LagNote)
		err := probe.Follow(ctx, t.client, q, signinsWatchEvery, func(es []probe.Entry) error {
			for _, e := range es {
				printSignIn(out, e)
			}
			return nil
		})
		return signinsError(err)
	}
	entries, err := probe.ReadLog(ctx, t.client, q)
	if err != nil {
		return signinsError(err)
	}
	if f.g.json {
		return writeJSON(out, signinsJSON{Account: upn, Since: q.Since.UTC().Truncate(time.Second), SignIns: nonNil(entries)})
	}
	if len(entries) == 0 {
		fmt.Fprintf(out, "No sign-in of %s since %s. %s\n", safe.Text(upn), q.Since.UTC().Format(time.RFC3339), probe.LagNote)
		return nil
	}
	fmt.Fprintf(out, "Sign-ins of %s, newest first (%d):\n", safe.Text(upn), len(entries))
	for _, e := range entries {
		printSignIn(out, e)
	}
	return nil
}

// signinsJSON is signins --json.
type signinsJSON struct {
	Account string        `json:"account"`
	Since   time.Time     `json:"since"`
	SignIns []probe.Entry `json:"signIns"`
}

func nonNil(es []probe.Entry) []probe.Entry {
	if es == nil {
		return []probe.Entry{}
	}
	return es
}

// signinsAccount is the account whose sign-ins to list: --upn, else the
// management account the tenant's session record names (or the default
// name when there is none yet).
func signinsAccount(ctx context.Context, cmd *cobra.Command, t *tenant, upn string) (string, error) {
	if upn != "" {
		return upn, nil
	}
	facts, d, err := sessionFacts(ctx, cmd, t.client, t.sess, "")
	if err != nil {
		return "", err
	}
	if facts.Account != nil {
		return facts.Account.User.UserPrincipalName, nil
	}
	return d.DefaultUPN(facts.InitialDomain)
}

// signinsError says what a tenant without P1, or an operator without the
// permission, can do.
func signinsError(err error) error {
	switch {
	case err == nil:
		return nil
	case graph.IsNoPremium(err):
		return fmt.Errorf("%s", probe.NoPremiumNote)
	case graph.IsForbidden(err):
		return fmt.Errorf("reading the sign-in log was refused: it needs the AuditLog.Read.All permission and a role that reads it "+
			"(Reports Reader, Security Reader, Global Reader or above); sign in with one, or have an administrator consent to AuditLog.Read.All: %w", err)
	}
	return err
}

// printSignIn is one sign-in as a person reads it.
func printSignIn(w io.Writer, e probe.Entry) {
	result := "success"
	if e.Status.ErrorCode != 0 {
		result = fmt.Sprintf("%s (AADSTS%d)", e.Outcome.Title(), e.Status.ErrorCode)
	}
	app := e.AppDisplayName
	if app == "" {
		app = e.AppID
	}
	fmt.Fprintf(w, "\n%s  %s  %s\n", e.CreatedDateTime.UTC().Format("2006-01-02 15:04:05Z"), safe.Text(e.IPAddress), safe.Text(app))
	fmt.Fprintf(w, "  Result    %s\n", safe.Text(result))
	ps := e.Policies()
	if len(ps) == 0 {
		fmt.Fprintln(w, "  Policies  none applied")
	}
	for i, p := range ps {
		label := "          "
		if i == 0 {
			label = "Policies  "
		}
		fmt.Fprintf(w, "  %s%s: %s\n", label, safe.Text(p.DisplayName), safe.Text(policyResultWords(p.Result)))
	}
	if e.Cause != "" {
		fmt.Fprintf(w, "  Cause     %s\n", safe.Text(e.Cause))
		fmt.Fprintf(w, "  Fix       %s\n", safe.Text(e.Fix))
	}
}

// policyResultWords says a policy's result as a person would.
func policyResultWords(r string) string {
	switch r {
	case "success":
		return "applied, satisfied"
	case "failure":
		return "applied, not satisfied"
	case "reportOnlySuccess":
		return "report-only, would be satisfied"
	case "reportOnlyFailure":
		return "report-only, would not be satisfied"
	case "reportOnlyInterrupted":
		return "report-only, would interrupt"
	}
	return strings.TrimSpace(r)
}
