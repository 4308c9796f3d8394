package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"mgmtsession/connect"
	"mgmtsession/graph"
	"mgmtsession/safe"
)

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

// signInQuietly signs in for a headless command. A real tenant's device
// code goes to stderr (stdout stays the result); the simulated tenant
// approves its own code, so the demo prints none.
func signInQuietly(ctx context.Context, env *connect.Env, s Streams) (*graph.Client, graph.Session, error) {
	onCode := func(dc graph.DeviceCode) { fmt.Fprintln(s.Err, safe.Text(dc.Message)) }
	if env.Sim != nil {
		onCode = nil
	}
	client, sess, err := env.SignIn(ctx, onCode)
	if err != nil {
		return nil, graph.Session{}, fmt.Errorf("signing in failed\n%s", connect.ExplainSignInError(err, env.Method()))
	}
	return client, sess, nil
}
