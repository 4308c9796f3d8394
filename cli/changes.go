package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"mgmtsession/change"
	"mgmtsession/graph"
	"mgmtsession/preflight"
	"mgmtsession/safe"
	"mgmtsession/text"
)

// desiredFlags are the desired-state options of plan, apply and the wizard: every key of the --config file is also a flag, and a flag
// wins.
type desiredFlags struct {
	config      string
	mode        string
	upn         string
	roles       []string
	allowedIPs  []string
	policyState string
	autoEnable  bool
	excludeFrom []string
}

func (d *desiredFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&d.config, "config", "", "YAML `FILE` with the desired state (account, allowedIPs, policyState, autoEnable, excludeFrom)")
	fl.StringVar(&d.mode, "mode", "", "serviceAccount (default: create a dedicated account) or globalAdmin (protect an existing admin)")
	fl.StringVar(&d.upn, "upn", "", "the account's user principal name (default: coreview.admin@ the initial domain)")
	fl.StringArrayVar(&d.roles, "role", nil, "a directory role for the service account, by name or template id (repeatable; default: the least-privilege set)")
	fl.StringArrayVar(&d.allowedIPs, "allowed-ip", nil, "an allowed IP range or address of the platform, or a comma-separated list (repeatable)")
	fl.StringVar(&d.policyState, "policy-state", "", "the account's policy: enabled (default) or reportOnly (a trial: MFA is then not enforced outside the allowed IPs)")
	fl.BoolVar(&d.autoEnable, "auto-enable", false, "keep the account enabled so the platform can start a session whenever an operator acts")
	fl.StringArrayVar(&d.excludeFrom, "exclude-from", nil, "auto (default: the policies the What If finds in the way) or a policy id to exclude the account from (repeatable)")
	_ = cmd.RegisterFlagCompletionFunc("mode", fixedCompletion("serviceAccount", "globalAdmin"))
	_ = cmd.RegisterFlagCompletionFunc("policy-state", fixedCompletion("enabled", "reportOnly"))
}

func fixedCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// resolve reads the file and the flags into the desired state; bad input is
// a usage error (exit 2), found before anything is read from the tenant.
func (d *desiredFlags) resolve(cmd *cobra.Command) (change.Desired, error) {
	cfg, o, err := d.read(cmd)
	if err != nil {
		return change.Desired{}, err
	}
	des, err := change.Resolve(cfg, o)
	if err != nil {
		return change.Desired{}, asUsage(cmd, err)
	}
	return des, nil
}

// read reads the file and takes the flags given, without resolving them:
// the wizard resolves once the operator has given what is missing.
func (d *desiredFlags) read(cmd *cobra.Command) (change.Config, change.Overrides, error) {
	var cfg change.Config
	if d.config != "" {
		c, err := change.LoadConfig(d.config)
		if err != nil {
			return change.Config{}, change.Overrides{}, asUsage(cmd, err)
		}
		cfg = c
	}
	var o change.Overrides
	fl := cmd.Flags()
	if fl.Changed("mode") {
		o.Mode = &d.mode
	}
	if fl.Changed("upn") {
		o.UPN = &d.upn
	}
	if fl.Changed("policy-state") {
		o.PolicyState = &d.policyState
	}
	if fl.Changed("auto-enable") {
		o.AutoEnable = &d.autoEnable
	}
	o.Roles, o.AllowedIPs, o.ExcludeFrom = d.roles, d.allowedIPs, d.excludeFrom
	return cfg, o, nil
}

// asUsage makes bad input a usage error (exit 2) naming the command.
func asUsage(cmd *cobra.Command, err error) error {
	if errors.Is(err, change.ErrInvalidInput) && cmd != nil {
		return &usageError{msg: err.Error(), cmd: cmd.CommandPath()}
	}
	return err
}

// ---------------------------------------------------------------- plan

type planOptions struct {
	desired       desiredFlags
	failOnChanges bool
}

