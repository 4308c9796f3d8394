package ca

import (
	"errors"
	"fmt"
	"strings"
)

// This file implements the subset of the dynamic-membership rule syntax that
// "Conditional Access: Filter for devices" documents for deviceFilter.rule:
// comparisons on device.* properties with -eq, -ne, -startsWith,
// -notStartsWith, -endsWith, -notEndsWith, -contains, -notContains, -in and
// -notIn, combined with -and, -or, -not and parentheses. A rule using
// anything else (for example -match) does not parse, and the evaluator then
// reports notEnoughInformation rather than guessing.

// maxRuleLength is the documented limit: "The maximum length for the filter
// rule is 3072 characters".
const maxRuleLength = 3072

// maxRuleDepth bounds nesting so a hostile rule cannot exhaust the stack.
const maxRuleDepth = 64

// collectionProperties are the device properties that hold a list of strings.
// For them "the Contains operator indicates whether a specified string matches
// one of the whole strings in the collection"; DeviceFacts carries such a
// property as comma-separated elements.
var collectionProperties = map[string]bool{
	"device.physicalids":  true,
	"device.systemlabels": true,
}

type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opStartsWith
	opNotStartsWith
	opEndsWith
	opNotEndsWith
	opContains
	opNotContains
	opIn
	opNotIn
)

var cmpOps = map[string]cmpOp{
	"-eq": opEq, "-ne": opNe,
	"-startswith": opStartsWith, "-notstartswith": opNotStartsWith,
	"-endswith": opEndsWith, "-notendswith": opNotEndsWith,
	"-contains": opContains, "-notcontains": opNotContains,
	"-in": opIn, "-notin": opNotIn,
}

// negative reports whether the operator is one of the documented "negative
// operators", which hold for a property that has no value.
func (o cmpOp) negative() bool {
	switch o {
	case opNe, opNotStartsWith, opNotEndsWith, opNotContains, opNotIn:
		return true
	}
	return false
}

// deviceRule is a parsed deviceFilter.rule.
type deviceRule interface {
	eval(attrs map[string]string) bool
}

type ruleAnd struct{ l, r deviceRule }
type ruleOr struct{ l, r deviceRule }
type ruleNot struct{ x deviceRule }

// ruleCmp compares one property with literal values. isNull marks the bare
// literal null, which compares with the absence of a value.
type ruleCmp struct {
	prop   string // lower case, "device.<name>"
	op     cmpOp
	values []string
	isNull bool
}

func (r ruleAnd) eval(a map[string]string) bool { return r.l.eval(a) && r.r.eval(a) }
func (r ruleOr) eval(a map[string]string) bool  { return r.l.eval(a) || r.r.eval(a) }
func (r ruleNot) eval(a map[string]string) bool { return !r.x.eval(a) }

// eval applies the comparison. Microsoft documents that for a device "all
// device properties are considered as null values" when unknown to the
// directory, so positive operators fail and negative operators hold on a
// property that has no value; a property absent from DeviceFacts is such a
// null. String comparisons ignore case, as dynamic membership rules do.
func (r ruleCmp) eval(a map[string]string) bool {
	v, ok := lookupFold(a, r.prop)
	if r.isNull {
		// "-eq null" holds when the property has no value, "-ne null" when it has.
		if r.op.negative() {
			return ok
		}
		return !ok
	}
	if !ok {
		return r.op.negative()
	}
	var hit bool
	switch r.op {
	case opEq, opNe:
		hit = strings.EqualFold(v, r.values[0])
	case opStartsWith, opNotStartsWith:
		hit = hasPrefixFold(v, r.values[0])
	case opEndsWith, opNotEndsWith:
		hit = hasSuffixFold(v, r.values[0])
	case opContains, opNotContains:
		if collectionProperties[r.prop] {
			hit = elementFold(v, r.values[0])
		} else {
			hit = containsFold(v, r.values[0])
		}
	case opIn, opNotIn:
		for _, want := range r.values {
			if strings.EqualFold(v, want) {
				hit = true
				break
			}
		}
	}
	return hit != r.op.negative()
}

// lookupFold finds a property whatever the case of its name; callers write
// "device.isCompliant" while rules often say "device.iscompliant".
func lookupFold(a map[string]string, prop string) (string, bool) {
	if v, ok := a[prop]; ok {
		return v, true
	}
	for k, v := range a {
		if strings.EqualFold(k, prop) {
			return v, true
		}
	}
	return "", false
}

func hasPrefixFold(s, p string) bool { return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) }

func hasSuffixFold(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[len(s)-len(p):], p)
}

func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func elementFold(list, want string) bool {
	for rest := list; ; {
		e, tail, more := strings.Cut(rest, ",")
		if strings.EqualFold(strings.TrimSpace(e), want) {
			return true
		}
		if !more {
			return false
		}
		rest = tail
	}
}

// errRule is wrapped by every parse error so callers can tell them apart.
var errRule = errors.New("device filter rule")

// parseDeviceRule parses a deviceFilter.rule.
func parseDeviceRule(src string) (deviceRule, error) {
	if len(src) > maxRuleLength {
		return nil, fmt.Errorf("%w: longer than %d characters", errRule, maxRuleLength)
	}
	toks, err := lexRule(src)
	if err != nil {
		return nil, err
	}
	p := &ruleParser{toks: toks}
	r, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("%w: unexpected %q", errRule, p.toks[p.pos].text)
	}
	return r, nil
}

