package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/spf13/cobra"

	"mgmtsession/ca"
	"mgmtsession/graph"
	"mgmtsession/ident"
	"mgmtsession/safe"
	"mgmtsession/whatif"
)

// whatifOptions are the whatif command's flags (SPEC 5.2).
type whatifOptions struct {
	snapshot   string
	user       string
	newAccount bool
	roles      string
	groups     string
	ip         string
	country    string
	app        string
	clientApp  string
	platform   string
	authFlow   string
	failOn     bool
	inputs     whatifInputs // the rest of Entra's What If inputs, and --sweep (whatif_sweep.go)
}

func whatifCmd(f *factory) *cobra.Command {
	var o whatifOptions
	cmd := &cobra.Command{
		Use:   "whatif",
		Short: "Conditional Access What If for an account and a sign-in",
		Long: "Evaluates every Conditional Access policy for one account and one sign-in, locally, and puts Graph's own What If beside it when the account exists. " +
			"Live against the tenant, with --demo, or offline against a snapshot FILE written by 'mgmtsession export'.",
		GroupID: groupReadOnly,
		Args:    noArgs,
		Example: `  # why would the management account, once created, need MFA from outside?
  mgmtsession whatif --demo --new-account --ip 20.190.128.5 --country US
  # an existing account, compared with Graph's What If
  mgmtsession whatif --demo --user adele.admin@contoso-demo.com \
    --ip 51.140.12.5 --country GB
  # offline, from a snapshot
  mgmtsession whatif --snapshot snap.json --new-account \
    --ip 20.190.128.5 --country US --json
  # where is the account challenged from the allowed IPs, or unprotected outside?
  mgmtsession whatif --demo --new-account --sweep --allowed-ip 20.190.128.0/24`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.inputs.changed = cmd.Flags().Changed
			return runWhatIf(cmd.Context(), f, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.snapshot, "snapshot", "", "evaluate offline against a snapshot FILE written by 'mgmtsession export'")
	fs.StringVar(&o.user, "user", "", "the account to evaluate: UPN or object id of an existing user")
	fs.BoolVar(&o.newAccount, "new-account", false, "evaluate the management account before it exists (with --roles, --groups)")
	fs.StringVar(&o.roles, "roles", "", "with --new-account: roles by name or template id, comma-separated")
	fs.StringVar(&o.groups, "groups", "", "with --new-account: group object ids it will be in, comma-separated")
	fs.StringVar(&o.ip, "ip", "", "the sign-in's public IP address, IPv4 or IPv6 (required, except with --sweep)")
	fs.StringVar(&o.country, "country", "", "the country of that IP, two letters (e.g. US); with --sweep, of the allowed IPs")
	fs.StringVar(&o.app, "app", whatif.AppAliasPlatform, "application: platform, all, office365, adminportals, or an app id")
	fs.StringVar(&o.clientApp, "client-app", whatif.DefaultClientAppType, "client app type: browser, mobileAppsAndDesktopClients, exchangeActiveSync, other")
	fs.StringVar(&o.platform, "platform", whatif.DefaultDevicePlatform, "device platform: windows, macOS, linux, iOS, android, or unknown")
	fs.StringVar(&o.authFlow, "auth-flow", "", "authentication flow: deviceCode or authenticationTransfer (default: none)")
	fs.BoolVar(&o.failOn, "fail-on-problems", false, "exit with code 3 when the verdict is mfa or block (with --sweep: when it finds a challenge or a gap)")
	o.inputs.register(cmd)
	values := map[string][]string{
		"app": {whatif.AppAliasPlatform + "\tthe six applications the platform uses", whatif.AppAliasAll + "\tAll resources",
			whatif.AppAliasOffice365 + "\tthe Office 365 group", whatif.AppAliasAdminPortals + "\tMicrosoft Admin Portals"},
		"client-app": {"browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "other"},
		"platform":   {"windows", "macOS", "linux", "iOS", "android", whatif.PlatformUnknown},
		"auth-flow":  {"deviceCode", "authenticationTransfer"},
	}
	for name, vs := range values {
		_ = cmd.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return vs, cobra.ShellCompDirectiveNoFileComp
		})
	}
	return cmd
}

// whatifRequest is the validated input: who, and which sign-in.
type whatifRequest struct {
	user       string
	newRoles   []string
	newGroups  []string
	signInCase whatif.Case
}

