package change

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"strings"
	"syscall"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"mgmtsession/ident"
	"mgmtsession/iprange"
)

// MaxConfigSize bounds what LoadConfig reads: a real configuration is a few
// hundred bytes, even with 2000 ranges it is under 100 KB.
const MaxConfigSize = 1 << 20

// Setting is one value of the configuration, with whether it was given and
// where ("file:line:column" or a flag name), so that a rule between two
// settings can name both.
type Setting[T any] struct {
	Value T
	Set   bool
	Where string
}

// Config is the YAML configuration file, every value checked.
type Config struct {
	Path        string
	Mode        Setting[AccountMode]
	UPN         Setting[string]
	Roles       Setting[[]RoleRef]
	AllowedIPs  Setting[[]netip.Prefix]
	PolicyState Setting[PolicyState]
	AutoEnable  Setting[bool]
	ExcludeFrom Setting[ExcludeFrom]
	// Notes report how the allowed ranges were normalised.
	Notes []Note
}

// fileConfig is the file's shape. Leaves are decoded as any and judged
// here, so that a wrong type gets a message that names the key and what it
// takes rather than Go's type names; the structure is decoded strictly, so
// that a misspelt key is refused with its line and column instead of being
// silently ignored.
type fileConfig struct {
	Account     *fileAccount `yaml:"account"`
	AllowedIPs  any          `yaml:"allowedIPs"`
	PolicyState any          `yaml:"policyState"`
	AutoEnable  any          `yaml:"autoEnable"`
	ExcludeFrom any          `yaml:"excludeFrom"`
}

type fileAccount struct {
	Mode  any `yaml:"mode"`
	UPN   any `yaml:"upn"`
	Roles any `yaml:"roles"`
}

var (
	topLevelKeys = []string{"account", "allowedIPs", "policyState", "autoEnable", "excludeFrom"}
	accountKeys  = []string{"mode", "upn", "roles"}
)

// LoadConfig reads and checks a configuration file. Every problem is
// reported with the file, line and column and the bad value; all of a
// file's bad values are reported at once.
func LoadConfig(path string) (Config, error) {
	data, err := readRegularFile(path)
	if err != nil {
		return Config{}, err
	}
	return parseConfig(path, data)
}

// readRegularFile refuses anything but a regular file before reading it: a
// FIFO would block the command until someone writes to it, and a device
// could be endless. The file is opened without blocking and checked
// through the open descriptor, so it cannot be swapped in between.
func readRegularFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &InputError{Where: path, Reason: "no such configuration file"}
		}
		return nil, fmt.Errorf("opening the configuration file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading the configuration file %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, &InputError{Where: path, Reason: fmt.Sprintf(
			"not a regular file (%s): give the path of a YAML file", describeMode(info.Mode()))}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the configuration file %s: %w", path, err)
	}
	if len(data) > MaxConfigSize {
		return nil, &InputError{Where: path, Reason: fmt.Sprintf("larger than %d bytes: not a configuration file", MaxConfigSize)}
	}
	return data, nil
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	default:
		return m.Type().String()
	}
}

func parseConfig(path string, data []byte) (Config, error) {
	// A file saved by Notepad starts with a byte order mark, which is no
	// part of the YAML.
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return Config{}, decodeError(path, nil, err)
	}
	// The decoder reads the first document only; settings in a second one
	// would be ignored without a word.
	for _, doc := range file.Docs[min(1, len(file.Docs)):] {
		if doc.Body != nil && doc.Body.GetToken() != nil {
			pos := doc.Body.GetToken().Position
			if doc.Start != nil {
				pos = doc.Start.Position
			}
			return Config{}, &InputError{Where: fmt.Sprintf("%s:%d:%d", path, pos.Line, pos.Column),
				Reason: "a second YAML document: put every setting in one document, without ---"}
		}
	}
	var raw fileConfig
	if err := yaml.UnmarshalWithOptions(data, &raw, yaml.DisallowUnknownField()); err != nil {
		return Config{}, decodeError(path, file, err)
	}
	c := &configReader{path: path, file: file, cfg: Config{Path: path}}
	if a := raw.Account; a != nil {
		c.mode(a.Mode)
		c.upn(a.UPN)
		c.roles(a.Roles)
	}
	c.allowedIPs(raw.AllowedIPs)
	c.policyState(raw.PolicyState)
	c.autoEnable(raw.AutoEnable)
	c.excludeFrom(raw.ExcludeFrom)
	if len(c.errs) > 0 {
		return Config{}, errors.Join(c.errs...)
	}
	return c.cfg, nil
}

