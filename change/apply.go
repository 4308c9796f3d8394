package change

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"mgmtsession/ca"
	"mgmtsession/graph"
)

// Writer is what applying, undoing and removing need of the tenant
// (*graph.Client): the writes, and the reads that check before and verify
// after each of them.
type Writer interface {
	CreateUser(ctx context.Context, nu graph.NewUser) (graph.User, error)
	User(ctx context.Context, idOrUPN string) (graph.User, error)
	UpdateUser(ctx context.Context, id string, p graph.UserPatch) error
	DeleteUser(ctx context.Context, id string) error
	RevokeSessions(ctx context.Context, id string) error
	AssignRole(ctx context.Context, principalID, roleTemplateID string) (graph.RoleAssignment, error)
	RoleAssignments(ctx context.Context, principalID string) ([]graph.RoleAssignment, error)
	RemoveRoleAssignment(ctx context.Context, id string) error
	NamedLocations(ctx context.Context) ([]ca.NamedLocation, error)
	NamedLocation(ctx context.Context, id string) (ca.NamedLocation, error)
	CreateNamedLocation(ctx context.Context, l ca.NamedLocation) (ca.NamedLocation, error)
	UpdateNamedLocation(ctx context.Context, l ca.NamedLocation) error
	DeleteNamedLocation(ctx context.Context, l ca.NamedLocation) error
	Policies(ctx context.Context) ([]ca.Policy, error)
	Policy(ctx context.Context, id string) (ca.Policy, error)
	CreatePolicy(ctx context.Context, p ca.Policy) (ca.Policy, error)
	UpdatePolicy(ctx context.Context, p ca.Policy) error
	SetPolicyExcludedUsers(ctx context.Context, id string, excludeUsers []string) error
	DeletePolicy(ctx context.Context, id string) error
	Extension(ctx context.Context, userID, name string) (map[string]any, bool, error)
	SetExtension(ctx context.Context, userID, name string, props map[string]any) error
	DeleteExtension(ctx context.Context, userID, name string) error
}

// EventKind says what an Event reports.
type EventKind string

// Events, in the order a change meets them.
const (
	EventStarted  EventKind = "started"
	EventWaiting  EventKind = "waiting"  // for replication; Elapsed says how long so far
	EventVerified EventKind = "verified" // read back, several times in a row
	EventSkipped  EventKind = "skipped"  // already as desired when re-read
	EventFailed   EventKind = "failed"
)

// Event is progress reported to an Observer: the wizard and the headless
// commands show the same events.
type Event struct {
	Kind    EventKind
	Index   int // the change's place in the plan
	Change  Change
	Elapsed time.Duration
	Err     error
}

// Observer receives events; it is called from the goroutine doing the work
// (concurrently for independent changes) and must not block.
type Observer func(Event)

// Options tune a run.
type Options struct {
	Journal  *Journal
	Observer Observer
	// Password is the new account's password (generated when zero).
	Password Secret
	// VerifyReads is how many consecutive reads must show a write (3, as
	// the azuread provider), VerifyPause the pause between them (1 s) and
	// VerifyTimeout the bound on waiting for replication (5 minutes).
	VerifyReads   int
	VerifyPause   time.Duration
	VerifyTimeout time.Duration
	// Now is the clock (tests).
	Now func() time.Time
	// Operator is who acts, for the record.
	Operator string
	// OnPassword, when set, receives the new account's password as soon as
	// the account exists (for --password-file), before any later write.
	OnPassword func(Secret) error
}

