package iprange

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []netip.Prefix
	}{
		{"demo tenant addresses become /32", "20.190.128.5\n51.140.12.5", prefixes("20.190.128.5/32", "51.140.12.5/32")},
		{"comma separated", "20.190.128.5, 51.140.12.0/27", prefixes("20.190.128.5/32", "51.140.12.0/27")},
		{"whitespace and semicolons", "20.190.128.5 \t51.140.12.0/27;52.1.0.0/16", prefixes("20.190.128.5/32", "51.140.12.0/27", "52.1.0.0/16")},
		{"comments are ignored", "# Microsoft 365 egress\n20.190.128.0/18 # login\n\n  # end", prefixes("20.190.128.0/18")},
		{"CRLF line ends", "20.190.128.5\r\n51.140.12.5\r\n", prefixes("20.190.128.5/32", "51.140.12.5/32")},
		{"IPv6 bare and CIDR, v4 first", "2a01:111:f400:7e00::/64\n2603:1026::1\n52.96.0.0/14", prefixes("52.96.0.0/14", "2603:1026::1/128", "2a01:111:f400:7e00::/64")},
		{"IPv6 written long", "2A01:0111:F400:7E00:0:0:0:0/64", prefixes("2a01:111:f400:7e00::/64")},
		{"/9 is the widest accepted", "11.0.0.0/9", prefixes("11.0.0.0/9")},
		{"empty input", "  \n# nothing\n,,", nil},
		{"sorted by address", "51.140.12.5, 20.190.128.5, 40.0.0.0/16", prefixes("20.190.128.5/32", "40.0.0.0/16", "51.140.12.5/32")},
		{"public neighbour of a reserved range", "203.0.114.7/24", prefixes("203.0.114.0/24")},
		{"global AS112 range is public", "192.31.196.1", prefixes("192.31.196.1/32")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := Parse(tt.input)
			if len(problems) > 0 {
				t.Fatalf("Parse(%q) problems: %v", tt.input, problems)
			}
			if !slices.Equal(got.Prefixes, tt.want) {
				t.Errorf("Parse(%q) = %v, want %v", tt.input, got.Prefixes, tt.want)
			}
		})
	}
}

func TestParseNormalisationIsReported(t *testing.T) {
	got, problems := Parse("203.0.114.7/24\n51.140.12.0/27, 51.140.12.5\n203.0.114.0/24\n2a01:111:f400:7e00::1/64")
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	want := prefixes("51.140.12.0/27", "203.0.114.0/24", "2a01:111:f400:7e00::/64")
	if !slices.Equal(got.Prefixes, want) {
		t.Fatalf("prefixes = %v, want %v", got.Prefixes, want)
	}
	var notes []string
	for _, n := range got.Notes {
		notes = append(notes, n.String())
	}
	wantNotes := []string{
		`line 1, column 1: "203.0.114.7/24": host bits cleared: 203.0.114.0/24`,
		`line 2, column 17: "51.140.12.5": inside 51.140.12.0/27, merged into it`,
		`line 3, column 1: "203.0.114.0/24": duplicate of 203.0.114.0/24, merged`,
		`line 4, column 1: "2a01:111:f400:7e00::1/64": host bits cleared: 2a01:111:f400:7e00::/64`,
	}
	if !slices.Equal(notes, wantNotes) {
		t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(notes, "\n"), strings.Join(wantNotes, "\n"))
	}
}

