package change_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mgmtsession/change"
	"mgmtsession/connect"
)

// crashTenant opens the simulated tenant persisted at state, as a new
// process would.
func crashTenant(t *testing.T, state string) *tenant {
	t.Helper()
	return demoTenant(t, connect.Options{DemoState: state})
}

// applyUntilCrash applies d with the tenant dying right after its k-th
// write; the run stops as a killed process's would (its context ends the
// moment the tenant is gone).
func applyUntilCrash(t *testing.T, tn *tenant, d change.Desired, dir, run string, k int, loseAnswer bool) {
	t.Helper()
	p := plan(t, tn, d)
	j, err := change.CreateJournal(dir, run, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	died := make(chan time.Time, 1)
	go func() {
		for !tn.sim.Crashed() && ctx.Err() == nil {
			time.Sleep(2 * time.Millisecond)
		}
		died <- time.Now()
		cancel()
	}()
	if loseAnswer {
		tn.sim.SetCrashAtWrite(k)
	} else {
		tn.sim.SetCrashAfterWrites(k)
	}
	o := fastOptions(t)
	o.Journal = j
	if _, err := change.Apply(ctx, tn.client, p, o); err == nil {
		t.Fatalf("k=%d: the run did not stop at the crash", k)
	}
	// A killed process writes nothing more: what the run journaled once
	// the tenant was gone (its failures, its end) is not there.
	cancel()
	killAt(t, filepath.Join(dir, run+".jsonl"), <-died)
}

// killAt cuts the journal after the last entry written before the tenant
// died.
func killAt(t *testing.T, path string, at time.Time) {
	t.Helper()
	es, err := change.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, e := range es {
		ts, _ := time.Parse(time.RFC3339Nano, e.Time)
		if ts.After(at) || e.Type == change.EntryEnd {
			break
		}
		b, _ := json.Marshal(e)
		keep = append(keep, string(b))
	}
	if err := os.WriteFile(path, []byte(strings.Join(keep, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// For every k, a run killed right after its k-th write is finished by
// running apply again (no object duplicated, the account's password handed
// out again when the first was lost), and undo of both runs from there
// restores the tenant as it was.
func TestCrashAfterEveryWriteConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("one apply per write of a full run")
	}
	d := desired(t, nil)
	// How many writes a full run makes.
	full := demoTenant(t, connect.Options{})
	start := full.sim.Writes()
	apply(t, full, d)
	n := full.sim.Writes() - start
	if n < 10 {
		t.Fatalf("a full run makes %d writes", n)
	}
	for k := 1; k <= 2*n; k++ {
		// First with the k-th write answered, then with its answer lost
		// (the client cannot know whether it happened).
		loseAnswer := k > n
		k := (k-1)%n + 1
		t.Run(fmt.Sprint("k=", k, " lost answer=", loseAnswer), func(t *testing.T) {
			dir := t.TempDir()
			state := filepath.Join(dir, "tenant.json")
			first := crashTenant(t, state)
			before := snapshot(t, first)
			applyUntilCrash(t, first, d, dir, "run1", k, loseAnswer)
			first.env.Close()

			second := crashTenant(t, state)
			runs, err := change.Runs(dir)
			if err != nil || len(change.Unfinished(runs)) != 1 {
				t.Fatalf("unfinished runs: %v, %d of %d", err, len(change.Unfinished(runs)), len(runs))
			}
			dd := d
			dd.ResetPassword = change.NeedsPasswordReset(runs[0])
			p := plan(t, second, dd)
			j, _ := change.CreateJournal(dir, "run2", nil)
			o := fastOptions(t)
			o.Journal = j
			res, err := change.Apply(t.Context(), second.client, p, o)
			j.Close()
			if err != nil {
				t.Fatalf("the second run: %v", err)
			}
			if dd.ResetPassword == res.Password.IsZero() {
				t.Errorf("password reset %v, password handed out %v", dd.ResetPassword, !res.Password.IsZero())
			}
			if again := plan(t, second, d); !again.Empty() {
				t.Errorf("not converged: %+v", again.Changes)
			}
			assertNoDuplicates(t, second, p.UPN)

			// Undo the second run, then the first.
			runs, _ = change.Runs(dir)
			for _, name := range []string{"run2", "run1"} {
				var idx int
				for i, r := range runs {
					if r.Run == name {
						idx = i
					}
				}
				u, err := change.PlanUndo(t.Context(), second.client, runs[idx], runs[idx+1:], false)
				if err != nil {
					t.Fatalf("undo %s: %v", name, err)
				}
				j, _ := change.CreateJournal(dir, "undo-"+name, nil)
				o.Journal = j
				if _, err := change.Undo(t.Context(), second.client, u, o); err != nil {
					t.Fatalf("undo %s: %v", name, err)
				}
				j.Close()
				runs, _ = change.Runs(dir)
			}
			if after := snapshot(t, second); after != before {
				t.Errorf("undo after the crash did not restore the tenant:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// assertNoDuplicates: one account, one location and one policy by the
// names this product gives.
func assertNoDuplicates(t *testing.T, tn *tenant, upn string) {
	t.Helper()
	users, err := tn.client.FindUsersByPrefix(t.Context(), strings.Split(upn, "@")[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 {
		t.Errorf("%d accounts named %s", len(users), upn)
	}
	pols, _ := tn.client.Policies(t.Context())
	locs, _ := tn.client.NamedLocations(t.Context())
	np, nl := 0, 0
	for _, p := range pols {
		if p.DisplayName == change.PolicyName(upn) {
			np++
		}
	}
	for _, l := range locs {
		if l.DisplayName == change.LocationName(upn) {
			nl++
		}
	}
	if np != 1 || nl != 1 {
		t.Errorf("%d policies and %d locations by the product's names", np, nl)
	}
}