func planCmd(f *factory) *cobra.Command {
	var o planOptions
	cmd := &cobra.Command{
		Use:     "plan",
		Short:   "Show the exact changes apply would make, as a diff",
		Long:    "Reads the tenant fresh and prints, in order, every change 'mgmtsession apply' would make for the desired state (from flags or --config FILE): the account and its roles, the named location of the allowed IPs, the policy requiring MFA outside them, the exclusions from the policies in the way, and the session record; then the What If after the changes. Writes nothing. A read that fails stops it: a plan is never made from a read that failed.",
		GroupID: groupReadOnly,
		Args:    noArgs,
		Example: `  mgmtsession plan --demo --allowed-ip 20.190.128.0/24
  mgmtsession plan --config mgmt.yaml --json
  mgmtsession plan --config mgmt.yaml --fail-on-changes   # exit 3 when apply has work to do`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runPlan(cmd, f, o) },
	}
	o.desired.register(cmd)
	cmd.Flags().BoolVar(&o.failOnChanges, "fail-on-changes", false, "exit with code 3 when there is something to change")
	return cmd
}

// changesError: --fail-on-changes found work to do (exit 3).
type changesError struct{ n int }

func (e *changesError) Error() string { return text.Plural(e.n, "change") + " to make" }

func runPlan(cmd *cobra.Command, f *factory, o planOptions) error {
	d, err := o.desired.resolve(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	t, err := f.signIn(ctx)
	if err != nil {
		return err
	}
	defer t.Close()
	p, err := makePlan(ctx, t, d)
	if err != nil {
		return err
	}
	out := f.streams.Out
	if f.g.json {
		if err := writeJSON(out, planJSON{Plan: p, WhatIfAfter: p.WhatIfAfter()}); err != nil {
			return err
		}
	} else {
		printPlan(out, p)
	}
	if o.failOnChanges && !p.Empty() {
		return &changesError{n: len(p.Changes)}
	}
	return nil
}

type planJSON struct {
	*change.Plan
	WhatIfAfter []change.Verdict `json:"whatIfAfter"`
}

func makePlan(ctx context.Context, t *tenant, d change.Desired) (*change.Plan, error) {
	facts, err := change.ReadFacts(ctx, t.client, t.sess, d)
	if err != nil {
		return nil, fmt.Errorf("nothing was planned or written: %w", err)
	}
	return change.MakePlan(d, facts)
}

// printPlan is the readable diff, in the words the wizard uses too.
func printPlan(w io.Writer, p *change.Plan) { change.WritePlan(w, p, textWidth) }

// ---------------------------------------------------------------- apply

type applyOptions struct {
	desired      desiredFlags
	yes          bool
	passwordFile string
}

func applyCmd(f *factory) *cobra.Command {
	var o applyOptions
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Make the planned changes, verify and record them",
		Long: "Makes the changes 'mgmtsession plan' shows, protection before exclusion: the policy requiring MFA outside the allowed IPs is created and read back before the account is excluded from any policy. Each object is re-read just before it is written (a change made by someone since the plan stops the run), each write is read back until Graph shows it several times in a row, and every write is journaled with its before and after so that 'mgmtsession undo' restores it. Ends with the session on, and writes a report (Markdown and JSON).\n\n" +
			"The new account's password is handed out once: in the JSON output (--json), to --password-file FILE (created 0600, never overwritten), or on the terminal. Without a terminal, apply needs --yes, and --json or --password-file when it creates the account.",
		GroupID: groupChanges,
		Args:    noArgs,
		Example: `  mgmtsession apply --demo --allowed-ip 20.190.128.0/24 --yes
  mgmtsession apply --config mgmt.yaml --yes --password-file ./coreview-admin.txt
  mgmtsession apply --config mgmt.yaml --yes --json > result.json`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runApply(cmd, f, o) },
	}
	o.desired.register(cmd)
	cmd.Flags().BoolVar(&o.yes, "yes", false, "make the changes without asking")
	cmd.Flags().StringVar(&o.passwordFile, "password-file", "", "write the new account's password to `FILE` (created 0600; an existing file is refused)")
	return cmd
}

