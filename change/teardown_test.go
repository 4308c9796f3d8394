package change_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"mgmtsession/ca"
	"mgmtsession/change"
	"mgmtsession/connect"
	"mgmtsession/graph"
	"mgmtsession/whatif"
)

// snapshot is the tenant as export sees it, plus the management accounts,
// for comparing before and after.
func snapshot(t testing.TB, tn *tenant) string {
	t.Helper()
	res, err := whatif.Export(t.Context(), tn.client, tn.sess, []string{"coreview.admin", "4ward365.admin"})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Snapshot
	// Graph stamps modifiedDateTime on every write, and a write undone is
	// still a write: compare what a policy says, not when it said it.
	var clean []json.RawMessage
	for _, raw := range s.Policies {
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		delete(m, "modifiedDateTime")
		b, _ := json.Marshal(m)
		clean = append(clean, b)
	}
	s.Policies = clean
	data, _ := json.MarshalIndent(s, "", " ")
	return string(data)
}

func journalRun(t testing.TB, dir, run string) change.RunInfo {
	t.Helper()
	runs, err := change.Runs(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Run == run {
			return r
		}
	}
	t.Fatalf("no run %s in %s", run, dir)
	return change.RunInfo{}
}

// Apply then undo returns the tenant exactly to its state before (export
// snapshots compared), and undo is itself journaled.
func TestUndoRestoresTheTenant(t *testing.T) {
	tn := demoTenant(t, connect.Options{})
	before := snapshot(t, tn)
	d := desired(t, nil)
	p := plan(t, tn, d)
	dir := t.TempDir()
	j, _ := change.CreateJournal(dir, "run1", nil)
	o := fastOptions(t)
	o.Journal = j
	if _, err := change.Apply(t.Context(), tn.client, p, o); err != nil {
		t.Fatal(err)
	}
	j.Close()
	if snapshot(t, tn) == before {
		t.Fatal("apply changed nothing that export sees")
	}
	u, err := change.PlanUndo(t.Context(), tn.client, journalRun(t, dir, "run1"), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Changes) == 0 || u.Changes[0].Object != change.ObjExclusion || u.Changes[len(u.Changes)-1].Object != change.ObjAccount {
		t.Errorf("undo order: %+v", u.Changes)
	}
	j2, _ := change.CreateJournal(dir, "run2", nil)
	o.Journal = j2
	if _, err := change.Undo(t.Context(), tn.client, u, o); err != nil {
		t.Fatal(err)
	}
	j2.Close()
	if after := snapshot(t, tn); after != before {
		t.Errorf("undo did not restore the tenant:\nbefore %s\nafter  %s", before, after)
	}
	if r := journalRun(t, dir, "run2"); r.Command != "undo" || !r.Finished {
		t.Errorf("undo journal: %+v", r)
	}
	// Undoing the same run again finds nothing left to take back: the
	// account is gone, and it is not deleted "again".
	again, err := change.PlanUndo(t.Context(), tn.client, journalRun(t, dir, "run1"), []change.RunInfo{journalRun(t, dir, "run2")}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Changes) != 0 {
		t.Errorf("a second undo plans %+v", again.Changes)
	}
}

// Undo refuses when someone else changed an object since the run, and
// --force goes on.
func TestUndoRefusesForeignChange(t *testing.T) {
	tn := demoTenant(t, connect.Options{})
	d := desired(t, nil)
	p := plan(t, tn, d)
	dir := t.TempDir()
	j, _ := change.CreateJournal(dir, "run1", nil)
	o := fastOptions(t)
	o.Journal = j
	res, err := change.Apply(t.Context(), tn.client, p, o)
	j.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Someone edits the account's policy by hand.
	pol, err := tn.client.Policy(t.Context(), res.Record.PolicyID)
	if err != nil {
		t.Fatal(err)
	}
	pol.State = ca.StateDisabled
	if err := tn.client.UpdatePolicy(t.Context(), pol); err != nil {
		t.Fatal(err)
	}
	_, err = change.PlanUndo(t.Context(), tn.client, journalRun(t, dir, "run1"), nil, false)
	if err == nil || !strings.Contains(err.Error(), "changed by someone else") {
		t.Fatalf("undo after a foreign change: %v", err)
	}
	if _, err := change.PlanUndo(t.Context(), tn.client, journalRun(t, dir, "run1"), nil, true); err != nil {
		t.Fatalf("undo --force: %v", err)
	}
}