// validate checks every flag before anything is read, so that bad input
// costs no sign-in and prints one line naming the bad value.
func (o *whatifOptions) validate(demo bool) (*whatifRequest, error) {
	if err := o.inputs.validate(o); err != nil {
		return nil, err
	}
	switch {
	case o.user != "" && o.newAccount:
		return nil, usagef("give either --user or --new-account, not both")
	case o.user == "" && !o.newAccount && o.inputs.servicePrincipal == "":
		return nil, usagef("say whose sign-in to evaluate: --user UPN-or-id, --new-account, or --service-principal APPID")
	case !o.newAccount && (o.roles != "" || o.groups != ""):
		return nil, usagef("--roles and --groups describe the account to be created; they go with --new-account")
	case o.snapshot != "" && demo:
		return nil, usagef("--snapshot evaluates a file offline; it does not go with --demo")
	case strings.TrimSpace(o.ip) == "":
		return nil, usagef("missing --ip ADDRESS (the sign-in's public IP address)")
	}
	req := &whatifRequest{user: strings.TrimSpace(o.user)}
	// The account goes into a Graph URL: "." would name the user list.
	if req.user != "" {
		if err := ident.CheckUserRef(req.user); err != nil {
			return nil, usagef("--user: %v", err)
		}
	}
	ip, err := whatif.ParseIP(o.ip)
	if err != nil {
		return nil, usagef("--ip: %v", err)
	}
	country, err := whatif.ParseCountry(o.country)
	if err != nil {
		return nil, usagef("--country: %v", err)
	}
	apps, err := whatif.ParseApps(o.app)
	if err != nil {
		return nil, usagef("--app: %v", err)
	}
	client, err := whatif.ParseClientApp(o.clientApp)
	if err != nil {
		return nil, usagef("--client-app: %v", err)
	}
	platform, err := whatif.ParsePlatform(o.platform)
	if err != nil {
		return nil, usagef("--platform: %v", err)
	}
	flow, err := whatif.ParseAuthFlow(o.authFlow)
	if err != nil {
		return nil, usagef("--auth-flow: %v", err)
	}
	if o.newAccount {
		if o.roles != "" {
			if req.newRoles, err = whatif.ResolveRoles(splitList(o.roles)); err != nil {
				return nil, usagef("--roles: %v", err)
			}
		}
		if req.newGroups, err = whatif.ParseGroupIDs(splitList(o.groups)); err != nil {
			return nil, usagef("--groups: %v", err)
		}
	}
	req.signInCase = whatif.Case{Apps: apps, Conditions: whatif.Conditions{
		IP: ip.String(), Country: country, ClientAppType: client, DevicePlatform: platform, AuthFlow: flow,
	}}
	o.inputs.applyTo(&req.signInCase)
	return req, nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// runWhatIf is 'mgmtsession whatif' (SPEC 5.2): the local What If for one
// account and sign-in, with Graph's own answer beside it when the account
// exists and a tenant (or the demo) is at hand.
func runWhatIf(ctx context.Context, f *factory, o whatifOptions) error {
	if o.inputs.sweep {
		return runSweep(ctx, f, o)
	}
	req, err := o.validate(f.g.demo)
	if err != nil {
		return err
	}

	in, err := f.whatifInput(ctx, o.snapshot, req.user)
	if err != nil {
		return err
	}
	defer in.close()
	ps, subject, src, client := in.ps, in.subject, in.src, in.client
	if o.newAccount {
		subject = whatif.NewAccount(req.newRoles, req.newGroups)
	}
	subject = o.inputs.subject(subject)
	src.Policies, src.NamedLocations = len(ps.Policies), len(ps.NamedLocations)

	res := ps.Evaluate(subject, req.signInCase)
	if client != nil {
		// The local result stands on its own: when Graph's What If cannot be
		// had, say so beside it rather than throw it away.
		if err := res.CompareWithGraph(ctx, client, subject); err != nil {
			if ctx.Err() != nil {
				return errAborted
			}
			res.Graph = &whatif.Comparison{Note: "Graph's What If could not be had: " + safe.Text(err.Error()), Disagreements: []whatif.Disagreement{}}
			fmt.Fprintln(f.streams.Err, "note: Graph's What If failed; the local result is shown alone:", safe.Text(err.Error()))
		}
	} else {
		res.Graph = &whatif.Comparison{Note: "offline: Graph's What If needs the tenant", Disagreements: []whatif.Disagreement{}}
	}

	if f.g.json {
		if err := writeWhatIfJSON(f.streams.Out, res, subject, src); err != nil {
			return err
		}
	} else {
		whatif.WriteText(f.streams.Out, res, subject, src, textWidth)
	}
	if o.failOn && (res.Verdict == ca.VerdictMFA || res.Verdict == ca.VerdictBlock) {
		return &verdictProblem{verdict: res.Verdict}
	}
	return nil
}

// verdictProblem is --fail-on-problems meeting an mfa or block verdict:
// exit code 3.
type verdictProblem struct{ verdict string }

func (e *verdictProblem) Error() string {
	return fmt.Sprintf("the What If verdict is %s: this sign-in would be %s", e.verdict,
		map[string]string{ca.VerdictMFA: "asked for MFA", ca.VerdictBlock: "blocked"}[e.verdict])
}

func (e *verdictProblem) Unwrap() error { return &problemsError{n: 1} }

// readSnapshot reads an offline snapshot. Every failure is bad input,
// named with the file, the JSON path and the reason.
func readSnapshot(file string) (*ca.Snapshot, error) {
	data, err := readRegularFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usagef("--snapshot %s: no such file", file)
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, usagef("--snapshot %s: cannot read it: %v", file, err)
	}
	snap, err := ca.ParseSnapshot(data)
	var de *ca.DecodeError
	if errors.As(err, &de) {
		path := de.Path
		if path == "" {
			path = "(document)"
		}
		// The path and reason come from the file: sanitise them.
		return nil, usagef("--snapshot %s: %s: %s", file, safe.Text(path), safe.Text(de.Reason))
	}
	if err != nil {
		return nil, usagef("--snapshot %s: %v", file, err)
	}
	// An object without policies is not a snapshot (perhaps some other
	// JSON file): evaluating it would say "allow" about nothing.
	var keys map[string]json.RawMessage
	if json.Unmarshal(data, &keys) == nil {
		if raw, ok := keys["policies"]; !ok || string(raw) == "null" {
			return nil, usagef("--snapshot %s: policies: missing (is it a file written by 'mgmtsession export'?)", file)
		}
	}
	return snap, nil
}

