package tenantsim

import "sort"

// RoundTrips is the length of the longest chain of requests each of which
// started after the previous one ended: the sequential round trips a
// client paid for, whatever ran alongside. Tests and benchmarks count it
// from Requests().
func RoundTrips(reqs []RequestRecord) int {
	reqs = append([]RequestRecord(nil), reqs...)
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].Start.Before(reqs[j].Start) })
	chain := make([]int, len(reqs))
	longest := 0
	for i, r := range reqs {
		chain[i] = 1
		for j := range i {
			if !reqs[j].End.After(r.Start) && chain[j]+1 > chain[i] {
				chain[i] = chain[j] + 1
			}
		}
		longest = max(longest, chain[i])
	}
	return longest
}
