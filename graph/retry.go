package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
)

// The SDK's retry (kiota-http-go's RetryHandler) covers 429, 503 and 504;
// safeReadRetry covers what it leaves out for reads, with the same shape:
// at most maxSafeRetries retries, Retry-After honoured, otherwise
// exponential backoff from retryBase with up to a second of jitter, and no
// wait beyond maxRetryWait.
const (
	maxSafeRetries = 3
	retryBase      = 3 * time.Second
	maxRetryWait   = 180 * time.Second
)

// retryDelay is the wait before retry number attempt (1 for the first):
// what Retry-After asks (seconds or an HTTP date), or the SDK's backoff.
func retryDelay(retryAfter string, attempt int) time.Duration {
	if retryAfter != "" {
		if secs, err := strconv.ParseFloat(retryAfter, 64); err == nil && secs >= 0 {
			return min(time.Duration(secs*float64(time.Second)), maxRetryWait)
		}
		if t, err := http.ParseTime(retryAfter); err == nil {
			return min(max(time.Until(t), 0), maxRetryWait)
		}
	}
	d := retryBase<<(attempt-1) + time.Duration(rand.Int64N(int64(time.Second)))
	return min(d, maxRetryWait)
}

// safeRead marks a request that only reads although its method is POST (a
// $batch of GETs), so that safeReadRetry may send it again.
type safeRead struct{}

var safeReadKey = abs.RequestOptionKey{Key: "mgmtsession.safeRead"}

func (safeRead) GetKey() abs.RequestOptionKey { return safeReadKey }

// isSafeRead reports whether sending req twice cannot change the tenant:
// a GET or HEAD, or a request marked safeRead. POST, PATCH, PUT and DELETE
// are never sent again this way: a create that reached Graph before the
// connection dropped would be made twice.
func isSafeRead(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		return true
	}
	_, ok := req.Context().Value(safeReadKey).(safeRead)
	return ok
}

// isConnectionError reports a failure of the connection itself (closed or
// reset before Graph answered), which a fresh connection may not have. A
// cancelled context, a timeout or a refused certificate is not one.
func isConnectionError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, net.ErrClosed)
}

// safeReadRetry sends a read again when its connection dropped (EOF, reset)
// or Graph answered 500 or 502, which the SDK's retry does not cover: one
// network blip otherwise fails a read, and a failed read leaves a check
// unknown. The connection that failed is closed, so the next attempt goes
// out on another. Each retry is one line in the debug log: the method, the
// path, the attempt, the cause and the wait; never a header or a body.
type safeReadRetry struct{ log *slog.Logger }

func (m safeReadRetry) Intercept(pipeline khttp.Pipeline, middlewareIndex int, req *http.Request) (*http.Response, error) {
	if !isSafeRead(req) {
		return pipeline.Next(req, middlewareIndex)
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, fmt.Errorf("reading the request body: %w", err)
		}
	}
	for attempt := 0; ; attempt++ {
		try := req
		if body != nil {
			try = req.WithContext(req.Context())
			try.Body = io.NopCloser(bytes.NewReader(body))
			try.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
			try.ContentLength = int64(len(body))
		}
		resp, err := pipeline.Next(try, middlewareIndex)
		var cause, retryAfter string
		switch {
		case err != nil && isConnectionError(err):
			cause = err.Error()
		case err == nil && (resp.StatusCode == http.StatusInternalServerError || resp.StatusCode == http.StatusBadGateway):
			cause = strconv.Itoa(resp.StatusCode)
			retryAfter = resp.Header.Get("Retry-After")
		default:
			return resp, err
		}
		if attempt >= maxSafeRetries {
			return resp, err
		}
		if resp != nil {
			// Drained, so that its connection may serve another request.
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
		}
		wait := retryDelay(retryAfter, attempt+1)
		if m.log != nil {
			m.log.Warn("retry", "method", req.Method, "path", req.URL.Path, "attempt", attempt+2,
				"after", cause, "wait_ms", wait.Milliseconds())
		}
		if err := sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

// maxReplicationPause caps the backoff between replication retries.
const maxReplicationPause = 10 * time.Second

// replicated runs fn, retrying with capped exponential backoff while Graph
// answers the way it does for an object created moments ago that has not
// reached every replica (404, or 400 "Not a valid reference update"). The
// SDK's own retry covers 429/503/504; this covers what it cannot know.
func (c *Client) replicated(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(c.replWait)
	pause := c.replPause
	for {
		err := fn()
		if err == nil || !isReplicationLag(err) {
			return err
		}
		if time.Now().Add(pause).After(deadline) {
			return fmt.Errorf("%w: %w", ErrReplicationTimeout, err)
		}
		if err := sleep(ctx, pause); err != nil {
			return err
		}
		pause = min(pause*2, maxReplicationPause)
	}
}

// WaitUntil reads back until check reports the write visible on several
// consecutive reads (a single good read can come from a replica that is
// ahead of the others), or the replication deadline passes. A read that
// fails with replication lag counts as "not yet".
func (c *Client) WaitUntil(ctx context.Context, what string, consecutive int, check func(context.Context) (bool, error)) error {
	deadline := time.Now().Add(c.replWait)
	good := 0
	for {
		ok, err := check(ctx)
		switch {
		case err != nil && !isReplicationLag(err):
			return err
		case ok:
			good++
			if good >= consecutive {
				return nil
			}
		default:
			good = 0
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: %w", what, ErrReplicationTimeout)
		}
		pause := c.replPause
		if ok {
			pause = c.replPause / 4 // confirming reads need not wait long
		}
		if err := sleep(ctx, pause); err != nil {
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
