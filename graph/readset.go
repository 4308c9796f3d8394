package graph

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"mgmtsession/ca"
)

// Names of the reads ReadTenant makes, as Failure.Read names them.
const (
	ReadOrganization        = "organization"
	ReadSubscribedSKUs      = "subscribedSkus"
	ReadSecurityDefaults    = "securityDefaults"
	ReadOperator            = "me"
	ReadOperatorMemberships = "myMemberships"
	ReadAccounts            = "accounts"
	ReadPolicies            = "policies"
	ReadNamedLocations      = "namedLocations"
	ReadRoleDefinitions     = "roleDefinitions"
	ReadExcludedUsers       = "excludedUsers"
	ReadExcludedMemberships = "excludedMemberships"
	ReadExcludedGroups      = "excludedGroups"

	// Per management account.
	ReadMemberships  = "memberships"
	ReadPerUserMFA   = "perUserMfa"
	ReadAuthMethods  = "authMethods"
	ReadSessionState = "sessionState"
)

// StateExtension is the open extension on the management account in which
// the product records the management session (SPEC section 8), so that every
// operator and every run sees the same truth.
const StateExtension = "com.mgmtsession.state"

// maxConcurrentReads bounds the requests ReadTenant has in flight, so that
// a tenant with many excluded users does not open a connection for each.
const maxConcurrentReads = 16

// ErrNotRead is the failure of a read that was never made: the zero Read.
var ErrNotRead = errors.New("not read")

// Read is the outcome of one read of the tenant: the value Graph answered
// with, or why there is none. Its value is reachable only through Get,
// which says whether the read answered, so that a list that could not be
// read is never taken for an empty one (a dropped policy read once became
// "0 policies", and a refused licence read "no Entra ID P1"). The zero Read
// is a read that was never made.
type Read[T any] struct {
	value T
	err   error
	ok    bool
}

// Known is a read that answered with v.
func Known[T any](v T) Read[T] { return Read[T]{value: v, ok: true} }

// Failed is a read that could not be made or answered with err; a nil err
// is ErrNotRead.
func Failed[T any](err error) Read[T] {
	if err == nil {
		err = ErrNotRead
	}
	return Read[T]{err: err}
}

// Get returns the value and true when the read answered; the zero value
// and false when it did not.
func (r Read[T]) Get() (T, bool) {
	if !r.ok {
		var zero T
		return zero, false
	}
	return r.value, true
}

// Err is why the read has no value, or nil when it answered.
func (r Read[T]) Err() error {
	if r.ok {
		return nil
	}
	if r.err == nil {
		return ErrNotRead
	}
	return r.err
}

// RequestID is Graph's request id for the failure, "" when the read
// answered or Graph never did.
func (r Read[T]) RequestID() string { return RequestIDOf(r.Err()) }

// RequestIDOf returns the request id of the first *Error in err, the id to
// give Microsoft support.
func RequestIDOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.RequestID
	}
	return ""
}

// Failure is one read that has no value: its name (ReadOrganization, ...)
// and why.
type Failure struct {
	Read string
	Err  error
}

// TenantFacts is what preflight and status need to know about a tenant,
// read in one go by ReadTenant. Each field is the outcome of its read, so
// that one refused read (a 403 for a missing scope, say) neither hides the
// others nor passes for an empty answer.
type TenantFacts struct {
	Org                 Read[Organization]
	SKUs                Read[[]SKU]
	SecurityDefaults    Read[bool]
	Operator            Read[User]        // the signed-in user; fails for app-only sign-ins
	OperatorMemberships Read[Memberships] // its groups and directory roles
	// Accounts are the existing management accounts: users whose UPN
	// starts with one of the prefixes given to ReadTenant.
	Accounts        Read[[]AccountFacts]
	Policies        Read[[]ca.Policy]
	NamedLocations  Read[[]ca.NamedLocation]
	RoleDefinitions Read[[]RoleDefinition]
	// ExcludedUsers are the existing users that enabled or report-only
	// policies exclude by id: the break-glass candidates.
	ExcludedUsers Read[[]User]
	// ExcludedMemberships holds the groups and roles of ExcludedUsers by
	// user id, read only when such a policy excludes a directory role (the
	// only thing they are needed for: an account excluded through a role);
	// otherwise it is known and empty.
	ExcludedMemberships Read[map[string]Memberships]
	// ExcludedGroupMembers holds, for every group such a policy excludes,
	// its users (nested groups included): break-glass accounts are most
	// often excluded through a group, never by id. A group deleted since
	// the policy named it has no entry.
	ExcludedGroupMembers Read[map[string][]User]
}

