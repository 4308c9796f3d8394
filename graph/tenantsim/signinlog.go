package tenantsim

import (
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"mgmtsession/ca"
)

// DefaultClientIP is where the simulated tenant's sign-ins come from unless
// a test or the demo says otherwise (SetClientIP, emulator --client-ip): an
// address from a documentation range (RFC 5737), so that it is outside any
// range an operator can allow, and a live probe in the demo meets what it
// meets from a stranger's network: MFA required.
var DefaultClientIP = netip.MustParseAddr("203.0.113.77")

// DefaultClientCountry is the country of DefaultClientIP for Conditional
// Access (one the demo tenant's country policy allows).
const DefaultClientCountry = "GB"

// Smart lockout as Entra applies it by default: ten failed passwords lock
// the account for a minute, whatever the password tried next.
const (
	lockoutThreshold = 10
	lockoutDuration  = time.Minute
)

// lockout counts an account's failed passwords.
type lockout struct {
	failures int
	until    time.Time
}

// SetClientIP sets where the tenant's sign-ins come from from now on (the
// address and country Conditional Access and the sign-in log see), as
// `emulator --client-ip` does. An invalid address restores
// DefaultClientIP; an empty country keeps DefaultClientCountry. A request
// may still name its own origin with the X-Sim-Client-IP and
// X-Sim-Client-Country headers.
func (s *Server) SetClientIP(ip netip.Addr, country string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.originIP, s.originCountry = ip, strings.ToUpper(country)
}

// ClientIP is the address sign-ins come from unless a request names its own.
func (s *Server) ClientIP() netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.originIP.IsValid() {
		return s.originIP
	}
	return DefaultClientIP
}

// origin is where a sign-in comes from: the request's X-Sim-Client-IP and
// X-Sim-Client-Country headers, else the tenant's setting, else the
// defaults.
func (s *Server) origin(r *http.Request) (netip.Addr, string) {
	ip := s.ClientIP()
	if a, err := netip.ParseAddr(r.Header.Get("X-Sim-Client-IP")); err == nil {
		ip = a
	}
	country := r.Header.Get("X-Sim-Client-Country")
	if country == "" {
		s.locked(func() { country = s.originCountry })
	}
	if country == "" {
		country = DefaultClientCountry
	}
	return ip, strings.ToUpper(country)
}

// lockedOut reports whether smart lockout holds the account now. Callers
// hold s.mu.
func (s *Server) lockedOut(userID string, now time.Time) bool {
	l := s.lockouts[strings.ToLower(userID)]
	return l != nil && now.Before(l.until)
}

// passwordFailed counts a wrong password; the threshold-th locks the
// account. Callers hold s.mu.
func (s *Server) passwordFailed(userID string, now time.Time) {
	if s.lockouts == nil {
		s.lockouts = map[string]*lockout{}
	}
	k := strings.ToLower(userID)
	l := s.lockouts[k]
	if l == nil {
		if len(s.lockouts) >= limits.deviceCodes {
			clear(s.lockouts) // bounded: a flood of strangers forgets the counts
		}
		l = &lockout{}
		s.lockouts[k] = l
	}
	l.failures++
	if l.failures >= lockoutThreshold {
		l.failures, l.until = 0, now.Add(lockoutDuration)
	}
}

// passwordSucceeded clears the account's failure count. Callers hold s.mu.
func (s *Server) passwordSucceeded(userID string) {
	delete(s.lockouts, strings.ToLower(userID))
}

// appDisplayNames are the applications the sign-in log names.
var appDisplayNames = map[string]string{
	PublicClientID:  "Microsoft Graph Command Line Tools",
	DemoAppClientID: "mgmtsession demo app",
}

// Controls a sign-in satisfied: a password alone satisfies none; a person
// who approved a device code in a browser did whatever the browser asked.
var (
	passwordOnly   []string
	interactiveAll = []string{"mfa", "authenticationStrength", "compliantDevice", "domainJoinedDevice",
		"approvedApplication", "compliantApplication", "passwordChange", "termsOfUse"}
)