// decodeError turns the YAML library's error into one line that names the
// file, the line and column, and what is wrong in this file's terms. The
// parsed file, when there is one, tells a key under account from a
// top-level one.
func decodeError(path string, file *ast.File, err error) error {
	var yerr yaml.Error
	if !errors.As(err, &yerr) || yerr.GetToken() == nil {
		return &InputError{Where: path, Reason: "malformed YAML: " + err.Error()}
	}
	tk := yerr.GetToken()
	where := fmt.Sprintf("%s:%d:%d", path, tk.Position.Line, tk.Position.Column)
	c := &configReader{path: path, file: file}
	var (
		unknown  *yaml.UnknownFieldError
		nodeType *yaml.UnexpectedNodeTypeError
		typeErr  *yaml.TypeError
	)
	switch {
	case errors.As(err, &unknown):
		keys, parent := topLevelKeys, ""
		// The key goes into a YAML path only when it is a plain word: the
		// library's path parser panics on some others ("0[0").
		if file != nil && isPlainKey(tk.Value) && c.where("$.account."+tk.Value) != path && c.where("$."+tk.Value) == path {
			keys, parent = accountKeys, " under account"
		}
		reason := fmt.Sprintf("unknown key%s (the keys are %s)", parent, strings.Join(keys, ", "))
		if s := suggestKey(tk.Value, keys); s != "" {
			reason = fmt.Sprintf("unknown key%s: did you mean %s? (the keys are %s)", parent, s, strings.Join(keys, ", "))
		}
		return &InputError{Where: where, Value: tk.Value, Reason: reason}
	case errors.As(err, &nodeType):
		what := "account"
		if file != nil && len(file.Docs) > 0 && file.Docs[0].Body != nil && file.Docs[0].Body.GetToken() != nil &&
			file.Docs[0].Body.GetToken().Position.Offset == tk.Position.Offset {
			what = "the file"
		}
		return &InputError{Where: where, Setting: what, Reason: fmt.Sprintf(
			"expected a mapping of keys, found a %s", strings.ToLower(nodeType.Actual.String()))}
	case errors.As(err, &typeErr):
		return &InputError{Where: where, Value: tk.Value, Reason: "wrong type: " + yerr.GetMessage()}
	default:
		return &InputError{Where: where, Reason: "malformed YAML: " + yerr.GetMessage()}
	}
}

// suggestKey returns the known key a misspelt one most likely meant
// (allowedIps, allowed_ips, policystate), or "".
func suggestKey(key string, keys []string) string {
	simple := func(s string) string { return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s)) }
	for _, k := range keys {
		if simple(k) == simple(key) || editDistance(simple(k), simple(key)) <= 2 {
			return k
		}
	}
	return ""
}

func isPlainKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// configReader judges the decoded leaves, locating each in the parsed file.
type configReader struct {
	path string
	file *ast.File
	cfg  Config
	errs []error
}

// node finds the node at a YAML path such as $.account.upn or
// $.allowedIPs[2].
func (c *configReader) node(path string) ast.Node {
	p, err := yaml.PathString(path)
	if err != nil {
		return nil
	}
	n, err := p.FilterFile(c.file)
	if err != nil {
		return nil
	}
	return n
}

