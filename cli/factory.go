package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"mgmtsession/connect"
	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
	"mgmtsession/safe"
)

// globals are the options every command takes (persistent flags).
type globals struct {
	tenant, cloud, auth, clientID, certPath string
	demo                                    bool
	demoState, demoScenario                 string
	demoApproveAfter                        time.Duration // < 0: the default
	accessible, json                        bool
	debugLog                                string
}

// factory is the one way into a tenant (gh's Factory): it holds the global
// options and the streams, validates the options in one place (through
// connect.Options.Validate), opens the tenant or the demo, signs in and
// hands a command its client. No command repeats that start.
type factory struct {
	streams Streams
	g       globals
	plain   bool           // NO_COLOR, ACCESSIBLE=1 or --accessible
	cmd     *cobra.Command // the command running, for --help pointers
	fromEnv map[string]string
}

// envVars are the global options an environment variable can give.
var envVars = []struct{ flag, env string }{
	{"tenant", "MGMTSESSION_TENANT"},
	{"cloud", "MGMTSESSION_CLOUD"},
	{"auth", "MGMTSESSION_AUTH"},
	{"client-id", "MGMTSESSION_CLIENT_ID"},
	{"cert", "MGMTSESSION_CERT"},
	{"debug-log", "MGMTSESSION_DEBUG_LOG"},
}

func envFor(flag string) string {
	for _, v := range envVars {
		if v.flag == flag {
			return v.env
		}
	}
	return ""
}

func envHelp() string {
	names := make([]string, len(envVars))
	for i, v := range envVars {
		names[i] = v.env
	}
	return strings.Join(names, ", ") + " set the option of the same name"
}

func (f *factory) register(root *cobra.Command) {
	fs := root.PersistentFlags()
	g := &f.g
	withEnv := func(flag, usage string) string {
		if e := envFor(flag); e != "" {
			return usage + " [$" + e + "]"
		}
		return usage
	}
	fs.StringVar(&g.tenant, "tenant", "", withEnv("tenant", "tenant id or domain (default: your home tenant)"))
	fs.StringVar(&g.cloud, "cloud", "global", withEnv("cloud", "cloud: global, usgov, usgovdod or china"))
	fs.StringVar(&g.auth, "auth", "", withEnv("auth", "how to sign in: devicecode, browser, secret, certificate or azcli"))
	fs.StringVar(&g.clientID, "client-id", "", withEnv("client-id", "app (client) id to sign in with (default: Graph CLI Tools)"))
	fs.StringVar(&g.certPath, "cert", "", withEnv("cert", "certificate (PEM with key, or PFX) for --auth certificate"))
	fs.BoolVar(&g.demo, "demo", false, "use the built-in simulated tenant instead of a real one")
	fs.StringVar(&g.demoState, "demo-state", "", "file that keeps the simulated tenant between commands")
	fs.StringVar(&g.demoScenario, "demo-scenario", "", "simulated tenant scenario (mgmtsession emulator --list-scenarios)")
	// How long the simulated tenant leaves a device code waiting: for
	// showing a sign-in slowly, and for tests of what happens meanwhile
	// (Ctrl+C). Hidden: it is no choice a tenant's operator makes.
	fs.DurationVar(&g.demoApproveAfter, "demo-approve-after", -1, "with --demo: approve the device code after this long")
	_ = fs.MarkHidden("demo-approve-after")
	fs.BoolVar(&g.accessible, "accessible", false, "plain text, no colour, no full-screen UI [$ACCESSIBLE]")
	fs.BoolVar(&g.json, "json", false, "print JSON on stdout, and nothing else")
	fs.StringVar(&g.debugLog, "debug-log", "", withEnv("debug-log", "write a diagnostic log (never secrets) to FILE"))

	complete := func(flag string, values func() []string) {
		_ = root.RegisterFlagCompletionFunc(flag, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values(), cobra.ShellCompDirectiveNoFileComp
		})
	}
	complete("cloud", func() []string {
		return []string{"global\tMicrosoft's global cloud", "usgov\tUS Government (GCC High, L4)", "usgovdod\tUS Government DoD (L5)", "china\tChina (21Vianet)"}
	})
	complete("auth", func() []string {
		return []string{
			graph.AuthDeviceCode + "\ta code to enter on any device (SSH, no browser)",
			graph.AuthBrowser + "\tthe browser on this machine",
			graph.AuthSecret + "\tapp-only, secret in MGMTSESSION_CLIENT_SECRET",
			graph.AuthCertificate + "\tapp-only, certificate from --cert",
			graph.AuthAzureCLI + "\tthe Azure CLI's sign-in",
		}
	})
	complete("demo-scenario", func() []string {
		all, err := tenantsim.Scenarios()
		if err != nil {
			return nil
		}
		out := make([]string, len(all))
		for i, sc := range all {
			out[i] = sc[0] + "\t" + sc[1]
		}
		return out
	})
}