// TestParseRefuses covers every rule of SPEC section 7: each refusal names
// the token, where it is, and the reason.
func TestParseRefuses(t *testing.T) {
	tests := []struct {
		input      string
		token      string
		line, col  int
		wantReason string
	}{
		{"not-an-ip", "not-an-ip", 1, 1, "not an IP address or CIDR range"},
		{"20.190.128.5\n  300.1.2.3", "300.1.2.3", 2, 3, "not an IP address"},
		{"01.2.3.4", "01.2.3.4", 1, 1, "not an IP address"},
		{"20.190.128.5/33", "20.190.128.5/33", 1, 1, `"33" is not a prefix length`},
		{"20.190.128.0/x", "20.190.128.0/x", 1, 1, `"x" is not a prefix length`},
		{"fe80::1%eth0", "fe80::1%eth0", 1, 1, "zone id"},
		{"2a01:111::1%2/128", "2a01:111::1%2/128", 1, 1, "zone id"},
		{"11.0.0.0/8", "11.0.0.0/8", 1, 1, "prefix /8 is too wide"},
		{"20.0.0.0/7", "20.0.0.0/7", 1, 1, "prefix /7 is too wide"},
		{"2a00::/8", "2a00::/8", 1, 1, "prefix /8 is too wide"},
		{"0.0.0.0/0", "0.0.0.0/0", 1, 1, "0.0.0.0/0 is every IPv4 address"},
		{"::/0", "::/0", 1, 1, "::/0 is every IPv6 address"},
		{"0.0.0.0", "0.0.0.0", 1, 1, "unspecified"},
		{"::", "::", 1, 1, "unspecified"},
		{"10.1.2.3", "10.1.2.3", 1, 1, "private: 10.1.2.3/32 is in 10.0.0.0/8 (RFC 1918)"},
		{"10.0.0.0/8", "10.0.0.0/8", 1, 1, "private"},
		{"172.16.5.0/24", "172.16.5.0/24", 1, 1, "private: 172.16.5.0/24 is in 172.16.0.0/12"},
		{"192.168.1.1", "192.168.1.1", 1, 1, "private: 192.168.1.1/32 is in 192.168.0.0/16"},
		{"fd12:3456::/48", "fd12:3456::/48", 1, 1, "private: fd12:3456::/48 is in fc00::/7"},
		{"127.0.0.1", "127.0.0.1", 1, 1, "loopback"},
		{"::1", "::1", 1, 1, "loopback"},
		{"169.254.1.1", "169.254.1.1", 1, 1, "link-local"},
		{"fe80::1", "fe80::1", 1, 1, "link-local"},
		{"224.0.0.1", "224.0.0.1", 1, 1, "multicast"},
		{"ff02::1", "ff02::1", 1, 1, "multicast"},
		{"100.64.1.1", "100.64.1.1", 1, 1, "reserved: 100.64.1.1/32 is in 100.64.0.0/10 (shared address space"},
		{"192.0.0.8", "192.0.0.8", 1, 1, "reserved: 192.0.0.8/32 is in 192.0.0.0/24"},
		{"192.0.2.1", "192.0.2.1", 1, 1, "reserved: 192.0.2.1/32 is in 192.0.2.0/24 (documentation"},
		{"198.18.0.1", "198.18.0.1", 1, 1, "reserved: 198.18.0.1/32 is in 198.18.0.0/15 (benchmarking"},
		{"198.51.100.7", "198.51.100.7", 1, 1, "in 198.51.100.0/24 (documentation"},
		{"203.0.113.7/24", "203.0.113.7/24", 1, 1, "in 203.0.113.0/24 (documentation"},
		{"240.1.2.3", "240.1.2.3", 1, 1, "reserved: 240.1.2.3/32 is in 240.0.0.0/4"},
		{"255.255.255.255", "255.255.255.255", 1, 1, "limited broadcast"},
		{"0.1.2.3", "0.1.2.3", 1, 1, "this network"},
		{"2001:db8::1", "2001:db8::1", 1, 1, "reserved: 2001:db8::1/128 is in 2001:db8::/32 (documentation"},
		{"::ffff:20.190.128.5", "::ffff:20.190.128.5", 1, 1, "IPv4-mapped"},
		{"64:ff9b::14be:8005", "64:ff9b::14be:8005", 1, 1, "NAT64"},
		{"2001:0:1::1", "2001:0:1::1", 1, 1, "in 2001::/23 (IETF protocol assignments"},
		{"100::1", "100::1", 1, 1, "discard-only"},
		{"4000::1", "4000::1", 1, 1, "not global unicast"},
		{"100.0.0.0/9", "100.0.0.0/9", 1, 1, "the range includes 100.64.0.0/10"},
		{"20.190.128.5, 192.0.0.0/16", "192.0.0.0/16", 1, 15, "the range includes 192.0.0.0/24"},
		{"2001::/16", "2001::/16", 1, 1, "the range includes 2001::/23"},
		{"20.190.128.5 # ok\n\t10.0.0.1 # not ok", "10.0.0.1", 2, 2, "private"},
		{"ünïcode, 10.0.0.1", "10.0.0.1", 1, 10, "private"},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			_, all := Parse(tt.input)
			// The input may hold other refused tokens (ünïcode); keep the
			// problem this case is about.
			var problems []Problem
			for _, p := range all {
				if p.Token == tt.token {
					problems = append(problems, p)
				}
			}
			if len(problems) != 1 {
				t.Fatalf("Parse(%q) problems = %v, want one for %q", tt.input, problems, tt.token)
			}
			p := problems[0]
			if p.Token != tt.token || p.Line != tt.line || p.Column != tt.col {
				t.Errorf("problem at %q line %d column %d, want %q line %d column %d", p.Token, p.Line, p.Column, tt.token, tt.line, tt.col)
			}
			if !strings.Contains(p.Reason, tt.wantReason) {
				t.Errorf("reason %q does not contain %q", p.Reason, tt.wantReason)
			}
			msg := p.Error()
			wantWhere := fmt.Sprintf("line %d, column %d: %q: ", tt.line, tt.col, tt.token)
			if !strings.HasPrefix(msg, wantWhere) {
				t.Errorf("message %q does not start with %q", msg, wantWhere)
			}
		})
	}
}

