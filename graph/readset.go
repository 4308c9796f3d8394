package graph

import (
	"context"
	"errors"
	"slices"
	"sync"

	"mgmtsession/ca"
)

// Names of the reads ReadTenant makes: the keys of TenantFacts.Errors and
// AccountFacts.Errors.
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

// TenantFacts is what preflight and status need to know about a tenant,
// read in one go by ReadTenant. A field whose read failed keeps its zero
// value and the failure is in Errors under the read's name, so that one
// refused read (a 403 for a missing scope, say) does not hide the others.
type TenantFacts struct {
	Org                 Organization
	SKUs                []SKU
	SecurityDefaults    bool
	Operator            User        // the signed-in user; fails for app-only sign-ins
	OperatorMemberships Memberships // its groups and directory roles
	// Accounts are the existing management accounts: users whose UPN
	// starts with one of the prefixes given to ReadTenant.
	Accounts        []AccountFacts
	Policies        []ca.Policy
	NamedLocations  []ca.NamedLocation
	RoleDefinitions []RoleDefinition
	// ExcludedUsers are the users that enabled or report-only policies
	// exclude by id: the break-glass candidates. ExcludedMemberships holds
	// their groups and roles by user id, to tell whether each is excluded
	// from every policy (directly or through a group).
	ExcludedUsers       []User
	ExcludedMemberships map[string]Memberships
	// ExcludedGroupMembers holds, for every group such a policy excludes,
	// its users (nested groups included): break-glass accounts are most
	// often excluded through a group, never by id.
	ExcludedGroupMembers map[string][]User
	// Errors maps a read's name (ReadOrganization, ...) to its failure.
	Errors map[string]error
}

// AccountFacts is one existing management account.
type AccountFacts struct {
	User        User
	Memberships Memberships
	PerUserMFA  string // disabled, enabled or enforced; "" when the read failed
	Methods     []AuthMethod
	// State is the StateExtension's properties; nil when absent.
	State map[string]any
	// Errors maps ReadMemberships, ReadPerUserMFA, ReadAuthMethods or
	// ReadSessionState to its failure.
	Errors map[string]error
}

// Err returns the failure of the named read, or nil.
func (f *TenantFacts) Err(read string) error { return f.Errors[read] }

// Err returns the failure of the named read, or nil.
func (a *AccountFacts) Err(read string) error { return a.Errors[read] }

// ReadTenant reads everything preflight and status look at, concurrently,
// in as few sequential round trips as the data allows: first the tenant,
// licences, security defaults, the operator and their roles, the accounts
// whose UPN starts with one of prefixes, the Conditional Access policies
// and named locations, and the role definitions, all at once; then, as
// soon as the read they depend on has answered, each account's memberships,
// per-user MFA state and methods, and the users the policies exclude with
// their memberships. That is two round trips when nothing is throttled.
//
// Policies and named locations are read once each: Conditional Access
// allows one request per second per tenant, and the What If is best
// evaluated locally from these.
//
// The error is non-nil only when ctx ended before the reads did; each
// read's own failure is in TenantFacts.Errors (or AccountFacts.Errors) and
// the rest of the facts are still filled in.
func (c *Client) ReadTenant(ctx context.Context, prefixes []string) (*TenantFacts, error) {
	f := &TenantFacts{ExcludedMemberships: map[string]Memberships{}, ExcludedGroupMembers: map[string][]User{}, Errors: map[string]error{}}
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex // guards the Errors maps and ExcludedMemberships
		sem = make(chan struct{}, maxConcurrentReads)
	)
	// read runs one request in its own goroutine, records its failure in
	// errs under name, and calls then (from that goroutine) when it worked.
	read := func(errs map[string]error, name string, fn func() error, then func()) {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				mu.Lock()
				errs[name] = ctx.Err()
				mu.Unlock()
				return
			}
			err := fn()
			<-sem
			if err != nil {
				mu.Lock()
				errs[name] = err
				mu.Unlock()
				return
			}
			if then != nil {
				then()
			}
		})
	}
	e := f.Errors
	read(e, ReadOrganization, func() error {
		var err error
		f.Org, err = c.Organization(ctx)
		return err
	}, nil)
	read(e, ReadSubscribedSKUs, func() error {
		var err error
		f.SKUs, err = c.SubscribedSKUs(ctx)
		return err
	}, nil)
	read(e, ReadSecurityDefaults, func() error {
		var err error
		f.SecurityDefaults, err = c.SecurityDefaults(ctx)
		return err
	}, nil)
	read(e, ReadOperator, func() error {
		var err error
		f.Operator, err = c.Me(ctx)
		return err
	}, nil)
	read(e, ReadOperatorMemberships, func() error {
		var err error
		f.OperatorMemberships, err = c.MyMemberships(ctx)
		return err
	}, nil)
	read(e, ReadNamedLocations, func() error {
		var err error
		f.NamedLocations, err = c.NamedLocations(ctx)
		return err
	}, nil)
	read(e, ReadRoleDefinitions, func() error {
		var err error
		f.RoleDefinitions, err = c.RoleDefinitions(ctx)
		return err
	}, nil)

	var accounts []User
	read(e, ReadAccounts, func() error {
		var err error
		accounts, err = c.FindUsersByPrefix(ctx, prefixes...)
		return err
	}, func() {
		f.Accounts = make([]AccountFacts, len(accounts))
		for i, u := range accounts {
			a := &f.Accounts[i]
			a.User, a.Errors = u, map[string]error{}
			read(a.Errors, ReadMemberships, func() error {
				var err error
				a.Memberships, err = c.UserMemberships(ctx, u.ID)
				return err
			}, nil)
			read(a.Errors, ReadPerUserMFA, func() error {
				var err error
				a.PerUserMFA, err = c.PerUserMFA(ctx, u.ID)
				return err
			}, nil)
			read(a.Errors, ReadAuthMethods, func() error {
				var err error
				a.Methods, err = c.AuthMethods(ctx, u.ID)
				return err
			}, nil)
			read(a.Errors, ReadSessionState, func() error {
				var err error
				a.State, _, err = c.Extension(ctx, u.ID, StateExtension)
				return err
			}, nil)
		}
	})

	read(e, ReadPolicies, func() error {
		var err error
		f.Policies, err = c.Policies(ctx)
		return err
	}, func() {
		for _, gid := range ExcludedGroupIDs(f.Policies) {
			read(e, ReadExcludedGroups, func() error {
				users, err := c.GroupMembers(ctx, gid)
				if IsNotFound(err) {
					return nil // a policy may name a group deleted since
				}
				if err == nil {
					mu.Lock()
					f.ExcludedGroupMembers[gid] = users
					mu.Unlock()
				}
				return err
			}, nil)
		}
		ids := ExcludedUserIDs(f.Policies)
		if len(ids) == 0 {
			return
		}
		read(e, ReadExcludedUsers, func() error {
			var err error
			f.ExcludedUsers, err = c.UsersByID(ctx, ids)
			return err
		}, nil)
		var failed []error
		for _, id := range ids {
			wg.Go(func() {
				var m Memberships
				var err error
				select {
				case sem <- struct{}{}:
					m, err = c.UserMemberships(ctx, id)
					<-sem
				case <-ctx.Done():
					err = ctx.Err()
				}
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					f.ExcludedMemberships[id] = m
				case IsNotFound(err):
					// A policy may name a user deleted since; UsersByID
					// leaves it out too.
				default:
					failed = append(failed, err)
					e[ReadExcludedMemberships] = errors.Join(failed...)
				}
			})
		}
	})
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return f, err
	}
	return f, nil
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