// Failures lists the tenant-wide reads that have no value, in a fixed
// order (the accounts' own reads are in each AccountFacts).
func (f *TenantFacts) Failures() []Failure {
	var out []Failure
	add := func(name string, err error) {
		if err != nil {
			out = append(out, Failure{name, err})
		}
	}
	add(ReadOrganization, f.Org.Err())
	add(ReadSubscribedSKUs, f.SKUs.Err())
	add(ReadSecurityDefaults, f.SecurityDefaults.Err())
	add(ReadOperator, f.Operator.Err())
	add(ReadOperatorMemberships, f.OperatorMemberships.Err())
	add(ReadAccounts, f.Accounts.Err())
	add(ReadPolicies, f.Policies.Err())
	add(ReadNamedLocations, f.NamedLocations.Err())
	add(ReadRoleDefinitions, f.RoleDefinitions.Err())
	add(ReadExcludedUsers, f.ExcludedUsers.Err())
	add(ReadExcludedMemberships, f.ExcludedMemberships.Err())
	add(ReadExcludedGroups, f.ExcludedGroupMembers.Err())
	return out
}

// AccountFacts is one existing management account.
type AccountFacts struct {
	User        User
	Memberships Read[Memberships]
	PerUserMFA  Read[string] // disabled, enabled or enforced
	Methods     Read[[]AuthMethod]
	// State is the StateExtension's properties; nil when absent.
	State Read[map[string]any]
}

// Failures lists the account's reads that have no value, in a fixed order.
func (a *AccountFacts) Failures() []Failure {
	var out []Failure
	for _, f := range []Failure{
		{ReadMemberships, a.Memberships.Err()},
		{ReadPerUserMFA, a.PerUserMFA.Err()},
		{ReadAuthMethods, a.Methods.Err()},
		{ReadSessionState, a.State.Err()},
	} {
		if f.Err != nil {
			out = append(out, f)
		}
	}
	return out
}

// readGroup runs ReadTenant's reads: each in its own goroutine, at most
// maxConcurrentReads requests in flight.
type readGroup struct {
	ctx context.Context
	wg  sync.WaitGroup
	sem chan struct{}
}

// do runs fn holding one of the group's slots.
func (g *readGroup) do(fn func() error) error {
	select {
	case g.sem <- struct{}{}:
	case <-g.ctx.Done():
		return g.ctx.Err()
	}
	defer func() { <-g.sem }()
	return fn()
}

// readInto runs fn in the group and stores its outcome in dst; then, when
// given, runs after a read that answered, in the same goroutine (to start
// the reads that depend on it).
func readInto[T any](g *readGroup, dst *Read[T], fn func(context.Context) (T, error), then func(T)) {
	g.wg.Go(func() {
		var v T
		err := g.do(func() error {
			var err error
			v, err = fn(g.ctx)
			return err
		})
		if err != nil {
			*dst = Failed[T](err)
			return
		}
		*dst = Known(v)
		if then != nil {
			then(v)
		}
	})
}

