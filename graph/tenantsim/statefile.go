package tenantsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"mgmtsession/ca"
)

// stateError says where a state file does not fit the tenant's shape: a
// JSON path such as users[2].id, and why.
type stateError struct {
	Path, Reason string
}

func (e *stateError) Error() string { return e.Path + ": " + e.Reason }

// decodeState reads a state file (or the embedded demo tenant) and checks
// it, so that a hand-edited or truncated file is refused with the path of
// what is wrong instead of making a handler fail later: a null entry in a
// list, a missing id, a duplicate, a policy or location Graph could not read.
func decodeState(data []byte) (*state, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, jsonErrorAt(data, err, "")
	}
	if top == nil {
		return nil, &stateError{Path: "(document)", Reason: "not a JSON object"}
	}
	st := &state{}
	scalars := []struct {
		key string
		dst any
	}{
		{"tenantId", &st.TenantID}, {"displayName", &st.DisplayName}, {"operator", &st.Operator},
		{"securityDefaults", &st.SecurityDefaults}, {"caThrottle", &st.CAThrottle},
	}
	for _, f := range scalars {
		if raw, ok := top[f.key]; ok {
			if err := json.Unmarshal(raw, f.dst); err != nil {
				return nil, jsonErrorAt(raw, err, f.key)
			}
		}
	}
	lists := []struct {
		key string
		dst any // pointer to a slice
	}{
		{"domains", &st.Domains}, {"subscribedSkus", &st.SubscribedSkus}, {"users", &st.Users},
		{"groups", &st.Groups}, {"roleAssignments", &st.RoleAssignments}, {"signIns", &st.SignIns},
	}
	for _, f := range lists {
		if err := decodeList(top[f.key], f.key, f.dst); err != nil {
			return nil, err
		}
	}
	// Policies and named locations are decoded strictly, as Graph reads
	// them, but not validated: a tenant holds values newer than any
	// client's list of them (a new grant control, a new client app type).
	var err error
	if st.Policies, err = decodeCAList(top["policies"], "policies", ca.DecodePolicy); err != nil {
		return nil, err
	}
	if st.NamedLocations, err = decodeCAList(top["namedLocations"], "namedLocations", ca.DecodeNamedLocation); err != nil {
		return nil, err
	}
	if err := st.validate(); err != nil {
		return nil, err
	}
	return st, nil
}

// decodeList decodes a JSON array element by element, so that an error
// names the element; null elements are refused.
func decodeList(raw json.RawMessage, key string, dst any) error {
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return jsonErrorAt(raw, err, key)
	}
	slice := reflect.ValueOf(dst).Elem()
	elemType := slice.Type().Elem()
	out := reflect.MakeSlice(slice.Type(), 0, len(items))
	for i, item := range items {
		path := fmt.Sprintf("%s[%d]", key, i)
		if string(bytes.TrimSpace(item)) == "null" {
			return &stateError{Path: path, Reason: "null where an entry is expected"}
		}
		v := reflect.New(elemType)
		if err := json.Unmarshal(item, v.Interface()); err != nil {
			return jsonErrorAt(item, err, path)
		}
		out = reflect.Append(out, v.Elem())
	}
	slice.Set(out)
	return nil
}

func decodeCAList[T any](raw json.RawMessage, key string, decode func([]byte) (T, error)) ([]*T, error) {
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, jsonErrorAt(raw, err, key)
	}
	out := make([]*T, 0, len(items))
	for i, item := range items {
		path := fmt.Sprintf("%s[%d]", key, i)
		if string(bytes.TrimSpace(item)) == "null" {
			return nil, &stateError{Path: path, Reason: "null where an entry is expected"}
		}
		v, err := decode(item)
		if err != nil {
			var de *ca.DecodeError
			if errors.As(err, &de) {
				return nil, &stateError{Path: joinPath(path, de.Path), Reason: de.Reason}
			}
			return nil, &stateError{Path: path, Reason: err.Error()}
		}
		out = append(out, &v)
	}
	return out, nil
}

// jsonErrorAt turns encoding/json's error into one with a path (and a line
// and column for syntax errors, counted in data).
func jsonErrorAt(data []byte, err error, path string) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		col := int(se.Offset) - bytes.LastIndexByte(data[:min(int(se.Offset), len(data))], '\n') - 1
		where := fmt.Sprintf("line %d, column %d", line, col)
		if path != "" {
			where = path + " (" + where + ")"
		}
		return &stateError{Path: where, Reason: se.Error()}
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &stateError{Path: joinPath(path, te.Field), Reason: fmt.Sprintf("a JSON %s where a %s is expected", te.Value, te.Type)}
	}
	if path == "" {
		path = "(document)"
	}
	return &stateError{Path: path, Reason: err.Error()}
}

func joinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	case strings.HasPrefix(b, "["):
		return a + b
	}
	return a + "." + b
}

// validate checks what the handlers rely on: ids present and unique,
// references well formed, values from their enums.
func (st *state) validate() error {
	bad := func(path, format string, args ...any) error {
		return &stateError{Path: path, Reason: fmt.Sprintf(format, args...)}
	}
	if strings.TrimSpace(st.TenantID) == "" {
		return bad("tenantId", "missing")
	}
	for i, d := range st.Domains {
		if strings.TrimSpace(d.ID) == "" {
			return bad(fmt.Sprintf("domains[%d].id", i), "missing")
		}
	}
	for i, sku := range st.SubscribedSkus {
		if t := bytes.TrimSpace(sku); len(t) == 0 || t[0] != '{' {
			return bad(fmt.Sprintf("subscribedSkus[%d]", i), "not a JSON object")
		}
	}
	ids := map[string]string{} // object id (lower case) -> path of its owner
	claim := func(path, id string) error {
		if strings.TrimSpace(id) == "" {
			return bad(path, "missing")
		}
		if other, dup := ids[strings.ToLower(id)]; dup {
			return bad(path, "%q is already the id of %s", id, other)
		}
		ids[strings.ToLower(id)] = path
		return nil
	}
	upns := map[string]string{}
	for i, u := range st.Users {
		p := fmt.Sprintf("users[%d]", i)
		if err := claim(p+".id", u.ID); err != nil {
			return err
		}
		if strings.TrimSpace(u.UserPrincipalName) == "" {
			return bad(p+".userPrincipalName", "missing")
		}
		if other, dup := upns[strings.ToLower(u.UserPrincipalName)]; dup {
			return bad(p+".userPrincipalName", "%q is already the UPN of %s", u.UserPrincipalName, other)
		}
		upns[strings.ToLower(u.UserPrincipalName)] = p
		if !slices.Contains([]string{"", "disabled", "enabled", "enforced"}, u.PerUserMFAState) {
			return bad(p+".perUserMfaState", "%q is not disabled, enabled or enforced", u.PerUserMFAState)
		}
		if !slices.Contains([]string{"", "Member", "Guest"}, u.UserType) {
			return bad(p+".userType", "%q is not Member or Guest", u.UserType)
		}
		for j, m := range u.Methods {
			if _, ok := methodTypes[m]; !ok {
				return bad(fmt.Sprintf("%s.methods[%d]", p, j), "%q is not a known authentication method", m)
			}
		}
		for name, v := range u.Profile {
			pp, ok := profileProperties[name]
			if !ok {
				return bad(p+".profile."+name, "not a writable property of Graph's user")
			}
			raw, _ := json.Marshal(v)
			if _, gerr := pp.check(name, raw); gerr != nil {
				return bad(p+".profile."+name, "%s", gerr.Message)
			}
		}
		for j, e := range u.Extensions {
			ep := fmt.Sprintf("%s.extensions[%d]", p, j)
			if e == nil {
				return bad(ep, "null where an entry is expected")
			}
			if name, _ := e["extensionName"].(string); strings.TrimSpace(name) == "" {
				return bad(ep+".extensionName", "missing")
			}
		}
	}
	for i, g := range st.Groups {
		p := fmt.Sprintf("groups[%d]", i)
		if err := claim(p+".id", g.ID); err != nil {
			return err
		}
		for j, m := range g.Members {
			if strings.TrimSpace(m) == "" {
				return bad(fmt.Sprintf("%s.members[%d]", p, j), "missing (null or empty) member id")
			}
		}
	}
	raIDs := map[string]bool{}
	for i, ra := range st.RoleAssignments {
		p := fmt.Sprintf("roleAssignments[%d]", i)
		for _, f := range []struct{ name, val string }{{"id", ra.ID}, {"principalId", ra.PrincipalID}, {"roleDefinitionId", ra.RoleDefinitionID}, {"directoryScopeId", ra.DirectoryScopeID}} {
			if strings.TrimSpace(f.val) == "" {
				return bad(p+"."+f.name, "missing")
			}
		}
		if raIDs[ra.ID] {
			return bad(p+".id", "%q is already the id of another role assignment", ra.ID)
		}
		raIDs[ra.ID] = true
	}
	for i, pol := range st.Policies {
		if err := claim(fmt.Sprintf("policies[%d].id", i), pol.ID); err != nil {
			return err
		}
	}
	for i, l := range st.NamedLocations {
		if err := claim(fmt.Sprintf("namedLocations[%d].id", i), l.ID); err != nil {
			return err
		}
	}
	return nil
}