// applyEnv gives each global option not set by a flag the value of its
// environment variable: a flag wins.
func (f *factory) applyEnv(cmd *cobra.Command) error {
	f.fromEnv = map[string]string{}
	if truthy(os.Getenv("ACCESSIBLE")) {
		f.g.accessible = true
	}
	for _, v := range envVars {
		fl := cmd.Flags().Lookup(v.flag)
		val, ok := os.LookupEnv(v.env)
		if fl == nil || fl.Changed || !ok || val == "" {
			continue
		}
		if err := fl.Value.Set(val); err != nil {
			return &usageError{msg: fmt.Sprintf("%s: %v", v.env, err), cmd: cmd.CommandPath()}
		}
		f.fromEnv[v.flag] = v.env
	}
	return nil
}

// optionName is how the operator gave an option: its flag, or the
// environment variable it came from.
func (f *factory) optionName(flag string) string {
	if e, ok := f.fromEnv[flag]; ok {
		return e
	}
	return "--" + flag
}

func (f *factory) connectOptions(approveAfter time.Duration, log *slog.Logger) connect.Options {
	g := f.g
	return connect.Options{
		Tenant: g.tenant, Cloud: g.cloud, Auth: g.auth, ClientID: g.clientID, CertPath: g.certPath,
		Demo: g.demo, DemoState: g.demoState, DemoScenario: g.demoScenario,
		DemoApproveAfter: approveAfter, Log: log, Accessible: g.accessible,
	}
}

// demoApproveAfter leaves the device code on screen long enough to read
// before the simulated tenant approves it; headless commands print no code
// in the demo, so they do not wait.
const demoApproveAfter = 1800 * time.Millisecond

// open validates the global options and opens the tenant (or starts the
// demo); interactive says whether a person watches the sign-in.
func (f *factory) open(interactive bool) (*connect.Env, error) {
	approve := time.Duration(0)
	if interactive {
		approve = demoApproveAfter
	}
	if f.g.demoApproveAfter >= 0 {
		if !f.g.demo {
			return nil, usagef("--demo-approve-after goes with --demo")
		}
		approve = f.g.demoApproveAfter
	}
	opts := f.connectOptions(approve, nil)
	if err := f.validate(opts); err != nil {
		return nil, err
	}
	// The credential reads the certificate with a plain read, which a FIFO
	// would block for ever: only a regular file is handed to it. (A missing
	// file is left to the credential, which says so when it is used.)
	if path := f.g.certPath; path != "" {
		if err := checkRegularFile(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, usagef("%s %s: %v", f.optionName("cert"), path, err)
		}
	}
	log, closeLog, err := f.openDebugLog(f.g.debugLog)
	if err != nil {
		return nil, err
	}
	opts.Log = log
	env, err := connect.Open(opts)
	if err != nil {
		closeLog()
		return nil, f.openError(err)
	}
	env.OnClose(closeLog)
	return env, nil
}

// openError sorts what connect.Open refused: the operator's input (a
// certificate, a CA file, a demo state that is not valid) is a usage error,
// exit 2; a demo state held by another process or one that cannot be
// written is a fact of this machine, not bad input: exit 1, naming the file.
func (f *factory) openError(err error) error {
	var ce *graph.CertificateError
	var ee *connect.EnvError
	switch {
	case errors.As(err, &ce):
		return usagef("%s %s: %s", f.optionName("cert"), safe.Text(ce.Path), ce.Reason)
	case errors.As(err, &ee):
		return usagef("%s", safe.Text(ee.Error()))
	case !f.g.demo:
		return err
	case errors.Is(err, tenantsim.ErrStateInUse):
		return fmt.Errorf("%s; close the other mgmtsession using it, or give another --demo-state file", safe.Text(err.Error()))
	case f.g.demoState != "" && !canWrite(f.g.demoState):
		return errors.New(safe.Text(err.Error()))
	}
	return &usageError{msg: err.Error()}
}