func (o *Options) defaults() {
	if o.VerifyReads <= 0 {
		o.VerifyReads = 3
	}
	if o.VerifyPause <= 0 {
		o.VerifyPause = time.Second
	}
	if o.VerifyTimeout <= 0 {
		o.VerifyTimeout = 5 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Observer == nil {
		o.Observer = func(Event) {}
	}
}

// Result is what a run did.
type Result struct {
	Run       string   `json:"runId"`
	Journal   string   `json:"journal"`
	Done      []Change `json:"changes"`
	AccountID string   `json:"accountId,omitempty"`
	// Password is set when the run created the account.
	Password Secret `json:"-"`
	Record   Record `json:"record"`
}

// ChangedError stops a run for an object that someone changed since the
// plan was made: the operator must look, then plan again.
type ChangedError struct {
	Object, Name, What string
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("%s %q changed since the plan was made (%s): nothing more was written; run plan again to see the tenant as it is now", e.Object, e.Name, e.What)
}

// run is the state of one apply.
type run struct {
	mu         sync.Mutex
	requestIDs map[int]string // change index -> the request id of its write
	w          Writer
	o          Options
	p          *Plan
	res        *Result
	upn        string
	accountID  string
	locationID string
	policyID   string
}

// Apply makes the plan's changes in order, re-reading each object just
// before writing it, verifying each write by reading it back, and
// journaling an intent before and a result after each write. The policy
// requiring MFA outside the allowed IPs is verified before any exclusion is
// written (the plan orders it so, and Apply checks it). Independent role
// assignments run concurrently.
func Apply(ctx context.Context, w Writer, p *Plan, o Options) (*Result, error) {
	o.defaults()
	r := &run{w: w, o: o, p: p, upn: p.UPN, res: &Result{Done: []Change{}}, requestIDs: map[int]string{}}
	if o.Journal != nil {
		r.res.Run, r.res.Journal = o.Journal.Run, o.Journal.Path
	}
	if a := p.facts.Account; a != nil {
		r.accountID = a.User.ID
		if a.Record != nil {
			r.locationID, r.policyID = a.Record.NamedLocationID, a.Record.PolicyID
		}
	}
	if loc := findLocation(p.facts.Locations, r.locationID, LocationName(p.UPN)); loc != nil {
		r.locationID = loc.ID
	}
	if pol := findPolicy(p.facts.Policies, r.policyID, PolicyName(p.UPN)); pol != nil {
		r.policyID = pol.ID
	}
	if err := o.Journal.Write(Entry{Type: EntryBegin, Command: "apply", Operator: o.Operator, Tenant: p.TenantID, AccountID: r.accountID}); err != nil {
		return r.res, err
	}
	err := r.applyAll(ctx)
	if ctx.Err() == nil {
		// A run stopped from outside (Ctrl+C, a dropped SSH session) ends
		// like a crash: unfinished, so that the next apply resumes it.
		outcome := "done"
		if err != nil {
			outcome = "failed"
		}
		if jerr := o.Journal.Write(Entry{Type: EntryEnd, Outcome: outcome, Error: errString(err), AccountID: r.accountID}); jerr != nil && err == nil {
			err = jerr
		}
	}
	r.res.AccountID = r.accountID
	return r.res, err
}

func (r *run) applyAll(ctx context.Context) error {
	// Consecutive role assignments are independent of each other, and so
	// are consecutive exclusions (each depends only on the account's own
	// policy, checked once before the first): each run of them goes out at
	// once.
	together := map[string]func(context.Context, int, []Change) error{
		ObjRole:      r.assignRoles,
		ObjExclusion: r.addExclusions,
	}
	cs := r.p.Changes
	for i := 0; i < len(cs); {
		j := i + 1
		group, ok := together[cs[i].Object]
		if ok {
			for j < len(cs) && cs[j].Object == cs[i].Object {
				j++
			}
		} else {
			group = func(ctx context.Context, i int, cs []Change) error { return r.one(ctx, i, cs[0]) }
		}
		if err := group(ctx, i, cs[i:j]); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// addExclusions excludes the account from several tenant policies at once.
// The protection is proven first, once: no exclusion is written unless the
// account's own policy requiring MFA outside the allowed IPs is in place.
func (r *run) addExclusions(ctx context.Context, first int, cs []Change) error {
	if err := r.protected(ctx); err != nil {
		r.o.Observer(Event{Kind: EventFailed, Index: first, Change: cs[0], Err: err})
		return err
	}
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for k, c := range cs {
		wg.Go(func() {
			r.o.Observer(Event{Kind: EventStarted, Index: first + k, Change: c})
			errs[k] = r.addExclusion(ctx, first+k, c)
		})
	}
	wg.Wait()
	// Reported in the plan's order, whichever finished first.
	var failed []error
	for k, c := range cs {
		if err := r.finish(first+k, c, errs[k]); err != nil {
			failed = append(failed, err)
		}
	}
	return errors.Join(failed...)
}

// one makes a single change: intent, write, verify, result.
func (r *run) one(ctx context.Context, i int, c Change) error {
	r.o.Observer(Event{Kind: EventStarted, Index: i, Change: c})
	var err error
	switch c.Object {
	case ObjAccount:
		err = r.createAccount(ctx, i, c)
	case ObjNamedLocation:
		err = r.writeLocation(ctx, i, c)
	case ObjPolicy:
		err = r.writePolicy(ctx, i, c)
	case ObjSessionRecord:
		err = r.writeRecord(ctx, i, c)
	case ObjExclusion:
		if err = r.protected(ctx); err == nil {
			err = r.addExclusion(ctx, i, c)
		}
	case ObjAccountEnabled:
		err = r.enableAccount(ctx, i, c)
	case ObjPassword:
		err = r.resetPassword(ctx, i, c)
	default:
		err = fmt.Errorf("unknown change %s %s", c.Action, c.Object)
	}
	return r.finish(i, c, err)
}

// finish reports a change's outcome: a failure to the observer, explained,
// or the change as done with its request id.
func (r *run) finish(i int, c Change, err error) error {
	if err != nil {
		err = explainForbidden(c, err)
		r.o.Observer(Event{Kind: EventFailed, Index: i, Change: c, Err: err})
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c.RequestID = r.requestIDs[i]
	r.res.Done = append(r.res.Done, c)
	return nil
}

// intent journals a change about to be written; result journals its
// outcome.
func (r *run) intent(i int, c Change, before any) error {
	return r.o.Journal.Write(Entry{Type: EntryIntent, Index: i, Change: &c, AccountID: r.accountID, Before: rawJSON(before)})
}

func (r *run) result(i int, c Change, ids *graph.RequestIDs, objectID string, before, after any, err error) error {
	return r.journalResult(i, c, ids, objectID, before, after, err, false)
}

// written journals a write that Graph accepted, whether or not its
// verification then failed: undo must take back what was written even when
// the read-back did not see it (the tenant died between the two, say).
func (r *run) written(i int, c Change, ids *graph.RequestIDs, objectID string, before, after any, verifyErr error) error {
	return r.journalResult(i, c, ids, objectID, before, after, verifyErr, true)
}

func (r *run) journalResult(i int, c Change, ids *graph.RequestIDs, objectID string, before, after any, err error, written bool) error {
	e := Entry{Type: EntryResult, Index: i, Change: &c, ObjectID: objectID, AccountID: r.accountID,
		Before: rawJSON(before), After: rawJSON(after), Error: errString(err), Written: written}
	var ge *graph.Error
	e.Refused = !written && errors.As(err, &ge) && ge.Status > 0
	if ids != nil {
		e.RequestID = ids.Last()
		r.mu.Lock()
		r.requestIDs[i] = e.RequestID
		r.mu.Unlock()
	}
	jerr := r.o.Journal.Write(e)
	if err != nil {
		return err
	}
	return jerr
}

func (r *run) createAccount(ctx context.Context, i int, c Change) error {
	// Someone (or a run that crashed after its create) may have created
	// it since the plan: adopt ours, refuse anything else.
	if u, err := r.w.User(ctx, r.upn); err == nil {
		if !looksLikeManagementAccount(u) {
			return &ChangedError{Object: "account", Name: r.upn, What: "a user with this name was created by someone else"}
		}
		// Nothing is written, so nothing is journaled: undo must never
		// delete an account this run did not create.
		r.accountID = u.ID
		r.o.Observer(Event{Kind: EventSkipped, Index: i, Change: c})
		return nil
	} else if !graph.IsNotFound(err) {
		return err
	}
	pw := r.o.Password
	if pw.IsZero() {
		var err error
		if pw, err = NewPassword(); err != nil {
			return err
		}
	}
	if err := r.intent(i, c, nil); err != nil {
		return err
	}
	wctx, ids := graph.WithRequestIDs(ctx)
	local, _, _ := strings.Cut(r.upn, "@")
	u, err := r.w.CreateUser(wctx, graph.NewUser{UserPrincipalName: r.upn, DisplayName: AccountDisplayName,
		MailNickname: mailNickname(local), Password: pw.Reveal(), Enabled: false})
	if err != nil {
		var ge *graph.Error
		if errors.As(err, &ge) && ge.HasDetail("ObjectConflict") {
			// The account was made moments ago by a create whose answer
			// was lost, and it is still replicating: wait until it can be
			// read, then adopt it if it is ours.
			var got graph.User
			werr := r.verify(ctx, i, c, func(ctx context.Context) (bool, error) {
				var rerr error
				got, rerr = r.w.User(ctx, r.upn)
				return rerr == nil, ignoreNotFound(rerr)
			})
			if werr == nil && looksLikeManagementAccount(got) {
				u, err = got, nil
			}
		}
		if err != nil {
			return r.result(i, c, ids, "", nil, nil, err)
		}
	}
	r.accountID = u.ID
	r.res.Password = pw
	if r.o.OnPassword != nil {
		if err := r.o.OnPassword(pw); err != nil {
			return err
		}
		if err := r.o.Journal.Write(Entry{Type: EntryResult, Outcome: PasswordHandedOut, AccountID: r.accountID}); err != nil {
			return err
		}
	}
	err = r.verify(ctx, i, c, func(ctx context.Context) (bool, error) {
		got, err := r.w.User(ctx, u.ID)
		return err == nil && strings.EqualFold(got.UserPrincipalName, r.upn), ignoreNotFound(err)
	})
	return r.written(i, c, ids, u.ID, nil, u.Raw, err)
}

// mailNickname is the local part reduced to what Graph accepts there.
func mailNickname(local string) string {
	var b strings.Builder
	for _, c := range local {
		if c < 128 && (c == '.' || c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b.WriteRune(c)
		}
	}
	if b.Len() == 0 {
		return "mgmtsession"
	}
	return b.String()
}

// assignRoles assigns the roles concurrently, then verifies them together.
func (r *run) assignRoles(ctx context.Context, first int, cs []Change) error {
	current, err := r.w.RoleAssignments(ctx, r.accountID)
	if err != nil && !graph.IsNotFound(err) {
		return err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for k, c := range cs {
		i := first + k
		r.o.Observer(Event{Kind: EventStarted, Index: i, Change: c})
		if hasRole(current, c.Ref) {
			r.o.Observer(Event{Kind: EventSkipped, Index: i, Change: c})
			mu.Lock()
			r.res.Done = append(r.res.Done, c)
			mu.Unlock()
			continue
		}
		if err := r.intent(i, c, nil); err != nil {
			return err
		}
		wg.Go(func() {
			wctx, ids := graph.WithRequestIDs(ctx)
			ra, err := r.w.AssignRole(wctx, r.accountID, c.Ref)
			if err != nil && isDuplicateAssignment(err) {
				err = nil // a retried create whose first answer was lost
			}
			if err != nil {
				err = explainForbidden(c, err)
				r.o.Observer(Event{Kind: EventFailed, Index: i, Change: c, Err: err})
			}
			jerr := r.journalResult(i, c, ids, ra.ID, nil, ra.Raw, err, err == nil)
			mu.Lock()
			defer mu.Unlock()
			if jerr != nil {
				errs = append(errs, jerr)
				return
			}
			c.RequestID = ids.Last()
			r.res.Done = append(r.res.Done, c)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	want := make([]string, len(cs))
	for k, c := range cs {
		want[k] = c.Ref
	}
	start := r.o.Now()
	defer func() {
		// One read-back proves every assignment; each is reported.
		for k, c := range cs[1:] {
			if hasRole(current, c.Ref) {
				continue
			}
			r.o.Observer(Event{Kind: EventVerified, Index: first + 1 + k, Change: c, Elapsed: r.o.Now().Sub(start)})
		}
	}()
	return r.verify(ctx, first, cs[0], func(ctx context.Context) (bool, error) {
		got, err := r.w.RoleAssignments(ctx, r.accountID)
		if err != nil {
			return false, ignoreNotFound(err)
		}
		for _, id := range want {
			if !hasRole(got, id) {
				return false, nil
			}
		}
		return true, nil
	})
}

func isDuplicateAssignment(err error) bool {
	var ge *graph.Error
	return errors.As(err, &ge) && (ge.Status == 409 || ge.HasDetail("ObjectConflict") ||
		strings.Contains(strings.ToLower(ge.Message), "already exists"))
}

func (r *run) writeLocation(ctx context.Context, i int, c Change) error {
	want := desiredLocation(r.upn, r.p.desired.AllowedIPs)
	var before *ca.NamedLocation
	if c.Action == ActCreate {
		// A location with our name made since the plan (by a run that
		// crashed after its create) is adopted, not duplicated.
		all, err := r.w.NamedLocations(ctx)
		if err != nil {
			return err
		}
		if l := findLocation(all, "", want.DisplayName); l != nil {
			before = l
		}
	} else {
		var l ca.NamedLocation
		err := r.waitFor(ctx, func(ctx context.Context) (err error) { l, err = r.w.NamedLocation(ctx, c.ID); return })
		if err != nil {
			return err
		}
		var planned ca.NamedLocation
		_ = json.Unmarshal(c.Before, &planned)
		if g, _ := locationRanges(l); !slices.Equal(g, mustRanges(planned)) || l.IsTrusted != planned.IsTrusted {
			if len(locationDiffers(l, want, r.p.desired.AllowedIPs)) == 0 {
				r.locationID = l.ID
				r.o.Observer(Event{Kind: EventSkipped, Index: i, Change: c})
				return nil
			}
			return &ChangedError{Object: "named location", Name: want.DisplayName, What: "its ranges or trust"}
		}
		before = &l
	}
	if err := r.intent(i, c, before); err != nil {
		return err
	}
	wctx, ids := graph.WithRequestIDs(ctx)
	var err error
	if before == nil {
		var got ca.NamedLocation
		got, err = r.w.CreateNamedLocation(wctx, want)
		r.locationID = got.ID
	} else {
		want.ID = before.ID
		r.locationID = before.ID
		if len(locationDiffers(*before, want, r.p.desired.AllowedIPs)) > 0 {
			err = r.w.UpdateNamedLocation(wctx, want)
		}
	}
	if err != nil {
		return r.result(i, c, ids, r.locationID, before, nil, err)
	}
	var after ca.NamedLocation
	err = r.verify(ctx, i, c, func(ctx context.Context) (bool, error) {
		l, err := r.w.NamedLocation(ctx, r.locationID)
		if err != nil {
			return false, ignoreNotFound(err)
		}
		after = l
		return len(locationDiffers(l, want, r.p.desired.AllowedIPs)) == 0, nil
	})
	return r.written(i, c, ids, r.locationID, before, after, err)
}

func mustRanges(l ca.NamedLocation) []netip.Prefix {
	ps, _ := locationRanges(l)
	return ps
}

func (r *run) writePolicy(ctx context.Context, i int, c Change) error {
	if r.accountID == "" || r.locationID == "" {
		return fmt.Errorf("the account's policy needs the account and the named location first")
	}
	want := desiredPolicy(r.upn, r.accountID, r.locationID, r.p.desired.PolicyState)
	var before *ca.Policy
	if c.Action == ActCreate {
		all, err := r.w.Policies(ctx)
		if err != nil {
			return err
		}
		if p := findPolicy(all, "", want.DisplayName); p != nil {
			before = p
		}
	} else {
		var p ca.Policy
		err := r.waitFor(ctx, func(ctx context.Context) (err error) { p, err = r.w.Policy(ctx, c.ID); return })
		if err != nil {
			return err
		}
		var planned ca.Policy
		_ = json.Unmarshal(c.Before, &planned)
		if p.ModifiedDateTime != nil && planned.ModifiedDateTime != nil && *p.ModifiedDateTime != *planned.ModifiedDateTime {
			want.ID = p.ID
			if len(policyDiffers(p, want)) == 0 {
				r.policyID = p.ID
				r.o.Observer(Event{Kind: EventSkipped, Index: i, Change: c})
				return nil
			}
			return &ChangedError{Object: "policy", Name: want.DisplayName, What: "modified at " + *p.ModifiedDateTime}
		}
		before = &p
	}
	if err := r.intent(i, c, before); err != nil {
		return err
	}
	wctx, ids := graph.WithRequestIDs(ctx)
	var err error
	if before == nil {
		var got ca.Policy
		got, err = r.w.CreatePolicy(wctx, want)
		r.policyID = got.ID
	} else {
		want.ID, r.policyID = before.ID, before.ID
		if len(policyDiffers(*before, want)) > 0 {
			err = r.w.UpdatePolicy(wctx, want)
		}
	}
	if err != nil {
		return r.result(i, c, ids, r.policyID, before, nil, err)
	}
	var after ca.Policy
	err = r.verify(ctx, i, c, func(ctx context.Context) (bool, error) {
		p, err := r.w.Policy(ctx, r.policyID)
		if err != nil {
			return false, ignoreNotFound(err)
		}
		after = p
		w := want
		w.ID = p.ID
		return len(policyDiffers(p, w)) == 0, nil
	})
	return r.written(i, c, ids, r.policyID, before, after, err)
}

// protected checks, just before an exclusion, that the account's own policy
// is in place as planned: the ordering invariant, checked against the
// tenant rather than trusted from the order of the changes.
func (r *run) protected(ctx context.Context) error {
	if r.policyID == "" {
		return errors.New("refusing to exclude the account from any policy: its own policy requiring MFA outside the allowed IPs does not exist")
	}
	// The policy may have been made moments ago (by this run, or by one
	// whose answer was lost) and still be replicating: a 404 is waited out.
	var p ca.Policy
	err := r.waitFor(ctx, func(ctx context.Context) error {
		var err error
		p, err = r.w.Policy(ctx, r.policyID)
		return err
	})
	if err != nil {
		return fmt.Errorf("checking the account's own policy before excluding it: %w", err)
	}
	want := desiredPolicy(r.upn, r.accountID, r.locationID, r.p.desired.PolicyState)
	want.ID = p.ID
	if d := policyDiffers(p, want); len(d) > 0 {
		return fmt.Errorf("refusing to exclude the account from any policy: its own policy is not as planned (%s)", strings.Join(d, ", "))
	}
	return nil
}

// addExclusion adds the account to one policy's excluded users; the caller
// has proven the account protected.
func (r *run) addExclusion(ctx context.Context, i int, c Change) error {
	p, err := r.w.Policy(ctx, c.ID)
	if err != nil {
		return err
	}
	users := []string{}
	if p.Conditions.Users != nil {
		users = slices.Clone(p.Conditions.Users.ExcludeUsers)
	}
	if containsFold(users, r.accountID) {
		r.o.Observer(Event{Kind: EventSkipped, Index: i, Change: c})
		return nil
	}
	var planned []string
	_ = json.Unmarshal(c.Before, &planned)
	if !sameSet(users, planned) {
		return &ChangedError{Object: "policy", Name: c.Name, What: "its excluded users"}
	}
	if err := r.intent(i, c, users); err != nil {
		return err
	}
	wctx, ids := graph.WithRequestIDs(ctx)
	next := append(slices.Clone(users), r.accountID)
	if err := r.w.SetPolicyExcludedUsers(wctx, p.ID, next); err != nil {
		return r.result(i, c, ids, p.ID, users, nil, err)
	}
	var after []string
	err = r.verify(ctx, i, c, func(ctx context.Context) (bool, error) {
		got, err := r.w.Policy(ctx, p.ID)
		if err != nil {
			return false, ignoreNotFound(err)
		}
		if got.Conditions.Users != nil {
			after = got.Conditions.Users.ExcludeUsers
		}
		return excludes(got, r.accountID), nil
	})
	return r.written(i, c, ids, p.ID, users, after, err)
}

func (r *run) writeRecord(ctx context.Context, i int, c Change) error {
	var rec Record
	if err := json.Unmarshal(c.After, &rec); err != nil {
		return fmt.Errorf("the planned session record: %w", err)
	}
	rec.NamedLocationID, rec.PolicyID = r.locationID, r.policyID
	rec = rec.stamped(r.o.Now(), r.o.Operator)
	before, _, err := r.w.Extension(ctx, r.accountID, graph.StateExtension)
	if err != nil && !graph.IsNotFound(err) {
		return err
	}
	if err := r.intent(i, c, before); err != nil {
		return err
	}
	wctx, ids := graph.WithRequestIDs(ctx)
	if err := r.w.SetExtension(wctx, r.accountID, graph.StateExtension, rec.properties()); err != nil {
		return r.result(i, c, ids, r.accountID, before, nil, err)
	}
	var after map[string]any
	err = r.verify(ctx, i, c, func(ctx context.Context) (bool, error) {
		props, found, err := r.w.Extension(ctx, r.accountID, graph.StateExtension)
		if err != nil || !found {
			return false, ignoreNotFound(err)
		}
		after = props
		got, err := RecordFromProperties(props)
		return err == nil && got.Equal(rec), nil
	})
	r.res.Record = rec
	return r.written(i, c, ids, r.accountID, before, after, err)
}

func (r *run) enableAccount(ctx context.Context, i int, c Change) error {
	var u graph.User
	err := r.waitFor(ctx, func(ctx context.Context) (err error) { u, err = r.w.User(ctx, r.accountID); return })
	if err != nil {
		return err
	}
	if u.AccountEnabled {
		r.o.Observer(Event{Kind: EventSkipped, Index: i, Change: c})
		return nil
	}
	if err := r.intent(i, c, u.Raw); err != nil {
		return err
	}
	wctx, ids := graph.WithRequestIDs(ctx)
	on := true
	if err := r.w.UpdateUser(wctx, r.accountID, graph.UserPatch{AccountEnabled: &on}); err != nil {
		return r.result(i, c, ids, r.accountID, u.Raw, nil, err)
	}
	var after json.RawMessage
	err = r.verify(ctx, i, c, func(ctx context.Context) (bool, error) {
		got, err := r.w.User(ctx, r.accountID)
		after = got.Raw
		return err == nil && got.AccountEnabled, ignoreNotFound(err)
	})
	return r.written(i, c, ids, r.accountID, u.Raw, after, err)
}

// verify reads back until check reports the write visible on VerifyReads
// consecutive reads, reporting the wait; a read that fails with 404 counts
// as "not yet" (ignoreNotFound), any other failure ends the wait.
func (r *run) verify(ctx context.Context, i int, c Change, check func(context.Context) (bool, error)) error {
	start := r.o.Now()
	deadline := start.Add(r.o.VerifyTimeout)
	good := 0
	for {
		ok, err := check(ctx)
		if err != nil {
			return err
		}
		if ok {
			good++
			if good >= r.o.VerifyReads {
				r.o.Observer(Event{Kind: EventVerified, Index: i, Change: c, Elapsed: r.o.Now().Sub(start)})
				return nil
			}
		} else {
			good = 0
			r.o.Observer(Event{Kind: EventWaiting, Index: i, Change: c, Elapsed: r.o.Now().Sub(start)})
		}
		if r.o.Now().After(deadline) {
			return fmt.Errorf("verifying %s %s: %w", c.Object, c.Name, graph.ErrReplicationTimeout)
		}
		if err := r.pause(ctx); err != nil {
			return err
		}
	}
}

// waitFor reads until read stops answering 404 (an object made moments
// ago, still replicating), up to the verification deadline.
func (r *run) waitFor(ctx context.Context, read func(context.Context) error) error {
	deadline := r.o.Now().Add(r.o.VerifyTimeout)
	for {
		err := read(ctx)
		if !graph.IsNotFound(err) || r.o.Now().After(deadline) {
			return err
		}
		if err := r.pause(ctx); err != nil {
			return err
		}
	}
}

// pause waits VerifyPause between two reads, or until ctx ends.
func (r *run) pause(ctx context.Context) error {
	t := time.NewTimer(r.o.VerifyPause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func ignoreNotFound(err error) error {
	if graph.IsNotFound(err) {
		return nil
	}
	return err
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// rawJSON marshals v for the journal (nil stays nil).
func rawJSON(v any) json.RawMessage {
	switch x := v.(type) {
	case nil:
		return nil
	case json.RawMessage:
		return x
	}
	data, err := json.Marshal(v)
	if err != nil || string(data) == "null" {
		return nil
	}
	return data
}

// PermissionError is a write Graph refused with 403: it names what the
// write needs, so that the operator can get it and run again (apply
// resumes: what was done is planned as done).
type PermissionError struct {
	Object string
	Name   string
	Need   string
	Err    error
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("Graph refused to write the %s %s: it needs %s. Fix: sign in as an administrator who holds that (or have it granted), then run again; what was already done is kept and not repeated (%v)",
		e.Object, e.Name, e.Need, e.Err)
}

func (e *PermissionError) Unwrap() error { return e.Err }

// permissionNeeded names the delegated scope and the directory role a write
// of this kind of object needs (GRAPH-NOTES sections 2 and 6).
func permissionNeeded(object string) string {
	switch object {
	case ObjAccount, ObjAccountEnabled, ObjSessionRecord, "signInSessions":
		return "the User.ReadWrite.All scope and the User Administrator role (or Global Administrator)"
	case ObjRole:
		return "the RoleManagement.ReadWrite.Directory scope and the Privileged Role Administrator role (or Global Administrator)"
	case ObjNamedLocation, ObjPolicy, ObjExclusion:
		return "the Policy.ReadWrite.ConditionalAccess, Policy.Read.All and Application.Read.All scopes and the Conditional Access Administrator or Security Administrator role (or Global Administrator)"
	}
	return "a permission this sign-in lacks"
}

// explainForbidden turns a 403 into a PermissionError for the change.
func explainForbidden(c Change, err error) error {
	if err == nil || !graph.IsForbidden(err) {
		return err
	}
	var pe *PermissionError
	if errors.As(err, &pe) {
		return err
	}
	word := c.Object
	switch c.Object {
	case ObjNamedLocation:
		word = "named location"
	case ObjRole:
		word = "role assignment"
	case ObjSessionRecord:
		word = "session record on"
	case ObjAccountEnabled:
		word = "sign-in state of"
	}
	return &PermissionError{Object: word, Name: c.Name, Need: permissionNeeded(c.Object), Err: err}
}

// resetPassword gives the account a new password, handed out as a new
// account's is. The journal records that it was reset, never the value.
func (r *run) resetPassword(ctx context.Context, i int, c Change) error {
	pw := r.o.Password
	if pw.IsZero() {
		var err error
		if pw, err = NewPassword(); err != nil {
			return err
		}
	}
	if err := r.intent(i, c, nil); err != nil {
		return err
	}
	wctx, ids := graph.WithRequestIDs(ctx)
	value := pw.Reveal()
	err := r.w.UpdateUser(wctx, r.accountID, graph.UserPatch{Password: &value})
	if err == nil {
		r.res.Password = pw
		if r.o.OnPassword != nil {
			if err = r.o.OnPassword(pw); err == nil {
				err = r.o.Journal.Write(Entry{Type: EntryResult, Outcome: PasswordHandedOut, AccountID: r.accountID})
			}
		}
	}
	return r.journalResult(i, c, ids, r.accountID, nil, nil, err, err == nil)
}

// PasswordHandedOut is journaled (without the value) once a new password
// was written to its file, so that a resumed run knows it need not reset
// it.
const PasswordHandedOut = "password handed out"

// NeedsPasswordReset reports whether a run created the service account (or
// reset its password) and stopped before the password was handed out: the
// operator never saw it, so a resumed apply must give the account a new one.
func NeedsPasswordReset(ri RunInfo) bool {
	if ri.Finished {
		return false
	}
	made, handed := false, false
	for _, e := range ri.Entries {
		if e.Change != nil && ((e.Change.Object == ObjAccount && e.Change.Action == ActCreate) || e.Change.Object == ObjPassword) {
			made = true
		}
		if e.Outcome == PasswordHandedOut {
			handed = true
		}
	}
	return made && !handed
}

// Unfinished lists the apply runs that did not end (a crash, a dropped SSH
// connection), oldest first.
func Unfinished(runs []RunInfo) []RunInfo {
	var out []RunInfo
	for _, r := range runs {
		if r.Command == "apply" && !r.Finished {
			out = append(out, r)
		}
	}
	return out
}
