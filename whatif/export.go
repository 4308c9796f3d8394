package whatif

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"mgmtsession/ca"
	"mgmtsession/graph"
)

// Snapshot is the offline analysis file (SPEC 5.3) as export writes it:
// policies and named locations as the JSON objects Graph returned, and the
// principals a What If may be asked about.
type Snapshot struct {
	TenantID       string            `json:"tenantId"`
	Policies       []json.RawMessage `json:"policies"`
	NamedLocations []json.RawMessage `json:"namedLocations"`
	Principals     []ca.Principal    `json:"principals"`
}

// ExportReader is what an export reads (graph.Client).
type ExportReader interface {
	RawPolicies(ctx context.Context) ([]json.RawMessage, error)
	RawNamedLocations(ctx context.Context) ([]json.RawMessage, error)
	Me(ctx context.Context) (graph.User, error)
	FindUsersByPrefix(ctx context.Context, prefixes ...string) ([]graph.User, error)
	UsersByID(ctx context.Context, ids []string) ([]graph.User, error)
	UserMemberships(ctx context.Context, id string) (graph.Memberships, error)
}

// ExportResult is a snapshot with what the export could not include.
type ExportResult struct {
	Snapshot *Snapshot
	// Notes are things a person should know about the snapshot, such as a
	// user id a policy names that no longer exists.
	Notes []string
}

// Export reads the tenant into a snapshot: the policies and named
// locations (two Conditional Access requests), and as principals the
// management accounts (UPN starting with one of accountPrefixes), the
// signed-in operator (not for an app-only session) and every user a policy
// names by id in includeUsers or excludeUsers, each with transitive groups
// and role template ids.
//
// Groups a policy names are not expanded into their members: the group ids
// are in the policies themselves, a group can hold thousands of users, and
// whatif --new-account --groups evaluates membership without them. The
// principals' memberOf lists carry the groups they are in.
func Export(ctx context.Context, r ExportReader, sess graph.Session, accountPrefixes []string) (*ExportResult, error) {
	// Everything that needs nothing else is read at once: the two CA
	// collections, the management accounts and the operator.
	var (
		rawPolicies, rawLocations []json.RawMessage
		accounts                  []graph.User
		me                        graph.User
		errs                      [4]error
		wg                        sync.WaitGroup
	)
	wg.Go(func() { rawPolicies, errs[0] = r.RawPolicies(ctx) })
	wg.Go(func() { rawLocations, errs[1] = r.RawNamedLocations(ctx) })
	if len(accountPrefixes) > 0 {
		wg.Go(func() { accounts, errs[2] = r.FindUsersByPrefix(ctx, accountPrefixes...) })
	}
	if !sess.AppOnly {
		wg.Go(func() { me, errs[3] = r.Me(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	// The snapshot must read back: decode what Graph sent the way
	// whatif --snapshot will.
	probe, _ := json.Marshal(Snapshot{Policies: rawPolicies, NamedLocations: rawLocations, Principals: []ca.Principal{}})
	parsed, err := ca.ParseSnapshot(probe)
	if err != nil {
		return nil, fmt.Errorf("Graph returned policies the snapshot cannot hold: %w", err)
	}

	res := &ExportResult{}
	users := accounts
	if !sess.AppOnly {
		users = append(users, me)
	}
	named := NamedUserIDs(parsed.Policies)
	if len(named) > 0 {
		found, err := r.UsersByID(ctx, named)
		if err != nil {
			return nil, err
		}
		users = append(users, found...)
		for _, id := range named {
			if !slices.ContainsFunc(found, func(u graph.User) bool { return strings.EqualFold(u.ID, id) }) {
				res.Notes = append(res.Notes, fmt.Sprintf("a policy names user %s, which does not exist (deleted?); it is not in the snapshot", id))
			}
		}
	}
	users = slices.CompactFunc(sortByID(users), func(a, b graph.User) bool { return strings.EqualFold(a.ID, b.ID) })

	principals, err := readPrincipals(ctx, r, users)
	if err != nil {
		return nil, err
	}
	res.Snapshot = &Snapshot{TenantID: sess.TenantID, Policies: rawPolicies, NamedLocations: rawLocations, Principals: principals}
	return res, nil
}

// NamedUserIDs lists the user object ids policies name in includeUsers or
// excludeUsers (not All, None or GuestsOrExternalUsers), sorted.
func NamedUserIDs(policies []ca.Policy) []string {
	var ids []string
	for _, p := range policies {
		u := p.Conditions.Users
		if u == nil {
			continue
		}
		for _, id := range slices.Concat(u.IncludeUsers, u.ExcludeUsers) {
			switch {
			case strings.EqualFold(id, ca.All), strings.EqualFold(id, ca.None), strings.EqualFold(id, ca.GuestsOrExternalUsers), id == "":
			case !containsFold(ids, id):
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

func sortByID(users []graph.User) []graph.User {
	slices.SortStableFunc(users, func(a, b graph.User) int {
		return strings.Compare(strings.ToLower(a.ID), strings.ToLower(b.ID))
	})
	return users
}

// readPrincipals reads every user's memberships, a few at a time.
func readPrincipals(ctx context.Context, r ExportReader, users []graph.User) ([]ca.Principal, error) {
	out := make([]ca.Principal, len(users))
	errs := make([]error, len(users))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			m, err := r.UserMemberships(ctx, u.ID)
			errs[i] = err
			userType := u.UserType
			if userType == "" {
				userType = "Member"
			}
			out[i] = ca.Principal{
				ID: u.ID, UserPrincipalName: u.UserPrincipalName, UserType: userType,
				MemberOf: nonNil(m.GroupIDs()), Roles: nonNil(m.RoleTemplateIDs()),
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(out, func(a, b ca.Principal) int {
		return strings.Compare(strings.ToLower(a.UserPrincipalName), strings.ToLower(b.UserPrincipalName))
	})
	return out, nil
}
