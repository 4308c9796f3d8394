package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"mgmtsession/change"
	"mgmtsession/graph"
	"mgmtsession/preflight"
	"mgmtsession/safe"
	"mgmtsession/text"
)

type statusOptions struct {
	failOnProblems bool
	upn            string
}

func statusCmd(f *factory) *cobra.Command {
	var o statusOptions
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Management ON/OFF, the account, licence, security defaults and every check",
		Long:    "Reads the tenant and prints what the wizard's preflight finds, without the UI: the tenant, its licence and security defaults, the management accounts with their roles and MFA state, break-glass accounts, and every check with its reason and fix.",
		GroupID: groupReadOnly,
		Args:    noArgs,
		Example: `  mgmtsession status --demo
  mgmtsession status --tenant contoso.onmicrosoft.com --auth devicecode
  mgmtsession status --demo --demo-scenario no-p1 --fail-on-problems
  mgmtsession status --demo --json`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runStatus(cmd.Context(), cmd, f, o) },
	}
	cmd.Flags().BoolVar(&o.failOnProblems, "fail-on-problems", false, "exit with code 3 when a check fails or the session drifted from its record")
	cmd.Flags().StringVar(&o.upn, "upn", "", "the management account's user principal name (default: coreview.admin@ the initial domain)")
	return cmd
}

// runStatus prints what preflight finds, without the UI.
func runStatus(ctx context.Context, cmd *cobra.Command, f *factory, o statusOptions) error {
	t, err := f.signIn(ctx)
	if err != nil {
		return err
	}
	defer t.Close()
	return reportStatus(ctx, cmd, f.streams.Out, f.g.json, t.client, t.sess, o)
}

// statusJSON is status --json: the preflight report and, beside it, the
// management session as the tenant records it (session, account, allowed
// IPs, location, policy, exclusions, drift).
type statusJSON struct {
	*preflight.Report
	*change.Status
	// SessionError says why the session could not be read; the session is
	// then "unknown".
	SessionError string `json:"sessionError,omitempty"`
}

// reportStatus reads and judges the tenant and its management session (at
// once), prints the report (as JSON when asJSON) and returns what the exit
// code is made from.
func reportStatus(ctx context.Context, cmd *cobra.Command, out io.Writer, asJSON bool, client *graph.Client, sess graph.Session, o statusOptions) error {
	var (
		report  *preflight.Report
		rerr    error
		session *change.Status
		serr    error
		wg      sync.WaitGroup
	)
	wg.Go(func() { report, rerr = preflight.Run(ctx, client, sess) })
	wg.Go(func() {
		var facts *change.Facts
		if facts, _, serr = sessionFacts(ctx, cmd, client, sess, o.upn); serr == nil {
			session = change.SessionStatus(facts)
		}
	})
	wg.Wait()
	if rerr != nil {
		return rerr
	}
	if errors.Is(serr, change.ErrInvalidInput) {
		return serr
	}
	if asJSON {
		doc := statusJSON{Report: report, Status: session}
		if serr != nil {
			doc.Status = &change.Status{Session: "unknown", AllowedIPs: []string{}, ExcludedFrom: []string{}, Drift: []change.Drift{}, Notes: []string{}}
			doc.SessionError = serr.Error()
		}
		if err := writeJSON(out, doc); err != nil {
			return err
		}
	} else {
		printReport(out, report)
		printSession(out, session, serr)
	}
	n := report.Counts()
	if serr != nil {
		n.Unknown++ // the session is one more thing that could not be judged
	}
	if err := statusOutcome(n, o); err != nil {
		return err
	}
	if o.failOnProblems && len(session.Drift) > 0 {
		return &problemsError{n: len(session.Drift)}
	}
	return nil
}

// printSession is the plain-text form of the management session.
func printSession(w io.Writer, s *change.Status, err error) {
	fmt.Fprintln(w, "\nManagement session")
	if err != nil {
		fmt.Fprintf(w, "  unknown: %s\n", safe.Text(err.Error()))
		return
	}
	since := ""
	if s.Since != "" {
		since = " since " + safe.Text(s.Since)
		if s.By != "" {
			since += " by " + safe.Text(s.By)
		}
	}
	fmt.Fprintf(w, "  Session        %s%s\n", strings.ToUpper(s.Session), since)
	if s.Account == nil {
		fmt.Fprintln(w, "  Account        none: set it up with the wizard or mgmtsession apply")
	} else {
		en := map[bool]string{true: "enabled", false: "disabled"}[s.Account.AccountEnabled]
		fmt.Fprintf(w, "  Account        %s (%s, %s)\n", safe.Text(s.Account.UserPrincipalName), s.Mode, en)
		fmt.Fprintf(w, "  Roles          %s\n", safe.Text(orNone(s.Account.Roles)))
	}
	if s.Session != change.SessionAbsent {
		fmt.Fprintf(w, "  Allowed IPs    %s\n", safe.Text(orNone(s.AllowedIPs)))
		if s.NamedLocation != nil {
			fmt.Fprintf(w, "  Location       %s (%s)\n", safe.Text(s.NamedLocation.DisplayName), safe.Text(s.NamedLocation.ID))
		}
		if s.Policy != nil {
			fmt.Fprintf(w, "  Policy         %s (%s)\n", safe.Text(s.Policy.DisplayName), safe.Text(s.Policy.State))
		}
		fmt.Fprintf(w, "  Excluded from  %s\n", text.Plural(len(s.ExcludedFrom), "policy"))
		fmt.Fprintf(w, "  Auto-enable    %s\n", map[bool]string{true: "on", false: "off"}[s.AutoEnable])
		if len(s.Drift) == 0 {
			fmt.Fprintln(w, "  Drift          none: the tenant holds what the record says")
		}
	}
	if len(s.Sweep) > 0 && s.Account != nil {
		for i, h := range s.Sweep {
			label := map[bool]string{true: "  What If sweep  ", false: "                 "}[i == 0]
			fmt.Fprintf(w, "%s%s\n", label, safe.Text(h))
		}
		fmt.Fprintf(w, "                 Details: mgmtsession whatif --sweep --user %s --allowed-ip %s\n",
			safe.Text(s.Account.UserPrincipalName), safe.Text(strings.Join(s.AllowedIPs, ",")))
	}
	for _, d := range s.Drift {
		fmt.Fprintf(w, "[DRIFT] %s\n  Fix: %s\n", safe.Text(d.What), safe.Text(d.Fix))
	}
	for _, n := range s.Notes {
		fmt.Fprintf(w, "  Note: %s\n", safe.Text(n))
	}
}

