// Package whatif is the Conditional Access What If of the wizard and of the
// whatif and export commands: which policies would demand MFA of the
// management account or block it, for the sign-ins the platform makes, and
// why. It evaluates locally with package ca (fast, explains every unmet
// condition, works before the account exists) and, when the account exists,
// puts Graph's own What If beside it and lists every disagreement.
//
// Results are plain structs for any renderer; nothing here knows the
// terminal.
//
// # Graph's What If, and what is compared
//
// The tenant allows one Conditional Access request per second, so Graph is
// asked once per sign-in context (one IP address, country, client app and
// platform), never once per application or policy. Such a call names all of
// the context's applications in includeApplications, and Graph then applies
// a policy when it applies to any of them: per-application answers cannot
// be told apart. So for every context this package also aggregates its own
// per-application results the same way (a policy applies when it applies to
// at least one of the applications; its reasons are the union of the unmet
// conditions) and compares Graph with that aggregate. The per-application
// verdicts stay local-only. The Office 365 row is the ca.Office365 grouping
// locally and every documented member id for Graph, which means the same
// thing: a sign-in to some member of the suite.
//
// Graph reports only the first unmet condition of a policy that does not
// apply, so a disagreement on the reason is one where Graph's reason is not
// among the local ones. An analysisReasons value the SDK could not read
// (nil) is unknown: never "applies", and never a disagreement by itself.
// Graph evaluates only enabled and report-only policies, so a disabled
// policy it leaves out is expected.
//
// The matrix of the wizard (six applications from an allowed and an outside
// IP) therefore costs two Conditional Access reads (policies and named
// locations, once) plus one evaluate call per IP.
package whatif

import (
	"slices"
	"strings"

	"mgmtsession/ca"
)

// Conditions are the sign-in details besides the application. Every one is
// given to Graph too, since Graph does not evaluate a detail left out.
type Conditions struct {
	IP             string `json:"ipAddress"`
	Country        string `json:"country,omitempty"`
	ClientAppType  string `json:"clientAppType"`
	DevicePlatform string `json:"devicePlatform"`               // "" is unknown
	AuthFlow       string `json:"authenticationFlow,omitempty"` // deviceCodeFlow, authenticationTransfer or ""
	// Risk levels as Graph names them; "" is not given (sign-in, user and
	// service principal risk then count as none, insider risk as unknown).
	SignInRisk           string `json:"signInRiskLevel,omitempty"`
	UserRisk             string `json:"userRiskLevel,omitempty"`
	ServicePrincipalRisk string `json:"servicePrincipalRiskLevel,omitempty"`
	InsiderRisk          string `json:"insiderRiskLevel,omitempty"`
	// Device holds deviceInfo's properties as ParseDevice returns them; nil
	// is a device the sign-in says nothing about.
	Device map[string]string `json:"deviceInfo,omitempty"`
}

// Case is one sign-in context: the applications signed in to, from one
// place, with one client. Label names it for people ("allowed IP").
type Case struct {
	Label string `json:"label,omitempty"`
	Apps  []App  `json:"applications"`
	// UserAction (Graph's userAction name) or AuthContext (c1..c99) make
	// the sign-in one of that kind instead of one to Apps; Apps then holds
	// the one target UserActionTarget or AuthContextTarget describes.
	UserAction  string `json:"userAction,omitempty"`
	AuthContext string `json:"authenticationContext,omitempty"`
	Conditions         // IP is a parsed address in its canonical text form
}

// PolicySet is the tenant's policies and named locations, read once, with
// the evaluator prepared for them.
type PolicySet struct {
	Policies       []ca.Policy
	NamedLocations []ca.NamedLocation
	ev             *ca.Evaluator
}

// NewPolicySet prepares policies and named locations for evaluation.
func NewPolicySet(policies []ca.Policy, locations []ca.NamedLocation) *PolicySet {
	return &PolicySet{Policies: policies, NamedLocations: locations, ev: ca.NewEvaluator(policies, locations)}
}

