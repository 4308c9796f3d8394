package whatif

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"mgmtsession/ca"
)

// PolicyReader reads the tenant's Conditional Access policies and named
// locations (graph.Client).
type PolicyReader interface {
	Policies(ctx context.Context) ([]ca.Policy, error)
	NamedLocations(ctx context.Context) ([]ca.NamedLocation, error)
}

// ReadPolicySet reads policies and named locations: two Conditional Access
// requests, at once. Keeping to the tenant's one CA request per second is
// the client's job (graph's pacer), not each caller's.
func ReadPolicySet(ctx context.Context, r PolicyReader) (*PolicySet, error) {
	var (
		policies   []ca.Policy
		locations  []ca.NamedLocation
		perr, lerr error
		wg         sync.WaitGroup
	)
	wg.Go(func() { policies, perr = r.Policies(ctx) })
	wg.Go(func() { locations, lerr = r.NamedLocations(ctx) })
	wg.Wait()
	if err := errors.Join(perr, lerr); err != nil {
		return nil, err
	}
	return NewPolicySet(policies, locations), nil
}

// Location is a place the platform signs in from: an IP address and the
// country that address is in (which Graph and the evaluator cannot look up
// themselves). The wizard passes the allowed IP and an outside one.
type Location struct {
	Label   string     // "allowed IP", "outside IP"
	IP      netip.Addr // required
	Country string     // ISO 3166 alpha-2, or "" when unknown
}

// MatrixInput is the wizard's What If: the account, the places, and the
// client the platform signs in with.
type MatrixInput struct {
	Subject   Subject
	Locations []Location
	// Apps default to PlatformApps; ClientAppType to
	// mobileAppsAndDesktopClients and DevicePlatform to windows (the
	// platform signs in from PowerShell and the Graph SDK on Windows).
	Apps           []App
	ClientAppType  string
	DevicePlatform string
}

// Matrix is the What If of every application from every location: one case
// per location, each with its per-application verdicts.
type Matrix struct {
	Subject Subject       `json:"subject"`
	Cases   []*CaseResult `json:"cases"`
	// GraphRequests is how many times Graph's What If was called (one per
	// location when the account exists).
	GraphRequests int `json:"graphRequests"`
}

// Cases builds the matrix's cases without evaluating them.
func (in MatrixInput) Cases() ([]Case, error) {
	apps := in.Apps
	if apps == nil {
		apps = PlatformApps()
	}
	client, platform := in.ClientAppType, in.DevicePlatform
	if client == "" {
		client = DefaultClientAppType
	}
	if platform == "" {
		platform = DefaultDevicePlatform
	}
	cases := make([]Case, len(in.Locations))
	for i, l := range in.Locations {
		if !l.IP.IsValid() {
			return nil, fmt.Errorf("What If: location %q has no IP address", l.Label)
		}
		cases[i] = Case{Label: l.Label, Apps: apps, Conditions: Conditions{
			IP: l.IP.String(), Country: l.Country, ClientAppType: client, DevicePlatform: platform,
		}}
	}
	return cases, nil
}

// Matrix evaluates every case locally and, when g is not nil and the
// account exists, asks Graph's What If once per location and compares.
func (ps *PolicySet) Matrix(ctx context.Context, g GraphWhatIf, in MatrixInput) (*Matrix, error) {
	cases, err := in.Cases()
	if err != nil {
		return nil, err
	}
	m := &Matrix{Subject: in.Subject, Cases: make([]*CaseResult, len(cases))}
	for i, c := range cases {
		r := ps.Evaluate(in.Subject, c)
		if g != nil {
			if err := r.CompareWithGraph(ctx, g, in.Subject); err != nil {
				return nil, err
			}
			m.GraphRequests += r.Graph.Requests
		}
		m.Cases[i] = r
	}
	return m, nil
}

// Disagreements counts the disagreements with Graph over every case.
func (m *Matrix) Disagreements() int {
	n := 0
	for _, c := range m.Cases {
		if c.Graph != nil {
			n += len(c.Graph.Disagreements)
		}
	}
	return n
}
