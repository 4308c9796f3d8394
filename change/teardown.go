package change

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"mgmtsession/ca"
	"mgmtsession/graph"
)

// Actions of undo, remove and the session commands.
const (
	ActDelete   = "delete"
	ActUnassign = "unassign"
	ActInclude  = "unexclude" // an exclusion taken out
	ActRestore  = "restore"
	ActDisable  = "disable"
	ActRevoke   = "revoke"
)

// step is one write of undo, remove, on or off, with the read that proves
// it (nil: the write's own answer is the proof).
type step struct {
	c      Change
	before any
	do     func(ctx context.Context) error
	check  func(ctx context.Context) (bool, error)
}

// runSteps journals and makes the steps in order: intent, write, verify,
// result, as Apply does.
func runSteps(ctx context.Context, command string, w Writer, o Options, tenantID, accountID string, ss []step) (*Result, error) {
	o.defaults()
	r := &run{w: w, o: o, accountID: accountID, res: &Result{Done: []Change{}}, requestIDs: map[int]string{}}
	if o.Journal != nil {
		r.res.Run, r.res.Journal = o.Journal.Run, o.Journal.Path
	}
	if err := o.Journal.Write(Entry{Type: EntryBegin, Command: command, Operator: o.Operator, Tenant: tenantID, AccountID: accountID}); err != nil {
		return r.res, err
	}
	var err error
	for i, s := range ss {
		r.o.Observer(Event{Kind: EventStarted, Index: i, Change: s.c})
		if err = r.intent(i, s.c, s.before); err != nil {
			break
		}
		wctx, ids := graph.WithRequestIDs(ctx)
		err = s.do(wctx)
		wrote := err == nil
		if err == nil && s.check != nil {
			err = r.verify(ctx, i, s.c, s.check)
		}
		if jerr := r.journalResult(i, s.c, ids, s.c.ID, s.before, nil, err, wrote); jerr != nil {
			err = jerr
		}
		if err != nil {
			err = explainForbidden(s.c, err)
			r.o.Observer(Event{Kind: EventFailed, Index: i, Change: s.c, Err: err})
			break
		}
		done := s.c
		done.RequestID = r.requestIDs[i]
		r.res.Done = append(r.res.Done, done)
	}
	if ctx.Err() == nil {
		outcome := "done"
		if err != nil {
			outcome = "failed"
		}
		if jerr := o.Journal.Write(Entry{Type: EntryEnd, Outcome: outcome, Error: errString(err), AccountID: accountID}); jerr != nil && err == nil {
			err = jerr
		}
	}
	r.res.AccountID = accountID
	return r.res, err
}

// unexcludeStep takes the account out of a policy's excluded users, and
// only it: the PATCH carries that one list, as read just before.
func unexcludeStep(w Writer, policyID, name, accountID string) step {
	c := Change{Action: ActInclude, Object: ObjExclusion, ID: policyID, Name: name}
	return step{c: c,
		do: func(ctx context.Context) error {
			p, err := w.Policy(ctx, policyID)
			if graph.IsNotFound(err) {
				return nil // the policy is gone: so is the exclusion
			}
			if err != nil {
				return err
			}
			if !excludes(p, accountID) {
				return nil
			}
			rest := slices.DeleteFunc(slices.Clone(p.Conditions.Users.ExcludeUsers), func(id string) bool { return strings.EqualFold(id, accountID) })
			return w.SetPolicyExcludedUsers(ctx, policyID, rest)
		},
		check: func(ctx context.Context) (bool, error) {
			p, err := w.Policy(ctx, policyID)
			if graph.IsNotFound(err) {
				return true, nil
			}
			return err == nil && !excludes(p, accountID), err
		},
	}
}

func deletePolicyStep(w Writer, id, name string) step {
	return step{c: Change{Action: ActDelete, Object: ObjPolicy, ID: id, Name: name},
		do: func(ctx context.Context) error { return w.DeletePolicy(ctx, id) },
		check: func(ctx context.Context) (bool, error) {
			_, err := w.Policy(ctx, id)
			return graph.IsNotFound(err), ignoreNotFound(err)
		},
	}
}

