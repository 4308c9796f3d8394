package whatif

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"mgmtsession/ca"
	"mgmtsession/safe"
	"mgmtsession/text"
)

// Source says where the policies came from, for the reader.
type Source struct {
	Mode           string `json:"mode"` // live | demo | snapshot
	TenantID       string `json:"tenantId,omitempty"`
	File           string `json:"file,omitempty"`
	Policies       int    `json:"policies"`
	NamedLocations int    `json:"namedLocations"`
}

// VerdictHeadline is how each verdict is announced.
var VerdictHeadline = map[string]string{
	ca.VerdictAllow:    "ALLOWED: no enforced policy demands anything",
	ca.VerdictControls: "CONTROLS REQUIRED",
	ca.VerdictMFA:      "MFA REQUIRED",
	ca.VerdictBlock:    "BLOCKED",
}

// ReasonHints say in a few words what an analysisReasons name means.
var ReasonHints = map[string]string{
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
	"workloadIdentities":    "the workload identity is not targeted, or is excluded",
	"authenticationFlow":    "authentication flow not targeted",
	"policyNotEnabled":      "policy disabled",
}

// WriteText writes the result as a readable table of at most width columns
// (80 for the command line): verdict first, enforced and report-only
// policies apart, Graph's answer beside each policy. Every tenant string is
// sanitised.
func WriteText(w io.Writer, res *CaseResult, subject Subject, src Source, width int) {
	line := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	para := func(label, s string) {
		for _, l := range text.Labelled(label, s, width) {
			line("%s", l)
		}
	}

	head := VerdictHeadline[res.Verdict]
	if len(res.RequiredControls) > 0 {
		head += " (enforced policies require: " + strings.Join(res.RequiredControls, ", ") + ")"
	}
	para("Verdict:  ", head)
	para("Account:  ", DescribeSubject(subject))
	para("Sign-in:  ", DescribeSignIn(res.Case))
	para("Source:   ", DescribeSource(src))
	if culprits := res.Culprits(); len(culprits) > 0 && res.Verdict != ca.VerdictAllow {
		line("")
		line("Because of:")
		for _, p := range culprits {
			line("  %s", text.Fit(safe.Text(p.DisplayName)+" ("+strings.Join(p.Controls, ", ")+")", width-2))
		}
	}
	if len(res.Undetermined) > 0 {
		line("")
		para("Note:     ", fmt.Sprintf("%s could not be decided from the facts given and %s counted as not applying; see \"unknown\" below (for a location, give the country).",
			text.Plural(len(res.Undetermined), "enforced policy"), map[bool]string{true: "is", false: "are"}[len(res.Undetermined) == 1]))
	}

	if len(res.Case.Apps) > 1 {
		line("")
		line("Per application (local evaluator)")
		writePerApp(w, res, width)
	}

	groups := []struct {
		title string
		keep  func(PolicyOutcome) bool
	}{
		{"Enforced policies (decide the verdict)", PolicyOutcome.Enforced},
		{"Report-only policies (report-only, not enforced)", PolicyOutcome.ReportOnly},
	}
	for _, g := range groups {
		var ps []PolicyOutcome
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
			writePolicy(w, p, len(res.Case.Apps), res.Graph != nil && res.Graph.Compared, width)
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
			line("  %s", text.Fit(n, width-2))
		}
	}

	line("")
	writeComparison(w, res.Graph, width)
}

const tableIndent = "           "

// AppGroup is applications with the same verdict by the same policies.
type AppGroup struct {
	Verdict string
	Applied []string // policy ids
	Apps    []string // application names
}

// GroupByApp groups the per-application verdicts: applications with the
// same verdict for the same policies together, in first-seen order.
func (r *CaseResult) GroupByApp() []AppGroup {
	var rows []AppGroup
	for _, a := range r.PerApp {
		i := slices.IndexFunc(rows, func(g AppGroup) bool { return g.Verdict == a.Verdict && slices.Equal(g.Applied, a.Applied) })
		if i < 0 {
			rows = append(rows, AppGroup{Verdict: a.Verdict, Applied: a.Applied})
			i = len(rows) - 1
		}
		rows[i].Apps = append(rows[i].Apps, a.App.Name)
	}
	return rows
}

