package preflight

import (
	"context"
	"slices"
	"sync"

	"mgmtsession/ca"
	"mgmtsession/graph"
)

// Reader is what preflight reads through (graph.Client in the product).
type Reader interface {
	Organization(context.Context) (graph.Organization, error)
	SubscribedSKUs(context.Context) ([]graph.SKU, error)
	SecurityDefaults(context.Context) (bool, error)
	Me(context.Context) (graph.User, error)
	MyMemberships(context.Context) (graph.Memberships, error)
	FindUsersByPrefix(context.Context, ...string) ([]graph.User, error)
	Policies(context.Context) ([]ca.Policy, error)
	NamedLocations(context.Context) ([]ca.NamedLocation, error)
	RoleDefinitions(context.Context) ([]graph.RoleDefinition, error)
	UserMemberships(context.Context, string) (graph.Memberships, error)
	PerUserMFA(context.Context, string) (string, error)
	AuthMethods(context.Context, string) ([]graph.AuthMethod, error)
	Extension(context.Context, string, string) (map[string]any, bool, error)
	UsersByID(context.Context, []string) ([]graph.User, error)
}

// Run reads the tenant and judges it: the preflight step and the status
// command.
func Run(ctx context.Context, client *graph.Client, sess graph.Session) (*Report, error) {
	return Build(Read(ctx, client, sess)), nil
}

// Read gathers the facts in two rounds of concurrent reads, so the whole set
// costs two round-trip times however many reads it holds: first everything
// that needs nothing else (Conditional Access policies and locations read
// once, as the tenant allows one CA request per second), then what depends
// on it (details of each management account; the break-glass candidates the
// policies exclude).
func Read(ctx context.Context, r Reader, sess graph.Session) *Facts {
	f := &Facts{Session: sess, Errors: map[string]error{}, RoleNames: map[string]string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	// read runs one read concurrently and files its error under name.
	read := func(name string, fn func() error) {
		wg.Go(func() {
			if err := fn(); err != nil {
				mu.Lock()
				f.Errors[name] = err
				mu.Unlock()
			}
		})
	}

	var accounts []graph.User
	var roles []graph.RoleDefinition
	read("organization", func() (err error) { f.Org, err = r.Organization(ctx); return })
	read("licences", func() (err error) { f.SKUs, err = r.SubscribedSKUs(ctx); return })
	read("security defaults", func() (err error) { f.SecurityDefaults, err = r.SecurityDefaults(ctx); return })
	if !sess.AppOnly {
		read("signed-in user", func() (err error) { f.Operator, err = r.Me(ctx); return })
		read("your roles", func() (err error) { f.OperatorRoles, err = r.MyMemberships(ctx); return })
	}
	read("management accounts", func() (err error) { accounts, err = r.FindUsersByPrefix(ctx, AccountPrefixes...); return })
	read("Conditional Access policies", func() (err error) { f.Policies, err = r.Policies(ctx); return })
	read("named locations", func() (err error) { f.NamedLocations, err = r.NamedLocations(ctx); return })
	read("directory roles", func() (err error) { roles, err = r.RoleDefinitions(ctx); return })
	wg.Wait()
	for _, rd := range roles {
		f.RoleNames[rd.TemplateID] = rd.DisplayName
	}

	// Round two.
	f.Accounts = make([]AccountFacts, len(accounts))
	for i, u := range accounts {
		a := &f.Accounts[i]
		a.User = u
		var amu sync.Mutex
		fail := func(err error) {
			amu.Lock()
			a.Errors = append(a.Errors, err)
			amu.Unlock()
		}
		wg.Go(func() {
			m, err := r.UserMemberships(ctx, u.ID)
			a.Memberships = m
			if err != nil {
				fail(err)
			}
		})
		wg.Go(func() {
			s, err := r.PerUserMFA(ctx, u.ID)
			a.PerUserMFA = s
			if err != nil {
				fail(err)
			}
		})
		wg.Go(func() {
			ms, err := r.AuthMethods(ctx, u.ID)
			a.Methods = ms
			if err != nil {
				fail(err)
			}
		})
		wg.Go(func() {
			st, _, err := r.Extension(ctx, u.ID, StateExtension)
			a.State = st
			if err != nil {
				fail(err)
			}
		})
	}
	candidates := excludedUserIDs(f.Policies)
	f.Excluded = make([]ExcludedUser, 0, len(candidates))
	if len(candidates) > 0 {
		read("break-glass candidates", func() error {
			users, err := r.UsersByID(ctx, candidates)
			if err != nil {
				return err
			}
			f.Excluded = make([]ExcludedUser, len(users))
			for i, u := range users {
				f.Excluded[i].User = u
			}
			return nil
		})
		// Their memberships are read at the same time, by id, so that
		// exclusions by group or role count too.
		members := make([]graph.Memberships, len(candidates))
		for i, id := range candidates {
			read("break-glass candidates", func() (err error) { members[i], err = r.UserMemberships(ctx, id); return })
		}
		wg.Wait()
		for i := range f.Excluded {
			if j := slices.Index(candidates, f.Excluded[i].User.ID); j >= 0 {
				f.Excluded[i].Memberships = members[j]
			}
		}
	}
	wg.Wait()
	return f
}

// excludedUserIDs lists the users enabled policies exclude by object id.
func excludedUserIDs(policies []ca.Policy) []string {
	var ids []string
	for _, p := range policies {
		if p.State != ca.StateEnabled || p.Conditions.Users == nil {
			continue
		}
		for _, id := range p.Conditions.Users.ExcludeUsers {
			if id != ca.All && id != ca.None && id != ca.GuestsOrExternalUsers && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return ids
}
