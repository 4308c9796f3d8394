package whatif_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"mgmtsession/ca"
	"mgmtsession/connect"
	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
	"mgmtsession/whatif"
)

// demoTenant starts the simulated tenant the way --demo does and signs in
// as the demo operator.
func demoTenant(t testing.TB) (*graph.Client, *tenantsim.Server) {
	t.Helper()
	env, err := connect.Open(connect.Options{Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, _, err := env.SignIn(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	return client, env.Sim
}

// caRequests counts the Conditional Access requests the tenant answered,
// by "METHOD last-path-segment".
func caRequests(srv *tenantsim.Server) map[string]int {
	n := map[string]int{}
	for _, r := range srv.Requests() {
		if i := strings.Index(r.Path, "/identity/conditionalAccess/"); i >= 0 {
			n[r.Method+" "+r.Path[i+len("/identity/conditionalAccess/"):]]++
		}
	}
	return n
}

var matrixLocations = []whatif.Location{
	{Label: "allowed IP", IP: netip.MustParseAddr(headOfficeIP), Country: "GB"},
	{Label: "outside IP", IP: netip.MustParseAddr(outsideIP), Country: "US"},
}

// The wizard's matrix for an existing account costs two Conditional Access
// reads and one Graph What If per IP (GRAPH-NOTES section 10: the tenant
// allows one CA request per second), and Graph agrees with the local
// evaluator on the demo tenant.
func TestMatrixAgainstGraphCostsTwoReadsAndOneEvaluatePerIP(t *testing.T) {
	client, srv := demoTenant(t)
	ctx := t.Context()
	subject, err := whatif.ExistingAccount(ctx, client, adeleUPN)
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	ps, err := whatif.ReadPolicySet(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ps.Matrix(ctx, client, whatif.MatrixInput{Subject: subject, Locations: matrixLocations})
	if err != nil {
		t.Fatal(err)
	}
	got := caRequests(srv)
	want := map[string]int{"GET policies": 1, "GET namedLocations": 1, "POST evaluate": len(matrixLocations)}
	if len(got) != len(want) {
		t.Errorf("CA requests %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("CA requests %v, want %v", got, want)
			break
		}
	}
	if m.GraphRequests != len(matrixLocations) {
		t.Errorf("matrix reports %d Graph requests", m.GraphRequests)
	}
	for _, c := range m.Cases {
		if c.Graph == nil || !c.Graph.Compared {
			t.Fatalf("%s: Graph not compared", c.Case.Label)
		}
		for _, d := range c.Graph.Disagreements {
			t.Errorf("%s: %s: %s", c.Case.Label, d.DisplayName, d.Detail)
		}
		for _, p := range c.Policies {
			if p.State != ca.StateDisabled && p.Graph == nil {
				t.Errorf("%s: no Graph answer for %s", c.Case.Label, p.DisplayName)
			}
		}
		// Adele is a Global Administrator: CA001 wants MFA from anywhere.
		if c.Verdict != ca.VerdictMFA {
			t.Errorf("%s: verdict %s, want mfa", c.Case.Label, c.Verdict)
		}
	}
	// CA002 is excluded from the trusted head office only.
	if p := outcome(t, m.Cases[0], ca002); p.Applies || p.Graph == nil || p.Graph.Applies {
		t.Errorf("CA002 from the head office: local %v, Graph %+v", p.Applies, p.Graph)
	}
	if p := outcome(t, m.Cases[1], ca002); !p.Applies || p.Graph == nil || !p.Graph.Applies {
		t.Errorf("CA002 from outside: local %v, Graph %+v", p.Applies, p.Graph)
	}
}

// Before the account exists there is nothing for Graph to evaluate: the
// matrix makes no evaluate call and says why.
func TestMatrixForNewAccountMakesNoEvaluateCall(t *testing.T) {
	client, srv := demoTenant(t)
	ctx := t.Context()
	srv.ResetRequests()
	ps, err := whatif.ReadPolicySet(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ps.Matrix(ctx, client, whatif.MatrixInput{Subject: whatif.NewAccount(nil, nil), Locations: matrixLocations})
	if err != nil {
		t.Fatal(err)
	}
	if n := caRequests(srv)["POST evaluate"]; n != 0 || m.GraphRequests != 0 {
		t.Errorf("%d evaluate calls for an account that does not exist", n)
	}
	for _, c := range m.Cases {
		if c.Graph == nil || c.Graph.Compared || c.Graph.Note == "" {
			t.Errorf("%s: comparison %+v, want a note saying why Graph was not asked", c.Case.Label, c.Graph)
		}
	}
}

// An unknown user is reported as such, not as a failure.
func TestExistingAccountUnknownUser(t *testing.T) {
	client, _ := demoTenant(t)
	_, err := whatif.ExistingAccount(t.Context(), client, "nobody@contoso-demo.com")
	if ue, ok := err.(*whatif.UnknownUserError); !ok || ue.User != "nobody@contoso-demo.com" {
		t.Errorf("unknown user: %v (%T)", err, err)
	}
}

// The guest of the demo tenant is read as a guest: userType is asked for.
func TestExistingAccountGuest(t *testing.T) {
	client, _ := demoTenant(t)
	s, err := whatif.ExistingAccount(t.Context(), client, "0a1b2c3d-0006-4000-8000-000000000006")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Guest || s.Hypothetical || !s.Exists() {
		t.Errorf("guest read as %+v", s)
	}
}
