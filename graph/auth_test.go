package graph_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
)

func TestSignInAppOnly(t *testing.T) {
	srv := tenant(t, "")
	cred, err := graph.NewCredential(graph.AuthOptions{
		Method: graph.AuthSecret, TenantID: srv.TenantID(), ClientID: tenantsim.DemoAppClientID,
		ClientSecret: srv.ClientSecret(), Cloud: simCloud(srv), Transport: srv.Transport(), DisableInstanceDiscovery: true,
	})
	must(t, err)
	sess, err := graph.SignIn(testCtx(t), cred, simCloud(srv))
	must(t, err)
	if !sess.AppOnly || sess.TenantID != srv.TenantID() || !slices.Contains(sess.Scopes, "Policy.ReadWrite.ConditionalAccess") {
		t.Errorf("app-only session %+v", sess)
	}

	// A wrong secret is refused by the authority, with its AADSTS code.
	bad, err := graph.NewCredential(graph.AuthOptions{
		Method: graph.AuthSecret, TenantID: srv.TenantID(), ClientID: tenantsim.DemoAppClientID,
		ClientSecret: "wrong", Cloud: simCloud(srv), Transport: srv.Transport(), DisableInstanceDiscovery: true,
	})
	must(t, err)
	if _, err := graph.SignIn(testCtx(t), bad, simCloud(srv)); err == nil || !strings.Contains(err.Error(), "7000215") {
		t.Errorf("wrong secret: %v", err)
	}
}

// The granted scopes are what the sign-in step shows, with what is missing.
func TestSignInShowsTheGrantedScopes(t *testing.T) {
	srv := tenant(t, "")
	srv.SetConsentedScopes("User.Read", "Policy.Read.All")
	_, sess := operatorClient(t, srv)
	if !slices.Equal(sess.Scopes, []string{"User.Read", "Policy.Read.All"}) || sess.AppOnly {
		t.Errorf("session %+v", sess)
	}
}

func TestDeviceCodeBlocked(t *testing.T) {
	srv := tenant(t, "device-code-blocked")
	cred, err := graph.NewCredential(graph.AuthOptions{
		Method: graph.AuthDeviceCode, TenantID: srv.TenantID(), Cloud: simCloud(srv), Transport: srv.Transport(),
		DisableInstanceDiscovery: true,
		OnDeviceCode: func(_ context.Context, dc graph.DeviceCode) error {
			if dc.UserCode == "" || dc.VerificationURL == "" || !strings.Contains(dc.Message, dc.UserCode) {
				t.Errorf("device code %+v", dc)
			}
			srv.ApproveDeviceCode(dc.UserCode)
			return nil
		},
	})
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = graph.SignIn(ctx, cred, simCloud(srv))
	// The sign-in step recognises this and offers the other methods.
	if err == nil || !strings.Contains(err.Error(), "AADSTS53003") {
		t.Errorf("device code blocked by Conditional Access: %v, want AADSTS53003", err)
	}
}

func TestNewCredentialRefusesIncompleteOptions(t *testing.T) {
	c := graph.Clouds["global"]
	for name, o := range map[string]graph.AuthOptions{
		"secret without a secret": {Method: graph.AuthSecret, TenantID: "contoso.onmicrosoft.com", ClientID: "x", Cloud: c},
		"certificate not found":   {Method: graph.AuthCertificate, TenantID: "contoso.onmicrosoft.com", ClientID: "x", CertPath: filepath.Join(t.TempDir(), "none.pem"), Cloud: c},
		"unknown method":          {Method: "telepathy", Cloud: c},
	} {
		if _, err := graph.NewCredential(o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	for _, name := range []string{"global", "usgov", "usgovdod", "china"} {
		cl, ok := graph.Clouds[name]
		if !ok || !strings.HasSuffix(cl.AuthorityHost, "/") || strings.HasSuffix(cl.GraphRoot, "/") || !strings.HasPrefix(cl.GraphRoot, "https://") {
			t.Errorf("cloud %s: %+v", name, cl)
		}
	}
}
