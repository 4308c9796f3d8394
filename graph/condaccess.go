package graph

import (
	"context"
	"fmt"
	"slices"

	abs "github.com/microsoft/kiota-abstractions-go"

	"mgmtsession/ca"
)

// Conditional Access is written through v1.0 only: a policy written through
// beta can no longer be read or updated through v1.0. Every CA request
// spends the tenant's budget of one request per second, so callers read
// policies and locations once per run and evaluate locally.
//
// Policies, named locations and What If results travel as Graph's JSON,
// decoded straight into the ca types, not through the SDK's models: the
// generated models turn an enum value they do not know into the first
// member of the enum inside lists (a new grant control would read as
// "block", an unknown client app type as "all") and drop it elsewhere, so a
// policy read and written back could change meaning. The requests still go
// through the SDK's request adapter and middleware.

const (
	policiesPath  = "/identity/conditionalAccess/policies"
	locationsPath = "/identity/conditionalAccess/namedLocations"
)

// readOnly drops the properties Graph sets itself.
func readOnly(m map[string]any) {
	for _, k := range []string{"id", "createdDateTime", "modifiedDateTime"} {
		delete(m, k)
	}
}

// Policies lists every Conditional Access policy.
func (c *Client) Policies(ctx context.Context) ([]ca.Policy, error) {
	return listJSON[ca.Policy](ctx, c, "reading Conditional Access policies", policiesPath, nil)
}

// Policy reads one policy.
func (c *Client) Policy(ctx context.Context, id string) (ca.Policy, error) {
	var p ca.Policy
	path, err := pathf(policiesPath+"/%s", id)
	if err != nil {
		return p, fmt.Errorf("reading policy: %w", err)
	}
	err = c.getJSON(ctx, "reading policy "+id, path, nil, &p)
	return p, err
}

// policyBody is a policy as a create or PATCH body: the read-only
// properties dropped, and nothing left out that the caller set.
func policyBody(p ca.Policy) (map[string]any, error) {
	return writeBody(p, readOnly)
}

// CreatePolicy creates a policy and returns it as Graph stored it. It
// retries while an account or a location the policy names is still
// replicating.
func (c *Client) CreatePolicy(ctx context.Context, p ca.Policy) (ca.Policy, error) {
	body, err := policyBody(p)
	if err != nil {
		return ca.Policy{}, fmt.Errorf("creating policy %s: %w", p.DisplayName, err)
	}
	var out ca.Policy
	err = c.replicated(ctx, func() error {
		return c.sendJSON(ctx, "creating policy "+p.DisplayName, abs.POST, policiesPath, body, &out)
	})
	return out, err
}

// UpdatePolicy writes a changed policy (PATCH with its whole definition).
func (c *Client) UpdatePolicy(ctx context.Context, p ca.Policy) error {
	body, err := policyBody(p)
	if err != nil {
		return fmt.Errorf("updating policy %s: %w", p.DisplayName, err)
	}
	path, err := pathf(policiesPath+"/%s", p.ID)
	if err != nil {
		return fmt.Errorf("updating policy %s: %w", p.DisplayName, err)
	}
	return c.replicated(ctx, func() error {
		return c.sendJSON(ctx, "updating policy "+p.DisplayName, abs.PATCH, path, body, nil)
	})
}

// SetPolicyExcludedUsers changes one list of a policy, the users it
// excludes, and nothing else: a PATCH carrying only
// conditions.users.excludeUsers, which Graph merges into the policy
// ("existing properties that aren't included in the request body maintain
// their previous values"). Writing back the whole policy as this product
// models it would drop any property it does not model, on a policy that is
// not ours. It retries while a user the list names is still replicating.
func (c *Client) SetPolicyExcludedUsers(ctx context.Context, id string, excludeUsers []string) error {
	path, err := pathf(policiesPath+"/%s", id)
	if err != nil {
		return fmt.Errorf("changing the exclusions of a policy: %w", err)
	}
	if excludeUsers == nil {
		excludeUsers = []string{}
	}
	body := map[string]any{"conditions": map[string]any{"users": map[string]any{"excludeUsers": excludeUsers}}}
	return c.replicated(ctx, func() error {
		return c.sendJSON(ctx, "changing the exclusions of policy "+id, abs.PATCH, path, body, nil)
	})
}