// PolicyOutcome is one policy's outcome for a case. For a case of several
// applications, Applies means it applies to at least one of them (AppliesTo
// names them) and Reasons are the unmet conditions of all of them.
type PolicyOutcome struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName"`
	State       string   `json:"state"`
	Applies     bool     `json:"applies"`
	Reasons     []string `json:"reasons"`             // Graph's analysisReasons names; empty when it applies
	Undecided   []string `json:"undecided,omitempty"` // the conditions behind notEnoughInformation
	Controls    []string `json:"controls"`
	Operator    string   `json:"operator,omitempty"`
	AppliesTo   []string `json:"appliesTo,omitempty"` // application names, for a case of several
	// Graph is Graph's own answer, when Graph was asked and reported it.
	Graph *GraphAnswer `json:"graph,omitempty"`
	// GraphDisagrees is Compare's judgement of this policy: the one answer
	// the table, the JSON's disagreements and the wizard all show.
	GraphDisagrees bool `json:"-"`
}

// Enforced reports whether the policy is enabled (not report-only, not
// disabled): only enforced policies decide the verdict.
func (p PolicyOutcome) Enforced() bool { return p.State == ca.StateEnabled }

// ReportOnly reports whether the policy is in report-only mode.
func (p PolicyOutcome) ReportOnly() bool { return p.State == ca.StateReportOnly }

// AppResult is the local verdict for one application of a case.
type AppResult struct {
	App              App      `json:"application"`
	Verdict          string   `json:"verdict"`
	RequiredControls []string `json:"requiredControls"`
	// Applied lists the enforced policies that apply, by id.
	Applied []string `json:"appliedPolicies"`
	// Undetermined lists enforced policies that depend on a fact the
	// sign-in did not give, by id.
	Undetermined []string `json:"undetermined,omitempty"`
}

// CaseResult is the What If of one case.
type CaseResult struct {
	Case Case `json:"signIn"`
	// Verdict is the strongest of the per-application verdicts: block, mfa,
	// controls or allow.
	Verdict          string   `json:"verdict"`
	RequiredControls []string `json:"requiredControls"`
	// Undetermined are the enforced policies (ids) that could apply but
	// depend on a fact the sign-in did not give, for some application, and
	// apply to none: the verdict counts them as not applying.
	Undetermined []string        `json:"undetermined,omitempty"`
	Policies     []PolicyOutcome `json:"policies"`
	PerApp       []AppResult     `json:"perApplication"`
	// Graph is the comparison with Graph's What If; nil when Graph was not
	// asked.
	Graph *Comparison `json:"graphWhatIf,omitempty"`
}

// verdictRank orders the verdicts from weakest to strongest.
var verdictRank = map[string]int{ca.VerdictAllow: 0, ca.VerdictControls: 1, ca.VerdictMFA: 2, ca.VerdictBlock: 3}

// Stronger returns the stronger of two verdicts.
func Stronger(a, b string) string {
	if verdictRank[b] > verdictRank[a] {
		return b
	}
	return a
}

// reasonOrder is the order of Graph's whatIfAnalysisReasons enum, the order
// reasons are listed in.
var reasonOrder = []string{"notEnoughInformation", "invalidCondition", "users", "workloadIdentities", "application",
	"userActions", "authenticationContext", "devicePlatform", "devices", "clientApps", "location", "signInRisk",
	"emptyPolicy", "invalidPolicy", "policyNotEnabled", "userRisk", "time", "insiderRisk", "authenticationFlow"}

func reasonIndex(r string) int {
	if i := slices.Index(reasonOrder, r); i >= 0 {
		return i
	}
	return len(reasonOrder)
}

