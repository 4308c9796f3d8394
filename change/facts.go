package change

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"mgmtsession/ca"
	"mgmtsession/graph"
)

// Facts are what a plan is made from, read fresh from the tenant. A plan is
// made only from a complete read: ReadFacts fails as a whole when any read
// it needs failed, so that a value that could not be read is never taken for
// an empty one (no policies, no account, no record).
type Facts struct {
	TenantID         string
	TenantName       string
	InitialDomain    string
	HasP1            bool
	SecurityDefaults bool
	// Operator is the signed-in user (nil for an app-only sign-in) with
	// the groups and roles the What If needs.
	Operator            *graph.User
	OperatorMemberships graph.Memberships
	OperatorLabel       string // who acts, for the record and the journal
	Policies            []ca.Policy
	Locations           []ca.NamedLocation
	// Account is the user holding the desired UPN, nil when there is none.
	Account *AccountFacts
}

// AccountFacts is the management account (or the user holding its UPN).
type AccountFacts struct {
	User        graph.User
	Roles       []graph.RoleAssignment // its directory role assignments
	Memberships graph.Memberships
	Methods     []graph.AuthMethod
	// Record is the session record on the account; nil when absent.
	Record *Record
}

// Reader is what ReadFacts needs of the tenant (*graph.Client).
type Reader interface {
	Organization(ctx context.Context) (graph.Organization, error)
	SubscribedSKUs(ctx context.Context) ([]graph.SKU, error)
	SecurityDefaults(ctx context.Context) (bool, error)
	Me(ctx context.Context) (graph.User, error)
	MyMemberships(ctx context.Context) (graph.Memberships, error)
	Policies(ctx context.Context) ([]ca.Policy, error)
	NamedLocations(ctx context.Context) ([]ca.NamedLocation, error)
	FindUsersByPrefix(ctx context.Context, prefixes ...string) ([]graph.User, error)
	RoleAssignments(ctx context.Context, principalID string) ([]graph.RoleAssignment, error)
	UserMemberships(ctx context.Context, id string) (graph.Memberships, error)
	AuthMethods(ctx context.Context, id string) ([]graph.AuthMethod, error)
	Extension(ctx context.Context, userID, name string) (map[string]any, bool, error)
}

// ReadError is reads a plan or a status needs that failed: each failure
// names the read and carries Graph's error (with its request id). No plan is
// made from it.
type ReadError struct {
	Failed map[string]error // read name -> failure
}

func (e *ReadError) Error() string {
	names := make([]string, 0, len(e.Failed))
	for n := range e.Failed {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("reading the tenant failed: ")
	for i, n := range names {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %v", n, e.Failed[n])
	}
	return b.String()
}

// Unwrap gives the failures to errors.Is and errors.As.
func (e *ReadError) Unwrap() []error {
	out := make([]error, 0, len(e.Failed))
	for _, err := range e.Failed {
		out = append(out, err)
	}
	return out
}

// ReadFacts reads what a plan for d needs, concurrently, in two round trips:
// the tenant, its licence, security defaults, the operator, the policies and
// named locations and the users whose UPN starts like the account's; then
// the account's roles, groups, methods and session record.
func ReadFacts(ctx context.Context, r Reader, sess graph.Session, d Desired) (*Facts, error) {
	f := &Facts{OperatorLabel: OperatorLabel(sess)}
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		failed = map[string]error{}
	)
	read := func(name string, fn func() error) {
		wg.Go(func() {
			if err := fn(); err != nil {
				mu.Lock()
				failed[name] = err
				mu.Unlock()
			}
		})
	}
	var org graph.Organization
	read("organization", func() (err error) { org, err = r.Organization(ctx); return })
	read("licences", func() error {
		skus, err := r.SubscribedSKUs(ctx)
		f.HasP1, _ = graph.EntraPremium(skus)
		return err
	})
	read("security defaults", func() (err error) { f.SecurityDefaults, err = r.SecurityDefaults(ctx); return })
	if !sess.AppOnly {
		read("signed-in user", func() error {
			u, err := r.Me(ctx)
			f.Operator = &u
			return err
		})
		read("signed-in user's roles", func() (err error) { f.OperatorMemberships, err = r.MyMemberships(ctx); return })
	}
	read("Conditional Access policies", func() (err error) { f.Policies, err = r.Policies(ctx); return })
	read("named locations", func() (err error) { f.Locations, err = r.NamedLocations(ctx); return })
	var candidates []graph.User
	localPart := DefaultUPNLocalPart
	if d.Account.UPN != "" {
		localPart, _, _ = strings.Cut(d.Account.UPN, "@")
	}
	read("accounts", func() (err error) { candidates, err = r.FindUsersByPrefix(ctx, localPart); return })
	wg.Wait()
	if len(failed) > 0 {
		return nil, &ReadError{Failed: failed}
	}
	f.TenantID, f.TenantName = org.ID, org.DisplayName
	for _, vd := range org.VerifiedDomains {
		if vd.IsInitial {
			f.InitialDomain = vd.Name
		}
	}
	if f.InitialDomain == "" {
		return nil, &ReadError{Failed: map[string]error{"organization": errors.New("the tenant names no initial domain")}}
	}
	upn, err := d.DefaultUPN(f.InitialDomain)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(candidates, func(u graph.User) bool { return strings.EqualFold(u.UserPrincipalName, upn) })
	if i < 0 {
		return f, nil
	}
	a := &AccountFacts{User: candidates[i]}
	id := a.User.ID
	read("the account's roles", func() (err error) { a.Roles, err = r.RoleAssignments(ctx, id); return })
	read("the account's groups", func() (err error) { a.Memberships, err = r.UserMemberships(ctx, id); return })
	read("the account's methods", func() (err error) { a.Methods, err = r.AuthMethods(ctx, id); return })
	read("the session record", func() error {
		props, found, err := r.Extension(ctx, id, graph.StateExtension)
		if err != nil || !found {
			return err
		}
		a.Record, err = RecordFromProperties(props)
		return err
	})
	wg.Wait()
	if len(failed) > 0 {
		return nil, &ReadError{Failed: failed}
	}
	f.Account = a
	return f, nil
}

// OperatorLabel is who acts, as the journal, the record and the report name
// them: the signed-in user, or the application of an app-only sign-in.
func OperatorLabel(s graph.Session) string {
	if s.AppOnly {
		return "application " + s.ObjectID
	}
	if s.UPN != "" {
		return s.UPN
	}
	return s.ObjectID
}
