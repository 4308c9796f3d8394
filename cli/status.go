package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"mgmtsession/preflight"
	"mgmtsession/safe"
	"mgmtsession/text"
)

type statusOptions struct {
	failOnProblems bool
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
		RunE: func(cmd *cobra.Command, _ []string) error { return runStatus(cmd.Context(), f, o) },
	}
	cmd.Flags().BoolVar(&o.failOnProblems, "fail-on-problems", false, "exit with code 3 when a check fails")
	return cmd
}

// runStatus prints what preflight finds, without the UI.
func runStatus(ctx context.Context, f *factory, o statusOptions) error {
	t, err := f.signIn(ctx)
	if err != nil {
		return err
	}
	defer t.Close()
	report, err := preflight.Run(ctx, t.client, t.sess)
	if err != nil {
		return err
	}
	if f.g.json {
		if err := writeJSON(f.streams.Out, report); err != nil {
			return err
		}
	} else {
		printReport(f.streams.Out, report)
	}
	if _, _, fail := report.Counts(); o.failOnProblems && fail > 0 {
		return &problemsError{n: fail}
	}
	return nil
}

// printReport is the plain-text form of a preflight report; every tenant
// string is sanitised.
func printReport(w io.Writer, r *preflight.Report) {
	yes := map[bool]string{true: "yes", false: "no"}
	on := map[bool]string{true: "on", false: "off"}
	fmt.Fprintf(w, "Tenant            %s (%s)\n", safe.Text(r.TenantName), safe.Text(r.InitialDomain))
	fmt.Fprintf(w, "Tenant id         %s\n", safe.Text(r.TenantID))
	who := safe.Text(r.Operator)
	if len(r.OperatorRoles) > 0 {
		who += " (" + safe.Text(strings.Join(r.OperatorRoles, ", ")) + ")"
	}
	fmt.Fprintf(w, "Signed in as      %s\n", who)
	fmt.Fprintf(w, "Entra ID P1 / P2  %s / %s\n", yes[r.EntraP1], yes[r.EntraP2])
	fmt.Fprintf(w, "Security defaults %s\n", on[r.SecurityDefaults])
	fmt.Fprintf(w, "Management        %s\n", r.Management)
	if len(r.Accounts) == 0 {
		fmt.Fprintln(w, "Accounts          none found")
	}
	for _, a := range r.Accounts {
		fmt.Fprintf(w, "Account           %s, %s, per-user MFA %s, MFA methods: %s\n", safe.Text(a.UPN),
			map[bool]string{true: "enabled", false: "disabled"}[a.Enabled], safe.Text(a.PerUserMFA), safe.Text(orNone(a.MFAMethods)))
		fmt.Fprintf(w, "                  roles: %s\n", safe.Text(orNone(a.Roles)))
	}
	fmt.Fprintf(w, "Break-glass       %s\n", safe.Text(orNone(r.BreakGlass)))
	fmt.Fprintf(w, "Policies          %d, named locations %d\n", len(r.Policies), r.NamedLocations)
	pass, warn, fail := r.Counts()
	fmt.Fprintf(w, "\nChecks: %d passed, %s, %d failed (%s)\n", pass, text.Plural(warn, "warning"), fail, time.Now().UTC().Format(time.RFC3339))
	plain := text.PlainPalette()
	for _, c := range r.Checks {
		fmt.Fprint(w, text.Check(plain, c, 0))
	}
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}
