package whatif_test

import (
	"testing"

	"mgmtsession/whatif"
)

// BenchmarkMatrixLocal is the wizard's matrix (six applications from an
// allowed and an outside IP) for the demo tenant, local evaluator only.
func BenchmarkMatrixLocal(b *testing.B) {
	ps := demoPolicies(b)
	in := whatif.MatrixInput{Subject: whatif.NewAccount(nil, nil), Locations: matrixLocations}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ps.Matrix(ctx, nil, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMatrixWithGraph is the same matrix for an existing account as the
// wizard runs it against the simulated tenant over loopback: policies and
// named locations read, then Graph's What If once per IP. It reports the
// Conditional Access requests per matrix (the budget is one per second).
func BenchmarkMatrixWithGraph(b *testing.B) {
	client, srv := demoTenant(b)
	ctx := b.Context()
	subject, err := whatif.ExistingAccount(ctx, client, adeleUPN)
	if err != nil {
		b.Fatal(err)
	}
	in := whatif.MatrixInput{Subject: subject, Locations: matrixLocations}
	srv.ResetRequests()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		ps, err := whatif.ReadPolicySet(ctx, client)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ps.Matrix(ctx, client, in); err != nil {
			b.Fatal(err)
		}
		n++
	}
	total := 0
	for _, v := range caRequests(srv) {
		total += v
	}
	b.ReportMetric(float64(total)/float64(n), "CA-requests/op")
	b.ReportMetric(float64(caRequests(srv)["POST evaluate"])/float64(n), "evaluates/op")
	b.ReportMetric(float64(len(srv.Requests()))/float64(n), "requests/op")
}