type tokKind uint8

const (
	tokWord   tokKind = iota // property name, bare literal or -operator
	tokString                // quoted literal
	tokPunct                 // ( ) [ ] ,
)

type ruleTok struct {
	kind tokKind
	text string
}

// lexRule splits a rule into tokens. Strings may use double or single quotes;
// a quote inside is escaped with a backslash or a backtick, the escape
// character of the PowerShell-like rule syntax.
func lexRule(src string) ([]ruleTok, error) {
	var toks []ruleTok
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case strings.IndexByte("()[],", c) >= 0:
			toks = append(toks, ruleTok{tokPunct, src[i : i+1]})
			i++
		case c == '"' || c == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(src) && src[j] != c; j++ {
				if (src[j] == '\\' || src[j] == '`') && j+1 < len(src) {
					j++
				}
				b.WriteByte(src[j])
			}
			if j >= len(src) {
				return nil, fmt.Errorf("%w: unterminated string", errRule)
			}
			toks = append(toks, ruleTok{tokString, b.String()})
			i = j + 1
		default:
			j := i
			for j < len(src) && strings.IndexByte(" \t\r\n()[],\"'", src[j]) < 0 {
				j++
			}
			toks = append(toks, ruleTok{tokWord, src[i:j]})
			i = j
		}
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("%w: empty", errRule)
	}
	return toks, nil
}

type ruleParser struct {
	toks []ruleTok
	pos  int
}

func (p *ruleParser) peekWord(w string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == tokWord && strings.EqualFold(p.toks[p.pos].text, w)
}

func (p *ruleParser) peekPunct(c string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == tokPunct && p.toks[p.pos].text == c
}

// or parses a disjunction; -and binds tighter than -or.
func (p *ruleParser) or(depth int) (deviceRule, error) {
	l, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.peekWord("-or") {
		p.pos++
		r, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		l = ruleOr{l, r}
	}
	return l, nil
}

func (p *ruleParser) and(depth int) (deviceRule, error) {
	l, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.peekWord("-and") {
		p.pos++
		r, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		l = ruleAnd{l, r}
	}
	return l, nil
}

func (p *ruleParser) unary(depth int) (deviceRule, error) {
	if depth > maxRuleDepth {
		return nil, fmt.Errorf("%w: nested too deeply", errRule)
	}
	switch {
	case p.peekWord("-not"):
		p.pos++
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return ruleNot{x}, nil
	case p.peekPunct("("):
		p.pos++
		x, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if !p.peekPunct(")") {
			return nil, fmt.Errorf("%w: missing )", errRule)
		}
		p.pos++
		return x, nil
	}
	return p.comparison()
}

func (p *ruleParser) comparison() (deviceRule, error) {
	if p.pos+1 >= len(p.toks) || p.toks[p.pos].kind != tokWord {
		return nil, fmt.Errorf("%w: expected a device property", errRule)
	}
	prop := strings.ToLower(p.toks[p.pos].text)
	if !strings.HasPrefix(prop, "device.") || len(prop) == len("device.") {
		return nil, fmt.Errorf("%w: %q is not a device property", errRule, p.toks[p.pos].text)
	}
	opTok := p.toks[p.pos+1]
	op, ok := cmpOps[strings.ToLower(opTok.text)]
	if opTok.kind != tokWord || !ok {
		return nil, fmt.Errorf("%w: unsupported operator %q", errRule, opTok.text)
	}
	p.pos += 2
	c := ruleCmp{prop: prop, op: op}
	if op == opIn || op == opNotIn {
		vals, err := p.list()
		if err != nil {
			return nil, err
		}
		c.values = vals
		return c, nil
	}
	if p.pos >= len(p.toks) || p.toks[p.pos].kind == tokPunct {
		return nil, fmt.Errorf("%w: expected a value after %s", errRule, opTok.text)
	}
	t := p.toks[p.pos]
	p.pos++
	if t.kind == tokWord && strings.HasPrefix(t.text, "-") {
		return nil, fmt.Errorf("%w: expected a value, found %q", errRule, t.text)
	}
	if t.kind == tokWord && strings.EqualFold(t.text, "null") {
		c.isNull = true
		return c, nil
	}
	c.values = []string{t.text}
	return c, nil
}

// list parses ["a", "b", ...] for -in and -notIn.
func (p *ruleParser) list() ([]string, error) {
	if !p.peekPunct("[") {
		return nil, fmt.Errorf("%w: -in and -notIn take a [list]", errRule)
	}
	p.pos++
	var vals []string
	for {
		if p.pos >= len(p.toks) || p.toks[p.pos].kind == tokPunct {
			return nil, fmt.Errorf("%w: expected a list value", errRule)
		}
		vals = append(vals, p.toks[p.pos].text)
		p.pos++
		if p.peekPunct("]") {
			p.pos++
			return vals, nil
		}
		if !p.peekPunct(",") {
			return nil, fmt.Errorf("%w: expected , or ] in list", errRule)
		}
		p.pos++
	}
}