func deleteLocationStep(w Writer, id, name string) step {
	return step{c: Change{Action: ActDelete, Object: ObjNamedLocation, ID: id, Name: name},
		do: func(ctx context.Context) error {
			l, err := w.NamedLocation(ctx, id)
			if graph.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			return w.DeleteNamedLocation(ctx, l)
		},
		check: func(ctx context.Context) (bool, error) {
			_, err := w.NamedLocation(ctx, id)
			return graph.IsNotFound(err), ignoreNotFound(err)
		},
	}
}

func deleteAccountStep(w Writer, id, upn string) step {
	return step{c: Change{Action: ActDelete, Object: ObjAccount, ID: id, Name: upn},
		do: func(ctx context.Context) error { return w.DeleteUser(ctx, id) },
		check: func(ctx context.Context) (bool, error) {
			_, err := w.User(ctx, id)
			return graph.IsNotFound(err), ignoreNotFound(err)
		},
	}
}

func recordStep(w Writer, accountID string, props map[string]any, want *Record) step {
	c := Change{Action: ActRecord, Object: ObjSessionRecord, ID: accountID, Name: graph.StateExtension}
	if props == nil {
		c.Action = ActDelete
		return step{c: c,
			do: func(ctx context.Context) error { return w.DeleteExtension(ctx, accountID, graph.StateExtension) },
			check: func(ctx context.Context) (bool, error) {
				_, found, err := w.Extension(ctx, accountID, graph.StateExtension)
				return !found, ignoreNotFound(err)
			},
		}
	}
	c.After, _ = json.Marshal(props)
	return step{c: c,
		do: func(ctx context.Context) error { return w.SetExtension(ctx, accountID, graph.StateExtension, props) },
		check: func(ctx context.Context) (bool, error) {
			got, found, err := w.Extension(ctx, accountID, graph.StateExtension)
			if err != nil || !found {
				return false, ignoreNotFound(err)
			}
			if want == nil {
				return true, nil
			}
			r, err := RecordFromProperties(got)
			return err == nil && r.Equal(*want), nil
		},
	}
}

func enableStep(w Writer, accountID, upn string, on bool) step {
	c := Change{Action: ActEnable, Object: ObjAccountEnabled, ID: accountID, Name: upn}
	if !on {
		c.Action = ActDisable
	}
	return step{c: c,
		do: func(ctx context.Context) error {
			return w.UpdateUser(ctx, accountID, graph.UserPatch{AccountEnabled: &on})
		},
		check: func(ctx context.Context) (bool, error) {
			u, err := w.User(ctx, accountID)
			return err == nil && u.AccountEnabled == on, ignoreNotFound(err)
		},
	}
}

// ---------------------------------------------------------------- undo

// ForeignChangeError refuses an undo because someone else changed an
// object since the run.
type ForeignChangeError struct {
	Object, Name, What string
}

func (e *ForeignChangeError) Error() string {
	return fmt.Sprintf("nothing was undone: %s %q was changed by someone else since the run (%s); look at it, then undo with --force to go on", e.Object, e.Name, e.What)
}

// UndoPlan is what undoing a run will do.
type UndoPlan struct {
	Run      string   `json:"run"`
	Changes  []Change `json:"changes"`
	TenantID string   `json:"tenantId"`
	steps    []step
	account  string
}

