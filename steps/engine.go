package steps

// What the write steps (Create, Turn on, Auto-enable) and the details view
// share: the engine's options built as the headless commands build them,
// the journal directory, the report, and the State changes they propose.
// Every write goes through change.Apply, change.SetSession or change.Undo,
// called thinly, so that the wizard and `mgmtsession apply/on/off/undo`
// leave the same journal and report.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"mgmtsession/change"
	"mgmtsession/graph"
	"mgmtsession/preflight"
)

// Prober is the live sign-in probe (SPEC section 4, step 6): it signs in as
// upn with the password alone and says how Entra answered; log is the
// operator's client, for the tenant's sign-in log to name the policies. The
// command line wires it to the probe package; the steps know only this seam.
type Prober func(ctx context.Context, log *graph.Client, upn string, password change.Secret) (ProbeAnswer, error)

// ProbeAnswer is the probe's answer in words.
type ProbeAnswer struct {
	// Outcome is the probe's outcome name (mfaRequired, succeeded, ...).
	Outcome    string
	Title      string
	Cause, Fix string
	// Policies are the Conditional Access policies that applied, when the
	// tenant's sign-in log names them.
	Policies []string
}

// ManagementMsg puts the management session as the tenant now shows it into
// the State: the header's badge flips with it.
type ManagementMsg struct{ Status *change.Status }

// Apply records it.
func (m ManagementMsg) Apply(s *State) { s.Management = m.Status }

// CreatedMsg records the Create step's run, the report written for it, and
// the plan made again from a fresh read after it (which is then empty but
// for turning the session on): a step that plans from the State after
// Create plans from the tenant as Create left it.
type CreatedMsg struct {
	Run        *change.Result
	Applied    *change.Plan
	ReportPath string
	Facts      *change.Facts
	Plan       *change.Plan
	Status     *change.Status
}

// Apply records it.
func (m CreatedMsg) Apply(s *State) {
	s.Run, s.ReportPath = m.Run, m.ReportPath
	if m.Applied != nil {
		s.Applied = m.Applied
	}
	if m.Plan != nil {
		d := m.Plan.Desired()
		s.Desired, s.Facts, s.FactsUPN, s.Plan = &d, m.Facts, d.Account.UPN, m.Plan
	}
	if m.Status != nil {
		s.Management = m.Status
	}
}

// journalDir is the tenant's journal directory: the command line's (which
// keeps an in-memory demo tenant's runs apart), or the user's state
// directory when none was given.
func journalDir(deps Deps, tenantID string) (string, error) {
	if deps.JournalDir != nil {
		return deps.JournalDir(tenantID)
	}
	state, err := change.StateDir()
	if err != nil {
		return "", err
	}
	return change.TenantDir(state, tenantID)
}

// engineOptions are the engine's options for one run, as `mgmtsession
// apply` makes them: the journal, the operator for the record, the demo's
// shorter pause between read-backs, and the events streamed to the job.
func engineOptions(deps Deps, sess graph.Session, j *change.Journal, report func(any)) change.Options {
	o := change.Options{Journal: j, Operator: change.OperatorLabel(sess), VerifyPause: deps.VerifyPause}
	if report != nil {
		o.Observer = func(e change.Event) { report(e) }
	}
	return o
}

// newJournal opens a journal for a new run of the tenant.
func newJournal(deps Deps, tenantID string) (*change.Journal, error) {
	dir, err := journalDir(deps, tenantID)
	if err != nil {
		return nil, fmt.Errorf("finding the journal directory: %w", err)
	}
	j, err := change.StartRun(dir)
	if err != nil {
		return nil, fmt.Errorf("creating the journal: %w", err)
	}
	return j, nil
}

// readSession reads the tenant fresh for the desired account and judges its
// session, as `mgmtsession status` does.
func readSession(ctx context.Context, client *graph.Client, sess graph.Session, d change.Desired) (*change.Facts, *change.Status, error) {
	facts, err := change.ReadFacts(ctx, client, sess, d)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the management session: %w", err)
	}
	return facts, change.SessionStatus(facts), nil
}

// writeReport writes the run's report beside its journal, as apply does:
// the checks and the state after the run read fresh. It returns the
// Markdown file's path and the session as it now stands (nil when it
// could not be read, which the report says).
func writeReport(ctx context.Context, deps Deps, s *State, p *change.Plan, res *change.Result, runErr error) (string, *change.Status, error) {
	sess := *s.Session
	var checks *preflight.Report
	if deps.Preflight != nil {
		if pr, err := deps.Preflight(ctx, s.Client, sess); err == nil {
			checks = pr
		}
	}
	r := change.ReportAfter(ctx, s.Client, sess, p, res, runErr, checks)
	dir, err := journalDir(deps, p.TenantID)
	if err != nil {
		return "", r.Final, fmt.Errorf("writing the report: %w", err)
	}
	path, err := r.Write(dir)
	return path, r.Final, err
}

// createPart is the part of a plan the Create step makes: everything but
// turning the session on (enabling the account and recording the session
// as on), which is the Turn on step's, after its confirmation What If.
func createPart(p *change.Plan) *change.Plan {
	cp := *p
	cp.Changes = nil
	for _, c := range p.Changes {
		if c.Action == change.ActEnable {
			break // after it comes only the record of the session on
		}
		cp.Changes = append(cp.Changes, c)
	}
	// Without an enable (Global Admin mode, or an account already
	// enabled), the last record write is the one that records "on".
	if n := len(cp.Changes); n > 0 && n == len(p.Changes) && recordsOn(cp.Changes[n-1]) {
		cp.Changes = cp.Changes[:n-1]
	}
	if cp.Changes == nil {
		cp.Changes = []change.Change{}
	}
	return &cp
}

// recordsOn says whether a change writes the session record as on.
func recordsOn(c change.Change) bool {
	if c.Object != change.ObjSessionRecord {
		return false
	}
	var r change.Record
	if err := json.Unmarshal(c.After, &r); err != nil {
		return false
	}
	return r.Session == change.SessionOn
}

// requestID is Graph's request id of the failed request, for Microsoft
// support; "" when the error carries none.
func requestID(err error) string {
	var ge *graph.Error
	if errors.As(err, &ge) {
		return ge.RequestID
	}
	return ""
}