// canWrite reports whether path, when it exists, can be opened for writing
// (the kernel knows ACLs and read-only mounts better than the mode bits).
// It opens without creating, truncating or blocking on a FIFO.
func canWrite(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return true // missing or not a file: the demo's own message says so
	}
	file, err := os.OpenFile(path, os.O_WRONLY|openNonblock, 0)
	if err != nil {
		return false
	}
	file.Close()
	return true
}

// validate is connect's validation, with each bad option named as the
// operator gave it.
func (f *factory) validate(opts connect.Options) error {
	err := opts.Validate()
	var oe *connect.OptionError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &oe):
		return usagef("unknown %s %q (%s)", f.optionName(string(oe.Setting)), safe.Text(oe.Value), oe.Reason)
	}
	return usagef("%v", err)
}

// tenant is a signed-in tenant for a headless command.
type tenant struct {
	env    *connect.Env
	client *graph.Client
	sess   graph.Session
}

func (t *tenant) Close() { t.env.Close() }

// signIn opens the tenant and signs in without a UI: a real tenant's device
// code goes to stderr (stdout stays the result); the simulated tenant
// approves its own code at once, so the demo prints none unless it was
// told to wait (--demo-approve-after).
func (f *factory) signIn(ctx context.Context) (*tenant, error) {
	env, err := f.open(false)
	if err != nil {
		return nil, err
	}
	onCode := func(dc graph.DeviceCode) { fmt.Fprintln(f.streams.Err, safe.Text(dc.Message)) }
	if env.Sim != nil && f.g.demoApproveAfter <= 0 {
		onCode = nil
	}
	client, sess, err := env.SignIn(ctx, onCode)
	if err != nil {
		env.Close()
		if ctx.Err() != nil {
			return nil, errAborted
		}
		var ce *graph.CertificateError
		if errors.As(err, &ce) {
			return nil, f.openError(err)
		}
		return nil, fmt.Errorf("signing in failed\n%s", graph.ExplainSignIn(err, env.Method()).Text())
	}
	return &tenant{env: env, client: client, sess: sess}, nil
}

// openDebugLog opens --debug-log for appending, readable by the owner only
// (see openPrivateLog for what it refuses).
func (f *factory) openDebugLog(path string) (*slog.Logger, func(), error) {
	if path == "" {
		return nil, func() {}, nil
	}
	file, note, err := openPrivateLog(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, usagef("%s %s: %v", f.optionName("debug-log"), path, err)
	}
	if note != "" {
		fmt.Fprintln(f.streams.Err, "note:", f.optionName("debug-log"), safe.Text(note))
	}
	log := slog.New(slog.NewTextHandler(file, &slog.HandlerOptions{Level: slog.LevelDebug}))
	log.Info("start", "args", strings.Join(os.Args[1:], " "))
	return log, func() { file.Close() }, nil
}

// version is stamped by a release build (-ldflags "-X mgmtsession/cli.version=v1.2.3");
// without it the module version and VCS revision come from the build info.
var version string

func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	v := version
	if v == "" && ok {
		v = info.Main.Version
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var rev, modified string
	if ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
	}
	if rev != "" && !strings.Contains(v, rev[:min(12, len(rev))]) {
		v += ", revision " + rev[:min(12, len(rev))]
		if modified == "true" {
			v += " (modified)"
		}
	}
	return v
}

// closestFlag is the flag of cmd nearest to a mistyped name, or "".
func closestFlag(cmd *cobra.Command, name string) string {
	best, bestD := "", 3
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if fl.Hidden {
			return
		}
		if d := distance(name, fl.Name); d < bestD || (d == bestD && best == "" && strings.HasPrefix(fl.Name, name)) {
			best, bestD = fl.Name, d
		}
	})
	cmd.InheritedFlags().VisitAll(func(fl *pflag.Flag) {
		if d := distance(name, fl.Name); d < bestD {
			best, bestD = fl.Name, d
		}
	})
	return best
}

// distance is the Damerau-Levenshtein distance (optimal string alignment):
// a swapped pair of letters ("dmeo") counts as one edit.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