// statusOutcome is the exit the checks call for: a check that could not be
// judged because a read failed fails the command (exit 1), whatever the
// others say, since a verdict from a read that failed is a verdict from
// nothing; with --fail-on-problems, failed and unknown checks alike are
// problems (exit 3).
func statusOutcome(n preflight.Tally, o statusOptions) error {
	switch {
	case o.failOnProblems && n.Fail+n.Unknown > 0:
		return &problemsError{n: n.Fail + n.Unknown}
	case n.Unknown > 0:
		return fmt.Errorf("%s could not be judged because a read of the tenant failed (see the UNKNOWN checks): run status again", text.Plural(n.Unknown, "check"))
	}
	return nil
}

// printReport is the plain-text form of a preflight report; every tenant
// string is sanitised, and a fact whose read failed says so.
func printReport(w io.Writer, r *preflight.Report) {
	const unread = "unknown (could not be read)"
	yes := func(b *bool) string {
		if b == nil {
			return "unknown"
		}
		return map[bool]string{true: "yes", false: "no"}[*b]
	}
	on := func(b *bool) string {
		if b == nil {
			return unread
		}
		return map[bool]string{true: "on", false: "off"}[*b]
	}
	if r.TenantName == "" && r.InitialDomain == "" {
		fmt.Fprintf(w, "Tenant            %s\n", unread)
	} else {
		fmt.Fprintf(w, "Tenant            %s (%s)\n", safe.Text(r.TenantName), safe.Text(r.InitialDomain))
	}
	fmt.Fprintf(w, "Tenant id         %s\n", safe.Text(r.TenantID))
	who := safe.Text(r.Operator)
	if len(r.OperatorRoles) > 0 {
		who += " (" + safe.Text(strings.Join(r.OperatorRoles, ", ")) + ")"
	}
	fmt.Fprintf(w, "Signed in as      %s\n", who)
	fmt.Fprintf(w, "Entra ID P1 / P2  %s / %s\n", yes(r.EntraP1), yes(r.EntraP2))
	fmt.Fprintf(w, "Security defaults %s\n", on(r.SecurityDefaults))
	fmt.Fprintf(w, "Management        %s\n", r.Management)
	switch {
	case r.Accounts == nil:
		fmt.Fprintf(w, "Accounts          %s\n", unread)
	case len(r.Accounts) == 0:
		fmt.Fprintln(w, "Accounts          none found")
	}
	for _, a := range r.Accounts {
		fmt.Fprintf(w, "Account           %s, %s, per-user MFA %s, MFA methods: %s\n", safe.Text(a.UPN),
			map[bool]string{true: "enabled", false: "disabled"}[a.Enabled], safe.Text(orUnknown(a.PerUserMFA)), safe.Text(orNone(a.MFAMethods)))
		fmt.Fprintf(w, "                  roles: %s\n", safe.Text(orNone(a.Roles)))
	}
	if r.BreakGlass == nil {
		fmt.Fprintf(w, "Break-glass       %s\n", unread)
	} else {
		fmt.Fprintf(w, "Break-glass       %s\n", safe.Text(orNone(r.BreakGlass)))
	}
	policies, locations := unread, unread
	if r.Policies != nil {
		policies = fmt.Sprint(len(r.Policies))
	}
	if r.NamedLocations != nil {
		locations = fmt.Sprint(*r.NamedLocations)
	}
	fmt.Fprintf(w, "Policies          %s, named locations %s\n", policies, locations)
	n := r.Counts()
	unknown := ""
	if n.Unknown > 0 {
		unknown = fmt.Sprintf(", %d unknown", n.Unknown)
	}
	fmt.Fprintf(w, "\nChecks: %d passed, %s, %d failed%s (%s)\n", n.Pass, text.Plural(n.Warn, "warning"), n.Fail, unknown, time.Now().UTC().Format(time.RFC3339))
	plain := text.PlainPalette()
	for _, c := range r.Checks {
		fmt.Fprint(w, text.Check(plain, c, 0))
	}
}

// orUnknown names a value that was not read, or that Graph left empty.
func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}
