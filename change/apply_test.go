package change_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mgmtsession/ca"
	"mgmtsession/change"
	"mgmtsession/connect"
	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
	"mgmtsession/whatif"
)

// The engine writes through the real adapter: *graph.Client is its Writer
// and Reader.
var (
	_ change.Writer = (*graph.Client)(nil)
	_ change.Reader = (*graph.Client)(nil)
)

const platformRange = "20.190.128.0/24"

// tenant is the simulated tenant signed in as the demo operator, as --demo
// does it.
type tenant struct {
	client *graph.Client
	sess   graph.Session
	sim    *tenantsim.Server
	env    *connect.Env
}

func demoTenant(t testing.TB, o connect.Options) *tenant {
	t.Helper()
	o.Demo = true
	env, err := connect.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, sess, err := env.SignIn(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	client.SetReplicationPolicy(10*time.Second, 20*time.Millisecond)
	return &tenant{client: client, sess: sess, sim: env.Sim, env: env}
}

func desired(t testing.TB, mutate func(*change.Overrides)) change.Desired {
	t.Helper()
	o := change.Overrides{AllowedIPs: []string{platformRange}}
	if mutate != nil {
		mutate(&o)
	}
	d, err := change.Resolve(change.Config{}, o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func fastOptions(t testing.TB) change.Options {
	return change.Options{VerifyReads: 2, VerifyPause: 10 * time.Millisecond, VerifyTimeout: 20 * time.Second, Operator: "test"}
}

func plan(t testing.TB, tn *tenant, d change.Desired) *change.Plan {
	t.Helper()
	f, err := change.ReadFacts(t.Context(), tn.client, tn.sess, d)
	if err != nil {
		t.Fatal(err)
	}
	p, err := change.MakePlan(d, f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func apply(t testing.TB, tn *tenant, d change.Desired) (*change.Plan, *change.Result) {
	t.Helper()
	p := plan(t, tn, d)
	o := fastOptions(t)
	dir := t.TempDir()
	j, err := change.CreateJournal(dir, change.NewRunID(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	o.Journal = j
	res, err := change.Apply(t.Context(), tn.client, p, o)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return p, res
}

// verdict is the local What If for the account from an address, over the
// tenant as it now stands.
func verdict(t testing.TB, tn *tenant, accountID, ip string) string {
	t.Helper()
	ps, err := whatif.ReadPolicySet(t.Context(), tn.client)
	if err != nil {
		t.Fatal(err)
	}
	u, err := whatif.ExistingAccount(t.Context(), tn.client, accountID)
	if err != nil {
		t.Fatal(err)
	}
	r := ps.Evaluate(u, whatif.Case{Apps: whatif.PlatformApps(), Conditions: whatif.Conditions{
		IP: ip, ClientAppType: "mobileAppsAndDesktopClients", DevicePlatform: "windows"}})
	return r.Verdict
}

// From scratch: the account, its roles, the location, the policy, the
// exclusions and the record, then the session on; the What If from the
// allowed range allows, from outside demands MFA; planning again finds
// nothing to do.
func TestApplyFromScratch(t *testing.T) {
	tn := demoTenant(t, connect.Options{})
	d := desired(t, nil)
	p, res := apply(t, tn, d)
	if p.Empty() {
		t.Fatal("the plan from scratch is empty")
	}
	kinds := map[string]int{}
	for _, c := range p.Changes {
		kinds[c.Object]++
	}
	for _, k := range []string{change.ObjAccount, change.ObjRole, change.ObjNamedLocation, change.ObjPolicy, change.ObjExclusion, change.ObjSessionRecord, change.ObjAccountEnabled} {
		if kinds[k] == 0 {
			t.Errorf("the plan has no %s change: %+v", k, kinds)
		}
	}
	if res.Password.IsZero() || res.AccountID == "" {
		t.Fatalf("no account or password: %+v", res)
	}
	if got := verdict(t, tn, res.AccountID, "20.190.128.7"); got != ca.VerdictAllow {
		t.Errorf("from the allowed range: %s, want allow", got)
	}
	if got := verdict(t, tn, res.AccountID, "51.140.12.5"); got != ca.VerdictMFA {
		t.Errorf("from outside: %s, want mfa", got)
	}
	again := plan(t, tn, d)
	if !again.Empty() {
		t.Errorf("planning right after apply finds changes: %+v", again.Changes)
	}
	u, err := tn.client.User(t.Context(), res.AccountID)
	if err != nil || !u.AccountEnabled {
		t.Errorf("the account is not enabled after apply: %+v %v", u, err)
	}
	if res.Record.Session != change.SessionOn || res.Record.PolicyID == "" || res.Record.NamedLocationID == "" || len(res.Record.ExcludedFrom) == 0 {
		t.Errorf("record %+v", res.Record)
	}
}

// The journal never holds the password, and holds an intent and a result
// for every write.
func TestJournalHasNoSecret(t *testing.T) {
	tn := demoTenant(t, connect.Options{})
	d := desired(t, nil)
	p := plan(t, tn, d)
	dir := t.TempDir()
	j, err := change.CreateJournal(dir, "run1", nil)
	if err != nil {
		t.Fatal(err)
	}
	o := fastOptions(t)
	o.Journal = j
	res, err := change.Apply(t.Context(), tn.client, p, o)
	j.Close()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "run1.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), res.Password.Reveal()) {
		t.Fatal("the journal holds the password")
	}
	fi, _ := os.Stat(filepath.Join(dir, "run1.jsonl"))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v", fi.Mode().Perm())
	}
	es, err := change.ReadJournal(filepath.Join(dir, "run1.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	intents, results := 0, 0
	for _, e := range es {
		switch e.Type {
		case change.EntryIntent:
			intents++
		case change.EntryResult:
			results++
		}
	}
	if intents == 0 || intents != results || es[0].Type != change.EntryBegin || es[len(es)-1].Type != change.EntryEnd {
		t.Errorf("journal: %d intents, %d results, first %s, last %s", intents, results, es[0].Type, es[len(es)-1].Type)
	}
}

// Guards refuse before anything is written.
func TestGuardsRefuseAndWriteNothing(t *testing.T) {
	for _, tc := range []struct {
		scenario, want string
		mutate         func(*change.Overrides)
	}{
		{"security-defaults-on", "security defaults are on", nil},
		{"no-p1", "no Entra ID P1", nil},
		{"default", "is the account you are signed in with", func(o *change.Overrides) { u := "adele.admin@contoso-demo.com"; o.UPN = &u }},
		{"default", "is not a management account", func(o *change.Overrides) { u := "megan.bowen@contoso-demo.com"; o.UPN = &u }},
		{"default", "does not hold Global Administrator", func(o *change.Overrides) {
			u, m := "megan.bowen@contoso-demo.com", "globalAdmin"
			o.UPN, o.Mode = &u, &m
		}},
	} {
		t.Run(tc.scenario+" "+tc.want, func(t *testing.T) {
			tn := demoTenant(t, connect.Options{DemoScenario: tc.scenario})
			d := desired(t, tc.mutate)
			f, err := change.ReadFacts(t.Context(), tn.client, tn.sess, d)
			if err != nil {
				t.Fatal(err)
			}
			_, err = change.MakePlan(d, f)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("MakePlan: %v, want a refusal saying %q", err, tc.want)
			}
			for _, r := range tn.sim.Requests() {
				if r.Method != "GET" && !strings.Contains(r.Path, "/oauth2/") {
					t.Errorf("a guard let a write through: %s %s", r.Method, r.Path)
				}
			}
		})
	}
}

// A representative address check: the What If of the plan uses an address
// inside each allowed range.
func TestOutsideAddressIsOutside(t *testing.T) {
	allowed := []netip.Prefix{netip.MustParsePrefix("20.190.128.0/24")}
	if a := change.OutsideAddress(allowed); allowed[0].Contains(a) {
		t.Errorf("%s is inside %s", a, allowed[0])
	}
}

// Every write of a run carries Graph's request id, in the result and in
// the journal.
func TestWritesCarryRequestIDs(t *testing.T) {
	tn := demoTenant(t, connect.Options{})
	_, res := apply(t, tn, desired(t, nil))
	for _, c := range res.Done {
		if c.RequestID == "" {
			t.Errorf("%s %s %s has no request id", c.Action, c.Object, c.Name)
		}
	}
	runs, err := change.Runs(filepath.Dir(res.Journal))
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs: %v %d", err, len(runs))
	}
	for _, e := range runs[0].Entries {
		if e.Type == change.EntryResult && e.RequestID == "" {
			t.Errorf("journal result for %s %s has no request id", e.Change.Action, e.Change.Object)
		}
	}
}
