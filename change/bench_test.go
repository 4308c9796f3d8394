package change_test

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"mgmtsession/change"
	"mgmtsession/connect"
	"mgmtsession/graph/tenantsim"
)

// BenchmarkApplyFromScratch applies the whole procedure (account, roles,
// location, policy, record, exclusions, session on) to a fresh simulated
// tenant that answers every request 100 ms late, with the demo's
// verification (3 consecutive reads 50 ms apart) and no replication delay.
// It reports the wall time of Apply, the requests and writes it made, the
// sequential round trips (the longest chain of requests each starting after
// the previous ended), and apart from those the time spent verifying: the
// reads that prove each write, which a real tenant stretches by its
// replication delay (the wall time spent in them, overlaps counted once).
// Planning (two round trips) is not counted.
//
//	go test ./change -run '^$' -bench ApplyFromScratch -benchtime 3x
func BenchmarkApplyFromScratch(b *testing.B) {
	const latency = 100 * time.Millisecond
	var requests, writes, trips int
	var verifying time.Duration
	for range b.N {
		b.StopTimer()
		tn := demoTenant(b, connect.Options{})
		d := desired(b, nil)
		f, err := change.ReadFacts(context.Background(), tn.client, tn.sess, d)
		if err != nil {
			b.Fatal(err)
		}
		p, err := change.MakePlan(d, f)
		if err != nil {
			b.Fatal(err)
		}
		tn.sim.SetLatency(latency)
		tn.sim.ResetRequests()
		var mu sync.Mutex
		var spans [][2]time.Time
		o := change.Options{VerifyPause: 50 * time.Millisecond, Operator: "bench",
			Observer: func(e change.Event) {
				if e.Kind == change.EventVerified {
					now := time.Now()
					mu.Lock()
					spans = append(spans, [2]time.Time{now.Add(-e.Elapsed), now})
					mu.Unlock()
				}
			}}
		b.StartTimer()
		_, err = change.Apply(context.Background(), tn.client, p, o)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		reqs := tn.sim.Requests()
		requests += len(reqs)
		for _, r := range reqs {
			if r.Method != "GET" {
				writes++
			}
		}
		trips += tenantsim.RoundTrips(reqs)
		verifying += union(spans)
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/n, "ms/op-wall")
	b.ReportMetric(float64(verifying.Milliseconds())/n, "ms/op-verifying")
	b.ReportMetric(float64(requests)/n, "requests/op")
	b.ReportMetric(float64(writes)/n, "writes/op")
	b.ReportMetric(float64(trips)/n, "roundtrips/op")
}

// union is the time covered by the spans, overlaps counted once.
func union(spans [][2]time.Time) time.Duration {
	sort.Slice(spans, func(i, j int) bool { return spans[i][0].Before(spans[j][0]) })
	var total time.Duration
	var end time.Time
	for _, s := range spans {
		if s[0].After(end) {
			total += s[1].Sub(s[0])
			end = s[1]
		} else if s[1].After(end) {
			total += s[1].Sub(end)
			end = s[1]
		}
	}
	return total
}
