package tenantsim

import (
	"fmt"
	"strconv"
	"strings"
)

// filterExpr is the part of OData $filter the simulated tenant reads:
// and, or, not and parentheses; eq, ne and in; startswith and endswith;
// string, boolean, null and number literals; property paths such as
// status/errorCode. It is parsed in one pass over the text, and its depth
// is bounded, so a long or deeply nested filter costs linear time.
type filterExpr struct {
	root filterNode
}

// maxFilterDepth bounds the nesting of a filter (parentheses, not, and, or).
const maxFilterDepth = 100

// filterGetter returns an object's property by name (or path), and false
// for a property its type does not have.
type filterGetter func(prop string) (any, bool)

type filterNode interface {
	eval(get filterGetter) (bool, *graphError)
}

type (
	filterAnd struct{ l, r filterNode }
	filterOr  struct{ l, r filterNode }
	filterNot struct{ x filterNode }
	filterCmp struct {
		op     string // eq ne in startswith endswith
		prop   string
		values []any
	}
)

// Both sides are always evaluated, so that a property the type does not
// have is refused whatever the other side says.
func (n filterAnd) eval(get filterGetter) (bool, *graphError) {
	l, err := n.l.eval(get)
	if err != nil {
		return false, err
	}
	r, err := n.r.eval(get)
	return l && r, err
}

func (n filterOr) eval(get filterGetter) (bool, *graphError) {
	l, err := n.l.eval(get)
	if err != nil {
		return false, err
	}
	r, err := n.r.eval(get)
	return l || r, err
}

func (n filterNot) eval(get filterGetter) (bool, *graphError) {
	x, err := n.x.eval(get)
	return !x, err
}

func (n filterCmp) eval(get filterGetter) (bool, *graphError) {
	v, ok := get(n.prop)
	if !ok {
		return false, errBadRequest("BadRequest", "Could not find a property named '%s' on type 'microsoft.graph.entity'.", n.prop)
	}
	switch n.op {
	case "startswith", "endswith":
		want := n.values[0].(string)
		if v == nil {
			return false, nil
		}
		str, isStr := v.(string)
		if !isStr {
			return false, errBadRequest("BadRequest", "Invalid filter clause: %s takes a string property; '%s' is not one.", n.op, n.prop)
		}
		if n.op == "startswith" {
			return strings.HasPrefix(strings.ToLower(str), strings.ToLower(want)), nil
		}
		return strings.HasSuffix(strings.ToLower(str), strings.ToLower(want)), nil
	}
	hit := false
	for _, want := range n.values {
		eq, err := filterEqual(n.prop, v, want)
		if err != nil {
			return false, err
		}
		hit = hit || eq
	}
	if n.op == "ne" {
		return !hit, nil
	}
	return hit, nil
}

// filterEqual compares a property's value with a literal as Graph does:
// strings case-insensitively, and a literal of another type than the
// property's is an error, not a mismatch.
func filterEqual(prop string, v, lit any) (bool, *graphError) {
	if lit == nil || v == nil {
		return lit == nil && v == nil, nil
	}
	incompatible := func() *graphError {
		return errBadRequest("BadRequest", "A binary operator with incompatible types was detected. Found operand types '%s' and '%s' for operator kind 'Equal' (property '%s').", edmType(v), edmType(lit), prop)
	}
	switch x := v.(type) {
	case string:
		s, ok := lit.(string)
		if !ok {
			return false, incompatible()
		}
		return strings.EqualFold(x, s), nil
	case bool:
		b, ok := lit.(bool)
		if !ok {
			return false, incompatible()
		}
		return x == b, nil
	}
	f, ok := lit.(float64)
	if !ok {
		return false, incompatible()
	}
	switch x := v.(type) {
	case int:
		return float64(x) == f, nil
	case int64:
		return float64(x) == f, nil
	case float64:
		return x == f, nil
	}
	return false, incompatible()
}

func edmType(v any) string {
	switch v.(type) {
	case string:
		return "Edm.String"
	case bool:
		return "Edm.Boolean"
	case int, int64, float64:
		return "Edm.Int32"
	}
	return "Edm.Untyped"
}

// match reports whether an object satisfies the filter (a nil filter
// matches everything).
func (f *filterExpr) match(get filterGetter) (bool, *graphError) {
	if f == nil {
		return true, nil
	}
	return f.root.eval(get)
}

// propertyOf reads a property path (status/errorCode) from Graph's JSON.
func propertyOf(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, seg := range strings.Split(path, "/") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[seg]; !ok {
			return nil, false
		}
	}
	return cur, true
}

type filterToken struct {
	kind string // ident, string, number, ( ) , end
	text string
	val  any
	pos  int
}

