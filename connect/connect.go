// Package connect turns the global options into a signed-in Graph client:
// which cloud, which credential, and, with --demo, the simulated tenant
// started in-process. The wizard and the headless commands share it, so a
// demo run takes exactly the code path of a real tenant.
package connect

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
	"mgmtsession/preflight"
)

// Options are the global options that decide where and how to sign in.
type Options struct {
	Tenant       string
	Cloud        string // global | usgov | usgovdod | china
	Auth         string // devicecode | browser | secret | certificate | azcli
	ClientID     string
	CertPath     string
	Demo         bool
	DemoState    string
	DemoScenario string
	// Accessible is --accessible: with no --auth, sign in with a device
	// code, which a screen reader reads out, rather than a browser.
	Accessible bool
	// DemoApproveAfter is how long the simulated tenant waits, after the
	// code is shown, before approving it as the operator would.
	DemoApproveAfter time.Duration
	// Log, when set, is the --debug-log: one line per HTTP exchange, never
	// a header or a body.
	Log *slog.Logger
}

// Env is a tenant to sign in to.
type Env struct {
	opts      Options
	Cloud     graph.Cloud
	Sim       *tenantsim.Server // nil for a real tenant
	transport *http.Transport
	onClose   []func()
	// borrowed is a simulated tenant someone else runs: Close leaves it.
	borrowed bool
}

// OptionError is a global option with a value that cannot be used: which
// setting, the value, and what it takes. The front end names the option the
// way it was given (a flag or an environment variable).
type OptionError struct {
	Setting graph.Setting
	Value   string
	Reason  string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("unknown --%s %q (%s)", e.Setting, e.Value, e.Reason)
}

var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// tenantName is a tenant id (a GUID) or one of its domain names.
var tenantName = regexp.MustCompile(`^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}|organizations)$`)

// Validate checks the options before anything is opened: the one place that
// knows which clouds, methods and tenant names exist.
func (o Options) Validate() error {
	if _, ok := graph.Clouds[o.Cloud]; !ok && o.Cloud != "" {
		return &OptionError{Setting: graph.SettingCloud, Value: o.Cloud, Reason: "use global, usgov, usgovdod or china"}
	}
	switch o.Auth {
	case "", graph.AuthDeviceCode, graph.AuthBrowser, graph.AuthSecret, graph.AuthCertificate, graph.AuthAzureCLI:
	default:
		return &OptionError{Setting: graph.SettingMethod, Value: o.Auth, Reason: "use devicecode, browser, secret, certificate or azcli"}
	}
	if o.Tenant != "" && !tenantName.MatchString(o.Tenant) {
		return &OptionError{Setting: graph.SettingTenant, Value: o.Tenant, Reason: "give the tenant id (a GUID) or a domain such as contoso.onmicrosoft.com"}
	}
	if o.ClientID != "" && !guid.MatchString(o.ClientID) {
		return &OptionError{Setting: graph.SettingClientID, Value: o.ClientID, Reason: "give the application (client) id, a GUID"}
	}
	if !o.Demo && (o.DemoState != "" || o.DemoScenario != "") {
		return fmt.Errorf("--demo-state and --demo-scenario go with --demo")
	}
	if o.Auth == graph.AuthCertificate && o.CertPath == "" {
		return fmt.Errorf("--auth certificate needs --cert FILE (a PEM with its key, or a PFX)")
	}
	return nil
}

