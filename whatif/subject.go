package whatif

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"mgmtsession/ca"
	"mgmtsession/graph"
)

// Subject is the account the What If is for: an existing user, or the
// management account before it exists (Hypothetical), with the roles and
// groups it will get.
type Subject struct {
	ID                string   `json:"id,omitempty"`
	UserPrincipalName string   `json:"userPrincipalName,omitempty"`
	Guest             bool     `json:"guest"`
	Hypothetical      bool     `json:"hypothetical"`
	Groups            []string `json:"groups"` // transitive group ids
	Roles             []string `json:"roles"`  // role template ids
	// ExternalUserType and HomeTenant describe an external user (Graph's
	// userSignIn names); "" is not given.
	ExternalUserType string `json:"externalUserType,omitempty"`
	HomeTenant       string `json:"homeTenantId,omitempty"`
	// ServicePrincipalID, when set, is a workload identity signing in (its
	// application id) instead of a user.
	ServicePrincipalID string `json:"servicePrincipalId,omitempty"`
}

// Exists reports whether the account exists in the tenant, so that Graph's
// What If can evaluate it.
func (s Subject) Exists() bool { return !s.Hypothetical && (s.ID != "" || s.ServicePrincipalID != "") }

// WorkloadIdentity is a service principal signing in, by application id.
func WorkloadIdentity(appID string) Subject {
	return Subject{ServicePrincipalID: appID, Groups: []string{}, Roles: []string{}}
}

// evaluatorSubject is the subject as the local evaluator sees it.
func (s Subject) evaluatorSubject() ca.Subject {
	return ca.Subject{UserID: s.ID, Groups: s.Groups, Roles: s.Roles, Guest: s.Guest, Hypothetical: s.Hypothetical,
		ExternalUserType: s.ExternalUserType, HomeTenant: s.HomeTenant}
}

// NewAccount is the management account before it exists: a member (not a
// guest) with the given roles (DefaultRoles when nil) and groups. It matches
// no policy by object id, only through All, its roles and its groups.
func NewAccount(roles, groups []string) Subject {
	if roles == nil {
		roles = DefaultRoles()
	}
	return Subject{Hypothetical: true, Roles: slices.Clone(roles), Groups: nonNil(slices.Clone(groups))}
}

// FromPrincipal is a principal of an offline snapshot.
func FromPrincipal(p ca.Principal) Subject {
	return Subject{
		ID: p.ID, UserPrincipalName: p.UserPrincipalName,
		Guest:  strings.EqualFold(p.UserType, "Guest"),
		Groups: nonNil(slices.Clone(p.MemberOf)), Roles: nonNil(slices.Clone(p.Roles)),

		ExternalUserType: p.ExternalUserType, HomeTenant: p.HomeTenantID,
	}
}

// UnknownUserError is a --user that the tenant or snapshot does not hold.
type UnknownUserError struct {
	User  string
	Where string // "the tenant" or "snapshot FILE"
}

func (e *UnknownUserError) Error() string {
	return fmt.Sprintf("user %q does not exist in %s", e.User, e.Where)
}

// Directory is what reading an existing account needs (graph.Client).
// Users are read with their userType, which Graph does not return by
// default: a guest is targeted differently.
type Directory interface {
	User(ctx context.Context, idOrUPN string) (graph.User, error)
	UserMemberships(ctx context.Context, id string) (graph.Memberships, error)
}

// ExistingAccount reads a user (by UPN or object id) with the transitive
// groups and the directory roles Conditional Access sees. A user Graph does
// not know is an *UnknownUserError.
func ExistingAccount(ctx context.Context, d Directory, upnOrID string) (Subject, error) {
	u, err := d.User(ctx, upnOrID)
	if graph.IsNotFound(err) {
		return Subject{}, &UnknownUserError{User: upnOrID, Where: "the tenant"}
	}
	if err != nil {
		return Subject{}, err
	}
	m, err := d.UserMemberships(ctx, u.ID)
	if err != nil {
		return Subject{}, err
	}
	return Subject{
		ID: u.ID, UserPrincipalName: u.UserPrincipalName,
		Guest:  strings.EqualFold(u.UserType, "Guest"),
		Groups: nonNil(m.GroupIDs()), Roles: nonNil(m.RoleTemplateIDs()),
	}, nil
}

// SnapshotAccount finds a principal of a snapshot by UPN or object id.
func SnapshotAccount(s *ca.Snapshot, file, upnOrID string) (Subject, error) {
	p, ok := s.Principal(upnOrID)
	if !ok {
		return Subject{}, &UnknownUserError{User: upnOrID, Where: "snapshot " + file}
	}
	return FromPrincipal(p), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
