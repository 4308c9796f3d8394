// Package preflight is step 1's logic, shared by the wizard and the status
// command: it reads the tenant once (every read concurrent) and judges what
// it found as checks with pass / warn / fail, the reason and the fix. Build
// is pure, so every check is tested without a network.
package preflight

// Result is a check's outcome.
type Result string

// Check outcomes.
const (
	Pass Result = "pass"
	Warn Result = "warn"
	Fail Result = "fail"
	Info Result = "info"
)

// Check is one preflight finding. Strings may hold tenant data: sanitise
// them before they reach a terminal.
type Check struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Result Result `json:"result"`
	Reason string `json:"reason"`
	Fix    string `json:"fix,omitempty"`
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

// Report is everything preflight found.
type Report struct {
	TenantID         string    `json:"tenantId"`
	TenantName       string    `json:"tenantName"`
	InitialDomain    string    `json:"initialDomain"`
	Operator         string    `json:"operator"`
	OperatorRoles    []string  `json:"operatorRoles"`
	EntraP1          bool      `json:"entraIdP1"`
	EntraP2          bool      `json:"entraIdP2"`
	SecurityDefaults bool      `json:"securityDefaults"`
	Accounts         []Account `json:"managementAccounts"`
	BreakGlass       []string  `json:"breakGlassAccounts"`
	Policies         []Policy  `json:"policies"`
	NamedLocations   int       `json:"namedLocations"`
	Management       string    `json:"management"` // ON, OFF
	Checks           []Check   `json:"checks"`
}

// Counts tallies the checks by result.
func (r *Report) Counts() (pass, warn, fail int) {
	for _, c := range r.Checks {
		switch c.Result {
		case Pass:
			pass++
		case Warn:
			warn++
		case Fail:
			fail++
		}
	}
	return pass, warn, fail
}
