package ca

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// DecodeError says where a JSON document does not fit the Graph shape, and
// why. Path is a JSON path such as conditions.users.includeUsers[2]; it is
// empty for the document as a whole.
type DecodeError struct {
	Path   string
	Reason string
}

func (e *DecodeError) Error() string {
	path := e.Path
	if path == "" {
		path = "(document)"
	}
	return "ca: " + path + ": " + e.Reason
}

// DecodePolicy decodes a conditionalAccessPolicy create or PATCH body the way
// a strict Graph server reads it: a wrong JSON type or a property the type
// does not have is an error naming its path. OData annotations ("@odata.*"
// keys and "property@odata.*" keys) are ignored wherever they are not
// modelled. The result is not validated; see ValidatePolicy.
func DecodePolicy(data []byte) (Policy, error) {
	var p Policy
	err := decodeJSON(data, &p, true, "", nil)
	return p, err
}

// DecodeNamedLocation decodes a namedLocation body strictly, as DecodePolicy
// does. Properties of the other kind of location are unknown properties:
// countriesAndRegions "does not exist" on an ipNamedLocation.
func DecodeNamedLocation(data []byte) (NamedLocation, error) {
	// @odata.type decides which properties exist, and it may come last, so
	// read it first. A body this cannot read gets its error from the strict
	// pass below.
	var peek struct {
		ODataType string `json:"@odata.type"`
	}
	_ = json.Unmarshal(data, &peek)
	name, keys := namedLocationShape(peek.ODataType)
	var l NamedLocation
	err := decodeJSON(data, &l, true, name, keys)
	return l, err
}

// namedLocationShape gives the Graph type name and the allowed properties of
// a named location of the given @odata.type; nil keys allow every modelled
// property (the @odata.type is then wrong, which ValidateNamedLocation says).
func namedLocationShape(odataType string) (string, map[string]bool) {
	common := []string{"@odata.type", "id", "displayName", "createdDateTime", "modifiedDateTime"}
	var extra []string
	switch odataType {
	case ODataIPNamedLocation:
		extra = []string{"isTrusted", "ipRanges"}
	case ODataCountryLocation:
		extra = []string{"countriesAndRegions", "includeUnknownCountriesAndRegions", "countryLookupMethod"}
	default:
		return "microsoft.graph.namedLocation", nil
	}
	keys := make(map[string]bool, len(common)+len(extra))
	for _, k := range append(common, extra...) {
		keys[k] = true
	}
	return strings.TrimPrefix(odataType, "#"), keys
}

// Principal is a user in an offline snapshot (SPEC 5.3).
type Principal struct {
	ID                string   `json:"id"`
	UserPrincipalName string   `json:"userPrincipalName"`
	UserType          string   `json:"userType"` // Member | Guest
	MemberOf          []string `json:"memberOf"` // transitive group ids
	Roles             []string `json:"roles"`    // role template ids
	// ExternalUserType and HomeTenantID say what kind of external user the
	// principal is and where from, as userSignIn names them; older
	// snapshots have neither, and the principal is then judged by UserType.
	ExternalUserType string `json:"externalUserType,omitempty"`
	HomeTenantID     string `json:"homeTenantId,omitempty"`
}

// Subject is the principal as the evaluator sees it.
func (p Principal) Subject() Subject {
	return Subject{
		UserID: p.ID,
		Groups: p.MemberOf,
		Roles:  p.Roles,
		Guest:  strings.EqualFold(p.UserType, "Guest"),

		ExternalUserType: p.ExternalUserType,
		HomeTenant:       p.HomeTenantID,
	}
}

// Snapshot is the offline analysis file that export writes and
// whatif --snapshot reads (SPEC 5.3).
type Snapshot struct {
	TenantID       string          `json:"tenantId"`
	Policies       []Policy        `json:"policies"`
	NamedLocations []NamedLocation `json:"namedLocations"`
	Principals     []Principal     `json:"principals"`
}

// ParseSnapshot reads a snapshot. Unknown properties are ignored, so a file
// holding Graph objects with properties this package does not model still
// loads; a value of the wrong JSON type, or malformed JSON, is a
// *DecodeError naming its path, such as
// policies[3].conditions.users.includeUsers[0].
func ParseSnapshot(data []byte) (*Snapshot, error) {
	var s Snapshot
	if err := decodeJSON(data, &s, false, "", nil); err != nil {
		return nil, err
	}
	return &s, nil
}

// Principal finds a principal by object id or user principal name, ignoring
// case in both.
func (s *Snapshot) Principal(upnOrID string) (Principal, bool) {
	for _, p := range s.Principals {
		if strings.EqualFold(p.ID, upnOrID) || (p.UserPrincipalName != "" && strings.EqualFold(p.UserPrincipalName, upnOrID)) {
			return p, true
		}
	}
	return Principal{}, false
}