// PlanUndo reads the run's journal and lists, in reverse order, the writes
// that restore what it changed: exclusions out first, then the policy, the
// location, the roles, the account. Each object is re-read; one that
// someone else changed since (its state is neither what the run left nor
// what a later run of this product left) refuses the undo unless force.
// later are the tenant's runs after this one.
func PlanUndo(ctx context.Context, w Writer, run RunInfo, later []RunInfo, force bool) (*UndoPlan, error) {
	u := &UndoPlan{Run: run.Run, Changes: []Change{}}
	// What this product last wrote to each object, this run or later.
	lastAfter := map[string]json.RawMessage{}
	for _, ri := range append([]RunInfo{run}, later...) {
		for _, e := range ri.Entries {
			if e.Type == EntryResult && e.Error == "" && e.ObjectID != "" && e.After != nil && e.Change != nil {
				lastAfter[e.Change.Object+"/"+e.ObjectID] = e.After
			}
		}
	}
	var results []Entry
	intents := map[int]Entry{} // index -> intent, for writes whose answer was lost
	for _, e := range run.Entries {
		switch {
		case e.Type == EntryBegin:
			u.TenantID = e.Tenant
		case e.Type == EntryResult && (e.Error == "" || e.Written) && e.Change != nil:
			results = append(results, e)
		case e.Type == EntryIntent && e.Change != nil:
			intents[e.Index] = e
		}
		if e.AccountID != "" {
			u.account = e.AccountID
		}
	}
	// A write whose intent is journaled but whose answer never came (the
	// process or the connection died in between) may have happened: undo
	// takes back a create found by the name this product gives it, and an
	// exclusion found in the policy.
	for _, e := range results {
		delete(intents, e.Index)
	}
	for _, e := range run.Entries {
		if e.Type == EntryResult && e.Change != nil && e.Refused {
			delete(intents, e.Index) // refused by Graph: it did not happen
		}
	}
	lost, err := lostWrites(ctx, w, intents)
	if err != nil {
		return nil, err
	}
	results = append(results, lost...)
	slices.SortStableFunc(results, func(a, b Entry) int { return a.Seq - b.Seq })
	accountGone := false // the account this run created no longer exists
	for k := len(results) - 1; k >= 0; k-- {
		e := results[k]
		c := e.Change
		switch c.Object {
		case ObjExclusion:
			if c.Action != ActExclude {
				continue
			}
			p, err := w.Policy(ctx, e.ObjectID)
			if graph.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if !excludes(p, e.AccountID) {
				continue // taken out already
			}
			var want []string
			_ = json.Unmarshal(lastAfter[ObjExclusion+"/"+e.ObjectID], &want)
			if want != nil && !sameSet(p.Conditions.Users.ExcludeUsers, want) && !force {
				return nil, &ForeignChangeError{Object: "policy", Name: p.DisplayName, What: "its excluded users"}
			}
			u.add(unexcludeStep(w, p.ID, p.DisplayName, e.AccountID))
		case ObjSessionRecord:
			var props map[string]any
			if len(e.Before) > 0 && string(e.Before) != "null" {
				_ = json.Unmarshal(e.Before, &props)
			}
			if _, found, err := w.Extension(ctx, e.ObjectID, graph.StateExtension); graph.IsNotFound(err) || (err == nil && !found && props == nil) {
				continue
			} else if err != nil {
				return nil, err
			}
			var want *Record
			if props != nil {
				want, _ = RecordFromProperties(props)
			}
			s := recordStep(w, e.ObjectID, props, want)
			s.c.Action = ActRestore
			if props == nil {
				s.c.Action = ActDelete
			}
			u.add(s)
		case ObjAccountEnabled:
			u.add(enableStep(w, e.ObjectID, c.Name, false))
		case ObjPolicy:
			p, err := w.Policy(ctx, e.ObjectID)
			if graph.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			var last ca.Policy
			if json.Unmarshal(lastAfter[ObjPolicy+"/"+e.ObjectID], &last) == nil && last.ID != "" {
				if d := policyDiffers(p, last); len(d) > 0 && !force {
					return nil, &ForeignChangeError{Object: "policy", Name: p.DisplayName, What: strings.Join(d, ", ")}
				}
			}
			if c.Action == ActCreate {
				u.add(deletePolicyStep(w, p.ID, p.DisplayName))
			} else {
				var before ca.Policy
				if err := json.Unmarshal(e.Before, &before); err == nil && before.ID != "" {
					u.add(step{c: Change{Action: ActRestore, Object: ObjPolicy, ID: p.ID, Name: p.DisplayName},
						do: func(ctx context.Context) error { return w.UpdatePolicy(ctx, before) },
						check: func(ctx context.Context) (bool, error) {
							got, err := w.Policy(ctx, before.ID)
							return err == nil && len(policyDiffers(got, before)) == 0, ignoreNotFound(err)
						}})
				}
			}
		case ObjNamedLocation:
			l, err := w.NamedLocation(ctx, e.ObjectID)
			if graph.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			var last ca.NamedLocation
			if json.Unmarshal(lastAfter[ObjNamedLocation+"/"+e.ObjectID], &last) == nil && last.ID != "" {
				lr, _ := locationRanges(last)
				if g, _ := locationRanges(l); !slices.Equal(g, lr) && !force {
					return nil, &ForeignChangeError{Object: "named location", Name: l.DisplayName, What: "its ranges"}
				}
			}
			if c.Action == ActCreate {
				u.add(deleteLocationStep(w, l.ID, l.DisplayName))
			} else {
				var before ca.NamedLocation
				if err := json.Unmarshal(e.Before, &before); err == nil && before.ID != "" {
					u.add(step{c: Change{Action: ActRestore, Object: ObjNamedLocation, ID: l.ID, Name: l.DisplayName},
						do: func(ctx context.Context) error { return w.UpdateNamedLocation(ctx, before) }})
				}
			}
		case ObjRole:
			id := e.ObjectID
			acct := e.AccountID
			ref := c.Ref
			u.add(step{c: Change{Action: ActUnassign, Object: ObjRole, ID: id, Name: c.Name, Ref: c.Ref},
				do: func(ctx context.Context) error {
					if id != "" {
						return w.RemoveRoleAssignment(ctx, id)
					}
					as, err := w.RoleAssignments(ctx, acct)
					if err != nil {
						return ignoreNotFound(err)
					}
					for _, a := range as {
						if strings.EqualFold(a.RoleDefinitionID, ref) {
							if err := w.RemoveRoleAssignment(ctx, a.ID); err != nil {
								return err
							}
						}
					}
					return nil
				}})
		case ObjAccount:
			if c.Action != ActCreate {
				continue
			}
			if _, err := w.User(ctx, e.ObjectID); graph.IsNotFound(err) {
				accountGone = true // deleted already (an earlier undo, or someone)
				continue
			} else if err != nil {
				return nil, err
			}
			u.add(deleteAccountStep(w, e.ObjectID, c.Name))
		}
	}
	// A deleted account takes its roles, record and enabled state with it:
	// those steps are moot when the account goes, or is gone already.
	if accountGone || slices.ContainsFunc(u.steps, func(s step) bool { return s.c.Object == ObjAccount && s.c.Action == ActDelete }) {
		u.steps = slices.DeleteFunc(u.steps, func(s step) bool {
			return s.c.Object == ObjRole || s.c.Object == ObjSessionRecord || s.c.Object == ObjAccountEnabled
		})
	}
	for _, s := range u.steps {
		u.Changes = append(u.Changes, s.c)
	}
	return u, nil
}