// ReadTenant reads everything preflight and status look at, concurrently,
// in as few sequential round trips as the data allows: first the tenant,
// licences, security defaults, the operator and their roles, the accounts
// whose UPN starts with one of prefixes, the Conditional Access policies
// and named locations, and the role definitions, all at once; then, as
// soon as the read they depend on has answered, each account's memberships,
// per-user MFA state and methods, the members of the groups the policies
// exclude and the users they exclude by id (in $batch requests, however
// many there are); and, only when a policy excludes a directory role, those
// users' memberships. That is two round trips when nothing is throttled,
// three when a policy excludes a role.
//
// Policies and named locations are read once each: Conditional Access
// allows one request per second per tenant, and the What If is best
// evaluated locally from these.
//
// The error is non-nil only when ctx ended before the reads did; each
// read's outcome is in its field, and a read that depends on one that
// failed fails with it.
func (c *Client) ReadTenant(ctx context.Context, prefixes []string) (*TenantFacts, error) {
	f := &TenantFacts{}
	g := &readGroup{ctx: ctx, sem: make(chan struct{}, maxConcurrentReads)}

	readInto(g, &f.Org, c.Organization, nil)
	readInto(g, &f.SKUs, c.SubscribedSKUs, nil)
	readInto(g, &f.SecurityDefaults, c.SecurityDefaults, nil)
	readInto(g, &f.Operator, c.Me, nil)
	readInto(g, &f.OperatorMemberships, c.MyMemberships, nil)
	readInto(g, &f.NamedLocations, c.NamedLocations, nil)
	readInto(g, &f.RoleDefinitions, c.RoleDefinitions, nil)

	readInto(g, &f.Accounts, func(ctx context.Context) ([]AccountFacts, error) {
		users, err := c.FindUsersByPrefix(ctx, prefixes...)
		if err != nil {
			return nil, err
		}
		accounts := make([]AccountFacts, len(users))
		for i, u := range users {
			accounts[i].User = u
		}
		return accounts, nil
	}, func(accounts []AccountFacts) {
		for i := range accounts {
			a := &accounts[i]
			id := a.User.ID
			readInto(g, &a.Memberships, func(ctx context.Context) (Memberships, error) { return c.UserMemberships(ctx, id) }, nil)
			readInto(g, &a.PerUserMFA, func(ctx context.Context) (string, error) { return c.PerUserMFA(ctx, id) }, nil)
			readInto(g, &a.Methods, func(ctx context.Context) ([]AuthMethod, error) { return c.AuthMethods(ctx, id) }, nil)
			readInto(g, &a.State, func(ctx context.Context) (map[string]any, error) {
				state, _, err := c.Extension(ctx, id, StateExtension)
				return state, err
			}, nil)
		}
	})

	// What the policies exclude cannot be known without the policies:
	// until they answer, those reads fail with ErrNotRead, and with the
	// policies' failure if they do not.
	readInto(g, &f.Policies, c.Policies, func(policies []ca.Policy) {
		g.wg.Go(func() { f.ExcludedGroupMembers = c.readExcludedGroups(g, ExcludedGroupIDs(policies)) })
		g.wg.Go(func() {
			f.ExcludedUsers, f.ExcludedMemberships = c.readExcludedUsers(g, ExcludedUserIDs(policies), excludesRoles(policies))
		})
	})
	g.wg.Wait()
	if err := f.Policies.Err(); err != nil {
		dependent := fmt.Errorf("the Conditional Access policies it depends on could not be read: %w", err)
		f.ExcludedUsers = Failed[[]User](dependent)
		f.ExcludedMemberships = Failed[map[string]Memberships](dependent)
		f.ExcludedGroupMembers = Failed[map[string][]User](dependent)
	}
	if err := ctx.Err(); err != nil {
		return f, err
	}
	return f, nil
}