func writePerApp(w io.Writer, res *CaseResult, width int) {
	for _, r := range res.GroupByApp() {
		label := fmt.Sprintf("  %-8s ", r.Verdict)
		for _, l := range text.Wrap(strings.Join(r.Apps, ", "), width-len(tableIndent)) {
			fmt.Fprintf(w, "%s%s\n", label, l)
			label = tableIndent
		}
		by := "no enforced policy applies"
		if len(r.Applied) > 0 {
			names := make([]string, len(r.Applied))
			for i, id := range r.Applied {
				names[i] = safe.Text(res.PolicyName(id))
			}
			by = "by " + strings.Join(names, "; ")
		}
		for _, l := range text.Wrap(by, width-len(tableIndent)) {
			fmt.Fprintf(w, "%s%s\n", tableIndent, l)
		}
	}
}

// writePolicy writes one policy: its outcome and name, then why and its
// controls (and Graph's answer) on indented lines.
func writePolicy(w io.Writer, p PolicyOutcome, apps int, compared bool, width int) {
	tag := "no"
	switch {
	case p.Applies:
		tag = "APPLIES"
	case len(p.Reasons) == 1 && p.Reasons[0] == ca.ReasonNotEnoughInformation:
		tag = "unknown"
	}
	label := fmt.Sprintf("  %-8s ", tag)
	for _, l := range text.Wrap(safe.Text(p.DisplayName), width-len(tableIndent)) {
		fmt.Fprintf(w, "%s%s\n", label, l)
		label = tableIndent
	}
	var parts []string
	if p.Applies && apps > 1 && len(p.AppliesTo) < apps {
		parts = append(parts, "to: "+strings.Join(p.AppliesTo, ", "))
	}
	if !p.Applies {
		parts = append(parts, "why: "+ExplainReasons(p.Reasons, p.Undecided))
	}
	ctl := "none (session controls only)"
	if len(p.Controls) > 0 {
		op := p.Operator
		if op == "" {
			op = "and"
		}
		ctl = safe.Text(strings.Join(p.Controls, " "+strings.ToLower(op)+" "))
	}
	parts = append(parts, "controls: "+ctl)
	if compared {
		parts = append(parts, "Graph: "+DescribeGraph(p))
	}
	for _, l := range text.Wrap(strings.Join(parts, "; "), width-len(tableIndent)) {
		fmt.Fprintf(w, "%s%s\n", tableIndent, l)
	}
}

