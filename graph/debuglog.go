package graph

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// loggedTransport writes one line per HTTP exchange to the debug log: the
// method, the path and query, the status, Graph's request id and the time
// taken. Headers and bodies are never logged: they carry tokens, passwords
// and client secrets.
type loggedTransport struct {
	base http.RoundTripper
	log  *slog.Logger
}

func (t loggedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	attrs := []any{"method", req.Method, "host", req.URL.Host, "path", req.URL.Path, "ms", time.Since(start).Milliseconds()}
	if req.URL.RawQuery != "" && req.URL.Path != "" && !isTokenPath(req.URL.Path) {
		attrs = append(attrs, "query", req.URL.RawQuery)
	}
	if err != nil {
		t.log.Warn("http", append(attrs, "error", err.Error())...)
		return resp, err
	}
	attrs = append(attrs, "status", resp.StatusCode)
	if id := resp.Header.Get("request-id"); id != "" {
		attrs = append(attrs, "request-id", id)
	}
	if resp.Header.Get("Retry-After") != "" {
		attrs = append(attrs, "retry-after", resp.Header.Get("Retry-After"))
	}
	t.log.Info("http", attrs...)
	return resp, nil
}

func isTokenPath(p string) bool {
	return strings.HasSuffix(p, "/token") || strings.HasSuffix(p, "/devicecode")
}

// withLog wraps a transport with the debug log, when there is one.
func withLog(base http.RoundTripper, log *slog.Logger) http.RoundTripper {
	if log == nil {
		return base
	}
	return loggedTransport{base: base, log: log}
}
