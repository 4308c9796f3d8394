package graph

import (
	"context"
	"net/http"
	"sync"
)

// Graph answers every request with a request-id header: the id Microsoft
// support asks for. The journal and the report keep it for every write
// (SPEC section 9), so a caller collects the ids of the requests made under
// a context.

type requestIDsKey struct{}

// RequestIDs collects the request ids of the answers to the requests made
// under a context from WithRequestIDs.
type RequestIDs struct {
	mu  sync.Mutex
	ids []string
}

// WithRequestIDs returns a context under which every answer's request id is
// collected.
func WithRequestIDs(ctx context.Context) (context.Context, *RequestIDs) {
	r := &RequestIDs{}
	return context.WithValue(ctx, requestIDsKey{}, r), r
}

// Last is the request id of the latest answer, or "".
func (r *RequestIDs) Last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ids) == 0 {
		return ""
	}
	return r.ids[len(r.ids)-1]
}

// All are the request ids collected, oldest first.
func (r *RequestIDs) All() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

// requestIDTransport records the request id of each answer in the
// context's collector, if it has one.
type requestIDTransport struct{ base http.RoundTripper }

func (t requestIDTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if resp != nil {
		if r, ok := req.Context().Value(requestIDsKey{}).(*RequestIDs); ok {
			if id := resp.Header.Get("request-id"); id != "" {
				r.mu.Lock()
				r.ids = append(r.ids, id)
				r.mu.Unlock()
			}
		}
	}
	return resp, err
}