type applyJSON struct {
	Changes  []change.Change `json:"changes"`
	RunID    string          `json:"runId,omitempty"`
	Journal  string          `json:"journal,omitempty"`
	Report   string          `json:"report,omitempty"`
	Account  string          `json:"userPrincipalName"`
	Password string          `json:"password,omitempty"`
	Record   change.Record   `json:"record"`
	Warnings []string        `json:"warnings"`
}

func runApply(cmd *cobra.Command, f *factory, o applyOptions) error {
	d, err := o.desired.resolve(cmd)
	if err != nil {
		return err
	}
	s := f.streams
	if !o.yes && !s.Interactive {
		return &usageError{msg: "apply makes changes: without a terminal to confirm on, give --yes", cmd: cmd.CommandPath()}
	}
	if o.passwordFile != "" {
		if _, err := os.Lstat(o.passwordFile); err == nil {
			return &usageError{msg: fmt.Sprintf("--password-file %s exists: a password file is never overwritten; name a new file", safe.Text(o.passwordFile)), cmd: cmd.CommandPath()}
		}
		if dir := filepath.Dir(o.passwordFile); dir != "" {
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return &usageError{msg: fmt.Sprintf("--password-file %s: its directory does not exist", safe.Text(o.passwordFile)), cmd: cmd.CommandPath()}
			}
		}
	}
	ctx := cmd.Context()
	t, err := f.signIn(ctx)
	if err != nil {
		return err
	}
	defer t.Close()
	dir, err := f.journalDir(t.sess.TenantID)
	if err != nil {
		return err
	}
	// An unfinished run (a crash, a dropped SSH connection) is converged by
	// this one: the plan is made from what the tenant holds now, and the
	// account such a run created gets a new password if the old one was
	// never handed out.
	runs, err := change.Runs(dir)
	if err != nil {
		return err
	}
	for _, u := range change.Unfinished(runs) {
		fmt.Fprintf(s.Err, "Run %s did not finish: this apply converges it (journal %s).\n", u.Run, u.Path)
		if change.NeedsPasswordReset(u) {
			d.ResetPassword = true
		}
	}
	p, err := makePlan(ctx, t, d)
	if err != nil {
		return err
	}
	createsAccount := false
	for _, c := range p.Changes {
		createsAccount = createsAccount || (c.Object == change.ObjAccount && c.Action == change.ActCreate) || c.Object == change.ObjPassword
	}
	if createsAccount && !f.g.json && o.passwordFile == "" && !s.Interactive {
		return &usageError{msg: "apply creates the account and must hand out its password once: give --json (the password is in the output) or --password-file FILE; nothing was written", cmd: cmd.CommandPath()}
	}
	if !f.g.json {
		printPlan(s.Out, p)
	}
	if p.Empty() {
		if f.g.json {
			return writeJSON(s.Out, applyJSON{Changes: []change.Change{}, Account: p.UPN, Record: p.Record, Warnings: p.Warnings})
		}
		return nil
	}
	if !o.yes {
		ok, err := confirm(s, fmt.Sprintf("\nMake these %s in %s?", text.Plural(len(p.Changes), "change"), safe.Text(p.TenantName)))
		if err != nil || !ok {
			return errAborted
		}
	}
	j, err := change.StartRun(dir)
	if err != nil {
		return err
	}
	defer j.Close()
	opts := f.runOptions(j, t.sess)
	if o.passwordFile != "" {
		opts.OnPassword = func(pw change.Secret) error { return writePasswordFile(o.passwordFile, pw) }
	}
	if !f.g.json {
		fmt.Fprintf(s.Err, "\nApplying (journal %s)\n", j.Path)
	}
	res, err := change.Apply(ctx, t.client, p, opts)
	report, rerr := f.writeReport(ctx, t, dir, p, res, err)
	if err != nil {
		if ctx.Err() != nil {
			return errAborted
		}
		if !res.Password.IsZero() && o.passwordFile == "" {
			// The account exists: its password must not be lost with
			// the failure.
			handOutPassword(s, f.g.json, p.UPN, res.Password)
		}
		return fmt.Errorf("%w\nThe run is journaled in %s; 'mgmtsession apply' again converges, 'mgmtsession undo %s' restores what it changed", err, j.Path, j.Run)
	}
	if rerr != nil {
		return rerr
	}
	if f.g.json {
		out := applyJSON{Changes: res.Done, RunID: res.Run, Journal: res.Journal, Report: report, Account: p.UPN, Record: res.Record, Warnings: p.Warnings}
		if !res.Password.IsZero() && o.passwordFile == "" {
			out.Password = res.Password.Reveal()
		}
		return writeJSON(s.Out, out)
	}
	fmt.Fprintf(s.Out, "\nDone: %s made and verified; the management session is ON.\n", text.Plural(len(res.Done), "change"))
	fmt.Fprintf(s.Out, "Report:  %s (and .json)\nJournal: %s (mgmtsession undo %s restores this run)\n", report, res.Journal, res.Run)
	switch {
	case !res.Password.IsZero() && o.passwordFile != "":
		fmt.Fprintf(s.Out, "Password of %s written to %s (0600).\n", safe.Text(p.UPN), safe.Text(o.passwordFile))
	case !res.Password.IsZero():
		handOutPassword(s, false, p.UPN, res.Password)
	}
	return nil
}

