package tenantsim_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"mgmtsession/ca"
	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
)

// adapterClient is the product's own Graph client, signed in app-only with
// the real azidentity flow, for tests that show what the client sees.
func adapterClient(t *testing.T, srv *tenantsim.Server) *graph.Client {
	t.Helper()
	cloud := graph.Cloud{Name: "simulated", AuthorityHost: srv.AuthorityURL(), GraphRoot: srv.BaseURL()}
	cred, err := graph.NewCredential(graph.AuthOptions{
		Method: graph.AuthSecret, TenantID: srv.TenantID(), ClientID: tenantsim.DemoAppClientID,
		ClientSecret: srv.ClientSecret(), Cloud: cloud, Transport: srv.Transport(), DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := graph.New(graph.Config{Cloud: cloud, Credential: cred, Transport: srv.Transport()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ipLoc(name, cidr string) ca.NamedLocation {
	return ca.NamedLocation{ODataType: ca.ODataIPNamedLocation, DisplayName: name,
		IPRanges: []ca.IPRange{{ODataType: ca.ODataIPv4CidrRange, CIDRAddress: cidr}}}
}

// The product's client meets a tenant that dies after its second write: the
// third write fails, and a tenant started again on the same file holds the
// two committed writes and nothing else.
func TestAdapterSeesTheCrash(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "tenant.json")
	srv, err := tenantsim.New(tenantsim.Options{StatePath: path, CrashAfterWrites: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := adapterClient(t, srv)
	if _, err := c.CreateNamedLocation(ctx, ipLoc("One", "12.34.0.0/16")); err != nil {
		t.Fatal(err)
	}
	u, err := c.CreateUser(ctx, graph.NewUser{UserPrincipalName: "crash@" + initialDomain, DisplayName: "Crash", MailNickname: "crash", Password: goodPassword, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := c.CreateNamedLocation(ctx, ipLoc("Three", "13.34.0.0/16")); err == nil {
		t.Fatal("a write to a dead tenant succeeded")
	}
	t.Logf("write failed after %v", time.Since(start))
	start = time.Now()
	// A read is retried (a dropped connection may be transient), until
	// the caller's deadline.
	short, stop := context.WithTimeout(ctx, time.Second)
	defer stop()
	if _, err := c.NamedLocations(short); err == nil {
		t.Fatal("a read from a dead tenant succeeded")
	}
	t.Logf("read failed after %v", time.Since(start))

	again, err := tenantsim.New(tenantsim.Options{StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	c2 := adapterClient(t, again)
	locs, err := c2.NamedLocations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(locs))
	for i, l := range locs {
		names[i] = l.DisplayName
	}
	if !slices.Contains(names, "One") || slices.Contains(names, "Three") {
		t.Errorf("locations after the restart: %v", names)
	}
	if _, err := c2.User(ctx, u.ID); err != nil {
		t.Errorf("the committed user after the restart: %v", err)
	}
}