func (c *configReader) where(path string) string {
	n := c.node(path)
	if n == nil || n.GetToken() == nil {
		return c.path
	}
	pos := n.GetToken().Position
	return fmt.Sprintf("%s:%d:%d", c.path, pos.Line, pos.Column)
}

// whereInside locates a column within a one-line scalar, so that the
// second range of "51.140.12.0/27, 10.0.0.1" is pointed at, not the first.
func (c *configReader) whereInside(path string, line, column int) string {
	n := c.node(path)
	if n == nil || n.GetToken() == nil {
		return c.path
	}
	tk := n.GetToken()
	pos := tk.Position
	if line != 1 || strings.ContainsAny(tk.Value, "\n") {
		return fmt.Sprintf("%s:%d:%d", c.path, pos.Line, pos.Column)
	}
	offset := column - 1
	if tk.Type == token.DoubleQuoteType || tk.Type == token.SingleQuoteType {
		offset++
	}
	return fmt.Sprintf("%s:%d:%d", c.path, pos.Line, pos.Column+offset)
}

func (c *configReader) fail(path, setting, value, reason string) {
	c.errs = append(c.errs, &InputError{Where: c.where(path), Setting: setting, Value: value, Reason: reason})
}

// str reads a scalar that must be a string; a number or a boolean is
// refused with the key's expectation.
func (c *configReader) str(path, setting string, v any, expect string) (string, bool) {
	s, ok := v.(string)
	if !ok {
		c.fail(path, setting, fmt.Sprint(v), "wrong type: expected "+expect)
	}
	return s, ok
}

func (c *configReader) mode(v any) {
	if v == nil {
		return
	}
	const path, setting = "$.account.mode", "account.mode"
	s, ok := c.str(path, setting, v, fmt.Sprintf("%s or %s", ServiceAccount, GlobalAdmin))
	if !ok {
		return
	}
	m, reason := parseMode(s)
	if reason != "" {
		c.fail(path, setting, s, reason)
		return
	}
	c.cfg.Mode = Setting[AccountMode]{Value: m, Set: true, Where: c.where(path)}
}

func (c *configReader) upn(v any) {
	if v == nil {
		return
	}
	const path, setting = "$.account.upn", "account.upn"
	s, ok := c.str(path, setting, v, "a user principal name such as admin@contoso.onmicrosoft.com")
	if !ok {
		return
	}
	s = strings.TrimSpace(s)
	if err := ident.CheckUPN(s); err != nil {
		c.fail(path, setting, "", err.Error())
		return
	}
	c.cfg.UPN = Setting[string]{Value: s, Set: true, Where: c.where(path)}
}

func (c *configReader) roles(v any) {
	if v == nil {
		return
	}
	const path, setting = "$.account.roles", "account.roles"
	list, ok := v.([]any)
	if !ok {
		c.fail(path, setting, fmt.Sprint(v), "wrong type: expected a list of role names or template ids")
		return
	}
	var refs []RoleRef
	seen := map[string]bool{}
	for i, item := range list {
		itemPath := fmt.Sprintf("%s[%d]", path, i)
		s, ok := c.str(itemPath, setting, item, "a role name or template id")
		if !ok {
			continue
		}
		r, err := LookupRole(s)
		if err != nil {
			c.fail(itemPath, setting, "", err.Error())
			continue
		}
		if !seen[r.TemplateID] {
			seen[r.TemplateID] = true
			refs = append(refs, r)
		}
	}
	c.cfg.Roles = Setting[[]RoleRef]{Value: refs, Set: true, Where: c.where(path)}
}