// Evaluate runs the local What If for a case: one evaluation per
// application, then the aggregate described in the package comment.
func (ps *PolicySet) Evaluate(s Subject, c Case) *CaseResult {
	in := ca.SignIn{
		Subject:        s.evaluatorSubject(),
		ClientAppType:  c.ClientAppType,
		DevicePlatform: c.DevicePlatform,
		Country:        c.Country,
		AuthFlow:       c.AuthFlow,
		UserAction:     userActionURN[c.UserAction],
		AuthContext:    c.AuthContext,
		SignInRisk:     c.SignInRisk,
		UserRisk:       c.UserRisk,
		InsiderRisk:    c.InsiderRisk,
		Device:         deviceFacts(c.Device),

		ServicePrincipal:     s.ServicePrincipalID,
		ServicePrincipalRisk: c.ServicePrincipalRisk,
	}
	if ip, err := ParseIP(c.IP); err == nil {
		in.IP = ip
	}
	res := &CaseResult{Case: c, Verdict: ca.VerdictAllow, RequiredControls: []string{}, Policies: make([]PolicyOutcome, len(ps.Policies))}
	undetermined := map[string]bool{}
	targets := c.Apps
	if len(targets) == 0 && c.UserAction != "" {
		targets = []App{UserActionTarget(c.UserAction)}
	} else if len(targets) == 0 && c.AuthContext != "" {
		targets = []App{AuthContextTarget(c.AuthContext)}
	}
	for ai, app := range targets {
		in.Application = app.ID
		if c.UserAction != "" || c.AuthContext != "" {
			in.Application = "" // the sign-in reaches no application
		}
		r := ps.ev.Evaluate(in)
		ar := AppResult{App: app, Verdict: r.Verdict, RequiredControls: slices.Clone(r.RequiredControls), Applied: []string{}}
		res.Verdict = Stronger(res.Verdict, r.Verdict)
		for _, ctl := range r.RequiredControls {
			if !slices.Contains(res.RequiredControls, ctl) {
				res.RequiredControls = append(res.RequiredControls, ctl)
			}
		}
		for _, id := range r.Undetermined {
			undetermined[id] = true
		}
		for pi, pr := range r.Policies {
			out := &res.Policies[pi]
			if ai == 0 {
				*out = PolicyOutcome{
					ID: pr.ID, DisplayName: pr.DisplayName, State: pr.State,
					Controls: nonNil(slices.Clone(pr.Controls)), Operator: pr.Operator, Reasons: []string{},
				}
			}
			if pr.State == ca.StateEnabled {
				if pr.Applies {
					ar.Applied = append(ar.Applied, pr.ID)
				} else if slices.Contains(r.Undetermined, pr.ID) {
					ar.Undetermined = append(ar.Undetermined, pr.ID)
				}
			}
			if pr.Applies {
				out.Applies = true
				out.AppliesTo = append(out.AppliesTo, app.Name)
				continue
			}
			out.Reasons = union(out.Reasons, pr.Reasons)
			out.Undecided = union(out.Undecided, pr.Undecided)
		}
		res.PerApp = append(res.PerApp, ar)
	}
	slices.Sort(res.RequiredControls)
	for i := range res.Policies {
		p := &res.Policies[i]
		if p.Applies {
			// It applies to at least one application: what kept it from
			// the others is in the per-application view.
			p.Reasons, p.Undecided = []string{}, nil
			if undetermined[p.ID] {
				delete(undetermined, p.ID)
			}
		}
		if len(targets) < 2 {
			p.AppliesTo = nil
		}
		if undetermined[p.ID] {
			res.Undetermined = append(res.Undetermined, p.ID)
		}
	}
	return res
}

// union adds the reasons in add that are not in dst, keeping Graph's enum
// order.
func union(dst, add []string) []string {
	changed := false
	for _, r := range add {
		if !slices.Contains(dst, r) {
			dst = append(dst, r)
			changed = true
		}
	}
	if changed {
		slices.SortStableFunc(dst, func(a, b string) int { return reasonIndex(a) - reasonIndex(b) })
	}
	return dst
}

// PolicyName is the display name of a policy of the result, by id.
func (r *CaseResult) PolicyName(id string) string {
	for _, p := range r.Policies {
		if p.ID == id {
			return p.DisplayName
		}
	}
	return id
}

// EnforcedApplying lists the enforced policies that apply.
func (r *CaseResult) EnforcedApplying() []PolicyOutcome {
	var out []PolicyOutcome
	for _, p := range r.Policies {
		if p.Enforced() && p.Applies {
			out = append(out, p)
		}
	}
	return out
}

// Culprits are the enforced applying policies that make the verdict what it
// is: those whose controls reach the verdict's strength (for mfa, the
// policies that demand MFA or an authentication strength; for block, the
// blocking ones).
func (r *CaseResult) Culprits() []PolicyOutcome {
	var out []PolicyOutcome
	for _, p := range r.EnforcedApplying() {
		if policyVerdict(p.Controls) == r.Verdict {
			out = append(out, p)
		}
	}
	return out
}

// policyVerdict is the verdict a policy's controls alone give, as package ca
// judges it (block, then MFA or an authentication strength, then any other
// control).
func policyVerdict(controls []string) string {
	v := ca.VerdictAllow
	for _, c := range controls {
		switch strings.ToLower(c) {
		case "block":
			v = Stronger(v, ca.VerdictBlock)
		case "mfa", "authenticationstrength":
			v = Stronger(v, ca.VerdictMFA)
		default:
			v = Stronger(v, ca.VerdictControls)
		}
	}
	return v
}