// maxDepth bounds nesting so that a hostile document cannot exhaust the
// stack; Graph objects nest a handful of levels.
const maxDepth = 256

// walker decodes a JSON document into a Go value token by token, keeping the
// JSON path of the current value so that every error can name it. One walker
// serves the strict create/PATCH decoding and the lenient snapshot reading.
type walker struct {
	dec    *json.Decoder
	strict bool
	path   []byte
	depth  int
	// rootName, when set, is the Graph type name of the root object; and
	// rootKeys, when set, are the only properties it may have.
	rootName string
	rootKeys map[string]bool
}

func decodeJSON(data []byte, v any, strict bool, rootName string, rootKeys map[string]bool) error {
	w := &walker{dec: json.NewDecoder(bytes.NewReader(data)), strict: strict, rootName: rootName, rootKeys: rootKeys}
	w.dec.UseNumber()
	tok, err := w.dec.Token()
	if err == io.EOF {
		return &DecodeError{Reason: "empty document"}
	}
	if err != nil {
		return w.syntax(err)
	}
	if err := w.value(tok, reflect.ValueOf(v).Elem()); err != nil {
		return err
	}
	if _, err := w.dec.Token(); err != io.EOF {
		return &DecodeError{Reason: "unexpected data after the top-level value"}
	}
	return nil
}

func (w *walker) fail(reason string) error {
	return &DecodeError{Path: string(w.path), Reason: reason}
}

func (w *walker) syntax(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return w.fail("unexpected end of JSON input")
	case errors.As(err, &se):
		return w.fail("invalid JSON: " + se.Error())
	}
	return w.fail(err.Error())
}

func (w *walker) token() (json.Token, error) {
	tok, err := w.dec.Token()
	if err != nil {
		return nil, w.syntax(err)
	}
	return tok, nil
}

func (w *walker) pushKey(k string) int {
	n := len(w.path)
	if n > 0 {
		w.path = append(w.path, '.')
	}
	w.path = append(w.path, k...)
	return n
}

func (w *walker) pushIndex(i int) int {
	n := len(w.path)
	w.path = append(w.path, '[')
	w.path = strconv.AppendInt(w.path, int64(i), 10)
	w.path = append(w.path, ']')
	return n
}

func (w *walker) pop(n int) { w.path = w.path[:n] }

// enter and leave track nesting depth around an object or array.
func (w *walker) enter() error {
	if w.depth++; w.depth > maxDepth {
		return w.fail("nested too deeply")
	}
	return nil
}

func (w *walker) leave() error {
	w.depth--
	_, err := w.token() // the closing delimiter; the decoder checks it matches
	return err
}

// value decodes the value that starts with tok into v. JSON null leaves the
// zero value, as Graph's nullable properties allow.
func (w *walker) value(tok json.Token, v reflect.Value) error {
	if tok == nil {
		v.SetZero()
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		n := reflect.New(v.Type().Elem())
		if err := w.value(tok, n.Elem()); err != nil {
			return err
		}
		v.Set(n)
		return nil
	case reflect.String:
		s, ok := tok.(string)
		if !ok {
			return w.fail("expected string")
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := tok.(bool)
		if !ok {
			return w.fail("expected boolean")
		}
		v.SetBool(b)
		return nil
	case reflect.Slice:
		if tok != json.Delim('[') {
			return w.fail("expected array")
		}
		return w.array(v)
	case reflect.Struct:
		if tok != json.Delim('{') {
			return w.fail("expected object")
		}
		return w.object(v)
	case reflect.Map:
		if tok != json.Delim('{') {
			return w.fail("expected object")
		}
		return w.mapOfAny(v)
	case reflect.Interface:
		x, err := w.any(tok)
		if err != nil {
			return err
		}
		if x == nil {
			v.SetZero()
		} else {
			v.Set(reflect.ValueOf(x))
		}
		return nil
	}
	return w.fail("unsupported Go type " + v.Type().String())
}

func (w *walker) array(v reflect.Value) error {
	if err := w.enter(); err != nil {
		return err
	}
	out := reflect.MakeSlice(v.Type(), 0, 0)
	for i := 0; w.dec.More(); i++ {
		mark := w.pushIndex(i)
		tok, err := w.token()
		if err != nil {
			return err
		}
		e := reflect.New(v.Type().Elem()).Elem()
		if err := w.value(tok, e); err != nil {
			return err
		}
		out = reflect.Append(out, e)
		w.pop(mark)
	}
	v.Set(out)
	return w.leave()
}

func (w *walker) object(v reflect.Value) error {
	if err := w.enter(); err != nil {
		return err
	}
	atRoot := w.depth == 1
	info := structInfoOf(v.Type())
	for w.dec.More() {
		tok, err := w.token()
		if err != nil {
			return err
		}
		key, _ := tok.(string) // the decoder only returns strings as keys
		mark := w.pushKey(key)
		idx, known := info.fields[key]
		if known && atRoot && w.rootKeys != nil && !w.rootKeys[key] {
			known = false
		}
		if tok, err = w.token(); err != nil {
			return err
		}
		switch {
		case known:
			err = w.value(tok, v.Field(idx))
		case !w.strict || info.open || strings.Contains(key, "@odata."):
			_, err = w.any(tok) // skip it
		default:
			name := info.name
			if atRoot && w.rootName != "" {
				name = w.rootName
			}
			err = w.fail(fmt.Sprintf("property '%s' does not exist on type '%s'", key, name))
		}
		if err != nil {
			return err
		}
		w.pop(mark)
	}
	return w.leave()
}

func (w *walker) mapOfAny(v reflect.Value) error {
	if err := w.enter(); err != nil {
		return err
	}
	m := reflect.MakeMap(v.Type())
	for w.dec.More() {
		tok, err := w.token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		mark := w.pushKey(key)
		if tok, err = w.token(); err != nil {
			return err
		}
		e := reflect.New(v.Type().Elem()).Elem()
		if err := w.value(tok, e); err != nil {
			return err
		}
		m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), e)
		w.pop(mark)
	}
	v.Set(m)
	return w.leave()
}

