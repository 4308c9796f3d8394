package graph

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// Error is a failed Graph call in domain terms: what was being done, the
// HTTP status, Graph's error code, the detail codes (ObjectConflict, ...)
// and the request id to give Microsoft support. Branch on codes, never on
// messages.
type Error struct {
	Op          string // what the product was doing, e.g. "creating the user"
	Status      int
	Code        string
	Message     string
	DetailCodes []string
	RequestID   string
	Date        string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	if e.Status != 0 {
		fmt.Fprintf(&b, "%d ", e.Status)
	}
	if e.Code != "" {
		b.WriteString(e.Code)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.RequestID != "" {
		b.WriteString(" (request-id ")
		b.WriteString(e.RequestID)
		b.WriteString(")")
	}
	return b.String()
}

// HasDetail reports whether Graph named the detail code.
func (e *Error) HasDetail(code string) bool { return slices.Contains(e.DetailCodes, code) }

// Conditions product code branches on.
var (
	// ErrReplicationTimeout: a new object did not become usable before the
	// replication deadline.
	ErrReplicationTimeout = errors.New("directory replication did not catch up in time")
)

// IsNotFound reports a 404 from Graph.
func IsNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// IsForbidden reports a 403 (a missing scope or directory role).
func IsForbidden(err error) bool { return statusOf(err) == http.StatusForbidden }

// IsConflict reports Graph's ObjectConflict (e.g. a duplicate UPN).
func IsConflict(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.HasDetail("ObjectConflict") || e.Status == http.StatusConflict)
}

// isReplicationLag reports the answers Graph gives for an object that was
// just created and has not reached every replica: 404, 400 "Not a valid
// reference update" (a user or group named by a role assignment or a
// policy), or 400 with Conditional Access error 1040 (a named location a
// policy names).
func isReplicationLag(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	if e.Status == http.StatusNotFound {
		return true
	}
	msg := strings.ToLower(e.Message)
	return e.Status == http.StatusBadRequest &&
		(strings.Contains(msg, "not a valid reference") || strings.HasPrefix(msg, "1040:"))
}

// graphDate undoes a misreading of the SDK: Graph sends innerError.date in
// UTC without a zone ("2024-05-21T10:00:00"), and the JSON reader takes a
// date without a zone for local time. Such a date arrives carrying the local
// offset; its wall clock is the UTC time Graph meant.
func graphDate(d time.Time) time.Time {
	_, off := d.Zone()
	if _, local := time.Now().Zone(); off != 0 && off == local {
		return time.Date(d.Year(), d.Month(), d.Day(), d.Hour(), d.Minute(), d.Second(), d.Nanosecond(), time.UTC)
	}
	return d.UTC()
}

func statusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// wrapErr turns what the SDK returned into an *Error. It reads the ODataError
// through its getters only: the SDK's ODataError.Error() panics when the body
// lacked error.message.
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		e := &Error{Op: op, Status: oe.ResponseStatusCode}
		if main := oe.GetErrorEscaped(); main != nil {
			e.Code = deref(main.GetCode())
			e.Message = deref(main.GetMessage())
			for _, d := range main.GetDetails() {
				if c := deref(d.GetCode()); c != "" {
					e.DetailCodes = append(e.DetailCodes, c)
				}
			}
			if inner := main.GetInnerError(); inner != nil {
				e.RequestID = deref(inner.GetRequestId())
				if d := inner.GetDate(); d != nil {
					e.Date = graphDate(*d).Format("2006-01-02T15:04:05Z")
				}
			}
		}
		if e.RequestID == "" && oe.ResponseHeaders != nil {
			if v := oe.ResponseHeaders.Get("request-id"); len(v) > 0 {
				e.RequestID = v[0]
			}
		}
		if e.Message == "" {
			e.Message = http.StatusText(e.Status)
		}
		return e
	}
	var ae *abs.ApiError
	if errors.As(err, &ae) {
		e := &Error{Op: op, Status: ae.ResponseStatusCode, Message: ae.Message}
		if ae.ResponseHeaders != nil {
			if v := ae.ResponseHeaders.Get("request-id"); len(v) > 0 {
				e.RequestID = v[0]
			}
		}
		if e.Message == "" {
			e.Message = http.StatusText(e.Status)
		}
		return e
	}
	return fmt.Errorf("%s: %w", op, err)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
