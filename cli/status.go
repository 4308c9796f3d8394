package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"mgmtsession/preflight"
	"mgmtsession/safe"
	"mgmtsession/steps"
)

// runStatus prints what preflight finds, without the UI: the tenant,
// licence, security defaults, management accounts and every check.
func runStatus(ctx context.Context, args []string, s Streams) error {
	var g globals
	fs := flag.NewFlagSet("mgmtsession status", flag.ContinueOnError)
	g.register(fs)
	failOn := fs.Bool("fail-on-problems", false, "exit with code 3 when a check fails")
	if err := parse(fs, args, s); err != nil {
		return err
	}
	env, err := openEnv(g)
	if err != nil {
		return err
	}
	defer env.Close()
	client, sess, err := signInQuietly(ctx, env, s)
	if err != nil {
		return err
	}
	report, err := preflight.Run(ctx, client, sess)
	if err != nil {
		return err
	}
	if g.json {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else {
		printReport(s.Out, report)
	}
	if _, _, fail := report.Counts(); *failOn && fail > 0 {
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
	fmt.Fprintf(w, "\nChecks: %d passed, %s, %d failed (%s)\n", pass, steps.Plural(warn, "warning"), fail, time.Now().UTC().Format(time.RFC3339))
	plain := steps.PlainPalette()
	for _, c := range r.Checks {
		fmt.Fprint(w, steps.RenderCheck(plain, c, 0))
	}
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}
