package graph

import (
	"context"
	"net/url"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/identity"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"mgmtsession/ca"
)

// Conditional Access is written through v1.0 only: a policy written through
// beta can no longer be read or updated through v1.0. Every CA request
// spends the tenant's budget of one request per second, so callers read
// policies and locations once per run and evaluate locally.

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
	return listAll[models.ConditionalAccessPolicyable, ca.Policy](ctx, c, "reading Conditional Access policies", policiesPath, nil,
		models.CreateConditionalAccessPolicyCollectionResponseFromDiscriminatorValue)
}

// Policy reads one policy.
func (c *Client) Policy(ctx context.Context, id string) (ca.Policy, error) {
	res, err := c.get(ctx, "reading policy "+id, policiesPath+"/"+url.PathEscape(id), nil,
		models.CreateConditionalAccessPolicyFromDiscriminatorValue)
	var p ca.Policy
	if err == nil {
		err = toDomain(res, &p)
	}
	return p, err
}

// CreatePolicy creates a policy and returns it as Graph stored it. It
// retries while an account the policy names is still replicating.
func (c *Client) CreatePolicy(ctx context.Context, p ca.Policy) (ca.Policy, error) {
	body, err := fromDomain(p, models.CreateConditionalAccessPolicyFromDiscriminatorValue, readOnly)
	if err != nil {
		return ca.Policy{}, err
	}
	var out ca.Policy
	err = c.replicated(ctx, func() error {
		res, err := c.send(ctx, "creating policy "+p.DisplayName, abs.POST, policiesPath, body, models.CreateConditionalAccessPolicyFromDiscriminatorValue)
		if err != nil {
			return err
		}
		return toDomain(res, &out)
	})
	return out, err
}

// UpdatePolicy writes a changed policy (PATCH with its whole definition).
func (c *Client) UpdatePolicy(ctx context.Context, p ca.Policy) error {
	body, err := fromDomain(p, models.CreateConditionalAccessPolicyFromDiscriminatorValue, readOnly)
	if err != nil {
		return err
	}
	return c.replicated(ctx, func() error {
		_, err := c.send(ctx, "updating policy "+p.DisplayName, abs.PATCH, policiesPath+"/"+url.PathEscape(p.ID), body, nil)
		return err
	})
}