// ExplainReasons names why a policy does not apply, with a hint for each
// reason (or the undecided conditions behind notEnoughInformation).
func ExplainReasons(reasons, undecided []string) string {
	out := make([]string, 0, len(reasons))
	for _, r := range reasons {
		s := r
		if r == ca.ReasonNotEnoughInformation && len(undecided) > 0 {
			s += " (" + strings.Join(undecided, ", ") + ")"
		} else if h, ok := ReasonHints[r]; ok {
			s += " (" + h + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

// DescribeGraph is Graph's answer for a policy after Compare, marked when
// Compare found that it disagrees (one judgement: Compare's).
func DescribeGraph(p PolicyOutcome) string {
	g := p.Graph
	var s string
	switch {
	case g == nil && p.State == ca.StateDisabled:
		return "not evaluated (disabled)"
	case g == nil:
		s = "not reported"
	case g.Applies:
		s = "applies"
	case g.AnalysisReasons != nil:
		s = "does not apply (" + safe.Text(*g.AnalysisReasons) + ")"
	default:
		s = "does not apply (reason unknown)"
	}
	if p.GraphDisagrees {
		s += " <- DISAGREES"
	}
	return s
}

func writeComparison(w io.Writer, c *Comparison, width int) {
	switch {
	case c == nil:
		return
	case !c.Compared:
		for _, l := range text.Wrap("Graph's What If: not asked: "+c.Note+".", width) {
			fmt.Fprintln(w, l)
		}
	case len(c.Disagreements) == 0:
		fmt.Fprintf(w, "Graph's What If (%s) agrees on every policy.\n", text.Plural(c.Requests, "request"))
	default:
		fmt.Fprintf(w, "Graph's What If (%s) DISAGREES on %s:\n", text.Plural(c.Requests, "request"), text.Plural(len(c.Disagreements), "policy"))
		for _, d := range c.Disagreements {
			fmt.Fprintf(w, "  %s\n", text.Fit(safe.Text(d.DisplayName), width-2))
			for _, l := range text.Wrap(safe.Text(d.Detail), width-4) {
				fmt.Fprintf(w, "    %s\n", l)
			}
		}
	}
}

// DescribeSubject is the account in one sentence.
func DescribeSubject(s Subject) string {
	roles := make([]string, len(s.Roles))
	for i, r := range s.Roles {
		roles[i] = safe.Text(RoleName(r))
	}
	var b strings.Builder
	switch {
	case s.ServicePrincipalID != "":
		b.WriteString("the workload identity (service principal) of application " + safe.Text(s.ServicePrincipalID))
		return b.String()
	case s.Hypothetical:
		b.WriteString("the management account before it exists")
	default:
		b.WriteString(safe.Text(s.UserPrincipalName))
		switch {
		case s.ExternalUserType != "" && s.HomeTenant != "":
			b.WriteString(" (" + safe.Text(s.ExternalUserType) + " from tenant " + safe.Text(s.HomeTenant) + ")")
		case s.ExternalUserType != "":
			b.WriteString(" (" + safe.Text(s.ExternalUserType) + ")")
		case s.Guest:
			b.WriteString(" (guest)")
		}
	}
	if len(roles) > 0 {
		b.WriteString("; roles: " + strings.Join(roles, ", "))
	} else {
		b.WriteString("; no directory roles")
	}
	if len(s.Groups) > 0 {
		fmt.Fprintf(&b, "; in %s", text.Plural(len(s.Groups), "group"))
	}
	return b.String()
}

// DescribeSignIn is the sign-in in one sentence.
func DescribeSignIn(c Case) string {
	apps := c.Apps[0].Name
	if len(c.Apps) > 1 {
		apps = fmt.Sprintf("the platform's %d applications", len(c.Apps))
	}
	country := c.Country
	if country == "" {
		country = "country not given"
	}
	platform := c.DevicePlatform
	if platform == "" {
		platform = "an unknown platform"
	}
	s := fmt.Sprintf("%s from %s (%s), %s on %s", apps, c.IP, country, c.ClientAppType, platform)
	if c.AuthFlow != "" {
		s += ", " + c.AuthFlow
	}
	for _, r := range []struct{ name, level string }{{"sign-in risk", c.SignInRisk}, {"user risk", c.UserRisk},
		{"service principal risk", c.ServicePrincipalRisk}, {"insider risk", c.InsiderRisk}} {
		if r.level != "" {
			s += ", " + r.name + " " + r.level
		}
	}
	if len(c.Device) > 0 {
		keys := make([]string, 0, len(c.Device))
		for k := range c.Device {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			keys[i] = k + "=" + safe.Text(c.Device[k])
		}
		s += ", device " + strings.Join(keys, " ")
	}
	return s
}

// DescribeSource says where the policies came from.
func DescribeSource(src Source) string {
	var where string
	switch src.Mode {
	case "demo":
		where = "the simulated tenant (demo)"
	case "snapshot":
		where = "snapshot " + safe.Text(src.File)
		if src.TenantID != "" {
			where += " of tenant " + safe.Text(src.TenantID)
		}
	default:
		where = "tenant " + safe.Text(src.TenantID)
	}
	return fmt.Sprintf("%s: %d policies, %d named locations", where, src.Policies, src.NamedLocations)
}