// lexFilter splits a filter into tokens in one pass.
func lexFilter(s string) ([]filterToken, error) {
	var out []filterToken
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == ',':
			out = append(out, filterToken{kind: string(c), text: string(c), pos: i})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(s) {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					closed = true
					j++
					break
				}
				b.WriteByte(s[j])
				j++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated string literal at position %d", i)
			}
			out = append(out, filterToken{kind: "string", val: b.String(), pos: i})
			i = j
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			f, err := strconv.ParseFloat(s[i:j], 64)
			if err != nil {
				return nil, fmt.Errorf("bad number at position %d", i)
			}
			out = append(out, filterToken{kind: "number", text: s[i:j], val: f, pos: i})
			i = j
		case isIdentByte(c):
			j := i + 1
			for j < len(s) && (isIdentByte(s[j]) || s[j] >= '0' && s[j] <= '9' || s[j] == '/' || s[j] == '.') {
				j++
			}
			out = append(out, filterToken{kind: "ident", text: s[i:j], pos: i})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q at position %d", c, i)
		}
	}
	return append(out, filterToken{kind: "end", pos: len(s)}), nil
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$' || c == '@'
}

type filterParser struct {
	toks  []filterToken
	i     int
	depth int
}

func (p *filterParser) peek() filterToken { return p.toks[p.i] }
func (p *filterParser) next() filterToken { t := p.toks[p.i]; p.i++; return t }

func (p *filterParser) keyword(k string) bool {
	t := p.peek()
	if t.kind == "ident" && strings.EqualFold(t.text, k) {
		p.i++
		return true
	}
	return false
}

func (p *filterParser) enter() error {
	p.depth++
	if p.depth > maxFilterDepth {
		return fmt.Errorf("the filter is nested deeper than %d", maxFilterDepth)
	}
	return nil
}

// or := and ("or" and)*
func (p *filterParser) or() (filterNode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = filterOr{l, r}
	}
	return l, nil
}

// and := unary ("and" unary)*
func (p *filterParser) and() (filterNode, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = filterAnd{l, r}
	}
	return l, nil
}

// unary := "not" unary | "(" or ")" | function | comparison
func (p *filterParser) unary() (filterNode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	if p.keyword("not") {
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return filterNot{x}, nil
	}
	if p.peek().kind == "(" {
		p.next()
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next().kind != ")" {
			return nil, fmt.Errorf("')' expected")
		}
		return x, nil
	}
	t := p.next()
	if t.kind != "ident" {
		return nil, fmt.Errorf("a property or function expected at position %d", t.pos)
	}
	if fn := strings.ToLower(t.text); (fn == "startswith" || fn == "endswith") && p.peek().kind == "(" {
		p.next()
		prop := p.next()
		if prop.kind != "ident" || p.next().kind != "," {
			return nil, fmt.Errorf("%s(property,'value') expected", fn)
		}
		lit := p.next()
		if lit.kind != "string" || p.next().kind != ")" {
			return nil, fmt.Errorf("%s(property,'value') expected", fn)
		}
		return filterCmp{op: fn, prop: prop.text, values: []any{lit.val}}, nil
	}
	op := p.next()
	if op.kind != "ident" {
		return nil, fmt.Errorf("an operator expected after '%s'", t.text)
	}
	switch strings.ToLower(op.text) {
	case "eq", "ne":
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		return filterCmp{op: strings.ToLower(op.text), prop: t.text, values: []any{v}}, nil
	case "in":
		if p.next().kind != "(" {
			return nil, fmt.Errorf("'(' expected after in")
		}
		var vals []any
		for {
			v, err := p.literal()
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
			if sep := p.next(); sep.kind == ")" {
				break
			} else if sep.kind != "," {
				return nil, fmt.Errorf("',' or ')' expected in the in list")
			}
		}
		return filterCmp{op: "in", prop: t.text, values: vals}, nil
	}
	return nil, fmt.Errorf("the operator '%s' is not supported", op.text)
}

func (p *filterParser) literal() (any, error) {
	t := p.next()
	switch t.kind {
	case "string", "number":
		return t.val, nil
	case "ident":
		switch strings.ToLower(t.text) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
	}
	return nil, fmt.Errorf("a literal expected at position %d", t.pos)
}

// idSet is the set of ids (lower case) when the whole filter is "id eq X"
// or "id in (...)", so that a list can skip every other object without
// building its properties (a 20,000-user tenant answers the preflight's
// id lookups that way); nil for any other filter.
func (f *filterExpr) idSet() map[string]bool {
	if f == nil {
		return nil
	}
	c, ok := f.root.(filterCmp)
	if !ok || !strings.EqualFold(c.prop, "id") || (c.op != "eq" && c.op != "in") {
		return nil
	}
	set := make(map[string]bool, len(c.values))
	for _, v := range c.values {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		set[strings.ToLower(s)] = true
	}
	return set
}

func parseFilter(s string) (*filterExpr, *graphError) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	shown := s
	if len(shown) > 200 {
		shown = shown[:200] + "..."
	}
	toks, err := lexFilter(s)
	if err == nil {
		p := &filterParser{toks: toks}
		var root filterNode
		if root, err = p.or(); err == nil {
			if p.peek().kind != "end" {
				err = fmt.Errorf("unexpected '%s' at position %d", p.peek().text, p.peek().pos)
			} else {
				return &filterExpr{root: root}, nil
			}
		}
	}
	return nil, errBadRequest("BadRequest", "Invalid filter clause: %v: %s", err, shown)
}