// whatifJSON is the --json output: SPEC 5.2's verdict, requiredControls
// and policies first, then what was evaluated and, when Graph was asked,
// the disagreements.
type whatifJSON struct {
	Verdict          string                 `json:"verdict"`
	RequiredControls []string               `json:"requiredControls"`
	Policies         []whatif.PolicyOutcome `json:"policies"`
	Undetermined     []string               `json:"undetermined"`
	Subject          whatif.Subject         `json:"subject"`
	SignIn           whatif.Case            `json:"signIn"`
	PerApplication   []whatif.AppResult     `json:"perApplication,omitempty"`
	Source           whatif.Source          `json:"source"`
	GraphWhatIf      graphWhatIfJSON        `json:"graphWhatIf"`
	Disagreements    *[]whatif.Disagreement `json:"disagreements,omitempty"`
}

type graphWhatIfJSON struct {
	Compared bool   `json:"compared"`
	Requests int    `json:"requests"`
	Note     string `json:"note,omitempty"`
}

func writeWhatIfJSON(w io.Writer, res *whatif.CaseResult, subject whatif.Subject, src whatif.Source) error {
	out := whatifJSON{
		Verdict: res.Verdict, RequiredControls: res.RequiredControls, Policies: res.Policies,
		Undetermined: nonNilStrings(res.Undetermined), Subject: subject, SignIn: res.Case, Source: src,
	}
	if len(res.Case.Apps) > 1 {
		out.PerApplication = res.PerApp
	}
	if c := res.Graph; c != nil {
		out.GraphWhatIf = graphWhatIfJSON{Compared: c.Compared, Requests: c.Requests, Note: c.Note}
		if c.Compared {
			out.Disagreements = &c.Disagreements
		}
	}
	return writeJSON(w, out)
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// textWidth is the width of the headless text output.
const textWidth = 80

// whatifIn is what a What If evaluates over: the policy set and the account
// (when --user named one), from a snapshot file or from the tenant signed
// in (then client is set, and close signs out).
type whatifIn struct {
	ps      *whatif.PolicySet
	subject whatif.Subject
	src     whatif.Source
	client  *graph.Client
	close   func()
}

// whatifInput reads the policy set and the named account from the snapshot
// when one is given, else from the tenant: the start of whatif and of
// whatif --sweep alike.
func (f *factory) whatifInput(ctx context.Context, snapshot, user string) (*whatifIn, error) {
	in := &whatifIn{close: func() {}}
	if snapshot != "" {
		snap, err := readSnapshot(snapshot)
		if err != nil {
			return nil, err
		}
		in.ps = whatif.NewPolicySet(snap.Policies, snap.NamedLocations)
		in.src = whatif.Source{Mode: "snapshot", File: snapshot, TenantID: snap.TenantID}
		if user != "" {
			if in.subject, err = whatif.SnapshotAccount(snap, snapshot, user); err != nil {
				return nil, usagef("--user: %v", err)
			}
		}
		return in, nil
	}
	t, err := f.signIn(ctx)
	if err != nil {
		return nil, err
	}
	in.client, in.close = t.client, t.Close
	in.src = whatif.Source{Mode: "live", TenantID: t.sess.TenantID}
	if t.env.Sim != nil {
		in.src.Mode = "demo"
	}
	fail := func(err error) (*whatifIn, error) {
		t.Close()
		return nil, err
	}
	if user != "" {
		in.subject, err = whatif.ExistingAccount(ctx, in.client, user)
		var ue *whatif.UnknownUserError
		if errors.As(err, &ue) {
			return fail(usagef("--user: %v", err))
		}
		if err != nil {
			return fail(err)
		}
	}
	if in.ps, err = whatif.ReadPolicySet(ctx, in.client); err != nil {
		return fail(err)
	}
	return in, nil
}
