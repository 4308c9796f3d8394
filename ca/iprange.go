package ca

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
)

// An IP named location may hold up to 2000 ranges, and a sign-in is matched
// against every location a policy names, so the ranges are turned once into
// sorted, merged [lo, hi] spans searched in logarithmic time. IPv4 and IPv6
// spans are kept apart: "an IPv4-only location does not match a sign-in
// that arrives over IPv6".

type span4 struct{ lo, hi uint32 }

// u128 is an IPv6 address as a number.
type u128 struct{ hi, lo uint64 }

func (a u128) cmp(b u128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

type span6 struct{ lo, hi u128 }

// parseRange reads a cidrAddress. An IPv4-mapped IPv6 prefix of length 96
// or more is the IPv4 prefix it carries, as sign-in addresses are unmapped.
func parseRange(cidr string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(strings.TrimSpace(cidr))
	if err != nil {
		return netip.Prefix{}, false
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

// compileRanges turns cidrAddress values into merged spans. Ranges that do
// not parse are skipped: ValidateNamedLocation refuses them on write, and a
// range that cannot be read cannot contain an address.
func compileRanges(ranges []IPRange) ([]span4, []span6) {
	var v4 []span4
	var v6 []span6
	for _, r := range ranges {
		p, ok := parseRange(r.CIDRAddress)
		if !ok {
			continue
		}
		if p.Addr().Is4() {
			lo := addr32(p.Addr())
			host := uint32(uint64(1)<<(32-p.Bits()) - 1)
			v4 = append(v4, span4{lo, lo | host})
			continue
		}
		lo := addr128(p.Addr())
		hi := lo
		// Shifting a uint64 by 64 yields 0, which covers /64 and /128.
		if b := p.Bits(); b < 64 {
			hi.hi |= ^uint64(0) >> b
			hi.lo = ^uint64(0)
		} else {
			hi.lo |= ^uint64(0) >> (b - 64)
		}
		v6 = append(v6, span6{lo, hi})
	}
	return merge4(v4), merge6(v6)
}

func addr32(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func addr128(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func merge4(s []span4) []span4 {
	slices.SortFunc(s, func(a, b span4) int { return cmp.Compare(a.lo, b.lo) })
	out := s[:0]
	for _, x := range s {
		if n := len(out); n > 0 && (x.lo <= out[n-1].hi || x.lo-1 == out[n-1].hi) {
			out[n-1].hi = max(out[n-1].hi, x.hi)
			continue
		}
		out = append(out, x)
	}
	return slices.Clip(out)
}

func merge6(s []span6) []span6 {
	slices.SortFunc(s, func(a, b span6) int { return a.lo.cmp(b.lo) })
	out := s[:0]
	for _, x := range s {
		if n := len(out); n > 0 && x.lo.cmp(out[n-1].hi) <= 0 {
			if x.hi.cmp(out[n-1].hi) > 0 {
				out[n-1].hi = x.hi
			}
			continue
		}
		out = append(out, x)
	}
	return slices.Clip(out)
}

// contains reports whether an unmapped address lies in one of the spans.
func (c *compiledLocation) contains(ip netip.Addr) bool {
	if ip.Is4() {
		x := addr32(ip)
		i, found := slices.BinarySearchFunc(c.v4, x, func(s span4, x uint32) int { return cmp.Compare(s.lo, x) })
		return found || (i > 0 && x <= c.v4[i-1].hi)
	}
	x := addr128(ip)
	i, found := slices.BinarySearchFunc(c.v6, x, func(s span6, x u128) int { return s.lo.cmp(x) })
	return found || (i > 0 && x.cmp(c.v6[i-1].hi) <= 0)
}