// handOutPassword prints the new account's password once, on the terminal
// (or stdout with --json), for the operator to paste into the platform.
func handOutPassword(s Streams, asJSON bool, upn string, pw change.Secret) {
	if asJSON {
		_ = writeJSON(s.Out, map[string]string{"userPrincipalName": upn, "password": pw.Reveal()})
		return
	}
	fmt.Fprintf(s.Out, "\nPassword of %s (shown once; paste it into the platform now):\n  %s\n", safe.Text(upn), pw.Reveal())
}

func writePasswordFile(path string, pw change.Secret) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("writing the password file: %w", err)
	}
	if _, err := fh.WriteString(pw.Reveal() + "\n"); err != nil {
		fh.Close()
		return fmt.Errorf("writing the password file: %w", err)
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return fmt.Errorf("writing the password file: %w", err)
	}
	return fh.Close()
}

// confirm asks a yes/no question on the terminal.
func confirm(s Streams, question string) (bool, error) {
	fmt.Fprintf(s.Err, "%s [y/N] ", question)
	line, err := bufio.NewReader(s.In).ReadString('\n')
	if err != nil && line == "" {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// journalDir is the tenant's journal directory. The simulated tenant without
// --demo-state is new in every process, so its runs go apart from a
// persisted one's.
func (f *factory) journalDir(tenantID string) (string, error) {
	state, err := change.StateDir()
	if err != nil {
		return "", err
	}
	if f.g.demo && f.g.demoState == "" {
		tenantID = "demo-" + tenantID
	}
	return change.TenantDir(state, tenantID)
}

// newJournal starts the journal of a new run for the tenant.
func (f *factory) newJournal(tenantID string) (*change.Journal, error) {
	dir, err := f.journalDir(tenantID)
	if err != nil {
		return nil, err
	}
	return change.StartRun(dir)
}

// runOptions are the engine's options for a headless run: progress on
// stderr (stdout stays the result), the operator for the record.
func (f *factory) runOptions(j *change.Journal, sess graph.Session) change.Options {
	o := change.Options{Journal: j, Operator: change.OperatorLabel(sess)}
	if f.g.demo {
		// The simulated tenant answers from one replica: the read-backs
		// need not be spaced as a real tenant's.
		o.VerifyPause = 50 * time.Millisecond
	}
	if !f.g.json {
		o.Observer = progress(f.streams.Err)
	}
	return o
}

// progress prints the engine's events, one line a change (waits for
// replication at most every five seconds).
func progress(w io.Writer) change.Observer {
	var mu sync.Mutex
	lastWait := map[int]time.Duration{}
	return func(e change.Event) {
		mu.Lock()
		defer mu.Unlock()
		line := change.ChangeLine(e.Change)
		switch e.Kind {
		case change.EventVerified:
			fmt.Fprintf(w, "  ok    %s (verified in %.1f s)\n", line, e.Elapsed.Seconds())
		case change.EventSkipped:
			fmt.Fprintf(w, "  ok    %s (already so)\n", line)
		case change.EventWaiting:
			if e.Elapsed-lastWait[e.Index] >= 5*time.Second {
				lastWait[e.Index] = e.Elapsed
				fmt.Fprintf(w, "  wait  %s: waiting for directory replication (%.0f s so far)\n", line, e.Elapsed.Seconds())
			}
		case change.EventFailed:
			fmt.Fprintf(w, "  FAIL  %s\n", line)
		}
	}
}

// writeReport writes the run's report beside its journal, with the checks
// and the state the tenant holds after the run, each read fresh.
func (f *factory) writeReport(ctx context.Context, t *tenant, dir string, p *change.Plan, res *change.Result, runErr error) (string, error) {
	checks, err := preflight.Run(ctx, t.client, t.sess)
	if err != nil {
		checks = nil // the report says what could be read
	}
	return change.ReportAfter(ctx, t.client, t.sess, p, res, runErr, checks).Write(dir)
}

// ---------------------------------------------------------------- undo

type undoOptions struct {
	yes, force bool
}

func undoCmd(f *factory) *cobra.Command {
	var o undoOptions
	cmd := &cobra.Command{
		Use:   "undo [RUN]",
		Short: "Restore what a recorded run changed",
		Long: "Restores what a run of 'mgmtsession apply' changed, from its journal (the latest apply without RUN), in reverse order: the exclusions out first, then the account's policy, its named location, the roles, and the account last; each verified. " +
			"It refuses, naming the object, when someone else changed an object since the run (--force goes on); what this product did since (on, off, later runs) is not such a change. The undo is journaled as a run of its own.",
		GroupID: groupChanges,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return &usageError{msg: "undo takes at most one RUN", cmd: cmd.CommandPath()}
			}
			return nil
		},
		Example: `  mgmtsession undo --tenant contoso.onmicrosoft.com
  mgmtsession undo 20261204T091500Z-a1b2c3 --yes
  mgmtsession undo --demo --demo-state /tmp/tenant.json --yes`,
		RunE: func(cmd *cobra.Command, args []string) error { return runUndo(cmd, f, o, args) },
	}
	cmd.Flags().BoolVar(&o.yes, "yes", false, "undo without asking")
	cmd.Flags().BoolVar(&o.force, "force", false, "go on when someone else changed an object since the run")
	return cmd
}

