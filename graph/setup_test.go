package graph_test

import (
	"context"
	"testing"
	"time"

	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
)

// tenant starts a simulated tenant for one test.
func tenant(t testing.TB, scenario string) *tenantsim.Server {
	t.Helper()
	srv, err := tenantsim.New(tenantsim.Options{Scenario: scenario})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func simCloud(srv *tenantsim.Server) graph.Cloud {
	return graph.Cloud{Name: "simulated", AuthorityHost: srv.AuthorityURL(), GraphRoot: srv.BaseURL()}
}

// appClient signs in with the demo app's client secret (app-only), the
// quickest real azidentity flow.
func appClient(t testing.TB, srv *tenantsim.Server) *graph.Client {
	t.Helper()
	cred, err := graph.NewCredential(graph.AuthOptions{
		Method: graph.AuthSecret, TenantID: srv.TenantID(), ClientID: tenantsim.DemoAppClientID,
		ClientSecret: srv.ClientSecret(), Cloud: simCloud(srv), Transport: srv.Transport(), DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := graph.New(graph.Config{Cloud: simCloud(srv), Credential: cred, Transport: srv.Transport()})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReplicationPolicy(20*time.Second, 50*time.Millisecond)
	return c
}

// operatorClient signs in as the tenant's operator with the real device
// code flow, approving the code as a person would in the browser.
func operatorClient(t testing.TB, srv *tenantsim.Server) (*graph.Client, graph.Session) {
	t.Helper()
	cred, err := graph.NewCredential(graph.AuthOptions{
		Method: graph.AuthDeviceCode, TenantID: srv.TenantID(), Cloud: simCloud(srv), Transport: srv.Transport(),
		DisableInstanceDiscovery: true,
		OnDeviceCode: func(_ context.Context, dc graph.DeviceCode) error {
			if !srv.ApproveDeviceCode(dc.UserCode) {
				t.Errorf("device code %q was not pending", dc.UserCode)
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sess, err := graph.SignIn(ctx, cred, simCloud(srv))
	if err != nil {
		t.Fatal(err)
	}
	c, err := graph.New(graph.Config{Cloud: simCloud(srv), Credential: cred, Transport: srv.Transport()})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReplicationPolicy(20*time.Second, 50*time.Millisecond)
	return c, sess
}
