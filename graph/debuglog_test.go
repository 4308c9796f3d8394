package graph_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"mgmtsession/graph"
)

// TestDebugLogKeepsSecretsOut: --debug-log records every exchange with its
// request id, and never a token, a password or a client secret.
func TestDebugLogKeepsSecretsOut(t *testing.T) {
	srv := tenant(t, "")
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	cred, err := graph.NewCredential(graph.AuthOptions{
		Method: graph.AuthSecret, TenantID: srv.TenantID(), ClientID: "7d4c3b2a-5e6f-4a1b-9c8d-0e1f2a3b4c5d",
		ClientSecret: srv.ClientSecret(), Cloud: simCloud(srv), Transport: srv.Transport(), DisableInstanceDiscovery: true, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := graph.New(graph.Config{Cloud: simCloud(srv), Credential: cred, Transport: srv.Transport(), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	const password = "Xq7!long-Demo-Passw0rd"
	_, err = c.CreateUser(context.Background(), graph.NewUser{UserPrincipalName: "logtest@contosodemo.onmicrosoft.com",
		DisplayName: "Log test", MailNickname: "logtest", Password: password, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, secret := range []string{password, srv.ClientSecret(), "Bearer", "eyJ"} {
		if strings.Contains(out, secret) {
			t.Errorf("the debug log holds %q:\n%s", secret, out)
		}
	}
	var created string
	for _, r := range srv.Requests() {
		if r.Method == "POST" && r.Path == "/v1.0/users" {
			created = r.RequestID
		}
	}
	if created == "" || !strings.Contains(out, "request-id="+created) || !strings.Contains(out, "path=/v1.0/users") {
		t.Errorf("the debug log lacks the user create with request id %q:\n%s", created, out)
	}
}
