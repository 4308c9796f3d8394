package graph_test

import (
	"context"
	"testing"
	"time"

	"mgmtsession/graph/tenantsim"
)

// BenchmarkPreflightReads runs preflight's read set (ReadTenant) against a
// tenant 100 ms away, with an existing management account so that the
// second round has work. It reports the wall time, the requests made and
// the sequential round trips paid (the longest chain of requests each
// starting after the previous ended); the goal is at most 3.
func BenchmarkPreflightReads(b *testing.B) {
	srv := tenant(b, "account-exists")
	c, _ := operatorClient(b, srv) // signs in: the token is cached from here on
	const latency = 100 * time.Millisecond
	srv.SetLatency(latency)
	ctx := context.Background()
	// One untimed run opens the connections a steady client keeps.
	if _, err := c.ReadTenant(ctx, managementPrefixes); err != nil {
		b.Fatal(err)
	}
	var requests, trips int
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		srv.ResetRequests()
		b.StartTimer()
		f, err := c.ReadTenant(ctx, managementPrefixes)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if errs := failed(f); len(errs) != 0 {
			b.Fatalf("reads failed: %v", errs)
		}
		reqs := srv.Requests()
		requests += len(reqs)
		trips += tenantsim.RoundTrips(reqs)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op-wall")
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
	b.ReportMetric(float64(trips)/float64(b.N), "roundtrips/op")
}