// signInAttempt is one sign-in the authority answered, for the log.
type signInAttempt struct {
	user     *user // nil when the name matched nobody
	username string
	clientID string
	ip       netip.Addr
	code     int
	reason   string
	ca       *ca.Result // nil when the sign-in ended before Conditional Access
	done     []string   // the controls the sign-in satisfied
}

// appliedPolicies is Graph's appliedConditionalAccessPolicies for a sign-in
// and its conditionalAccessStatus: each policy's result, success when an
// applying policy's grant controls were met, failure when they were not.
func appliedPolicies(res *ca.Result, done []string) (string, []map[string]any) {
	status := "notApplied"
	out := []map[string]any{}
	if res == nil {
		return status, out
	}
	met := func(p ca.PolicyResult) bool {
		if slices.Contains(p.Controls, "block") {
			return false
		}
		if len(p.Controls) == 0 {
			return true
		}
		n := 0
		for _, c := range p.Controls {
			if slices.Contains(done, c) {
				n++
			}
		}
		if p.Operator == "AND" {
			return n == len(p.Controls)
		}
		return n > 0
	}
	failed, succeeded := false, false
	for _, p := range res.Policies {
		result := "notApplied"
		switch {
		case p.State == ca.StateDisabled:
			result = "notEnabled"
		case p.State == ca.StateReportOnly && !p.Applies:
			result = "reportOnlyNotApplied"
		case p.State == ca.StateReportOnly && met(p):
			result = "reportOnlySuccess"
		case p.State == ca.StateReportOnly:
			result = "reportOnlyFailure"
		case !p.Applies:
		case met(p):
			result, succeeded = "success", true
		default:
			result, failed = "failure", true
		}
		controls := p.Controls
		if controls == nil || !p.Applies {
			controls = []string{}
		}
		out = append(out, map[string]any{
			"id": p.ID, "displayName": p.DisplayName, "result": result,
			"enforcedGrantControls": controls, "enforcedSessionControls": []string{},
		})
	}
	switch {
	case failed:
		status = "failure"
	case succeeded:
		status = "success"
	}
	return status, out
}