// DeletePolicy deletes a policy; one already gone counts as deleted.
func (c *Client) DeletePolicy(ctx context.Context, id string) error {
	path, err := pathf(policiesPath+"/%s", id)
	if err != nil {
		return fmt.Errorf("deleting policy: %w", err)
	}
	err = c.sendJSON(ctx, "deleting policy "+id, abs.DELETE, path, nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// NamedLocations lists every named location (IP and country).
func (c *Client) NamedLocations(ctx context.Context) ([]ca.NamedLocation, error) {
	return listJSON[ca.NamedLocation](ctx, c, "reading named locations", locationsPath, nil)
}

// NamedLocation reads one named location.
func (c *Client) NamedLocation(ctx context.Context, id string) (ca.NamedLocation, error) {
	var l ca.NamedLocation
	path, err := pathf(locationsPath+"/%s", id)
	if err != nil {
		return l, fmt.Errorf("reading named location: %w", err)
	}
	err = c.getJSON(ctx, "reading named location "+id, path, nil, &l)
	return l, err
}

// locationBody converts a location for a write. @odata.type is required on
// create and PATCH, on the location and on each range (a caller that leaves
// a range's type out gets the one its address family needs), and the
// booleans are sent even when false, so that a PATCH can un-trust a
// location or stop including unknown countries.
func locationBody(l ca.NamedLocation) (map[string]any, error) {
	if l.IsIP() {
		l.IPRanges = slices.Clone(l.IPRanges)
		for i := range l.IPRanges {
			if l.IPRanges[i].ODataType == "" {
				l.IPRanges[i].ODataType = ca.ODataIPv4CidrRange
				if p, err := parsePrefix(l.IPRanges[i].CIDRAddress); err == nil && p.Addr().Is6() {
					l.IPRanges[i].ODataType = ca.ODataIPv6CidrRange
				}
			}
		}
	}
	return writeBody(l, func(m map[string]any) {
		readOnly(m)
		switch l.ODataType {
		case ca.ODataIPNamedLocation:
			m["isTrusted"] = l.IsTrusted
		case ca.ODataCountryLocation:
			m["includeUnknownCountriesAndRegions"] = l.IncludeUnknownCountriesAndRegions
		}
	})
}

// CreateNamedLocation creates a named location.
func (c *Client) CreateNamedLocation(ctx context.Context, l ca.NamedLocation) (ca.NamedLocation, error) {
	body, err := locationBody(l)
	if err != nil {
		return ca.NamedLocation{}, fmt.Errorf("creating named location %s: %w", l.DisplayName, err)
	}
	var out ca.NamedLocation
	err = c.replicated(ctx, func() error {
		return c.sendJSON(ctx, "creating named location "+l.DisplayName, abs.POST, locationsPath, body, &out)
	})
	return out, err
}

// UpdateNamedLocation writes a changed location; ipRanges are replaced as a
// whole.
func (c *Client) UpdateNamedLocation(ctx context.Context, l ca.NamedLocation) error {
	body, err := locationBody(l)
	if err != nil {
		return fmt.Errorf("updating named location %s: %w", l.DisplayName, err)
	}
	path, err := pathf(locationsPath+"/%s", l.ID)
	if err != nil {
		return fmt.Errorf("updating named location %s: %w", l.DisplayName, err)
	}
	return c.replicated(ctx, func() error {
		return c.sendJSON(ctx, "updating named location "+l.DisplayName, abs.PATCH, path, body, nil)
	})
}

// DeleteNamedLocation deletes a location. A trusted location cannot be
// deleted, so it is un-trusted first; one already gone counts as deleted.
func (c *Client) DeleteNamedLocation(ctx context.Context, l ca.NamedLocation) error {
	path, err := pathf(locationsPath+"/%s", l.ID)
	if err != nil {
		return fmt.Errorf("deleting named location %s: %w", l.DisplayName, err)
	}
	if l.IsIP() && l.IsTrusted {
		l.IsTrusted = false
		if err := c.UpdateNamedLocation(ctx, l); err != nil {
			if IsNotFound(err) {
				return nil
			}
			return err
		}
	}
	err = c.sendJSON(ctx, "deleting named location "+l.DisplayName, abs.DELETE, path, nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// WhatIfSignIn is one sign-in for Graph's What If. Graph evaluates only the
// details it is given, so callers send IP, country, client app and platform.
type WhatIfSignIn struct {
	UserID string
	// ExternalUserType and ExternalTenantID describe an external user
	// (userSignIn's externalUserType and externalTenantId); "" is not sent.
	ExternalUserType string
	ExternalTenantID string
	// ServicePrincipalID, when set, makes the sign-in a workload identity's
	// (servicePrincipalSignIn) instead of UserID's.
	ServicePrincipalID string

	// The sign-in context: a user action (Graph's userAction enum:
	// registerSecurityInformation or registerOrJoinDevices), else an
	// authentication context (c1..c99), else the applications.
	UserAction   string
	AuthContext  string
	Applications []string // real app ids: Graph does not expand Office365

	IPAddress      string
	Country        string
	ClientAppType  string
	DevicePlatform string
	AuthFlow       string // deviceCodeFlow, authenticationTransfer, or ""
	// Risk levels as signInConditions names them; "" is not sent.
	SignInRisk           string
	UserRisk             string
	ServicePrincipalRisk string
	InsiderRisk          string
	// DeviceInfo holds deviceInfo's properties (isCompliant is a bool,
	// physicalIds and systemLabels lists, the rest strings); nil sends none.
	DeviceInfo map[string]any
}

// signInBody is the documented evaluate request body for the sign-in.
func (s WhatIfSignIn) signInBody() map[string]any {
	// signInConditions and authenticationFlow are not polymorphic: they go
	// without @odata.type, as in Microsoft's examples (v1.0 has no
	// conditionalAccessWhatIfConditions type; that was beta's name).
	cond := map[string]any{}
	for k, v := range map[string]string{
		"ipAddress": s.IPAddress, "country": s.Country, "clientAppType": s.ClientAppType, "devicePlatform": s.DevicePlatform,
		"signInRiskLevel": s.SignInRisk, "userRiskLevel": s.UserRisk, "servicePrincipalRiskLevel": s.ServicePrincipalRisk,
		"insiderRiskLevel": s.InsiderRisk,
	} {
		if v != "" {
			cond[k] = v
		}
	}
	if s.AuthFlow != "" {
		cond["authenticationFlow"] = map[string]any{"transferMethod": s.AuthFlow}
	}
	if s.DeviceInfo != nil {
		cond["deviceInfo"] = s.DeviceInfo
	}
	identity := map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": s.UserID}
	if s.ExternalUserType != "" {
		identity["externalUserType"] = s.ExternalUserType
	}
	if s.ExternalTenantID != "" {
		identity["externalTenantId"] = s.ExternalTenantID
	}
	if s.ServicePrincipalID != "" {
		identity = map[string]any{"@odata.type": "#microsoft.graph.servicePrincipalSignIn", "servicePrincipalId": s.ServicePrincipalID}
	}
	context := map[string]any{"@odata.type": "#microsoft.graph.applicationContext", "includeApplications": s.Applications}
	switch {
	case s.UserAction != "":
		context = map[string]any{"@odata.type": "#microsoft.graph.userActionContext", "userAction": s.UserAction}
	case s.AuthContext != "":
		context = map[string]any{"@odata.type": "#microsoft.graph.authContext", "authenticationContextValue": s.AuthContext}
	}
	return map[string]any{
		"signInIdentity":      identity,
		"signInContext":       context,
		"signInConditions":    cond,
		"appliedPoliciesOnly": false,
	}
}

// WhatIfResult is Graph's answer for one policy: the policy plus whether it
// applies and, when not, the first unmet condition. AnalysisReasons is the
// value Graph sent: "notSet" when the policy applies, else a reason (maybe
// one newer than this code knows); "" when Graph sent none, which means
// unknown, never "applies".
type WhatIfResult struct {
	ca.Policy
	PolicyApplies   bool   `json:"policyApplies"`
	AnalysisReasons string `json:"analysisReasons"`
}

// Evaluate runs Graph's What If (POST /identity/conditionalAccess/evaluate)
// for one sign-in: one CA request, whatever the number of policies.
func (c *Client) Evaluate(ctx context.Context, s WhatIfSignIn) ([]WhatIfResult, error) {
	req := s.signInBody()
	var out struct {
		Value []WhatIfResult `json:"value"`
	}
	if err := c.sendJSON(ctx, "running Graph's What If", abs.POST, "/identity/conditionalAccess/evaluate", req, &out); err != nil {
		return nil, err
	}
	if out.Value == nil {
		out.Value = []WhatIfResult{}
	}
	return out.Value, nil
}