// allowedIPs takes a list of ranges (each item may hold several, as
// pasted) or one string holding them all.
func (c *configReader) allowedIPs(v any) {
	if v == nil {
		return
	}
	const path, setting = "$.allowedIPs", "allowedIPs"
	var (
		items     []string
		itemPaths []string
	)
	switch v := v.(type) {
	case string:
		items, itemPaths = []string{v}, []string{path}
	case []any:
		for i, item := range v {
			itemPath := fmt.Sprintf("%s[%d]", path, i)
			// A scalar the YAML reader took for a number (a bare "5") is
			// judged as the text it was.
			switch item.(type) {
			case string, uint64, int64, float64:
			default:
				c.fail(itemPath, setting, fmt.Sprint(item), "wrong type: expected an IP address or CIDR range")
				continue
			}
			s := fmt.Sprint(item)
			if n := c.node(itemPath); n != nil && n.GetToken() != nil {
				s = n.GetToken().Value
			}
			items, itemPaths = append(items, s), append(itemPaths, itemPath)
		}
	default:
		c.fail(path, setting, fmt.Sprint(v), "wrong type: expected a list of IP addresses or CIDR ranges")
		return
	}
	res, problems := iprange.ParseList(items)
	for _, p := range problems {
		if p.Item == 0 {
			c.fail(path, setting, "", p.Reason)
			continue
		}
		c.errs = append(c.errs, &InputError{
			Where:   c.whereInside(itemPaths[p.Item-1], p.Line, p.Column),
			Setting: setting, Value: p.Token, Reason: p.Reason,
		})
	}
	for _, n := range res.Notes {
		c.cfg.Notes = append(c.cfg.Notes, Note{Where: c.whereInside(itemPaths[n.Item-1], n.Line, n.Column), Note: n})
	}
	c.cfg.AllowedIPs = Setting[[]netip.Prefix]{Value: res.Prefixes, Set: true, Where: c.where(path)}
}

func (c *configReader) policyState(v any) {
	if v == nil {
		return
	}
	const path, setting = "$.policyState", "policyState"
	s, ok := c.str(path, setting, v, fmt.Sprintf("%s or %s", PolicyEnabled, PolicyReportOnly))
	if !ok {
		return
	}
	st, reason := parsePolicyState(s)
	if reason != "" {
		c.fail(path, setting, s, reason)
		return
	}
	c.cfg.PolicyState = Setting[PolicyState]{Value: st, Set: true, Where: c.where(path)}
}

func (c *configReader) autoEnable(v any) {
	if v == nil {
		return
	}
	const path, setting = "$.autoEnable", "autoEnable"
	b, ok := v.(bool)
	if !ok {
		c.fail(path, setting, fmt.Sprint(v), "wrong type: expected true or false")
		return
	}
	c.cfg.AutoEnable = Setting[bool]{Value: b, Set: true, Where: c.where(path)}
}

func (c *configReader) excludeFrom(v any) {
	if v == nil {
		return
	}
	const path, setting = "$.excludeFrom", "excludeFrom"
	var e ExcludeFrom
	switch v := v.(type) {
	case string:
		if !strings.EqualFold(strings.TrimSpace(v), "auto") {
			c.fail(path, setting, v, "expected auto or a list of Conditional Access policy ids")
			return
		}
		e.Auto = true
	case []any:
		e.PolicyIDs = []string{}
		seen := map[string]bool{}
		for i, item := range v {
			itemPath := fmt.Sprintf("%s[%d]", path, i)
			s, ok := c.str(itemPath, setting, item, "a Conditional Access policy id (a GUID)")
			if !ok {
				continue
			}
			s = strings.TrimSpace(s)
			if err := ident.CheckObjectID(s); err != nil {
				c.fail(itemPath, setting, s, "not a Conditional Access policy id: expected a GUID such as 00000000-0000-0000-0000-000000000000")
				continue
			}
			if id := strings.ToLower(s); !seen[id] {
				seen[id] = true
				e.PolicyIDs = append(e.PolicyIDs, id)
			}
		}
	default:
		c.fail(path, setting, fmt.Sprint(v), "wrong type: expected auto or a list of Conditional Access policy ids")
		return
	}
	c.cfg.ExcludeFrom = Setting[ExcludeFrom]{Value: e, Set: true, Where: c.where(path)}
}
