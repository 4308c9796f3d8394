package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"mgmtsession/ca"
	"mgmtsession/graph"
	"mgmtsession/safe"
	"mgmtsession/whatif"
)

// whatifOptions are the whatif command's flags (SPEC 5.2).
type whatifOptions struct {
	g          globals
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
}

func (o *whatifOptions) register(fs *flag.FlagSet) {
	o.g.register(fs)
	fs.StringVar(&o.snapshot, "snapshot", "", "evaluate offline against a snapshot FILE written by 'mgmtsession export' (no network)")
	fs.StringVar(&o.user, "user", "", "the account to evaluate: UPN or object id of an existing user")
	fs.BoolVar(&o.newAccount, "new-account", false, "evaluate the management account before it exists (with --roles and --groups)")
	fs.StringVar(&o.roles, "roles", "", "with --new-account: roles by display name or template id, comma-separated (default: the platform's least-privilege set)")
	fs.StringVar(&o.groups, "groups", "", "with --new-account: group object ids it will be in, comma-separated")
	fs.StringVar(&o.ip, "ip", "", "the sign-in's public IP address, IPv4 or IPv6 (required)")
	fs.StringVar(&o.country, "country", "", "the country of that IP, two letters (e.g. US); without it country locations cannot be decided")
	fs.StringVar(&o.app, "app", whatif.AppAliasPlatform, "application: platform (the six the management platform uses, together), all, office365, adminportals, or an application id")
	fs.StringVar(&o.clientApp, "client-app", whatif.DefaultClientAppType, "client app type: browser, mobileAppsAndDesktopClients, exchangeActiveSync or other")
	fs.StringVar(&o.platform, "platform", whatif.DefaultDevicePlatform, "device platform: windows, macOS, linux, iOS or android")
	fs.StringVar(&o.authFlow, "auth-flow", "", "authentication flow: deviceCode (default: none)")
	fs.BoolVar(&o.failOn, "fail-on-problems", false, "exit with code 3 when the verdict is mfa or block")
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
func (o *whatifOptions) validate() (*whatifRequest, error) {
	switch {
	case o.user != "" && o.newAccount:
		return nil, usagef("give either --user or --new-account, not both")
	case o.user == "" && !o.newAccount:
		return nil, usagef("say whose sign-in to evaluate: --user UPN-or-id, or --new-account")
	case !o.newAccount && (o.roles != "" || o.groups != ""):
		return nil, usagef("--roles and --groups describe the account to be created; they go with --new-account")
	case o.snapshot != "" && o.g.demo:
		return nil, usagef("--snapshot evaluates a file offline; it does not go with --demo")
	case strings.TrimSpace(o.ip) == "":
		return nil, usagef("missing --ip ADDRESS (the sign-in's public IP address)")
	}
	req := &whatifRequest{user: strings.TrimSpace(o.user)}
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

// whatifSource says where the policies came from, for the reader.
type whatifSource struct {
	Mode           string `json:"mode"` // live | demo | snapshot
	TenantID       string `json:"tenantId,omitempty"`
	File           string `json:"file,omitempty"`
	Policies       int    `json:"policies"`
	NamedLocations int    `json:"namedLocations"`
}

// runWhatIf is 'mgmtsession whatif' (SPEC 5.2): the local What If for one
// account and sign-in, with Graph's own answer beside it when the account
// exists and a tenant (or the demo) is at hand.
func runWhatIf(ctx context.Context, args []string, s Streams) error {
	var o whatifOptions
	fs := flag.NewFlagSet("mgmtsession whatif", flag.ContinueOnError)
	o.register(fs)
	if err := parse(fs, args, s); err != nil {
		return err
	}
	req, err := o.validate()
	if err != nil {
		return err
	}

	var (
		ps      *whatif.PolicySet
		subject whatif.Subject
		src     whatifSource
		client  *graph.Client
	)
	if o.snapshot != "" {
		snap, err := readSnapshot(o.snapshot)
		if err != nil {
			return err
		}
		ps = whatif.NewPolicySet(snap.Policies, snap.NamedLocations)
		src = whatifSource{Mode: "snapshot", File: o.snapshot, TenantID: snap.TenantID}
		if req.user != "" {
			if subject, err = whatif.SnapshotAccount(snap, o.snapshot, req.user); err != nil {
				return usagef("--user: %v", err)
			}
		}
	} else {
		env, err := openEnv(o.g)
		if err != nil {
			return err
		}
		defer env.Close()
		var sess graph.Session
		client, sess, err = signInQuietly(ctx, env, s)
		if err != nil {
			return err
		}
		src = whatifSource{Mode: "live", TenantID: sess.TenantID}
		if env.Sim != nil {
			src.Mode = "demo"
		}
		if req.user != "" {
			subject, err = whatif.ExistingAccount(ctx, client, req.user)
			var ue *whatif.UnknownUserError
			if errors.As(err, &ue) {
				return usagef("--user: %v", err)
			}
			if err != nil {
				return err
			}
		}
		if ps, err = whatif.ReadPolicySet(ctx, client); err != nil {
			return err
		}
	}
	if o.newAccount {
		subject = whatif.NewAccount(req.newRoles, req.newGroups)
	}
	src.Policies, src.NamedLocations = len(ps.Policies), len(ps.NamedLocations)

	res := ps.Evaluate(subject, req.signInCase)
	if client != nil {
		if err := res.CompareWithGraph(ctx, client, subject); err != nil {
			return err
		}
	} else {
		res.Graph = &whatif.Comparison{Note: "offline: Graph's What If needs the tenant", Disagreements: []whatif.Disagreement{}}
	}

	if o.g.json {
		if err := writeWhatIfJSON(s.Out, res, subject, src); err != nil {
			return err
		}
	} else {
		printWhatIf(s.Out, res, subject, src)
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
	data, err := os.ReadFile(file)
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
	Source           whatifSource           `json:"source"`
	GraphWhatIf      graphWhatIfJSON        `json:"graphWhatIf"`
	Disagreements    *[]whatif.Disagreement `json:"disagreements,omitempty"`
}

type graphWhatIfJSON struct {
	Compared bool   `json:"compared"`
	Requests int    `json:"requests"`
	Note     string `json:"note,omitempty"`
}

func writeWhatIfJSON(w io.Writer, res *whatif.CaseResult, subject whatif.Subject, src whatifSource) error {
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
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Text output: 80 columns, every tenant string sanitised.
const textWidth = 80

var verdictHeadline = map[string]string{
	ca.VerdictAllow:    "ALLOWED: no enforced policy demands anything",
	ca.VerdictControls: "CONTROLS REQUIRED",
	ca.VerdictMFA:      "MFA REQUIRED",
	ca.VerdictBlock:    "BLOCKED",
}

// reasonHints say in a few words what an analysisReasons name means.
var reasonHints = map[string]string{
	"notEnoughInformation":  "a condition could not be decided",
	"users":                 "the account is not targeted, or is excluded",
	"application":           "application not targeted",
	"userActions":           "user action not targeted",
	"authenticationContext": "authentication context not targeted",
	"devicePlatform":        "device platform not targeted",
	"devices":               "device filter",
	"clientApps":            "client app type not targeted",
	"location":              "location not targeted, or excluded",
	"signInRisk":            "sign-in risk",
	"userRisk":              "user risk",
	"insiderRisk":           "insider risk",
	"authenticationFlow":    "authentication flow not targeted",
	"policyNotEnabled":      "policy disabled",
}

func printWhatIf(w io.Writer, res *whatif.CaseResult, subject whatif.Subject, src whatifSource) {
	line := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	para := func(label, text string) {
		for _, l := range wrapText(text, textWidth-len(label)) {
			line("%s%s", label, l)
			label = strings.Repeat(" ", len(label))
		}
	}

	head := verdictHeadline[res.Verdict]
	if len(res.RequiredControls) > 0 {
		head += " (enforced policies require: " + strings.Join(res.RequiredControls, ", ") + ")"
	}
	para("Verdict:  ", head)
	para("Account:  ", describeSubject(subject))
	para("Sign-in:  ", describeSignIn(res.Case))
	para("Source:   ", describeSource(src))
	if culprits := res.Culprits(); len(culprits) > 0 && res.Verdict != ca.VerdictAllow {
		line("")
		line("Because of:")
		for _, p := range culprits {
			line("  %s", fit(safe.Text(p.DisplayName)+" ("+strings.Join(p.Controls, ", ")+")", textWidth-2))
		}
	}
	if len(res.Undetermined) > 0 {
		line("")
		para("Note:     ", fmt.Sprintf("%d enforced policy(ies) could not be decided from the facts given and are counted as not applying; see \"unknown\" below (for a location, give --country).", len(res.Undetermined)))
	}

	if len(res.Case.Apps) > 1 {
		line("")
		line("Per application (local evaluator)")
		printPerApp(w, res)
	}

	groups := []struct {
		title string
		keep  func(whatif.PolicyOutcome) bool
	}{
		{"Enforced policies (decide the verdict)", whatif.PolicyOutcome.Enforced},
		{"Report-only policies (report-only, not enforced)", whatif.PolicyOutcome.ReportOnly},
	}
	for _, g := range groups {
		var ps []whatif.PolicyOutcome
		for _, p := range res.Policies {
			if g.keep(p) {
				ps = append(ps, p)
			}
		}
		if len(ps) == 0 {
			continue
		}
		line("")
		line("%s", g.title)
		for _, p := range ps {
			printPolicy(w, p, len(res.Case.Apps), res.Graph != nil && res.Graph.Compared)
		}
	}
	var disabled []string
	for _, p := range res.Policies {
		if !p.Enforced() && !p.ReportOnly() {
			disabled = append(disabled, safe.Text(p.DisplayName))
		}
	}
	if len(disabled) > 0 {
		line("")
		line("Disabled policies (ignored)")
		for _, n := range disabled {
			line("  %s", fit(n, textWidth-2))
		}
	}

	line("")
	printComparison(w, res.Graph)
}

// printPerApp prints the per-application verdicts, applications with the
// same verdict for the same policies together.
func printPerApp(w io.Writer, res *whatif.CaseResult) {
	const indent = "           "
	type row struct {
		verdict string
		applied []string
		apps    []string
	}
	var rows []*row
	for _, a := range res.PerApp {
		i := slices.IndexFunc(rows, func(r *row) bool { return r.verdict == a.Verdict && slices.Equal(r.applied, a.Applied) })
		if i < 0 {
			rows = append(rows, &row{verdict: a.Verdict, applied: a.Applied})
			i = len(rows) - 1
		}
		rows[i].apps = append(rows[i].apps, a.App.Name)
	}
	for _, r := range rows {
		label := fmt.Sprintf("  %-8s ", r.verdict)
		for _, l := range wrapText(strings.Join(r.apps, ", "), textWidth-len(indent)) {
			fmt.Fprintf(w, "%s%s\n", label, l)
			label = indent
		}
		by := "no enforced policy applies"
		if len(r.applied) > 0 {
			names := make([]string, len(r.applied))
			for i, id := range r.applied {
				names[i] = safe.Text(res.PolicyName(id))
			}
			by = "by " + strings.Join(names, "; ")
		}
		for _, l := range wrapText(by, textWidth-len(indent)) {
			fmt.Fprintf(w, "%s%s\n", indent, l)
		}
	}
}

// printPolicy prints one policy: its outcome and name, then why and its
// controls (and Graph's answer) on indented lines.
func printPolicy(w io.Writer, p whatif.PolicyOutcome, apps int, compared bool) {
	const indent = "           "
	tag := "no"
	switch {
	case p.Applies:
		tag = "APPLIES"
	case len(p.Reasons) == 1 && p.Reasons[0] == ca.ReasonNotEnoughInformation:
		tag = "unknown"
	}
	label := fmt.Sprintf("  %-8s ", tag)
	for _, l := range wrapText(safe.Text(p.DisplayName), textWidth-len(indent)) {
		fmt.Fprintf(w, "%s%s\n", label, l)
		label = indent
	}
	var parts []string
	if p.Applies && apps > 1 && len(p.AppliesTo) < apps {
		parts = append(parts, "to: "+strings.Join(p.AppliesTo, ", "))
	}
	if !p.Applies {
		parts = append(parts, "why: "+explainReasons(p.Reasons, p.Undecided))
	}
	ctl := "none (session controls only)"
	if len(p.Controls) > 0 {
		ctl = safe.Text(strings.Join(p.Controls, " "+strings.ToLower(orDefault(p.Operator, "and"))+" "))
	}
	parts = append(parts, "controls: "+ctl)
	if compared {
		parts = append(parts, "Graph: "+describeGraph(p))
	}
	for _, l := range wrapText(strings.Join(parts, "; "), textWidth-len(indent)) {
		fmt.Fprintf(w, "%s%s\n", indent, l)
	}
}

func explainReasons(reasons, undecided []string) string {
	out := make([]string, 0, len(reasons))
	for _, r := range reasons {
		s := r
		if r == ca.ReasonNotEnoughInformation && len(undecided) > 0 {
			s += " (" + strings.Join(undecided, ", ") + ")"
		} else if h, ok := reasonHints[r]; ok {
			s += " (" + h + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

func describeGraph(p whatif.PolicyOutcome) string {
	g := p.Graph
	if g == nil {
		if p.State == ca.StateDisabled {
			return "not evaluated (disabled)"
		}
		return "not reported <- DISAGREES"
	}
	s := "applies"
	if !g.Applies {
		s = "does not apply (reason unknown)"
		if g.AnalysisReasons != nil {
			s = "does not apply (" + safe.Text(*g.AnalysisReasons) + ")"
		}
	}
	agree := g.Applies == p.Applies
	if agree && !g.Applies && g.AnalysisReasons != nil {
		r := *g.AnalysisReasons
		agree = r == "notSet" || slices.ContainsFunc(strings.Split(r, ","), func(x string) bool {
			return slices.Contains(p.Reasons, strings.TrimSpace(x))
		})
	}
	if !agree {
		s += " <- DISAGREES"
	}
	return s
}

func printComparison(w io.Writer, c *whatif.Comparison) {
	switch {
	case c == nil:
		return
	case !c.Compared:
		for _, l := range wrapText("Graph's What If: not asked: "+c.Note+".", textWidth) {
			fmt.Fprintln(w, l)
		}
	case len(c.Disagreements) == 0:
		fmt.Fprintf(w, "Graph's What If (%d request) agrees on every policy.\n", c.Requests)
	default:
		fmt.Fprintf(w, "Graph's What If (%d request) DISAGREES on %d policy(ies):\n", c.Requests, len(c.Disagreements))
		for _, d := range c.Disagreements {
			fmt.Fprintf(w, "  %s\n", fit(safe.Text(d.DisplayName), textWidth-2))
			for _, l := range wrapText(safe.Text(d.Detail), textWidth-4) {
				fmt.Fprintf(w, "    %s\n", l)
			}
		}
	}
}

func describeSubject(s whatif.Subject) string {
	roles := make([]string, len(s.Roles))
	for i, r := range s.Roles {
		roles[i] = safe.Text(whatif.RoleName(r))
	}
	var b strings.Builder
	if s.Hypothetical {
		b.WriteString("the management account before it exists")
	} else {
		b.WriteString(safe.Text(s.UserPrincipalName))
		if s.Guest {
			b.WriteString(" (guest)")
		}
	}
	if len(roles) > 0 {
		b.WriteString("; roles: " + strings.Join(roles, ", "))
	} else {
		b.WriteString("; no directory roles")
	}
	if len(s.Groups) > 0 {
		fmt.Fprintf(&b, "; in %d group(s)", len(s.Groups))
	}
	return b.String()
}

func describeSignIn(c whatif.Case) string {
	apps := c.Apps[0].Name
	if len(c.Apps) > 1 {
		apps = fmt.Sprintf("the platform's %d applications", len(c.Apps))
	}
	country := c.Country
	if country == "" {
		country = "country not given"
	}
	s := fmt.Sprintf("%s from %s (%s), %s on %s", apps, c.IP, country, c.ClientAppType, c.DevicePlatform)
	if c.AuthFlow != "" {
		s += ", " + c.AuthFlow
	}
	return s
}

func describeSource(src whatifSource) string {
	var where string
	switch src.Mode {
	case "demo":
		where = "the simulated tenant (--demo)"
	case "snapshot":
		where = "snapshot " + src.File
		if src.TenantID != "" {
			where += " of tenant " + safe.Text(src.TenantID)
		}
	default:
		where = "tenant " + safe.Text(src.TenantID)
	}
	return fmt.Sprintf("%s: %d policies, %d named locations", where, src.Policies, src.NamedLocations)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// fit truncates s to width display columns.
func fit(s string, width int) string {
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// wrapText wraps words into lines of at most width display columns; a word
// longer than a line is cut.
func wrapText(s string, width int) []string {
	var lines []string
	cur := ""
	for _, word := range strings.Fields(s) {
		switch {
		case cur == "":
			cur = word
		case ansi.StringWidth(cur)+1+ansi.StringWidth(word) <= width:
			cur += " " + word
		default:
			lines = append(lines, fit(cur, width))
			cur = word
		}
	}
	if cur != "" || len(lines) == 0 {
		lines = append(lines, fit(cur, width))
	}
	return lines
}