func TestParseReturnsGoodTokensBesideProblems(t *testing.T) {
	got, problems := Parse("20.190.128.5, 10.0.0.1, bogus")
	if len(problems) != 2 {
		t.Fatalf("problems = %v, want two", problems)
	}
	if !slices.Equal(got.Prefixes, prefixes("20.190.128.5/32")) {
		t.Errorf("prefixes = %v", got.Prefixes)
	}
}

func TestParseListLocatesTheEntry(t *testing.T) {
	got, problems := ParseList([]string{"20.190.128.5", "51.140.12.0/27, 10.0.0.1"})
	if len(problems) != 1 {
		t.Fatalf("problems = %v", problems)
	}
	p := problems[0]
	if p.Item != 2 || p.Line != 1 || p.Column != 17 || p.Token != "10.0.0.1" {
		t.Errorf("problem = %+v", p)
	}
	if want := `entry 2, column 17: "10.0.0.1": private`; !strings.HasPrefix(p.Error(), want) {
		t.Errorf("message %q does not start with %q", p.Error(), want)
	}
	if !slices.Equal(got.Prefixes, prefixes("20.190.128.5/32", "51.140.12.0/27")) {
		t.Errorf("prefixes = %v", got.Prefixes)
	}
}

func TestParseRefusesMoreThan2000RangesAfterMerging(t *testing.T) {
	var b strings.Builder
	for i := range MaxRanges + 1 {
		fmt.Fprintf(&b, "20.%d.%d.0/24\n", 100+i/256, i%256)
	}
	text := b.String()
	got, problems := Parse(text)
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), "2001 ranges after merging; a named location holds at most 2000") {
		t.Fatalf("problems = %v", problems)
	}
	if len(got.Prefixes) != MaxRanges+1 {
		t.Errorf("got %d prefixes", len(got.Prefixes))
	}

	// The same count with one range that holds another is within the
	// limit: the limit applies after merging.
	_, problems = Parse(text + "20.100.0.7\n")
	if len(problems) != 1 {
		t.Fatalf("problems = %v", problems)
	}
	_, problems = Parse(strings.Replace(text, "20.107.208.0/24\n", "20.100.0.9\n", 1))
	if len(problems) != 0 {
		t.Errorf("2000 ranges after merging refused: %v", problems)
	}
}

