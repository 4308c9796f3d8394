package change

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Record is the management session's state as the tenant itself holds it
// (SPEC section 8): an open extension on the management account, so that
// every operator and every run, from any machine, sees the same truth and
// `remove` finds what to delete without a local journal.
type Record struct {
	// Mode is the account mode the objects were made for.
	Mode AccountMode `json:"mode"`
	// NamedLocationID and PolicyID are the objects this product owns for
	// the account.
	NamedLocationID string `json:"namedLocationId,omitempty"`
	PolicyID        string `json:"policyId,omitempty"`
	// ExcludedFrom are the tenant policies this product excluded the
	// account from (their ids), so that undo and remove take exactly
	// these exclusions out, and status can tell one taken out by someone.
	ExcludedFrom []string `json:"excludedFrom,omitempty"`
	// AllowedIPs are the ranges as the operator last applied them.
	AllowedIPs []string `json:"allowedIPs,omitempty"`
	// PolicyState is the state the account's policy was applied with, and
	// Roles the role template ids assigned, so that status can tell a
	// policy disabled or a role added by someone (drift).
	PolicyState PolicyState `json:"policyState,omitempty"`
	Roles       []string    `json:"roles,omitempty"`
	// Session is "on" or "off"; Since and By say when and who changed it.
	Session string `json:"session,omitempty"`
	Since   string `json:"since,omitempty"`
	By      string `json:"by,omitempty"`
	// AutoEnable keeps the account enabled so that the platform can start
	// a session whenever an operator acts.
	AutoEnable bool `json:"autoEnable"`
	// CreatedAccount is true when this product created the account (so
	// that remove deletes it; an adopted or Global Admin account is never
	// deleted).
	CreatedAccount bool `json:"createdAccount,omitempty"`
}

// Session states.
const (
	SessionOn     = "on"
	SessionOff    = "off"
	SessionAbsent = "absent"
)

// recordKeys are the extension properties a Record writes: an open
// extension keeps properties that a later version stops writing, so a
// reader must ignore what it does not know.
func (r Record) properties() map[string]any {
	data, _ := json.Marshal(r) // a Record always marshals
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	// Lists are stored even when empty, so that a PATCH clears them.
	if _, ok := m["excludedFrom"]; !ok {
		m["excludedFrom"] = []string{}
	}
	for _, k := range []string{"allowedIPs", "roles"} {
		if _, ok := m[k]; !ok {
			m[k] = []string{}
		}
	}
	return m
}

// RecordFromProperties reads a Record from the extension's properties as
// Graph returned them. Unknown properties are ignored; a property of the
// wrong type is an error naming it, since a plan made from a misread
// record could adopt or delete the wrong object.
func RecordFromProperties(props map[string]any) (*Record, error) {
	if props == nil {
		return nil, nil
	}
	data, err := json.Marshal(props)
	if err != nil {
		return nil, fmt.Errorf("reading the session record: %w", err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("reading the session record on the account: %w", err)
	}
	switch r.Mode {
	case "", ServiceAccount, GlobalAdmin:
	default:
		return nil, fmt.Errorf("reading the session record on the account: unknown mode %q", r.Mode)
	}
	return &r, nil
}

// Equal reports whether two records hold the same state, the time and the
// operator of the last change aside.
func (r Record) Equal(o Record) bool {
	norm := func(x Record) Record {
		x.Since, x.By = "", ""
		x.ExcludedFrom = sortedLower(x.ExcludedFrom)
		x.AllowedIPs = slices.Clone(x.AllowedIPs)
		slices.Sort(x.AllowedIPs)
		x.Roles = sortedLower(x.Roles)
		return x
	}
	a, b := norm(r), norm(o)
	return a.Mode == b.Mode && a.NamedLocationID == b.NamedLocationID && a.PolicyID == b.PolicyID &&
		slices.Equal(a.ExcludedFrom, b.ExcludedFrom) && slices.Equal(a.AllowedIPs, b.AllowedIPs) &&
		a.PolicyState == b.PolicyState && slices.Equal(a.Roles, b.Roles) &&
		a.Session == b.Session && a.AutoEnable == b.AutoEnable && a.CreatedAccount == b.CreatedAccount
}

// stamped is the record with the time and operator of a change.
func (r Record) stamped(now time.Time, by string) Record {
	r.Since, r.By = now.UTC().Format(time.RFC3339), by
	return r
}

func sortedLower(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, strings.ToLower(id))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