func (u *UndoPlan) add(s step) { u.steps = append(u.steps, s) }

// Undo makes the undo plan's writes, journaled as a run of its own.
func Undo(ctx context.Context, w Writer, u *UndoPlan, o Options) (*Result, error) {
	return runSteps(ctx, "undo", w, o, u.TenantID, u.account, u.steps)
}

// ---------------------------------------------------------------- remove

// RemovePlan is what "disable advanced management" will delete, found
// through the tenant's own session record (or, without one, the names this
// product gives its objects), so that it works from any machine.
type RemovePlan struct {
	TenantID string   `json:"tenantId"`
	UPN      string   `json:"userPrincipalName"`
	Changes  []Change `json:"changes"`
	steps    []step
	account  string
}

// Empty reports whether there is nothing to remove.
func (r *RemovePlan) Empty() bool { return len(r.steps) == 0 }

// PlanRemove lists the deletions: the exclusions out first, then the
// account's policy, its named location, then the account itself when this
// product created it (in Global Admin mode, or for an adopted account, only
// the protection and the record go).
func PlanRemove(w Writer, f *Facts, upn string) *RemovePlan {
	rp := &RemovePlan{TenantID: f.TenantID, UPN: upn, Changes: []Change{}}
	a := f.Account
	var rec Record
	if a != nil && a.Record != nil {
		rec = *a.Record
	}
	accountID := ""
	if a != nil {
		accountID = a.User.ID
		rp.account = accountID
	}
	deletingAccount := a != nil && rec.CreatedAccount && rec.Mode != GlobalAdmin
	if a != nil {
		for _, p := range f.Policies {
			if !excludes(p, accountID) {
				continue
			}
			// Exclusions this product made go; when the account itself
			// goes, every exclusion naming it goes (its id would name
			// nothing).
			if containsFold(rec.ExcludedFrom, p.ID) || deletingAccount {
				rp.add(unexcludeStep(w, p.ID, p.DisplayName, accountID))
			}
		}
	}
	if pol := findPolicy(f.Policies, rec.PolicyID, PolicyName(upn)); pol != nil {
		rp.add(deletePolicyStep(w, pol.ID, pol.DisplayName))
	}
	if loc := findLocation(f.Locations, rec.NamedLocationID, LocationName(upn)); loc != nil {
		rp.add(deleteLocationStep(w, loc.ID, loc.DisplayName))
	}
	switch {
	case deletingAccount:
		rp.add(deleteAccountStep(w, accountID, a.User.UserPrincipalName))
	case a != nil && a.Record != nil:
		rp.add(recordStep(w, accountID, nil, nil))
	}
	for _, s := range rp.steps {
		rp.Changes = append(rp.Changes, s.c)
	}
	return rp
}

