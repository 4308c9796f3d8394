package whatif

import (
	"context"
	"fmt"
	"strings"

	"mgmtsession/ca"
	"mgmtsession/graph"
)

// GraphWhatIf is Graph's What If (graph.Client).
type GraphWhatIf interface {
	Evaluate(ctx context.Context, s graph.WhatIfSignIn) ([]graph.WhatIfResult, error)
}

// GraphAnswer is Graph's result for one policy. AnalysisReasons is nil when
// the SDK could not read the value Graph sent: unknown.
type GraphAnswer struct {
	Applies         bool    `json:"applies"`
	AnalysisReasons *string `json:"analysisReasons"`
}

// LocalAnswer is the local evaluator's aggregate result for one policy.
type LocalAnswer struct {
	Applies bool     `json:"applies"`
	Reasons []string `json:"reasons"`
}

// Disagreement is a policy on which the local evaluator and Graph differ,
// with both answers. Local is nil for a policy only Graph reported; Graph is
// nil for one Graph left out.
type Disagreement struct {
	ID          string       `json:"id"`
	DisplayName string       `json:"displayName"`
	Local       *LocalAnswer `json:"local"`
	Graph       *GraphAnswer `json:"graph"`
	Detail      string       `json:"detail"`
}

// Comparison is the outcome of putting Graph's What If beside the local one
// for a case.
type Comparison struct {
	// Compared is false when Graph could not be asked; Note says why.
	Compared      bool           `json:"compared"`
	Note          string         `json:"note,omitempty"`
	Requests      int            `json:"requests"`
	Disagreements []Disagreement `json:"disagreements"`
}

// GraphSignIn is the request Graph's What If gets for a case, and false
// when Graph cannot evaluate it: a hypothetical account, or the "All"
// target, which has no application id to send.
func GraphSignIn(s Subject, c Case) (graph.WhatIfSignIn, string, bool) {
	if !s.Exists() {
		return graph.WhatIfSignIn{}, "the account does not exist yet; Graph's What If evaluates existing accounts only", false
	}
	apps := graphIDs(c.Apps)
	if len(apps) == 0 && c.UserAction == "" && c.AuthContext == "" {
		return graph.WhatIfSignIn{}, "Graph's What If needs real application ids, and \"all\" has none; ask about the platform's applications, Office 365, the admin portals or an application id to compare", false
	}
	return graph.WhatIfSignIn{
		UserID: s.ID, ExternalUserType: s.ExternalUserType, ExternalTenantID: s.HomeTenant,
		ServicePrincipalID: s.ServicePrincipalID,
		UserAction:         c.UserAction, AuthContext: c.AuthContext, Applications: apps,
		IPAddress: c.IP, Country: c.Country, ClientAppType: c.ClientAppType, DevicePlatform: c.DevicePlatform,
		AuthFlow: c.AuthFlow, SignInRisk: c.SignInRisk, UserRisk: c.UserRisk,
		ServicePrincipalRisk: c.ServicePrincipalRisk, InsiderRisk: c.InsiderRisk, DeviceInfo: deviceInfo(c.Device),
	}, "", true
}

// CompareWithGraph asks Graph's What If about the case, once, and records
// its answer beside each policy and every disagreement. When Graph cannot be
// asked it records why and makes no request.
func (r *CaseResult) CompareWithGraph(ctx context.Context, g GraphWhatIf, s Subject) error {
	req, note, ok := GraphSignIn(s, r.Case)
	if !ok {
		r.Graph = &Comparison{Note: note, Disagreements: []Disagreement{}}
		return nil
	}
	results, err := g.Evaluate(ctx, req)
	if err != nil {
		return err
	}
	r.Compare(results)
	r.Graph.Requests = 1
	return nil
}

