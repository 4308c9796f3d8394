package tenantsim

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// graphError is Graph's error body. Every error the tenant sends has code and
// message: the SDK's ODataError.Error() panics without error.message.
type graphError struct {
	Status  int
	Code    string
	Message string
	Details []errorDetail
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target,omitempty"`
}

func (e *graphError) Error() string { return e.Code + ": " + e.Message }

func errBadRequest(code, format string, args ...any) *graphError {
	return &graphError{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

func errNotFound(what, id string) *graphError {
	return &graphError{Status: http.StatusNotFound, Code: "Request_ResourceNotFound",
		Message: fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)}
}

func errDenied() *graphError {
	return &graphError{Status: http.StatusForbidden, Code: "Authorization_RequestDenied",
		Message: "Insufficient privileges to complete the operation."}
}

// writeError sends Graph's error body with the request id in innerError.
func writeError(w http.ResponseWriter, r *http.Request, e *graphError) {
	body := map[string]any{"error": map[string]any{
		"code":    e.Code,
		"message": e.Message,
		"innerError": map[string]any{
			"date":              time.Now().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        w.Header().Get("request-id"),
			"client-request-id": w.Header().Get("client-request-id"),
		},
	}}
	if len(e.Details) > 0 {
		body["error"].(map[string]any)["details"] = e.Details
	}
	writeJSON(w, e.Status, body)
}

// contentType is the Content-Type Graph writes on JSON answers, byte for
// byte (clients that compare media types strictly see what Graph sends).
const contentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// writeJSON sends a JSON answer; a successful one to a Graph route carries
// the route's @odata.context, as Graph's do (error bodies carry none).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(v)
	body := buf.Bytes()
	if ow, ok := w.(*odataWriter); ok && status < 300 {
		body = withContext(body, ow.context)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeAuthorityJSON answers an Entra authority endpoint, which (unlike
// Graph) writes plain JSON.
func writeAuthorityJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readBody returns the request body, decoding gzip as Graph does (the SDK
// compresses request bodies by default).
func readBody(r *http.Request) ([]byte, *graphError) {
	var rd io.Reader = r.Body
	switch enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, errBadRequest("BadRequest", "The request body is not valid gzip: %v", err)
		}
		defer zr.Close()
		rd = zr
	default:
		return nil, &graphError{Status: http.StatusUnsupportedMediaType, Code: "UnsupportedMediaType",
			Message: fmt.Sprintf("Content-Encoding %q is not supported.", enc)}
	}
	data, err := io.ReadAll(io.LimitReader(rd, 4<<20))
	if err != nil {
		return nil, errBadRequest("BadRequest", "Reading the request body: %v", err)
	}
	return data, nil
}

// decodeObject parses a JSON object body, answering Graph's 400 for
// malformed JSON.
func decodeObject(data []byte) (map[string]any, *graphError) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errBadRequest("BadRequest", "Empty Payload, JSON content expected")
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, errBadRequest("BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format. (%v)", err)
	}
	return m, nil
}

// decodeInto strictly decodes a body into a typed struct: unknown properties
// are refused as Graph refuses them.
func decodeInto(data []byte, v any, typeName string) *graphError {
	if len(bytes.TrimSpace(data)) == 0 {
		return errBadRequest("BadRequest", "Empty Payload, JSON content expected")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			return errBadRequest("Request_BadRequest", "Invalid property %s on type '%s'.", f, typeName)
		}
		return errBadRequest("BadRequest", "Unable to read JSON request payload: %v", err)
	}
	return nil
}

// page slices a collection and builds @odata.nextLink with a skip token, so
// that callers must follow links exactly as with Graph.
func (s *Server) page(r *http.Request, items []any) map[string]any {
	var size int
	s.locked(func() { size = s.opts.PageSize })
	q := r.URL.Query()
	if t, err := strconv.Atoi(q.Get("$top")); err == nil && t > 0 && t < size {
		size = t
	}
	start, _ := strconv.Atoi(q.Get("$skiptoken"))
	if start < 0 || start > len(items) {
		start = len(items)
	}
	end := min(start+size, len(items))
	value := items[start:end]
	if value == nil {
		value = []any{} // Graph sends an empty collection as [], never null
	}
	out := map[string]any{"value": value}
	if end < len(items) {
		q.Set("$skiptoken", strconv.Itoa(end))
		next := url.URL{Scheme: "https", Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
		out["@odata.nextLink"] = next.String()
	}
	return out
}
