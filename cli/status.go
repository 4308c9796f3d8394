package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"mgmtsession/connect"
	"mgmtsession/graph"
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
	client, sess, err := env.SignIn(ctx, func(dc graph.DeviceCode) {
		// The code goes to stderr so that stdout stays the report (or JSON).
		fmt.Fprintln(s.Err, safe.Text(dc.Message))
	})
	if err != nil {
		return fmt.Errorf("signing in failed\n%s", connect.ExplainSignInError(err, env.Method()))
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

// openEnv checks the global options and opens the tenant (or the demo).
func openEnv(g globals) (*connect.Env, error) {
	switch g.cloud {
	case "global", "usgov", "usgovdod", "china":
	default:
		return nil, usagef("unknown --cloud %q (use global, usgov, usgovdod or china)", g.cloud)
	}
	switch g.auth {
	case "", graph.AuthDeviceCode, graph.AuthBrowser, graph.AuthSecret, graph.AuthCertificate, graph.AuthAzureCLI:
	default:
		return nil, usagef("unknown --auth %q (use devicecode, browser, secret, certificate or azcli)", g.auth)
	}
	if !g.demo && (g.demoState != "" || g.demoScenario != "") {
		return nil, usagef("--demo-state and --demo-scenario go with --demo")
	}
	log, closeLog, err := openDebugLog(g.debugLog)
	if err != nil {
		return nil, err
	}
	env, err := connect.Open(connect.Options{
		Tenant: g.tenant, Cloud: g.cloud, Auth: g.auth, ClientID: g.clientID, CertPath: g.certPath,
		Demo: g.demo, DemoState: g.demoState, DemoScenario: g.demoScenario,
		DemoApproveAfter: 0, Log: log,
	})
	if err != nil {
		closeLog()
		if g.demo {
			return nil, usagef("%v", err)
		}
		return nil, err
	}
	env.OnClose(closeLog)
	return env, nil
}

// openDebugLog opens --debug-log for appending, readable by the owner only.
func openDebugLog(path string) (*slog.Logger, func(), error) {
	if path == "" {
		return nil, func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, usagef("--debug-log: %v", err)
	}
	log := slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
	log.Info("start", "args", strings.Join(os.Args[1:], " "))
	return log, func() { f.Close() }, nil
}

// printReport is the plain-text form of a preflight report; every tenant
// string is sanitised.
func printReport(w io.Writer, r *preflight.Report) {
	yes := map[bool]string{true: "yes", false: "no"}
	on := map[bool]string{true: "on", false: "off"}
	fmt.Fprintf(w, "Tenant            %s (%s)\n", safe.Text(r.TenantName), safe.Text(r.InitialDomain))
	fmt.Fprintf(w, "Tenant id         %s\n", safe.Text(r.TenantID))
	fmt.Fprintf(w, "Signed in as      %s (%s)\n", safe.Text(r.Operator), safe.Text(strings.Join(r.OperatorRoles, ", ")))
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