func runUndo(cmd *cobra.Command, f *factory, o undoOptions, args []string) error {
	s := f.streams
	if !o.yes && !s.Interactive {
		return &usageError{msg: "undo makes changes: without a terminal to confirm on, give --yes", cmd: cmd.CommandPath()}
	}
	ctx := cmd.Context()
	t, err := f.signIn(ctx)
	if err != nil {
		return err
	}
	defer t.Close()
	dir, err := f.journalDir(t.sess.TenantID)
	if err != nil {
		return err
	}
	runs, err := change.Runs(dir)
	if err != nil {
		return err
	}
	idx := -1
	for i, r := range runs {
		if (len(args) == 1 && r.Run == args[0]) || (len(args) == 0 && r.Command == "apply") {
			idx = i
		}
	}
	if idx < 0 {
		if len(args) == 1 {
			return &usageError{msg: fmt.Sprintf("no run %q in %s", safe.Text(args[0]), dir), cmd: cmd.CommandPath()}
		}
		return fmt.Errorf("no run of apply is journaled for this tenant in %s: nothing to undo", dir)
	}
	u, err := change.PlanUndo(ctx, t.client, runs[idx], runs[idx+1:], o.force)
	if err != nil {
		return err
	}
	if len(u.Changes) == 0 {
		fmt.Fprintf(s.Out, "Nothing to undo: what run %s changed is already gone.\n", u.Run)
		return nil
	}
	if !f.g.json {
		fmt.Fprintf(s.Out, "Undo of run %s: %s, in this order:\n", u.Run, text.Plural(len(u.Changes), "change"))
		for i, c := range u.Changes {
			change.WriteChange(s.Out, i, c)
		}
	}
	if !o.yes {
		if ok, err := confirm(s, "\nUndo these changes?"); err != nil || !ok {
			return errAborted
		}
	}
	j, err := change.StartRun(dir)
	if err != nil {
		return err
	}
	defer j.Close()
	res, err := change.Undo(ctx, t.client, u, f.runOptions(j, t.sess))
	return f.finishRun(ctx, "undo", res, err)
}