// FuzzParse checks the promises Parse makes on any input: no panic, every
// prefix masked and valid, nothing from a refused class, sorted without
// overlap, and a formatted result reads back to itself with nothing to
// report.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"20.190.128.5\n51.140.12.5", "203.0.114.7/24, 203.0.114.0/25", "2a01:111:f400:7e00::1/64",
		"10.0.0.1", "fe80::1%eth0", "::ffff:1.2.3.4", "0.0.0.0/0", "# c\n1.2.3.4 # d", "1.2.3.4/33", "ü,;\t\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, problems := Parse(text)
		for i, p := range got.Prefixes {
			if !p.IsValid() || p.Masked() != p {
				t.Fatalf("prefix %v is not valid and masked", p)
			}
			if reason := Judge(p); reason != "" {
				t.Fatalf("prefix %v returned but refused: %s", p, reason)
			}
			if i > 0 {
				prev := got.Prefixes[i-1]
				if prev.Overlaps(p) || (prev.Addr().Is4() == p.Addr().Is4() && prev.Addr().Compare(p.Addr()) >= 0) || (prev.Addr().Is6() && p.Addr().Is4()) {
					t.Fatalf("prefixes %v and %v out of order or overlapping", prev, p)
				}
			}
		}
		lines := strings.Split(text, "\n")
		for _, p := range problems {
			if p.Reason == "" {
				t.Fatalf("problem without a reason: %+v", p)
			}
			if p.Line == 0 {
				continue
			}
			// The position points at the token: that is what lets an
			// operator find it in a long pasted list.
			if p.Line > len(lines) || !strings.HasPrefix(fromColumn(lines[p.Line-1], p.Column), p.Token) {
				t.Fatalf("problem %+v does not point at its token in %q", p, text)
			}
		}
		again, againProblems := Parse(got.String())
		if !slices.Equal(again.Prefixes, got.Prefixes) {
			t.Fatalf("reparse of %q = %v, want %v", got.String(), again.Prefixes, got.Prefixes)
		}
		if len(again.Notes) != 0 {
			t.Fatalf("reparse of a normalised result has notes: %v", again.Notes)
		}
		if len(got.Prefixes) <= MaxRanges && len(againProblems) != 0 {
			t.Fatalf("reparse of a normalised result has problems: %v", againProblems)
		}
	})
}

func TestProblemShortensLongTokens(t *testing.T) {
	_, problems := Parse(strings.Repeat("x", 5000))
	if len(problems) != 1 {
		t.Fatalf("problems = %v", problems)
	}
	if msg := problems[0].Error(); len(msg) > 300 || !strings.Contains(msg, `xxx…": not an IP address`) {
		t.Errorf("message %.300q", msg)
	}
	if len(problems[0].Token) != 5000 {
		t.Error("the token itself was cut")
	}
}

func BenchmarkParse2000Ranges(b *testing.B) {
	var sb strings.Builder
	for i := range MaxRanges {
		fmt.Fprintf(&sb, "20.%d.%d.7/24, ", 100+i/256, i%256)
	}
	text := sb.String()
	b.ReportAllocs()
	for b.Loop() {
		if _, problems := Parse(text); len(problems) != 0 {
			b.Fatal(problems)
		}
	}
}

// fromColumn returns line from its column-th character on, an invalid byte
// counting as one character.
func fromColumn(line string, column int) string {
	i := 0
	for c := 1; c < column && i < len(line); c++ {
		_, size := utf8.DecodeRuneInString(line[i:])
		i += size
	}
	return line[i:]
}
