package graph

import (
	"context"
	"testing"
	"time"

	"mgmtsession/graph/tenantsim"
)

// TestBatchRetriesThrottledItems: Graph throttles each $batch item on its
// own, and one answered 429 must be sent again (after the backoff, as no
// Retry-After came) rather than fail the read. The simulated tenant's
// Conditional Access limit of one request per second answers the second
// of two CA reads in one batch with 429.
func TestBatchRetriesThrottledItems(t *testing.T) {
	srv, err := tenantsim.New(tenantsim.Options{Scenario: "throttled"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cloud := Cloud{Name: "simulated", AuthorityHost: srv.AuthorityURL(), GraphRoot: srv.BaseURL()}
	cred, err := NewCredential(AuthOptions{Method: AuthSecret, TenantID: srv.TenantID(), ClientID: tenantsim.DemoAppClientID,
		ClientSecret: srv.ClientSecret(), Cloud: cloud, Transport: srv.Transport(), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Cloud: cloud, Credential: cred, Transport: srv.Transport()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv.ResetRequests()
	answers, err := c.batchGet(ctx, "reading", []string{"/identity/conditionalAccess/policies", "/identity/conditionalAccess/namedLocations"})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range answers {
		if a.Status != 200 {
			t.Errorf("item %d answered %d after the retries", i, a.Status)
		}
	}
	batches := 0
	for _, r := range srv.Requests() {
		if r.Path == "/v1.0/$batch" {
			batches++
		}
	}
	if batches != 2 {
		t.Errorf("%d $batch requests, want 2 (the throttled item sent again alone)", batches)
	}
}
