package graph_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"mgmtsession/ca"
	"mgmtsession/graph"
)

// TestBadIDsSendNoRequest: a value that names no single object (empty, "."
// or "..") is refused before any request. Sent, "/users/." is the user
// list, which User read as one user with an empty id.
func TestBadIDsSendNoRequest(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)
	// Sign in first, so that the count below is Graph's requests only.
	_, err := c.User(ctx, operatorID)
	must(t, err)

	calls := map[string]func(ctx context.Context, id string) error{
		"User":            func(ctx context.Context, id string) error { _, err := c.User(ctx, id); return err },
		"UserMemberships": func(ctx context.Context, id string) error { _, err := c.UserMemberships(ctx, id); return err },
		"AuthMethods":     func(ctx context.Context, id string) error { _, err := c.AuthMethods(ctx, id); return err },
		"PerUserMFA":      func(ctx context.Context, id string) error { _, err := c.PerUserMFA(ctx, id); return err },
		"SetPerUserMFA":   func(ctx context.Context, id string) error { return c.SetPerUserMFA(ctx, id, "disabled") },
		"GroupMembers":    func(ctx context.Context, id string) error { _, err := c.GroupMembers(ctx, id); return err },
		"UpdateUser": func(ctx context.Context, id string) error {
			name := "x"
			return c.UpdateUser(ctx, id, graph.UserPatch{DisplayName: &name})
		},
		"DeleteUser":     func(ctx context.Context, id string) error { return c.DeleteUser(ctx, id) },
		"RevokeSessions": func(ctx context.Context, id string) error { return c.RevokeSessions(ctx, id) },
		"Extension": func(ctx context.Context, id string) error {
			_, _, err := c.Extension(ctx, id, "com.example.x")
			return err
		},
		"ExtensionName":   func(ctx context.Context, id string) error { _, _, err := c.Extension(ctx, operatorID, id); return err },
		"SetExtension":    func(ctx context.Context, id string) error { return c.SetExtension(ctx, id, "com.example.x", nil) },
		"DeleteExtension": func(ctx context.Context, id string) error { return c.DeleteExtension(ctx, operatorID, id) },
		"Policy":          func(ctx context.Context, id string) error { _, err := c.Policy(ctx, id); return err },
		"DeletePolicy":    func(ctx context.Context, id string) error { return c.DeletePolicy(ctx, id) },
		"UpdatePolicy":    func(ctx context.Context, id string) error { return c.UpdatePolicy(ctx, ca.Policy{ID: id}) },
		"NamedLocation":   func(ctx context.Context, id string) error { _, err := c.NamedLocation(ctx, id); return err },
		"DeleteNamedLocation": func(ctx context.Context, id string) error {
			return c.DeleteNamedLocation(ctx, ca.NamedLocation{ID: id})
		},
		"RemoveRoleAssignment": func(ctx context.Context, id string) error { return c.RemoveRoleAssignment(ctx, id) },
	}
	before := len(srv.Requests())
	for name, call := range calls {
		for _, id := range []string{"", ".", "..", " "} {
			err := call(ctx, id)
			if !errors.Is(err, graph.ErrBadPathSegment) {
				t.Errorf("%s(%q) = %v, want ErrBadPathSegment", name, id, err)
			}
		}
	}
	if got := srv.Requests()[before:]; len(got) > 0 {
		t.Errorf("%d requests sent for ids that name no object; the first: %s %s", len(got), got[0].Method, got[0].Path)
	}
}

// TestIDIsOneSegment: a value is escaped as one path segment: a "/" stays
// in the name (404, not another resource) and a guest's "#EXT#" is not cut
// off as a fragment.
func TestIDIsOneSegment(t *testing.T) {
	srv := tenant(t, "")
	c := appClient(t, srv)
	ctx := testCtx(t)

	guest, err := c.User(ctx, "pat.partner_fabrikam.com#EXT#@contosodemo.onmicrosoft.com")
	must(t, err)
	if guest.ID != "0a1b2c3d-0006-4000-8000-000000000006" {
		t.Errorf("guest read by UPN has id %q", guest.ID)
	}
	for _, id := range []string{"../users", operatorID + "/..", "x?$top=1", "./" + operatorID} {
		u, err := c.User(ctx, id)
		if err == nil {
			t.Errorf("User(%q) = %+v, want an error", id, u)
			continue
		}
		if errors.Is(err, graph.ErrBadPathSegment) {
			t.Errorf("User(%q) refused before the request; only empty, \".\" and \"..\" are", id)
			continue
		}
		if ge := asGraphError(t, err); ge.Status != 404 && ge.Status != 400 {
			t.Errorf("User(%q): status %d, want 404 or 400", id, ge.Status)
		}
		if last := srv.Requests()[len(srv.Requests())-1]; !strings.HasPrefix(last.Path, "/v1.0/users/") {
			t.Errorf("User(%q) requested %s", id, last.Path)
		}
	}
}
