package change

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"mgmtsession/graph"
	"mgmtsession/preflight"
)

// Report is what a run did, for the operator and the support ticket (SPEC
// section 9): the tenant, who, when, the checks, the What If, every change,
// and the state the tenant holds after it. Never a password or a token: it
// is built from Changes, verdicts and the session status, none of which
// holds one.
type Report struct {
	Tenant      string      `json:"tenant"`
	TenantID    string      `json:"tenantId"`
	Operator    string      `json:"operator"`
	Time        string      `json:"time"`
	Run         string      `json:"runId"`
	Journal     string      `json:"journal"`
	Outcome     string      `json:"outcome"` // done or failed
	Error       string      `json:"error,omitempty"`
	Account     string      `json:"userPrincipalName"`
	Mode        string      `json:"mode"`
	AllowedIPs  []string    `json:"allowedIPs"`
	Checks      []Check     `json:"checks"`
	Planned     []Change    `json:"planned"`
	Done        []Change    `json:"done"`
	Exclusions  []Exclusion `json:"exclusions"`
	WhatIfAfter []Verdict   `json:"whatIfAfter"`
	Warnings    []string    `json:"warnings"`
	Final       *Status     `json:"finalState"`
}

// Check is one preflight check as the report shows it.
type Check struct {
	Status string `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail,omitempty"`
}

// NewReport gathers a run's report.
func NewReport(p *Plan, res *Result, runErr error, operator string, now time.Time) *Report {
	r := &Report{Tenant: p.TenantName, TenantID: p.TenantID, Operator: operator, Time: now.UTC().Format(time.RFC3339),
		Outcome: "done", Account: p.UPN, Mode: p.Mode, AllowedIPs: p.AllowedIPs, Checks: []Check{},
		Planned: p.Changes, Done: []Change{}, Exclusions: p.Exclusions, WhatIfAfter: p.WhatIfAfter(), Warnings: slices.Clone(p.Warnings)}
	if res != nil {
		r.Run, r.Journal, r.Done = res.Run, res.Journal, res.Done
	}
	if runErr != nil {
		r.Outcome, r.Error = "failed", runErr.Error()
	}
	return r
}

// ReportAfter is a run's report as apply and the wizard write it beside
// the journal: the plan and what was done, the preflight's checks as they
// stand after the run (checks may be nil when they could not be read), and
// the session read fresh into Final, or a warning that it could not be.
func ReportAfter(ctx context.Context, rd Reader, sess graph.Session, p *Plan, res *Result, runErr error, checks *preflight.Report) *Report {
	r := NewReport(p, res, runErr, OperatorLabel(sess), time.Now())
	if checks != nil {
		for _, c := range checks.Checks {
			r.Checks = append(r.Checks, Check{Status: string(c.Result), Title: c.Title, Detail: c.Reason})
		}
	}
	if facts, err := ReadFacts(ctx, rd, sess, p.Desired()); err == nil {
		r.Final = SessionStatus(facts)
	} else {
		r.Warnings = append(r.Warnings, "The state after the run could not be read: "+err.Error())
	}
	return r
}

// Write writes the report as run.report.md and run.report.json in dir
// (0600) and returns the Markdown file's path.
func (r *Report) Write(dir string) (string, error) {
	base := filepath.Join(dir, r.Run+".report")
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(base+".json", append(data, '\n'), 0o600); err != nil {
		return "", fmt.Errorf("writing the report: %w", err)
	}
	if err := os.WriteFile(base+".md", []byte(r.Markdown()), 0o600); err != nil {
		return "", fmt.Errorf("writing the report: %w", err)
	}
	return base + ".md", nil
}

// md escapes text from the tenant for a Markdown table or line: no markup,
// no line break, no control character.
func md(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f):
			b.WriteRune('?')
		case strings.ContainsRune("\\`*_[]<>|#", c):
			b.WriteRune('\\')
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// Markdown is the report for people.
func (r *Report) Markdown() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# Management session: %s\n\n", md(r.Outcome))
	p("| | |\n|---|---|\n")
	p("| Tenant | %s (%s) |\n| Operator | %s |\n| Time | %s |\n| Run | %s |\n| Account | %s (%s) |\n| Allowed IPs | %s |\n\n",
		md(r.Tenant), md(r.TenantID), md(r.Operator), r.Time, md(r.Run), md(r.Account), md(r.Mode), md(strings.Join(r.AllowedIPs, ", ")))
	if r.Error != "" {
		p("**The run failed:** %s\n\n", md(r.Error))
	}
	if len(r.Checks) > 0 {
		p("## Checks\n\n| Result | Check | Detail |\n|---|---|---|\n")
		for _, c := range r.Checks {
			p("| %s | %s | %s |\n", md(c.Status), md(c.Title), md(c.Detail))
		}
		p("\n")
	}
	p("## Changes\n\n")
	if len(r.Planned) == 0 {
		p("None: the tenant already held the desired state.\n\n")
	} else {
		reqs := map[string]string{}
		for _, c := range r.Done {
			reqs[c.Action+c.Object+c.Name+c.Ref] = c.RequestID
		}
		p("| # | Change | Object | Made | Graph request id |\n|---|---|---|---|---|\n")
		for i, c := range r.Planned {
			k := c.Action + c.Object + c.Name + c.Ref
			made := "no"
			if _, ok := reqs[k]; ok {
				made = "yes, verified"
			}
			p("| %d | %s %s | %s | %s | %s |\n", i+1, md(c.Action), md(c.Object), md(c.Name), made, md(reqs[k]))
		}
		p("\n")
	}
	if len(r.Exclusions) > 0 {
		p("## Exclusions of the account\n\n| Policy | State | Why |\n|---|---|---|\n")
		for _, e := range r.Exclusions {
			p("| %s | %s | %s |\n", md(e.DisplayName), md(stateWord(e.State)), md(e.Why))
		}
		p("\n")
	}
	p("## What If after the changes\n\n| Sign-in | Verdict | Policies |\n|---|---|---|\n")
	for _, v := range r.WhatIfAfter {
		p("| %s | %s | %s |\n", md(v.Label), md(v.Verdict), md(strings.Join(v.By, ", ")))
	}
	p("\n")
	if s := r.Final; s != nil {
		p("## State of the tenant after the run\n\n")
		p("- Session: %s; auto-enable: %v\n", md(s.Session), s.AutoEnable)
		if s.Account != nil {
			p("- Account: %s (%s), enabled: %v, roles: %s\n", md(s.Account.UserPrincipalName), md(s.Account.ID), s.Account.AccountEnabled, md(strings.Join(s.Account.Roles, ", ")))
		}
		if s.Policy != nil {
			p("- Policy: %s (%s), %s\n", md(s.Policy.DisplayName), md(s.Policy.ID), md(stateWord(s.Policy.State)))
		}
		if s.NamedLocation != nil {
			p("- Named location: %s (%s)\n", md(s.NamedLocation.DisplayName), md(s.NamedLocation.ID))
		}
		p("- Excluded from: %s\n", md(strings.Join(s.ExcludedFrom, ", ")))
		for _, d := range s.Drift {
			p("- Drift: %s. Fix: %s\n", md(d.What), md(d.Fix))
		}
		p("\n")
	}
	for _, w := range r.Warnings {
		p("> **Warning:** %s\n\n", md(w))
	}
	return b.String()
}
