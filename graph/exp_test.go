package graph_test

import (
	"context"
	"testing"

	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
)

func TestExpRetryPost(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	srv.InjectFault(tenantsim.Fault{Method: "POST", Path: "/users", Status: 429, RetryAfter: "0"})
	u, err := c.CreateUser(context.Background(), graph.NewUser{UserPrincipalName: "x1@contosodemo.onmicrosoft.com", DisplayName: "X", MailNickname: "x1", Password: "Aa1!aaaaaaaa", Enabled: true})
	t.Logf("%+v %v", u, err)
	for _, r := range srv.Requests() {
		t.Logf("%+v", r)
	}
}