// Open validates the options and, with --demo, starts the simulated tenant.
func Open(o Options) (*Env, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Demo {
		srv, err := tenantsim.New(tenantsim.Options{StatePath: o.DemoState, Scenario: o.DemoScenario})
		if err != nil {
			return nil, err
		}
		if o.Auth == "" {
			o.Auth = graph.AuthDeviceCode
		}
		if o.Tenant == "" {
			o.Tenant = srv.TenantID()
		}
		return &Env{
			opts:      o,
			Cloud:     graph.Cloud{Name: "simulated", AuthorityHost: srv.AuthorityURL(), GraphRoot: srv.BaseURL()},
			Sim:       srv,
			transport: srv.Transport(),
		}, nil
	}
	if o.Cloud == "" {
		o.Cloud = "global"
	}
	c := graph.Clouds[o.Cloud]
	if o.Auth == "" {
		o.Auth = DefaultAuth(o.Accessible)
	}
	if o.Auth == graph.AuthCertificate {
		if err := graph.CheckCertificate(o.CertPath, os.Getenv("MGMTSESSION_CERT_PASSWORD")); err != nil {
			return nil, err
		}
	}
	t, err := networkTransport(os.Getenv)
	if err != nil {
		return nil, err
	}
	return &Env{opts: o, Cloud: c, transport: t}, nil
}

// OpenSimulated is an Env on a simulated tenant that is already running
// (a test's, or one shared by several Envs): the same code path as --demo,
// except that Close leaves the tenant running.
func OpenSimulated(sim *tenantsim.Server, o Options) (*Env, error) {
	o.Demo = true
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Auth == "" {
		o.Auth = graph.AuthDeviceCode
	}
	if o.Tenant == "" {
		o.Tenant = sim.TenantID()
	}
	return &Env{
		opts:      o,
		Cloud:     graph.Cloud{Name: "simulated", AuthorityHost: sim.AuthorityURL(), GraphRoot: sim.BaseURL()},
		Sim:       sim,
		transport: sim.Transport(),
		borrowed:  true,
	}, nil
}

// DefaultAuth is device code where no local browser can open (an SSH session
// or no display) or where the operator asked for accessible output (a
// screen reader reads a code more easily than it drives a browser's
// sign-in pages), and the browser otherwise.
func DefaultAuth(accessibleMode bool) string {
	if os.Getenv("SSH_CONNECTION") != "" || os.Getenv("SSH_TTY") != "" || accessibleMode || accessible() ||
		(os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" && !isDesktopOS()) {
		return graph.AuthDeviceCode
	}
	return graph.AuthBrowser
}