// Compare records Graph's answer (for the same case) beside each policy and
// lists the disagreements. It is pure.
func (r *CaseResult) Compare(results []graph.WhatIfResult) {
	cmp := &Comparison{Compared: true, Disagreements: []Disagreement{}}
	byID := make(map[string]graph.WhatIfResult, len(results))
	for _, g := range results {
		byID[strings.ToLower(g.ID)] = g
	}
	seen := map[string]bool{}
	for i := range r.Policies {
		p := &r.Policies[i]
		key := strings.ToLower(p.ID)
		seen[key] = true
		local := &LocalAnswer{Applies: p.Applies, Reasons: p.Reasons}
		g, ok := byID[key]
		if !ok {
			p.Graph = nil
			p.GraphDisagrees = p.State != ca.StateDisabled
			if p.GraphDisagrees {
				cmp.Disagreements = append(cmp.Disagreements, Disagreement{
					ID: p.ID, DisplayName: p.DisplayName, Local: local,
					Detail: "Graph's What If did not report this " + stateWord(p.State) + " policy",
				})
			}
			continue
		}
		ans := &GraphAnswer{Applies: g.PolicyApplies}
		if g.AnalysisReasons != "" {
			v := g.AnalysisReasons
			ans.AnalysisReasons = &v
		}
		p.Graph = ans
		detail := disagreement(p, ans)
		p.GraphDisagrees = detail != ""
		if detail != "" {
			cmp.Disagreements = append(cmp.Disagreements, Disagreement{
				ID: p.ID, DisplayName: p.DisplayName, Local: local, Graph: ans, Detail: detail,
			})
		}
	}
	for _, g := range results {
		if seen[strings.ToLower(g.ID)] {
			continue
		}
		ans := &GraphAnswer{Applies: g.PolicyApplies}
		if g.AnalysisReasons != "" {
			v := g.AnalysisReasons
			ans.AnalysisReasons = &v
		}
		cmp.Disagreements = append(cmp.Disagreements, Disagreement{
			ID: g.ID, DisplayName: g.DisplayName, Graph: ans,
			Detail: "Graph's What If reported a policy that was not among the policies read (created since?)",
		})
	}
	r.Graph = cmp
}

// disagreement explains how Graph's answer differs from the local one, or
// returns "" when they agree.
func disagreement(p *PolicyOutcome, g *GraphAnswer) string {
	graphSays := "does not apply"
	if g.Applies {
		graphSays = "applies"
	}
	if g.AnalysisReasons != nil && !g.Applies {
		graphSays += " (" + *g.AnalysisReasons + ")"
	}
	switch {
	case p.Applies && !g.Applies:
		return "local: applies; Graph: " + graphSays
	case !p.Applies && g.Applies:
		return fmt.Sprintf("local: does not apply (%s); Graph: applies", strings.Join(p.Reasons, ", "))
	case p.Applies:
		return ""
	}
	// Neither applies. Graph names only the first unmet condition; it
	// disagrees when that condition is not among the local ones. An
	// unknown reason (nil) or notSet says nothing either way.
	if g.AnalysisReasons == nil {
		return ""
	}
	var known []string
	for _, reason := range strings.Split(*g.AnalysisReasons, ",") {
		reason = strings.TrimSpace(reason)
		if reason != "" && reason != "notSet" && reason != "unknownFutureValue" {
			known = append(known, reason)
		}
	}
	if len(known) == 0 {
		return ""
	}
	for _, reason := range known {
		if containsFold(p.Reasons, reason) {
			return ""
		}
	}
	return fmt.Sprintf("both: does not apply, but local says %s and Graph says %s", strings.Join(p.Reasons, ", "), strings.Join(known, ", "))
}

func stateWord(state string) string {
	switch state {
	case ca.StateEnabled:
		return "enabled"
	case ca.StateReportOnly:
		return "report-only"
	}
	return state
}

// HasDisagreements reports whether Graph was asked and disagreed.
func (r *CaseResult) HasDisagreements() bool {
	return r.Graph != nil && len(r.Graph.Disagreements) > 0
}