// any decodes a value of unknown shape into map[string]any, []any, string,
// json.Number, bool or nil.
func (w *walker) any(tok json.Token) (any, error) {
	switch tok {
	case json.Delim('{'):
		var m map[string]any
		err := w.value(tok, reflect.ValueOf(&m).Elem())
		return m, err
	case json.Delim('['):
		var s []any
		err := w.value(tok, reflect.ValueOf(&s).Elem())
		return s, err
	}
	return tok, nil
}

// structInfo describes how a Go struct maps to a Graph type.
type structInfo struct {
	name   string         // Graph type name, for error messages
	open   bool           // unknown properties are ignored even when strict
	fields map[string]int // JSON name to field index
}

// graphTypes names the Graph type behind each Go type, for error messages.
var graphTypes = map[reflect.Type]string{
	reflect.TypeFor[Policy]():              "microsoft.graph.conditionalAccessPolicy",
	reflect.TypeFor[Conditions]():          "microsoft.graph.conditionalAccessConditionSet",
	reflect.TypeFor[Applications]():        "microsoft.graph.conditionalAccessApplications",
	reflect.TypeFor[Users]():               "microsoft.graph.conditionalAccessUsers",
	reflect.TypeFor[GuestsOrExtern]():      "microsoft.graph.conditionalAccessGuestsOrExternalUsers",
	reflect.TypeFor[ExternalTenants]():     "microsoft.graph.conditionalAccessExternalTenants",
	reflect.TypeFor[Platforms]():           "microsoft.graph.conditionalAccessPlatforms",
	reflect.TypeFor[Locations]():           "microsoft.graph.conditionalAccessLocations",
	reflect.TypeFor[Devices]():             "microsoft.graph.conditionalAccessDevices",
	reflect.TypeFor[Filter]():              "microsoft.graph.conditionalAccessFilter",
	reflect.TypeFor[ClientApplications]():  "microsoft.graph.conditionalAccessClientApplications",
	reflect.TypeFor[AuthenticationFlows](): "microsoft.graph.conditionalAccessAuthenticationFlows",
	reflect.TypeFor[GrantControls]():       "microsoft.graph.conditionalAccessGrantControls",
	reflect.TypeFor[NamedLocation]():       "microsoft.graph.namedLocation",
	reflect.TypeFor[IPRange]():             "microsoft.graph.ipRange",
	// Graph returns the whole authenticationStrengthPolicy here; a client
	// that sends back what it read must not be refused for it.
	reflect.TypeFor[AuthenticationStrength](): "microsoft.graph.authenticationStrengthPolicy",
}

var openTypes = map[reflect.Type]bool{reflect.TypeFor[AuthenticationStrength](): true}

var structInfos sync.Map // reflect.Type -> *structInfo

func structInfoOf(t reflect.Type) *structInfo {
	if info, ok := structInfos.Load(t); ok {
		return info.(*structInfo)
	}
	info := &structInfo{name: graphTypes[t], open: openTypes[t], fields: map[string]int{}}
	if info.name == "" {
		info.name = t.Name()
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		info.fields[name] = i
	}
	structInfos.Store(t, info)
	return info
}