// readExcludedGroups reads the users of each group (nested groups
// included), 20 groups to a $batch request. A group deleted since a policy
// named it has no members to count; any other failure makes the whole read
// fail, since a break-glass account may be in the group that could not be
// read.
func (c *Client) readExcludedGroups(g *readGroup, ids []string) Read[map[string][]User] {
	var paths, named []string
	for _, id := range ids {
		path, err := pathf("/groups/%s/transitiveMembers/microsoft.graph.user", id)
		if err != nil {
			continue // an id that names no object names no group either
		}
		paths, named = append(paths, relativeURL(path, withUserProperties(nil))), append(named, id)
	}
	var pages [][]User
	err := g.do(func() error {
		var err error
		pages, err = batchLists[User](g.ctx, c, "reading the members of the groups policies exclude", paths)
		return err
	})
	if err != nil {
		return Failed[map[string][]User](err)
	}
	members := make(map[string][]User, len(named))
	for i, users := range pages {
		if users != nil {
			members[named[i]] = users
		}
	}
	return Known(members)
}

// readExcludedUsers reads the users policies exclude by id, in $batch
// requests (a tenant may exclude thousands; a policy may name users deleted
// since, which are left out), then, when roles matters, the memberships of
// the users that exist, again in $batch requests.
func (c *Client) readExcludedUsers(g *readGroup, ids []string, roles bool) (Read[[]User], Read[map[string]Memberships]) {
	var users []User
	err := g.do(func() error {
		var err error
		users, err = c.UsersByID(g.ctx, ids)
		return err
	})
	if err != nil {
		return Failed[[]User](err), Failed[map[string]Memberships](fmt.Errorf("the users it depends on could not be read: %w", err))
	}
	if users == nil {
		users = []User{}
	}
	if !roles {
		return Known(users), Known(map[string]Memberships{})
	}
	var memberships map[string]Memberships
	err = g.do(func() error {
		var err error
		memberships, err = c.membershipsOf(g.ctx, users)
		return err
	})
	if err != nil {
		return Known(users), Failed[map[string]Memberships](err)
	}
	return Known(users), Known(memberships)
}

// membershipsOf reads the transitive groups and roles of users, 20 users
// to a $batch request. A user deleted between the two reads has none.
func (c *Client) membershipsOf(ctx context.Context, users []User) (map[string]Memberships, error) {
	paths := make([]string, len(users))
	for i, u := range users {
		path, err := pathf("/users/%s/transitiveMemberOf", u.ID)
		if err != nil {
			return nil, fmt.Errorf("reading the memberships of the users policies exclude: Graph listed a user with id %q: %w", u.ID, err)
		}
		paths[i] = path
	}
	pages, err := batchLists[DirectoryObject](ctx, c, "reading the memberships of the users policies exclude", paths)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Memberships, len(users))
	for i, objs := range pages {
		if objs != nil {
			out[users[i].ID] = splitMemberships(objs)
		}
	}
	return out, nil
}

// excludesRoles reports whether an enabled or report-only policy excludes
// a directory role.
func excludesRoles(policies []ca.Policy) bool {
	return slices.ContainsFunc(policies, func(p ca.Policy) bool {
		return p.State != ca.StateDisabled && p.Conditions.Users != nil && len(p.Conditions.Users.ExcludeRoles) > 0
	})
}

// ExcludedGroupIDs lists, sorted and once each, the groups that enabled or
// report-only policies exclude.
func ExcludedGroupIDs(policies []ca.Policy) []string {
	var ids []string
	for _, p := range policies {
		if p.State != ca.StateDisabled && p.Conditions.Users != nil {
			ids = append(ids, p.Conditions.Users.ExcludeGroups...)
		}
	}
	slices.Sort(ids)
	return slices.Compact(slices.DeleteFunc(ids, func(id string) bool { return id == "" }))
}

// ExcludedUserIDs lists, sorted and once each, the user ids that enabled or
// report-only policies exclude by id (not All, None or
// GuestsOrExternalUsers): the candidates for break-glass accounts.
func ExcludedUserIDs(policies []ca.Policy) []string {
	var ids []string
	for _, p := range policies {
		if p.State == ca.StateDisabled || p.Conditions.Users == nil {
			continue
		}
		for _, id := range p.Conditions.Users.ExcludeUsers {
			switch id {
			case ca.All, ca.None, ca.GuestsOrExternalUsers, "":
			default:
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}