// finishRun prints the outcome of undo, remove, on or off.
func (f *factory) finishRun(ctx context.Context, what string, res *change.Result, err error) error {
	if err != nil {
		if ctx.Err() != nil {
			return errAborted
		}
		if res != nil && res.Journal != "" {
			return fmt.Errorf("%w\nThe %s is journaled in %s; running it again converges", err, what, res.Journal)
		}
		return err
	}
	if f.g.json {
		return writeJSON(f.streams.Out, map[string]any{"changes": res.Done, "runId": res.Run, "journal": res.Journal, "record": res.Record})
	}
	fmt.Fprintf(f.streams.Out, "Done: %s made and verified (journal %s).\n", text.Plural(len(res.Done), "change"), res.Journal)
	return nil
}

// ---------------------------------------------------------------- remove

type removeOptions struct {
	yes bool
	upn string
}

func removeCmd(f *factory) *cobra.Command {
	var o removeOptions
	cmd := &cobra.Command{
		Use:   "remove",
		Short: "Disable advanced management: delete the account and its protection",
		Long: "Takes the account's exclusions out of the tenant's policies, then deletes its policy and its named location, then the account itself when this product created it (in Global Admin mode, or for an account it adopted, only the protection and the session record go). " +
			"Everything is found through the tenant's own session record, so it works from any machine without the journal. It names everything it will delete and asks, or takes --yes.",
		GroupID: groupChanges,
		Args:    noArgs,
		Example: `  mgmtsession remove --tenant contoso.onmicrosoft.com
  mgmtsession remove --upn mgmt.svc@contoso.onmicrosoft.com --yes`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRemove(cmd, f, o) },
	}
	cmd.Flags().BoolVar(&o.yes, "yes", false, "delete without asking")
	cmd.Flags().StringVar(&o.upn, "upn", "", "the account's user principal name (default: coreview.admin@ the initial domain)")
	return cmd
}

// sessionFacts reads the facts of the management account named by upn (or
// the default one).
func sessionFacts(ctx context.Context, cmd *cobra.Command, client *graph.Client, sess graph.Session, upn string) (*change.Facts, change.Desired, error) {
	var o change.Overrides
	if upn != "" {
		o.UPN = &upn
	}
	o.AllowedIPs = []string{"20.190.128.0/24"} // not used: only the account is looked up
	d, err := change.Resolve(change.Config{}, o)
	if err != nil {
		return nil, d, asUsage(cmd, err)
	}
	facts, err := change.ReadFacts(ctx, client, sess, d)
	return facts, d, err
}

