package graph

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
)

// SignInEntry is one entry of the sign-in log (GET /auditLogs/signIns), with
// what the product shows of it: when, from where, to which application,
// the result and the Conditional Access policies applied.
type SignInEntry struct {
	ID                string    `json:"id"`
	CreatedDateTime   time.Time `json:"createdDateTime"`
	UserID            string    `json:"userId"`
	UserPrincipalName string    `json:"userPrincipalName"`
	AppID             string    `json:"appId"`
	AppDisplayName    string    `json:"appDisplayName"`
	IPAddress         string    `json:"ipAddress"`
	ClientAppUsed     string    `json:"clientAppUsed"`
	Status            struct {
		// ErrorCode is the AADSTS code; 0 is a successful sign-in.
		ErrorCode     int    `json:"errorCode"`
		FailureReason string `json:"failureReason"`
	} `json:"status"`
	// ConditionalAccessStatus is success, failure or notApplied.
	ConditionalAccessStatus string          `json:"conditionalAccessStatus"`
	AppliedPolicies         []AppliedPolicy `json:"appliedConditionalAccessPolicies"`
}

// AppliedPolicy is a Conditional Access policy as a sign-in met it. Result
// is success, failure, notApplied, notEnabled, or for report-only policies
// reportOnlySuccess, reportOnlyFailure, reportOnlyNotApplied and
// reportOnlyInterrupted (which Graph lists only to a client that asks for
// them: SignInLog does).
type AppliedPolicy struct {
	ID                    string   `json:"id"`
	DisplayName           string   `json:"displayName"`
	Result                string   `json:"result"`
	EnforcedGrantControls []string `json:"enforcedGrantControls"`
}

// SignInQuery selects sign-in log entries: one user (by id or UPN; the id
// when both are given), those at or after Since, the newest Top (10 when
// zero, 1000 at most as Graph allows).
type SignInQuery struct {
	UserID string
	UPN    string
	Since  time.Time
	Top    int
}

// SignInLogThrottle is the sign-in log's documented limit (GRAPH-NOTES
// section 10): five requests per ten seconds per app and tenant. A reader
// that follows the log waits at least this long between reads.
const SignInLogThrottle = 2 * time.Second

// SignInLog reads the newest entries of the sign-in log, newest first (one
// page). It needs AuditLog.Read.All and Entra ID P1: IsNoPremium tells the
// answer of a tenant without it.
func (c *Client) SignInLog(ctx context.Context, q SignInQuery) ([]SignInEntry, error) {
	const op = "reading the sign-in log"
	var clauses []string
	switch {
	case q.UserID != "":
		clauses = append(clauses, "userId eq "+quoteOData(q.UserID))
	case q.UPN != "":
		clauses = append(clauses, "userPrincipalName eq "+quoteOData(q.UPN))
	}
	if !q.Since.IsZero() {
		// OData writes a DateTimeOffset unquoted.
		clauses = append(clauses, "createdDateTime ge "+q.Since.UTC().Truncate(time.Second).Format(time.RFC3339))
	}
	top := q.Top
	if top <= 0 {
		top = 10
	}
	values := url.Values{"$top": {fmt.Sprint(min(top, 1000))}}
	if len(clauses) > 0 {
		values.Set("$filter", strings.Join(clauses, " and "))
	}
	ri, err := c.request(abs.GET, "/auditLogs/signIns", values)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	// Report-only results are listed only with this preference.
	ri.Headers.TryAdd("Prefer", "include-unknown-enum-members")
	var page struct {
		Value []SignInEntry `json:"value"`
	}
	if err := c.exchangeJSON(ctx, op, ri, &page); err != nil {
		return nil, err
	}
	return page.Value, nil
}

// IsNoPremium reports Graph's answer to a sign-in log read in a tenant
// without Entra ID P1 (or P2).
func IsNoPremium(err error) bool {
	var ge *Error
	return errors.As(err, &ge) && ge.Code == "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
}