// Remove finds everything through the tenant's own record, with no
// journal, and leaves the tenant as before the setup.
func TestRemoveFromTheRecordAlone(t *testing.T) {
	tn := demoTenant(t, connect.Options{})
	before := snapshot(t, tn)
	d := desired(t, nil)
	apply(t, tn, d)
	f, err := change.ReadFacts(t.Context(), tn.client, tn.sess, d)
	if err != nil {
		t.Fatal(err)
	}
	rp := change.PlanRemove(tn.client, f, f.Account.User.UserPrincipalName)
	if rp.Empty() {
		t.Fatal("nothing to remove")
	}
	if _, err := change.Remove(t.Context(), tn.client, rp, fastOptions(t)); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, tn); after != before {
		t.Errorf("remove did not restore the tenant:\nbefore %s\nafter  %s", before, after)
	}
	f, err = change.ReadFacts(t.Context(), tn.client, tn.sess, d)
	if err != nil {
		t.Fatal(err)
	}
	if f.Account != nil {
		t.Errorf("the account is still there: %+v", f.Account.User)
	}
}

// Off disables the account and records it; with auto-enable it needs
// force; on turns it back on.
func TestSessionOffAndOn(t *testing.T) {
	tn := demoTenant(t, connect.Options{})
	yes := true
	d := desired(t, func(o *change.Overrides) { o.AutoEnable = &yes })
	apply(t, tn, d)
	facts := func() *change.Facts {
		f, err := change.ReadFacts(t.Context(), tn.client, tn.sess, d)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if _, err := change.SetSession(t.Context(), tn.client, facts(), false, false, fastOptions(t)); err == nil || !strings.Contains(err.Error(), "auto-enable is on") {
		t.Fatalf("off with auto-enable: %v", err)
	}
	if _, err := change.SetSession(t.Context(), tn.client, facts(), false, true, fastOptions(t)); err != nil {
		t.Fatal(err)
	}
	f := facts()
	if f.Account.User.AccountEnabled || f.Account.Record.Session != change.SessionOff {
		t.Errorf("after off: enabled %v, session %q", f.Account.User.AccountEnabled, f.Account.Record.Session)
	}
	if _, err := change.SetSession(t.Context(), tn.client, f, true, false, fastOptions(t)); err != nil {
		t.Fatal(err)
	}
	f = facts()
	if !f.Account.User.AccountEnabled || f.Account.Record.Session != change.SessionOn {
		t.Errorf("after on: enabled %v, session %q", f.Account.User.AccountEnabled, f.Account.Record.Session)
	}
}

// The ordering invariant: after every single write of apply, undo and
// remove, the account is either excluded from no MFA policy, or covered by
// its own enforced policy outside the allowed IPs.
func TestOrderingInvariantAfterEveryWrite(t *testing.T) {
	tn := demoTenant(t, connect.Options{})
	d := desired(t, nil)
	p := plan(t, tn, d)
	upn := p.UPN
	checks := 0
	check := func(when string) {
		checks++
		policies, err := tn.client.Policies(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		u, err := tn.client.User(t.Context(), upn)
		if graph.IsNotFound(err) {
			return // no account yet, or no more
		}
		if err != nil {
			t.Fatal(err)
		}
		excludedFromAny := false
		own := false
		for _, p := range policies {
			if p.DisplayName == change.PolicyName(upn) {
				own = p.State == ca.StateEnabled && slices.Contains(p.Conditions.Users.IncludeUsers, u.ID)
				continue
			}
			if p.Conditions.Users != nil && slices.Contains(p.Conditions.Users.ExcludeUsers, u.ID) {
				excludedFromAny = true
			}
		}
		if excludedFromAny && !own {
			t.Errorf("%s: the account is excluded from a tenant policy without its own enforced policy", when)
		}
	}
	observe := func(what string) change.Observer {
		return func(e change.Event) {
			if e.Kind == change.EventVerified || e.Kind == change.EventSkipped {
				check(what + " " + e.Change.Action + " " + e.Change.Object + " " + e.Change.Name)
			}
		}
	}
	dir := t.TempDir()
	j, _ := change.CreateJournal(dir, "run1", nil)
	o := fastOptions(t)
	o.Journal, o.Observer = j, observe("apply")
	if _, err := change.Apply(t.Context(), tn.client, p, o); err != nil {
		t.Fatal(err)
	}
	j.Close()
	u, err := change.PlanUndo(t.Context(), tn.client, journalRun(t, dir, "run1"), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	o.Journal, o.Observer = nil, observe("undo")
	if _, err := change.Undo(t.Context(), tn.client, u, o); err != nil {
		t.Fatal(err)
	}
	// And remove.
	apply(t, tn, d)
	f, err := change.ReadFacts(t.Context(), tn.client, tn.sess, d)
	if err != nil {
		t.Fatal(err)
	}
	o.Observer = observe("remove")
	if _, err := change.Remove(t.Context(), tn.client, change.PlanRemove(tn.client, f, upn), o); err != nil {
		t.Fatal(err)
	}
	if want := len(p.Changes) + 2; checks < want {
		t.Errorf("the invariant was checked %d times, want at least %d (one per write)", checks, want)
	}
}

// Status reads the session back from the tenant, and reports drift: an
// exclusion taken out, the policy disabled, the ranges edited.
func excludedName(t *testing.T, tn *tenant, id string) string {
	t.Helper()
	p, err := tn.client.Policy(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p.DisplayName
}

func TestStatusAndDrift(t *testing.T) {
	tn := demoTenant(t, connect.Options{})
	d := desired(t, nil)
	p, res := apply(t, tn, d)
	for _, v := range p.WhatIfAfter() {
		want := ca.VerdictAllow
		if v.Label == "from outside" {
			want = ca.VerdictMFA
		}
		if v.Verdict != want {
			t.Errorf("after picture %s: %s, want %s", v.Label, v.Verdict, want)
		}
	}
	facts := func() *change.Facts {
		f, err := change.ReadFacts(t.Context(), tn.client, tn.sess, d)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	s := change.SessionStatus(facts())
	if s.Session != change.SessionOn || s.Account == nil || s.Policy == nil || s.NamedLocation == nil || len(s.Drift) != 0 {
		t.Fatalf("status after apply: %+v", s)
	}
	if len(s.Sweep) != 2 || !strings.Contains(s.Sweep[0], "never challenged") || !strings.Contains(s.Sweep[1], "MFA or a block for every one") {
		t.Errorf("sweep after apply: %q", s.Sweep)
	}
	// Someone takes an exclusion out, disables the policy and edits the
	// ranges.
	excluded := res.Record.ExcludedFrom[0]
	if err := tn.client.SetPolicyExcludedUsers(t.Context(), excluded, []string{}); err != nil {
		t.Fatal(err)
	}
	pol, _ := tn.client.Policy(t.Context(), res.Record.PolicyID)
	pol.State = ca.StateDisabled
	if err := tn.client.UpdatePolicy(t.Context(), pol); err != nil {
		t.Fatal(err)
	}
	loc, _ := tn.client.NamedLocation(t.Context(), res.Record.NamedLocationID)
	loc.IPRanges = append(loc.IPRanges, ca.IPRange{CIDRAddress: "52.10.0.0/16"})
	if err := tn.client.UpdateNamedLocation(t.Context(), loc); err != nil {
		t.Fatal(err)
	}
	s = change.SessionStatus(facts())
	var whats []string
	for _, dr := range s.Drift {
		whats = append(whats, dr.What)
	}
	all := strings.Join(whats, "\n")
	for _, want := range []string{"exclusion was taken out", "policy is disabled", "allowed ranges were edited"} {
		if !strings.Contains(all, want) {
			t.Errorf("drift does not say %q:\n%s", want, all)
		}
	}
	// The sweep sees the consequence: the policy the exclusion was taken
	// out of challenges the account from the allowed IPs.
	if len(s.Sweep) != 2 || !strings.Contains(s.Sweep[0], "challenged or blocked in") || !strings.Contains(s.Sweep[0], excludedName(t, tn, excluded)) {
		t.Errorf("sweep after the edits: %q", s.Sweep)
	}
	// apply converges it.
	apply(t, tn, d)
	if s := change.SessionStatus(facts()); len(s.Drift) != 0 {
		t.Errorf("drift after apply: %+v", s.Drift)
	}
}

// Global Admin mode: nothing is created, the admin is protected by the same
// location, policy and exclusions; off records the state only; undo
// restores the tenant.
func TestGlobalAdminMode(t *testing.T) {
	tn := demoTenant(t, connect.Options{})
	before := snapshot(t, tn)
	d := desired(t, func(o *change.Overrides) {
		u, m := "adele.admin@contoso-demo.com", "globalAdmin"
		o.UPN, o.Mode, o.Roles = &u, &m, nil
	})
	p := plan(t, tn, d)
	for _, c := range p.Changes {
		if c.Object == change.ObjAccount || c.Object == change.ObjRole || c.Object == change.ObjAccountEnabled {
			t.Errorf("Global Admin mode plans %s %s", c.Action, c.Object)
		}
	}
	if !strings.Contains(strings.Join(p.Warnings, " "), "protecting your own account") {
		t.Errorf("no warning that the operator protects their own account: %q", p.Warnings)
	}
	dir := t.TempDir()
	j, _ := change.CreateJournal(dir, "ga", nil)
	o := fastOptions(t)
	o.Journal = j
	res, err := change.Apply(t.Context(), tn.client, p, o)
	j.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !res.Password.IsZero() {
		t.Error("Global Admin mode generated a password")
	}
	if got := verdict(t, tn, tn.sess.ObjectID, "20.190.128.7"); got != ca.VerdictAllow {
		t.Errorf("the admin from the allowed range: %s", got)
	}
	if got := verdict(t, tn, tn.sess.ObjectID, "51.140.12.5"); got != ca.VerdictMFA {
		t.Errorf("the admin from outside: %s", got)
	}
	f, err := change.ReadFacts(t.Context(), tn.client, tn.sess, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := change.SetSession(t.Context(), tn.client, f, false, false, fastOptions(t)); err != nil {
		t.Fatal(err)
	}
	f, _ = change.ReadFacts(t.Context(), tn.client, tn.sess, d)
	if !f.Account.User.AccountEnabled || f.Account.Record.Session != change.SessionOff {
		t.Errorf("off in Global Admin mode: enabled %v (must stay), session %q", f.Account.User.AccountEnabled, f.Account.Record.Session)
	}
	u, err := change.PlanUndo(t.Context(), tn.client, journalRun(t, dir, "ga"), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range u.Changes {
		if c.Object == change.ObjAccount {
			t.Fatalf("undo in Global Admin mode would delete the admin: %+v", c)
		}
	}
	if _, err := change.Undo(t.Context(), tn.client, u, fastOptions(t)); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, tn); after != before {
		t.Errorf("undo did not restore the tenant:\nbefore %s\nafter  %s", before, after)
	}
}

// A policy edited by someone between plan and apply stops the run at that
// policy, with a message saying so, before it is written.
func TestPolicyEditedBetweenPlanAndApply(t *testing.T) {
	tn := demoTenant(t, connect.Options{})
	d := desired(t, nil)
	p := plan(t, tn, d)
	var target string
	for _, c := range p.Changes {
		if c.Object == change.ObjExclusion {
			target = c.ID
			break
		}
	}
	pol, err := tn.client.Policy(t.Context(), target)
	if err != nil {
		t.Fatal(err)
	}
	if err := tn.client.SetPolicyExcludedUsers(t.Context(), target, append(pol.Conditions.Users.ExcludeUsers, "0a1b2c3d-0004-4000-8000-000000000004")); err != nil {
		t.Fatal(err)
	}
	_, err = change.Apply(t.Context(), tn.client, p, fastOptions(t))
	var ce *change.ChangedError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "changed since the plan") || !strings.Contains(err.Error(), pol.DisplayName) {
		t.Fatalf("apply over an edited policy: %v", err)
	}
	got, _ := tn.client.Policy(t.Context(), target)
	if slices.Contains(got.Conditions.Users.ExcludeUsers, tn.sess.ObjectID) || len(got.Conditions.Users.ExcludeUsers) != len(pol.Conditions.Users.ExcludeUsers)+1 {
		t.Errorf("the edited policy was written: %v", got.Conditions.Users.ExcludeUsers)
	}
}