// accessible is ACCESSIBLE=1 (or true/yes), the convention the command
// line shares with charmbracelet's tools; --accessible sets Options.Accessible.
func accessible() bool {
	switch strings.ToLower(os.Getenv("ACCESSIBLE")) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// Close stops the simulated tenant, if any, and runs the OnClose functions.
func (e *Env) Close() {
	if e.Sim != nil && !e.borrowed {
		e.Sim.Close()
	}
	for _, fn := range e.onClose {
		fn()
	}
}

// OnClose adds a function for Close to run (closing the debug log).
func (e *Env) OnClose(fn func()) { e.onClose = append(e.onClose, fn) }

// CloudLabel names the cloud for the operator: the simulated tenant says
// so, decided here rather than patched by each front end.
func (e *Env) CloudLabel() string {
	if e.Sim != nil {
		return "simulated (demo)"
	}
	return e.Cloud.Name
}

// Method is the sign-in method in use.
func (e *Env) Method() string { return e.opts.Auth }

// SignIn signs in and returns a client for the tenant. onCode is called with
// a device code to show; in the demo the simulated tenant then approves it
// by itself after a moment, as the operator would in their browser.
func (e *Env) SignIn(ctx context.Context, onCode func(graph.DeviceCode)) (*graph.Client, graph.Session, error) {
	cred, err := graph.NewCredential(graph.AuthOptions{
		Method:                   e.opts.Auth,
		TenantID:                 e.opts.Tenant,
		ClientID:                 e.clientID(),
		ClientSecret:             e.clientSecret(),
		CertPath:                 e.opts.CertPath,
		CertPassword:             os.Getenv("MGMTSESSION_CERT_PASSWORD"),
		Cloud:                    e.Cloud,
		Transport:                e.transport,
		DisableInstanceDiscovery: e.Sim != nil,
		Log:                      e.opts.Log,
		OnDeviceCode: func(ctx context.Context, dc graph.DeviceCode) error {
			if onCode != nil {
				onCode(dc)
			}
			if e.Sim != nil {
				go approveLater(ctx, e.Sim, dc.UserCode, e.opts.DemoApproveAfter)
			}
			return nil
		},
	})
	if err != nil {
		return nil, graph.Session{}, err
	}
	sess, err := e.signIn(ctx, cred)
	if err != nil {
		if e.opts.Log != nil {
			e.opts.Log.Warn("sign-in failed", "method", e.opts.Auth, "error", err.Error())
		}
		return nil, graph.Session{}, err
	}
	if e.opts.Log != nil {
		e.opts.Log.Info("signed in", "method", e.opts.Auth, "tenant", sess.TenantID, "user", sess.UPN, "appOnly", sess.AppOnly, "scopes", sess.Scopes)
	}
	client, err := graph.New(graph.Config{Cloud: e.Cloud, Credential: cred, Transport: e.transport, Log: e.opts.Log})
	if err != nil {
		return nil, graph.Session{}, err
	}
	return client, sess, nil
}

// signIn asks interactive methods for the product's scopes by name, so
// that consent is asked for up front. When a named scope was never
// consented and the person cannot consent (AADSTS65001, "Need admin
// approval"), it signs in again with .default, which never asks for
// consent: the operator gets in with what was granted, and the preflight
// shows what is missing and for which step, rather than a dead end.
func (e *Env) signIn(ctx context.Context, cred azcore.TokenCredential) (graph.Session, error) {
	switch e.opts.Auth {
	case graph.AuthDeviceCode, graph.AuthBrowser:
	default:
		return graph.SignIn(ctx, cred, e.Cloud)
	}
	sess, err := graph.SignInRequesting(ctx, cred, e.Cloud, preflight.Requested())
	if graph.IsConsentMissing(err) {
		if e.opts.Log != nil {
			e.opts.Log.Warn("named scopes refused for want of consent; signing in with .default", "method", e.opts.Auth)
		}
		return graph.SignIn(ctx, cred, e.Cloud)
	}
	return sess, err
}

// approveLater approves a device code in the simulated tenant after delay,
// as the operator would in a browser, unless the sign-in was given up
// meanwhile (Ctrl+C): then nobody approves it.
func approveLater(ctx context.Context, sim *tenantsim.Server, userCode string, delay time.Duration) {
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
		sim.ApproveDeviceCode(userCode)
	}
}

func (e *Env) clientID() string {
	switch {
	case e.opts.ClientID != "":
		return e.opts.ClientID
	case e.Sim != nil && (e.opts.Auth == graph.AuthSecret || e.opts.Auth == graph.AuthCertificate):
		return tenantsim.DemoAppClientID
	}
	return graph.DefaultClientID
}

// clientSecret comes from the environment, never from a flag: a flag would
// sit in the shell history and the process list.
func (e *Env) clientSecret() string {
	if e.Sim != nil && e.opts.Auth == graph.AuthSecret && os.Getenv("MGMTSESSION_CLIENT_SECRET") == "" {
		return e.Sim.ClientSecret()
	}
	return os.Getenv("MGMTSESSION_CLIENT_SECRET")
}

// PasswordSignIn signs in as upn with a password (the sign-in probe's
// resource-owner password grant) in this Env's cloud, tenant, network and
// debug log, and reports the session the token stands for. The client is
// --client-id or the default public client: the probe needs a public
// client even when the operator signed in with an app's secret or
// certificate. The password lives in the credential only for this call;
// nothing here logs or keeps it.
func (e *Env) PasswordSignIn(ctx context.Context, upn, password string) (graph.Session, error) {
	clientID := e.opts.ClientID
	if clientID == "" {
		clientID = graph.DefaultClientID
	}
	cred, err := graph.NewPasswordCredential(graph.AuthOptions{
		TenantID:                 e.opts.Tenant,
		ClientID:                 clientID,
		Cloud:                    e.Cloud,
		Transport:                e.transport,
		DisableInstanceDiscovery: e.Sim != nil,
		Log:                      e.opts.Log,
	}, upn, password)
	if err != nil {
		return graph.Session{}, err
	}
	return graph.SignIn(ctx, cred, e.Cloud)
}
