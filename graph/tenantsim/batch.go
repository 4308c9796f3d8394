package tenantsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

const maxBatchRequests = 20

type batchRequest struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

// batchRecorder captures one batch item's answer.
type batchRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *batchRecorder) Header() http.Header         { return b.header }
func (b *batchRecorder) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *batchRecorder) WriteHeader(status int)      { b.status = status }

func readerOf(data []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(data)) }

// batch answers JSON $batch: at most 20 requests with unique ids, each run
// through the same routes (so each is authorised and throttled on its own),
// in order; an item whose dependency failed gets 424.
func (s *Server) batch(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	data, gerr := readBody(r)
	if gerr != nil {
		return gerr
	}
	var b struct {
		Requests []batchRequest `json:"requests"`
	}
	if gerr := decodeInto(data, &b, "microsoft.graph.batchRequest"); gerr != nil {
		return gerr
	}
	if len(b.Requests) == 0 || len(b.Requests) > maxBatchRequests {
		return errBadRequest("BadRequest", "A batch holds 1 to %d requests.", maxBatchRequests)
	}
	seen := map[string]bool{}
	for _, item := range b.Requests {
		// Ids are case-insensitive, and unique.
		if item.ID == "" || seen[strings.ToLower(item.ID)] {
			return errBadRequest("BadRequest", "Batch request ids must be present and unique ('%s').", item.ID)
		}
		seen[strings.ToLower(item.ID)] = true
		if item.Method == "" || item.URL == "" {
			return errBadRequest("BadRequest", "Batch request '%s' needs a method and a url.", item.ID)
		}
		if gerr := checkBatchURL(item); gerr != nil {
			return gerr
		}
		if hasBody(item.Body) && headerOf(item.Headers, "Content-Type") == "" {
			return errBadRequest("BadRequest", "Write request id : %s does not contain Content-Type header or body.", item.ID)
		}
	}
	version := "/v1.0"
	if strings.HasPrefix(r.URL.Path, "/beta/") {
		version = "/beta"
	}
	status := map[string]int{}
	var responses []any
	for _, item := range b.Requests {
		failed := false
		for _, dep := range item.DependsOn {
			if st, ok := status[strings.ToLower(dep)]; !ok || st >= 400 {
				failed = true
			}
		}
		if failed {
			status[strings.ToLower(item.ID)] = http.StatusFailedDependency
			responses = append(responses, map[string]any{"id": item.ID, "status": http.StatusFailedDependency,
				"body": map[string]any{"error": map[string]any{"code": "FailedDependency", "message": "A request this one depends on failed."}}})
			continue
		}
		target := item.URL
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		sub, err := http.NewRequestWithContext(r.Context(), strings.ToUpper(item.Method), version+target, readerOf(item.Body))
		if err != nil {
			status[strings.ToLower(item.ID)] = http.StatusBadRequest
			responses = append(responses, map[string]any{"id": item.ID, "status": http.StatusBadRequest,
				"body": map[string]any{"error": map[string]any{"code": "BadRequest", "message": "Invalid request url."}}})
			continue
		}
		sub.Host, sub.RemoteAddr = r.Host, r.RemoteAddr
		sub.Header.Set("Authorization", r.Header.Get("Authorization"))
		for k, v := range item.Headers {
			sub.Header.Set(k, v)
		}
		if !hasBody(item.Body) {
			sub.Body, sub.ContentLength = http.NoBody, 0
		}
		rec := &batchRecorder{header: http.Header{}, status: http.StatusOK}
		// Each item is a request of its own, with its own request id for
		// its error body and for Microsoft support.
		rec.header.Set("request-id", newGUID())
		rec.header.Set("client-request-id", rec.header.Get("request-id"))
		s.inner.ServeHTTP(rec, sub)
		status[strings.ToLower(item.ID)] = rec.status
		resp := map[string]any{"id": item.ID, "status": rec.status}
		headers := map[string]string{}
		for k := range rec.header {
			headers[k] = rec.header.Get(k)
		}
		resp["headers"] = headers
		if rec.body.Len() > 0 {
			resp["body"] = json.RawMessage(bytes.TrimSpace(rec.body.Bytes()))
		}
		responses = append(responses, resp)
	}
	writeJSON(w, http.StatusOK, map[string]any{"responses": responses})
	return nil
}

// checkBatchURL refuses what Graph refuses in an item's url: anything but
// a path relative to the batch's version, a "." or ".." segment (plain or
// percent-encoded) that would leave it, and a nested $batch.
func checkBatchURL(item batchRequest) *graphError {
	bad := func(why string) *graphError {
		return errBadRequest("BadRequest", "Invalid request url '%s' of batch request '%s': %s.", item.URL, item.ID, why)
	}
	u, err := url.Parse(item.URL)
	if err != nil {
		return bad("it cannot be parsed")
	}
	if u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(item.URL, "//") {
		return bad("it must be relative to the version, such as /users")
	}
	if strings.Contains(item.URL, "\\") {
		return bad("it holds a backslash")
	}
	for _, seg := range strings.Split(u.Path, "/") {
		switch {
		case seg == "." || seg == "..":
			return bad("it holds a '" + seg + "' segment")
		case strings.EqualFold(seg, "$batch"):
			return bad("a batch cannot hold a batch")
		}
	}
	return nil
}

func hasBody(b json.RawMessage) bool {
	t := bytes.TrimSpace(b)
	return len(t) > 0 && string(t) != "null"
}

// headerOf reads a batch item's header, whose name is case-insensitive.
func headerOf(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