// recordSignIn adds a sign-in to the log as Graph shapes it, newest first.
func (s *Server) recordSignIn(a signInAttempt) {
	caStatus, applied := appliedPolicies(a.ca, a.done)
	entry := map[string]any{
		"id":                               newGUID(),
		"createdDateTime":                  time.Now().UTC().Format(time.RFC3339),
		"userPrincipalName":                a.username,
		"userId":                           "",
		"userDisplayName":                  nil,
		"appId":                            a.clientID,
		"appDisplayName":                   appDisplayNames[a.clientID],
		"ipAddress":                        a.ip.String(),
		"clientAppUsed":                    "Mobile Apps and Desktop clients",
		"isInteractive":                    true,
		"resourceDisplayName":              "Microsoft Graph",
		"resourceId":                       graphAppID,
		"status":                           map[string]any{"errorCode": a.code, "failureReason": a.reason, "additionalDetails": nil},
		"conditionalAccessStatus":          caStatus,
		"appliedConditionalAccessPolicies": applied,
	}
	if a.user != nil {
		entry["userId"] = a.user.ID
		entry["userDisplayName"] = a.user.DisplayName
		entry["userPrincipalName"] = a.user.UserPrincipalName
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Only the newest are kept. The log is written with the tenant's
	// next change or at Close, never on its own: a stranger's failed
	// password must not rewrite the file while every request waits on
	// the lock.
	s.st.SignIns = append([]map[string]any{entry}, s.st.SignIns[:min(len(s.st.SignIns), limits.signIns-1)]...)
	if s.file != nil {
		s.file.signIns++
	}
}

// createdClause is a createdDateTime comparison in a sign-in log filter,
// with the DateTimeOffset literal OData writes unquoted.
var createdClause = regexp.MustCompile(`(?i)^\s*createdDateTime\s+(ge|gt|le|lt)\s+(\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2}))\s*$`)

// splitCreated takes the createdDateTime comparisons out of a filter made
// of clauses joined by "and" (the way the sign-in log is filtered by time),
// and returns the rest for the general filter reader.
func splitCreated(filter string) (rest string, keep func(time.Time) bool, gerr *graphError) {
	type bound struct {
		op string
		t  time.Time
	}
	var bounds []bound
	var others []string
	for _, clause := range splitAnd(filter) {
		m := createdClause.FindStringSubmatch(clause)
		if m == nil {
			others = append(others, clause)
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, m[2])
		if err != nil {
			return "", nil, errBadRequest("BadRequest", "Invalid filter clause: '%s' is not a valid DateTimeOffset.", m[2])
		}
		bounds = append(bounds, bound{strings.ToLower(m[1]), t})
	}
	keep = func(c time.Time) bool {
		for _, b := range bounds {
			ok := true
			switch b.op {
			case "ge":
				ok = !c.Before(b.t)
			case "gt":
				ok = c.After(b.t)
			case "le":
				ok = !c.After(b.t)
			case "lt":
				ok = c.Before(b.t)
			}
			if !ok {
				return false
			}
		}
		return true
	}
	return strings.Join(others, " and "), keep, nil
}

// splitAnd splits a filter at the top-level " and " outside quotes and
// parentheses.
func splitAnd(filter string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	lower := strings.ToLower(filter)
	for i := 0; i < len(filter); i++ {
		switch c := filter[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && strings.HasPrefix(lower[i:], " and "):
			out = append(out, filter[start:i])
			start = i + len(" and ")
			i = start - 1
		}
	}
	if strings.TrimSpace(filter[start:]) != "" || len(out) > 0 {
		out = append(out, filter[start:])
	}
	return out
}

// evolvableResults are the appliedConditionalAccessPolicy results listed
// after unknownFutureValue in Graph's evolvable enum: Graph sends them only
// to a client that asks with Prefer: include-unknown-enum-members, and
// unknownFutureValue to others.
var evolvableResults = []string{"reportOnlySuccess", "reportOnlyFailure", "reportOnlyNotApplied", "reportOnlyInterrupted"}

// listSignIns answers GET /auditLogs/signIns: Entra ID P1 needed, $filter
// on any property (and createdDateTime ranges), $top, newest first.
func (s *Server) listSignIns(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	if !s.hasP1() {
		return &graphError{Status: http.StatusForbidden, Code: "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
			Message: "Neither tenant is B2C or tenant doesn't have premium license"}
	}
	rest, keep, gerr := splitCreated(r.URL.Query().Get("$filter"))
	if gerr != nil {
		return gerr
	}
	f, gerr := parseFilter(rest)
	if gerr != nil {
		return gerr
	}
	unknownEnums := strings.Contains(strings.ToLower(r.Header.Get("Prefer")), "include-unknown-enum-members")
	var items []any
	s.locked(func() {
		for _, e := range s.st.SignIns {
			created, _ := time.Parse(time.RFC3339, stringOf(e["createdDateTime"]))
			if !keep(created) {
				continue
			}
			var ok bool
			if ok, gerr = f.match(func(prop string) (any, bool) { return propertyOf(e, prop) }); gerr != nil {
				return
			}
			if ok {
				items = append(items, withEnums(e, unknownEnums))
			}
		}
	})
	if gerr != nil {
		return gerr
	}
	writeJSON(w, http.StatusOK, s.page(r, items))
	return nil
}

// withEnums is a log entry as a client sees it: without the Prefer
// header, report-only results read unknownFutureValue. Entries read back
// from a state file hold []any where new ones hold []map[string]any.
func withEnums(e map[string]any, unknownEnums bool) map[string]any {
	if unknownEnums {
		return e
	}
	var applied []map[string]any
	switch v := e["appliedConditionalAccessPolicies"].(type) {
	case []map[string]any:
		applied = v
	case []any:
		for _, x := range v {
			if m, ok := x.(map[string]any); ok {
				applied = append(applied, m)
			}
		}
	}
	if applied == nil {
		return e
	}
	out := make(map[string]any, len(e))
	for k, v := range e {
		out[k] = v
	}
	copied := make([]map[string]any, len(applied))
	for i, p := range applied {
		q := make(map[string]any, len(p))
		for k, v := range p {
			q[k] = v
		}
		if slices.Contains(evolvableResults, stringOf(q["result"])) {
			q["result"] = "unknownFutureValue"
		}
		copied[i] = q
	}
	out["appliedConditionalAccessPolicies"] = copied
	return out
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}