func runRemove(cmd *cobra.Command, f *factory, o removeOptions) error {
	s := f.streams
	if !o.yes && !s.Interactive {
		return &usageError{msg: "remove deletes objects: without a terminal to confirm on, give --yes", cmd: cmd.CommandPath()}
	}
	ctx := cmd.Context()
	t, err := f.signIn(ctx)
	if err != nil {
		return err
	}
	defer t.Close()
	facts, d, err := sessionFacts(ctx, cmd, t.client, t.sess, o.upn)
	if err != nil {
		return err
	}
	upn, err := d.DefaultUPN(facts.InitialDomain)
	if err != nil {
		return err
	}
	rp := change.PlanRemove(t.client, facts, upn)
	if rp.Empty() {
		fmt.Fprintf(s.Out, "Nothing to remove: no management session for %s in this tenant.\n", safe.Text(upn))
		return nil
	}
	if !f.g.json {
		fmt.Fprintf(s.Out, "Remove the management session of %s: %s, in this order:\n", safe.Text(upn), text.Plural(len(rp.Changes), "change"))
		for i, c := range rp.Changes {
			change.WriteChange(s.Out, i, c)
		}
	}
	if !o.yes {
		if ok, err := confirm(s, "\nDelete these?"); err != nil || !ok {
			return errAborted
		}
	}
	j, err := f.newJournal(facts.TenantID)
	if err != nil {
		return err
	}
	defer j.Close()
	res, err := change.Remove(ctx, t.client, rp, f.runOptions(j, t.sess))
	return f.finishRun(ctx, "removal", res, err)
}

// ---------------------------------------------------------------- on / off

type sessionOptions struct {
	force bool
	upn   string
}

func onCmd(f *factory) *cobra.Command {
	var o sessionOptions
	cmd := &cobra.Command{
		Use:     "on",
		Short:   "Turn the management session on",
		Long:    "Enables the management account (verified by reading it back) and records the session as on in the tenant. In Global Admin mode only the state is recorded.",
		GroupID: groupChanges,
		Args:    noArgs,
		Example: `  mgmtsession on --tenant contoso.onmicrosoft.com
  mgmtsession on --demo --demo-state /tmp/tenant.json`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSession(cmd, f, o, true) },
	}
	cmd.Flags().StringVar(&o.upn, "upn", "", "the account's user principal name (default: coreview.admin@ the initial domain)")
	return cmd
}

func offCmd(f *factory) *cobra.Command {
	var o sessionOptions
	cmd := &cobra.Command{
		Use:     "off",
		Short:   "Turn the management session off",
		Long:    "Disables the management account, revokes its sign-in sessions and records the session as off, leaving its setup in place for the next 'mgmtsession on'. With auto-enable on it warns and needs --force. In Global Admin mode only the state is recorded.",
		GroupID: groupChanges,
		Args:    noArgs,
		Example: `  mgmtsession off --tenant contoso.onmicrosoft.com
  mgmtsession off --demo --demo-state /tmp/tenant.json --force`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSession(cmd, f, o, false) },
	}
	cmd.Flags().StringVar(&o.upn, "upn", "", "the account's user principal name (default: coreview.admin@ the initial domain)")
	cmd.Flags().BoolVar(&o.force, "force", false, "turn it off even with auto-enable on")
	return cmd
}

func runSession(cmd *cobra.Command, f *factory, o sessionOptions, on bool) error {
	ctx := cmd.Context()
	t, err := f.signIn(ctx)
	if err != nil {
		return err
	}
	defer t.Close()
	facts, _, err := sessionFacts(ctx, cmd, t.client, t.sess, o.upn)
	if err != nil {
		return err
	}
	j, err := f.newJournal(facts.TenantID)
	if err != nil {
		return err
	}
	defer j.Close()
	res, err := change.SetSession(ctx, t.client, facts, on, o.force, f.runOptions(j, t.sess))
	what := "off"
	if on {
		what = "on"
	}
	if err := f.finishRun(ctx, "session "+what, res, err); err != nil {
		return err
	}
	if !f.g.json {
		fmt.Fprintf(f.streams.Out, "The management session is %s.\n", strings.ToUpper(what))
	}
	return nil
}