func (r *RemovePlan) add(s step) { r.steps = append(r.steps, s) }

// Remove makes the removal's writes, journaled.
func Remove(ctx context.Context, w Writer, rp *RemovePlan, o Options) (*Result, error) {
	return runSteps(ctx, "remove", w, o, rp.TenantID, rp.account, rp.steps)
}

// ---------------------------------------------------------------- on / off

// SessionError refuses on or off: there is no management session, or
// turning it off needs --force.
type SessionError struct{ Cause, Fix string }

func (e *SessionError) Error() string { return e.Cause + ". Fix: " + e.Fix }

// SetSession turns the management session on or off (SPEC section 8). On:
// the account enabled and verified, then the state recorded. Off: the
// account disabled and its sign-in sessions revoked, then recorded; with
// auto-enable on it needs force. In Global Admin mode only the state is
// recorded.
func SetSession(ctx context.Context, w Writer, f *Facts, on, force bool, o Options) (*Result, error) {
	o.defaults()
	a := f.Account
	if a == nil || a.Record == nil {
		return nil, &SessionError{Cause: "there is no management session in this tenant (no account with a session record)",
			Fix: "set it up first: mgmtsession apply, or the wizard"}
	}
	rec := *a.Record
	if !on && rec.AutoEnable && !force {
		return nil, &SessionError{Cause: "auto-enable is on: the platform expects the account to stay enabled so that it can start a session whenever an operator acts",
			Fix: "turn it off anyway with --force, or apply with autoEnable: false first"}
	}
	var ss []step
	if rec.Mode != GlobalAdmin {
		if a.User.AccountEnabled != on {
			ss = append(ss, enableStep(w, a.User.ID, a.User.UserPrincipalName, on))
		}
		if !on {
			id := a.User.ID
			ss = append(ss, step{c: Change{Action: ActRevoke, Object: "signInSessions", ID: id, Name: a.User.UserPrincipalName},
				do: func(ctx context.Context) error { return w.RevokeSessions(ctx, id) }})
		}
	}
	rec.Session = SessionOff
	if on {
		rec.Session = SessionOn
	}
	rec = rec.stamped(o.Now(), o.Operator)
	ss = append(ss, recordStep(w, a.User.ID, rec.properties(), &rec))
	cmd := "off"
	if on {
		cmd = "on"
	}
	res, err := runSteps(ctx, cmd, w, o, f.TenantID, a.User.ID, ss)
	if res != nil {
		res.Record = rec
	}
	return res, err
}

// lostWrites turns the intents of writes whose answer was lost into results
// for what the tenant shows happened: a create of the account, the named
// location or the policy is found by its name, an exclusion by reading the
// policy. What did not happen is left out.
func lostWrites(ctx context.Context, w Writer, intents map[int]Entry) ([]Entry, error) {
	var out []Entry
	for _, e := range intents {
		c := e.Change
		found := e
		found.Type = EntryResult
		switch {
		case c.Object == ObjAccount && c.Action == ActCreate:
			u, err := w.User(ctx, c.Name)
			if graph.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if !looksLikeManagementAccount(u) {
				continue
			}
			found.ObjectID, found.AccountID = u.ID, u.ID
		case c.Object == ObjNamedLocation && c.Action == ActCreate:
			ls, err := w.NamedLocations(ctx)
			if err != nil {
				return nil, err
			}
			l := findLocation(ls, "", c.Name)
			if l == nil {
				continue
			}
			found.ObjectID = l.ID
		case c.Object == ObjPolicy && c.Action == ActCreate:
			ps, err := w.Policies(ctx)
			if err != nil {
				return nil, err
			}
			p := findPolicy(ps, "", c.Name)
			if p == nil {
				continue
			}
			found.ObjectID = p.ID
		case c.Object == ObjExclusion && c.Action == ActExclude && e.AccountID != "":
			p, err := w.Policy(ctx, c.ID)
			if graph.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if !excludes(p, e.AccountID) {
				continue
			}
			found.ObjectID = c.ID
		default:
			continue
		}
		out = append(out, found)
	}
	return out, nil
}
