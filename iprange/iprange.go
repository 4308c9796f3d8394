// Package iprange reads the allowed IP ranges an operator types or pastes
// (SPEC section 7) and turns them into the prefixes of a Conditional Access
// named location. Every refusal names the token and where it stands, because
// the same parser serves the wizard's live validation, the --allowed-ip flag
// and the YAML configuration, and an operator fixing a pasted list of fifty
// ranges needs to find the bad one.
package iprange

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxRanges is the number of ranges Graph accepts in one IP named location.
const MaxRanges = 2000

// MinPrefixBits is the shortest prefix length this package accepts: Graph
// refuses prefixes of /8 or shorter, for IPv4 and IPv6 alike.
const MinPrefixBits = 9

// Result is what a valid input normalises to.
type Result struct {
	// Prefixes are masked, without duplicates or nested ranges, sorted with
	// IPv4 first and then by address.
	Prefixes []netip.Prefix
	// Notes say which tokens were rewritten or dropped on the way, so that
	// the operator sees that 203.0.114.7/24 became 203.0.114.0/24.
	Notes []Note
}

// String formats the prefixes one per line, in the form Parse reads back
// to the same prefixes.
func (r Result) String() string {
	return Format(r.Prefixes)
}

// Format writes prefixes one per line.
func Format(prefixes []netip.Prefix) string {
	var b strings.Builder
	for i, p := range prefixes {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// NoteKind says what normalisation a Note reports.
type NoteKind int

const (
	// HostBitsCleared: the token had bits set after its prefix length.
	HostBitsCleared NoteKind = iota + 1
	// Duplicate: the token names a range given earlier.
	Duplicate
	// Contained: the token's range lies inside another range of the input.
	Contained
)

// Note records one normalisation of one token.
type Note struct {
	Kind NoteKind
	// Token is the text as the operator wrote it; Item, Line and Column
	// locate it as in Problem.
	Token        string
	Item         int
	Line, Column int
	// Prefix is the token's range after masking; Into is the range that
	// replaces it (the masked prefix, or the range that holds it).
	Prefix, Into netip.Prefix
}

// String says where, which token and what happened, for a list of notes
// under the input.
func (n Note) String() string {
	return fmt.Sprintf("%s%q: %s", where(n.Item, n.Line, n.Column), n.Token, n.What())
}

// What says what happened to the token, without saying where it was, for
// a caller that locates tokens its own way (a file's line and column).
func (n Note) What() string {
	switch n.Kind {
	case HostBitsCleared:
		return fmt.Sprintf("host bits cleared: %s", n.Into)
	case Duplicate:
		return fmt.Sprintf("duplicate of %s, merged", n.Into)
	case Contained:
		return fmt.Sprintf("inside %s, merged into it", n.Into)
	default:
		return "normalised to " + n.Into.String()
	}
}

// Problem is one refused token. Line and Column are 1-based, Column counted
// in characters; for ParseList, Item is the 1-based index of the list entry
// and Line and Column are within it (Item is 0 for Parse). A problem that
// concerns the whole input, such as too many ranges, has no token and no
// position.
type Problem struct {
	Token        string
	Item         int
	Line, Column int
	Reason       string
}

// Error makes a Problem usable as an error: where, the token, the reason.
func (p Problem) Error() string {
	if p.Token == "" {
		return p.Reason
	}
	return fmt.Sprintf("%s%q: %s", where(p.Item, p.Line, p.Column), shorten(p.Token), p.Reason)
}

// maxTokenLength bounds a token quoted in a message: a pasted certificate
// is one token of thousands of characters.
const maxTokenLength = 80

func shorten(s string) string {
	if utf8.RuneCountInString(s) <= maxTokenLength {
		return s
	}
	r := []rune(s)
	return string(r[:maxTokenLength-1]) + "…"
}

func where(item, line, column int) string {
	switch {
	case line == 0:
		return ""
	case item > 0 && line == 1:
		return fmt.Sprintf("entry %d, column %d: ", item, column)
	case item > 0:
		return fmt.Sprintf("entry %d, line %d, column %d: ", item, line, column)
	default:
		return fmt.Sprintf("line %d, column %d: ", line, column)
	}
}

// token is one range as written, with where it was written.
type token struct {
	text         string
	item         int
	line, column int
}

// Parse reads ranges written one per line, or separated by commas,
// semicolons or spaces; a # starts a comment that runs to the end of the
// line, as in the lists vendors publish. Each token is an IPv4 or IPv6
// address or CIDR range. Problems are returned for every refused token; the
// Result holds the accepted ones, so that a live validation can show both.
func Parse(text string) (Result, []Problem) {
	return parseTokens(tokenize(text, 0, nil))
}

// ParseList reads ranges given as separate values (repeated flags, a YAML
// list). Each value may itself hold several ranges as Parse reads them.
func ParseList(items []string) (Result, []Problem) {
	var toks []token
	for i, item := range items {
		toks = tokenize(item, i+1, toks)
	}
	return parseTokens(toks)
}

func tokenize(text string, item int, toks []token) []token {
	for lineIndex, line := range strings.Split(text, "\n") {
		if hash := strings.IndexByte(line, '#'); hash >= 0 {
			line = line[:hash]
		}
		// Columns count characters, kept as the line is walked so that a
		// long pasted line is not recounted from its start for each token.
		start, startColumn, column := -1, 0, 0
		for i, size := 0, 0; i <= len(line); i += size {
			size = 1
			if i < len(line) {
				// An invalid byte counts as one character, as it shows as
				// one replacement character.
				_, size = utf8.DecodeRuneInString(line[i:])
			}
			column++
			if i == len(line) || isSeparator(line[i]) {
				if start >= 0 {
					toks = append(toks, token{
						text:   line[start:i],
						item:   item,
						line:   lineIndex + 1,
						column: startColumn,
					})
					start = -1
				}
				continue
			}
			if start < 0 {
				start, startColumn = i, column
			}
		}
	}
	return toks
}

func isSeparator(c byte) bool {
	switch c {
	case ',', ';', ' ', '\t', '\r', '\v', '\f':
		return true
	}
	return false
}

// accepted is a valid prefix with the token it came from.
type accepted struct {
	prefix netip.Prefix
	tok    token
}

func parseTokens(toks []token) (Result, []Problem) {
	var (
		res      Result
		problems []Problem
		valid    []accepted
	)
	for _, t := range toks {
		p, reason := parseOne(t.text)
		if reason != "" {
			problems = append(problems, Problem{Token: t.text, Item: t.item, Line: t.line, Column: t.column, Reason: reason})
			continue
		}
		if p.Masked() != p {
			res.Notes = append(res.Notes, note(HostBitsCleared, t, p.Masked(), p.Masked()))
			p = p.Masked()
		}
		valid = append(valid, accepted{prefix: p, tok: t})
	}

	// Sorted by address and then by length, a range that holds another
	// comes before it, and since CIDR ranges are either nested or disjoint
	// the only kept range that can hold the next one is the last kept.
	// The sort is stable so that the first of two equal tokens is kept.
	slices.SortStableFunc(valid, func(a, b accepted) int {
		if c := a.prefix.Addr().Compare(b.prefix.Addr()); c != 0 {
			return c
		}
		return cmp.Compare(a.prefix.Bits(), b.prefix.Bits())
	})
	for _, v := range valid {
		if n := len(res.Prefixes); n > 0 {
			last := res.Prefixes[n-1]
			switch {
			case last == v.prefix:
				res.Notes = append(res.Notes, note(Duplicate, v.tok, v.prefix, last))
				continue
			case last.Overlaps(v.prefix):
				res.Notes = append(res.Notes, note(Contained, v.tok, v.prefix, last))
				continue
			}
		}
		res.Prefixes = append(res.Prefixes, v.prefix)
	}
	slices.SortStableFunc(res.Notes, func(a, b Note) int {
		return cmp.Or(cmp.Compare(a.Item, b.Item), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	if len(res.Prefixes) > MaxRanges {
		problems = append(problems, Problem{Reason: fmt.Sprintf(
			"%d ranges after merging; a named location holds at most %d", len(res.Prefixes), MaxRanges)})
	}
	return res, problems
}

func note(kind NoteKind, t token, prefix, into netip.Prefix) Note {
	return Note{Kind: kind, Token: t.text, Item: t.item, Line: t.line, Column: t.column, Prefix: prefix, Into: into}
}

// parseOne reads one token and judges it; the reason is empty when the
// prefix is accepted (possibly with host bits still set).
func parseOne(text string) (netip.Prefix, string) {
	if strings.IndexByte(text, '%') >= 0 {
		return netip.Prefix{}, "a zone id (the part after %) names an interface of one machine; a named location takes addresses without it"
	}
	var p netip.Prefix
	if strings.IndexByte(text, '/') >= 0 {
		var err error
		p, err = netip.ParsePrefix(text)
		if err != nil {
			return netip.Prefix{}, notAnAddress(text)
		}
	} else {
		a, err := netip.ParseAddr(text)
		if err != nil {
			return netip.Prefix{}, notAnAddress(text)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	return p, Judge(p)
}

func notAnAddress(text string) string {
	addr, bits, hasSlash := strings.Cut(text, "/")
	if hasSlash {
		if _, err := netip.ParseAddr(addr); err == nil {
			return fmt.Sprintf("not a range: %q is not a prefix length for this address", bits)
		}
	}
	return "not an IP address or CIDR range (expected e.g. 20.190.128.5, 51.140.12.0/27 or 2a01:111:f400::/48)"
}

// Judge says why a prefix cannot be an allowed range, or returns "" when it
// can. Host bits are ignored (the prefix is masked first).
//
// The refused ranges are those Graph refuses (/0, /8 or shorter, private)
// and those from which no sign-in from the internet can come: the IANA
// IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and their
// later entries), keeping out only the entries IANA marks as globally
// reachable (AS112, AMT, 6to4 relays' successors), since trusting a range
// nobody can sign in from would only hide a typo. IPv6 outside 2000::/3 is
// not global unicast and is refused as reserved.
func Judge(p netip.Prefix) string {
	p = p.Masked()
	if !p.IsValid() {
		return "not a valid range"
	}
	if p.Bits() == 0 {
		if p.Addr().Is4() {
			return "0.0.0.0/0 is every IPv4 address; a named location must name where the sign-ins come from"
		}
		return "::/0 is every IPv6 address; a named location must name where the sign-ins come from"
	}
	// A range inside a special range is named by that range, which is the
	// most useful reason ("private" rather than "/8 or shorter" for
	// 10.0.0.0/8).
	for _, s := range specialRanges(p.Addr()) {
		if s.prefix.Bits() <= p.Bits() && s.prefix.Contains(p.Addr()) {
			return s.reason(p)
		}
	}
	if p.Addr().Is6() && !globalUnicast.Contains(p.Addr()) && p.Bits() >= globalUnicast.Bits() {
		return "reserved: IPv6 outside 2000::/3 is not global unicast, no sign-in can come from it"
	}
	if p.Bits() < MinPrefixBits {
		return fmt.Sprintf("prefix /%d is too wide: Graph accepts only prefixes longer than /8", p.Bits())
	}
	for _, s := range specialRanges(p.Addr()) {
		if p.Overlaps(s.prefix) {
			return fmt.Sprintf("the range includes %s (%s), from which no sign-in can come; list the public ranges around it instead",
				s.prefix, s.name)
		}
	}
	if p.Addr().Is6() && !globalUnicast.Contains(p.Addr()) {
		return "reserved: IPv6 outside 2000::/3 is not global unicast, no sign-in can come from it"
	}
	return ""
}

// Category is the class of address a special range belongs to.
type Category string

const (
	Unspecified Category = "unspecified"
	Private     Category = "private"
	Loopback    Category = "loopback"
	LinkLocal   Category = "link-local"
	Multicast   Category = "multicast"
	Reserved    Category = "reserved"
)

type special struct {
	prefix   netip.Prefix
	category Category
	name     string
}

func (s special) reason(p netip.Prefix) string {
	if s.category == Unspecified {
		return fmt.Sprintf("unspecified: %s means no address", p.Addr())
	}
	return fmt.Sprintf("%s: %s is in %s (%s)", s.category, p, s.prefix, s.name)
}

var globalUnicast = netip.MustParsePrefix("2000::/3")

func mustSpecial(prefix string, c Category, name string) special {
	return special{prefix: netip.MustParsePrefix(prefix), category: c, name: name}
}

// special4 is the IANA IPv4 Special-Purpose Address Registry without its
// globally reachable entries (192.31.196.0/24, 192.52.193.0/24,
// 192.175.48.0/24), plus multicast and the deprecated 6to4 relay anycast.
// Narrow entries come before the wide ones that hold them.
var special4 = []special{
	mustSpecial("0.0.0.0/32", Unspecified, ""),
	mustSpecial("255.255.255.255/32", Reserved, "limited broadcast, RFC 919"),
	mustSpecial("0.0.0.0/8", Reserved, "\"this network\", RFC 791"),
	mustSpecial("10.0.0.0/8", Private, "RFC 1918"),
	mustSpecial("100.64.0.0/10", Reserved, "shared address space for carrier-grade NAT, RFC 6598"),
	mustSpecial("127.0.0.0/8", Loopback, "RFC 1122"),
	mustSpecial("169.254.0.0/16", LinkLocal, "RFC 3927"),
	mustSpecial("172.16.0.0/12", Private, "RFC 1918"),
	mustSpecial("192.0.0.0/24", Reserved, "IETF protocol assignments, RFC 6890"),
	mustSpecial("192.0.2.0/24", Reserved, "documentation TEST-NET-1, RFC 5737"),
	mustSpecial("192.88.99.0/24", Reserved, "deprecated 6to4 relay anycast, RFC 7526"),
	mustSpecial("192.168.0.0/16", Private, "RFC 1918"),
	mustSpecial("198.18.0.0/15", Reserved, "benchmarking, RFC 2544"),
	mustSpecial("198.51.100.0/24", Reserved, "documentation TEST-NET-2, RFC 5737"),
	mustSpecial("203.0.113.0/24", Reserved, "documentation TEST-NET-3, RFC 5737"),
	mustSpecial("224.0.0.0/4", Multicast, "RFC 5771"),
	mustSpecial("240.0.0.0/4", Reserved, "future use, RFC 1112"),
}

// special6 is the IANA IPv6 Special-Purpose Address Registry without its
// globally reachable entries, plus multicast, site-local and the IPv4
// embeddings (an IPv4-mapped or NAT64 address stands for an IPv4 sign-in,
// which Entra sees as IPv4: write the IPv4 range).
var special6 = []special{
	mustSpecial("::/128", Unspecified, ""),
	mustSpecial("::1/128", Loopback, "RFC 4291"),
	mustSpecial("::ffff:0:0/96", Reserved, "IPv4-mapped, RFC 4291: write the IPv4 range instead"),
	mustSpecial("64:ff9b::/96", Reserved, "NAT64 well-known prefix, RFC 6052: write the IPv4 range instead"),
	mustSpecial("64:ff9b:1::/48", Reserved, "local-use NAT64, RFC 8215"),
	mustSpecial("100::/64", Reserved, "discard-only, RFC 6666"),
	mustSpecial("2001::/23", Reserved, "IETF protocol assignments, RFC 2928"),
	mustSpecial("2001:db8::/32", Reserved, "documentation, RFC 3849"),
	mustSpecial("3fff::/20", Reserved, "documentation, RFC 9637"),
	mustSpecial("5f00::/16", Reserved, "segment routing SIDs, RFC 9602"),
	mustSpecial("fc00::/7", Private, "unique local, RFC 4193"),
	mustSpecial("fe80::/10", LinkLocal, "RFC 4291"),
	mustSpecial("fec0::/10", Reserved, "deprecated site-local, RFC 3879"),
	mustSpecial("ff00::/8", Multicast, "RFC 4291"),
}

func specialRanges(a netip.Addr) []special {
	if a.Is4() {
		return special4
	}
	return special6
}

// Refused reports whether a prefix falls in a class this package never
// returns; tests and fuzzing use it to check Parse's output.
func Refused(p netip.Prefix) bool {
	return Judge(p) != ""
}