// DeletePolicy deletes a policy; one already gone counts as deleted.
func (c *Client) DeletePolicy(ctx context.Context, id string) error {
	_, err := c.send(ctx, "deleting policy "+id, abs.DELETE, policiesPath+"/"+url.PathEscape(id), nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// NamedLocations lists every named location (IP and country).
func (c *Client) NamedLocations(ctx context.Context) ([]ca.NamedLocation, error) {
	return listAll[models.NamedLocationable, ca.NamedLocation](ctx, c, "reading named locations", locationsPath, nil,
		models.CreateNamedLocationCollectionResponseFromDiscriminatorValue)
}

// NamedLocation reads one named location.
func (c *Client) NamedLocation(ctx context.Context, id string) (ca.NamedLocation, error) {
	res, err := c.get(ctx, "reading named location "+id, locationsPath+"/"+url.PathEscape(id), nil,
		models.CreateNamedLocationFromDiscriminatorValue)
	var l ca.NamedLocation
	if err == nil {
		err = toDomain(res, &l)
	}
	return l, err
}

// locationBody converts a location for a write. @odata.type is required on
// create and PATCH, on the location and on each range (the SDK's
// NewIpNamedLocation does not set it, so it comes from the domain type), and
// isTrusted is sent even when false so that a PATCH can un-trust.
func locationBody(l ca.NamedLocation) (any, error) {
	if l.IsIP() {
		for i := range l.IPRanges {
			if l.IPRanges[i].ODataType == "" {
				l.IPRanges[i].ODataType = ca.ODataIPv4CidrRange
				if p, err := parsePrefix(l.IPRanges[i].CIDRAddress); err == nil && p.Addr().Is6() {
					l.IPRanges[i].ODataType = ca.ODataIPv6CidrRange
				}
			}
		}
	}
	return fromDomain(l, models.CreateNamedLocationFromDiscriminatorValue, func(m map[string]any) {
		readOnly(m)
		if l.IsIP() {
			m["isTrusted"] = l.IsTrusted
		}
	})
}

// CreateNamedLocation creates a named location.
func (c *Client) CreateNamedLocation(ctx context.Context, l ca.NamedLocation) (ca.NamedLocation, error) {
	body, err := locationBody(l)
	if err != nil {
		return ca.NamedLocation{}, err
	}
	res, err := c.send(ctx, "creating named location "+l.DisplayName, abs.POST, locationsPath, body.(models.NamedLocationable),
		models.CreateNamedLocationFromDiscriminatorValue)
	var out ca.NamedLocation
	if err == nil {
		err = toDomain(res, &out)
	}
	return out, err
}

// UpdateNamedLocation writes a changed location; ipRanges are replaced as a
// whole.
func (c *Client) UpdateNamedLocation(ctx context.Context, l ca.NamedLocation) error {
	body, err := locationBody(l)
	if err != nil {
		return err
	}
	return c.replicated(ctx, func() error {
		_, err := c.send(ctx, "updating named location "+l.DisplayName, abs.PATCH, locationsPath+"/"+url.PathEscape(l.ID),
			body.(models.NamedLocationable), nil)
		return err
	})
}

// DeleteNamedLocation deletes a location. A trusted location cannot be
// deleted, so it is un-trusted first; one already gone counts as deleted.
func (c *Client) DeleteNamedLocation(ctx context.Context, l ca.NamedLocation) error {
	if l.IsIP() && l.IsTrusted {
		l.IsTrusted = false
		if err := c.UpdateNamedLocation(ctx, l); err != nil {
			if IsNotFound(err) {
				return nil
			}
			return err
		}
	}
	_, err := c.send(ctx, "deleting named location "+l.DisplayName, abs.DELETE, locationsPath+"/"+url.PathEscape(l.ID), nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// WhatIfSignIn is one sign-in for Graph's What If. Graph evaluates only the
// details it is given, so callers send IP, country, client app and platform.
type WhatIfSignIn struct {
	UserID         string
	Applications   []string // real app ids: Graph does not expand Office365
	IPAddress      string
	Country        string
	ClientAppType  string
	DevicePlatform string
	AuthFlow       string // deviceCodeFlow, or ""
}

// WhatIfResult is Graph's answer for one policy: the policy plus whether it
// applies and, when not, the first unmet condition. AnalysisReasons is ""
// when the SDK did not know the value Graph sent: unknown, never "applies".
type WhatIfResult struct {
	ca.Policy
	PolicyApplies   bool   `json:"policyApplies"`
	AnalysisReasons string `json:"analysisReasons"`
}

// Evaluate runs Graph's What If (POST /identity/conditionalAccess/evaluate)
// for one sign-in: one CA request, whatever the number of policies.
func (c *Client) Evaluate(ctx context.Context, s WhatIfSignIn) ([]WhatIfResult, error) {
	cond := map[string]any{"@odata.type": "#microsoft.graph.conditionalAccessWhatIfConditions"}
	for k, v := range map[string]string{"ipAddress": s.IPAddress, "country": s.Country, "clientAppType": s.ClientAppType, "devicePlatform": s.DevicePlatform} {
		if v != "" {
			cond[k] = v
		}
	}
	if s.AuthFlow != "" {
		cond["authenticationFlow"] = map[string]any{"@odata.type": "#microsoft.graph.authenticationFlow", "transferMethod": s.AuthFlow}
	}
	req := map[string]any{
		"signInIdentity":      map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": s.UserID},
		"signInContext":       map[string]any{"@odata.type": "#microsoft.graph.applicationContext", "includeApplications": s.Applications},
		"signInConditions":    cond,
		"appliedPoliciesOnly": false,
	}
	body, err := fromDomain(req, identity.CreateConditionalAccessEvaluatePostRequestBodyFromDiscriminatorValue, nil)
	if err != nil {
		return nil, err
	}
	builder := identity.NewConditionalAccessEvaluateRequestBuilder(c.base+"/identity/conditionalAccess/evaluate", c.adapter)
	res, err := builder.PostAsEvaluatePostResponse(ctx, body.(identity.ConditionalAccessEvaluatePostRequestBodyable), nil)
	if err != nil {
		return nil, wrapErr("running Graph's What If", err)
	}
	out := make([]WhatIfResult, 0, len(res.GetValue()))
	for _, r := range res.GetValue() {
		var w WhatIfResult
		if err := toDomain(r, &w); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}
