// Package preflight is step 1's logic, shared by the wizard and the status
// command: it reads the tenant once (every read concurrent) and judges what
// it found as checks with pass / warn / fail, the reason and the fix, or
// unknown when a read the check needs failed. Build is pure, so every check
// is tested without a network.
package preflight

// Result is a check's outcome.
type Result string

// Check outcomes.
const (
	Pass Result = "pass"
	Warn Result = "warn"
	Fail Result = "fail"
	Info Result = "info"
	// Unknown is a check whose input could not be read: it names the read
	// and why it failed, never passes, and fails the command.
	Unknown Result = "unknown"
)

// Check is one preflight finding. Strings may hold tenant data: sanitise
// them before they reach a terminal.
type Check struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Result Result `json:"result"`
	Reason string `json:"reason"`
	Fix    string `json:"fix,omitempty"`
	// Read names the read that failed (graph.ReadPolicies, ...) and
	// RequestID is Graph's id for it, on an Unknown check.
	Read      string `json:"read,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// Account is a management account found in the tenant.
type Account struct {
	ID             string   `json:"id"`
	UPN            string   `json:"userPrincipalName"`
	Enabled        bool     `json:"accountEnabled"`
	Roles          []string `json:"roles"`
	PerUserMFA     string   `json:"perUserMfaState"`
	MFAMethods     []string `json:"mfaMethods"`
	PasswordExpiry bool     `json:"passwordExpires"`
}

// Policy summarises a Conditional Access policy for the report.
type Policy struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	State       string `json:"state"`
	Managed     bool   `json:"microsoftManaged"`
}

// Report is everything preflight found. A fact whose read failed is null
// in JSON (nil here), "unknown" for Management, never a plausible value.
type Report struct {
	TenantID         string    `json:"tenantId"`
	TenantName       string    `json:"tenantName"`
	InitialDomain    string    `json:"initialDomain"`
	Operator         string    `json:"operator"`
	OperatorRoles    []string  `json:"operatorRoles"`
	EntraP1          *bool     `json:"entraIdP1"`
	EntraP2          *bool     `json:"entraIdP2"`
	SecurityDefaults *bool     `json:"securityDefaults"`
	Accounts         []Account `json:"managementAccounts"`
	BreakGlass       []string  `json:"breakGlassAccounts"`
	Policies         []Policy  `json:"policies"`
	NamedLocations   *int      `json:"namedLocations"`
	Management       string    `json:"management"` // ON, OFF, unknown
	Checks           []Check   `json:"checks"`
}

// Management states.
const (
	ManagementOn      = "ON"
	ManagementOff     = "OFF"
	ManagementUnknown = "unknown"
)

// Tally counts the checks by result.
type Tally struct{ Pass, Warn, Fail, Unknown int }

// Counts tallies the checks by result.
func (r *Report) Counts() Tally {
	var t Tally
	for _, c := range r.Checks {
		switch c.Result {
		case Pass:
			t.Pass++
		case Warn:
			t.Warn++
		case Fail:
			t.Fail++
		case Unknown:
			t.Unknown++
		}
	}
	return t
}
