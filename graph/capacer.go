package graph

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// caInterval spaces paced Conditional Access requests: the documented budget
// is one request per second per tenant, every app together (GRAPH-NOTES
// section 10), and the margin keeps network jitter from landing two in one
// of the tenant's seconds.
const caInterval = 1100 * time.Millisecond

// caPacer spaces Conditional Access requests one interval apart once the
// tenant has answered one of them with 429. Before that it stays out of the
// way, so that an unthrottled tenant keeps its concurrent reads; after it,
// the run stops spending the SDK's 3, 6, 12 s backoff on every CA request
// (the 429 often carries no Retry-After). It sits under the SDK's retry
// middleware, so retries are paced too.
type caPacer struct {
	base     http.RoundTripper
	interval time.Duration
	mu       sync.Mutex
	paced    bool
	next     time.Time // the earliest start of the next CA request
}

func isCARequest(req *http.Request) bool {
	return strings.Contains(req.URL.Path, "/identity/conditionalAccess/")
}

func (p *caPacer) RoundTrip(req *http.Request) (*http.Response, error) {
	if !isCARequest(req) {
		return p.base.RoundTrip(req)
	}
	if wait := p.reserve(); wait > 0 {
		if err := sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
	resp, err := p.base.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		p.mu.Lock()
		p.paced = true
		p.next = time.Now().Add(p.interval)
		p.mu.Unlock()
	}
	return resp, err
}

// reserve takes the next slot and says how long to wait for it.
func (p *caPacer) reserve() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.paced {
		return 0
	}
	now := time.Now()
	start := now
	if p.next.After(now) {
		start = p.next
	}
	p.next = start.Add(p.interval)
	return start.Sub(now)
}
