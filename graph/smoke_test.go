package graph_test

import (
	"context"
	"testing"
)

func TestSmoke(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	org, err := c.Organization(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", org)
	ps, err := c.Policies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d policies, first %+v", len(ps), ps[0].Conditions.Users)
	oc, sess := operatorClient(t, srv)
	t.Logf("%+v", sess)
	me, err := oc.Me(context.Background())
	t.Logf("%+v %v", me, err)
}
