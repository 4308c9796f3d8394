package change_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"mgmtsession/change"
	"mgmtsession/connect"
	"mgmtsession/graph/tenantsim"
)

// Seeded chaos: throttling with and without Retry-After, 503s, dropped
// connections before and after the tenant committed a write, and
// replication delay, over many seeds. Running apply again after a failure
// (as an operator would) always converges, with no object made twice.
func TestChaosConverges(t *testing.T) {
	seeds := 32
	if testing.Short() {
		seeds = 4
	}
	// The writes, and a few reads. (A dropped read is retried after the
	// SDK's 3 s backoff; graph's own tests cover that, and here it would
	// only make the seeds slow.)
	paths := []struct{ method, path string }{
		{"PATCH", "/identity/conditionalAccess/policies/"}, {"POST", "/identity/conditionalAccess/policies"},
		{"POST", "/identity/conditionalAccess/namedLocations"}, {"POST", "/users"}, {"PATCH", "/users/"},
		{"POST", "/roleManagement/directory/roleAssignments"}, {"POST", "/extensions"},
		{"GET", "/identity/conditionalAccess/policies"}, {"GET", "/users/"},
	}
	for seed := 1; seed <= seeds; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 42))
			tn := demoTenant(t, connect.Options{})
			tn.sim.SetReplicationDelay(time.Duration(rng.IntN(200)) * time.Millisecond)
			// A 429 without Retry-After makes the SDK wait 3 s: one seed in
			// four has one.
			slow := seed%4 != 0
			for range 6 + rng.IntN(6) {
				p := paths[rng.IntN(len(paths))]
				f := tenantsim.Fault{Method: p.method, Path: p.path}
				kind := rng.IntN(5)
				if p.method == "GET" {
					kind = rng.IntN(3) // throttled or unavailable, not dropped
				}
				switch kind {
				case 0:
					f.Status, f.RetryAfter = 429, "0"
				case 1:
					if !slow {
						f.Status, slow = 429, true
					} else {
						f.Status, f.RetryAfter = 503, "0"
					}
				case 2:
					f.Status, f.RetryAfter = 503, "0"
				case 3:
					f.Drop = true
				case 4:
					f.Drop, f.AfterCommit = true, true
				}
				tn.sim.InjectFault(f)
			}
			d := desired(t, nil)
			var upn string
			ok := false
			for attempt := 1; attempt <= 6 && !ok; attempt++ {
				ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
				// Each attempt is the operator running apply again: a new
				// process, with a client that has not been throttled yet.
				client := tn.client
				if attempt > 1 {
					var err error
					if client, _, err = tn.env.SignIn(ctx, nil); err != nil {
						t.Fatal(err)
					}
					client.SetReplicationPolicy(10*time.Second, 20*time.Millisecond)
				}
				// One injected 429 makes the client pace every later
				// Conditional Access request as a throttled tenant needs
				// (1.1 s apart); here the pace is shortened, not skipped.
				client.SetCAPacing(20 * time.Millisecond)
				start := time.Now()
				f, err := change.ReadFacts(ctx, client, tn.sess, d)
				read := time.Since(start)
				if err == nil {
					var p *change.Plan
					if p, err = change.MakePlan(d, f); err == nil {
						upn = p.UPN
						_, err = change.Apply(ctx, client, p, fastOptions(t))
					}
				}
				cancel()
				ok = err == nil
				t.Logf("attempt %d: read %v, all %v: %v", attempt, read.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), err)
			}
			if !ok {
				t.Fatal("no convergence in 6 runs")
			}
			if again := plan(t, tn, d); !again.Empty() {
				t.Errorf("not converged: %+v", again.Changes)
			}
			assertNoDuplicates(t, tn, upn)
		})
	}
}
