package whatif

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"mgmtsession/ca"
)

// The sweep answers the question an admin has about the management account:
// under which conditions is it challenged or blocked from the allowed IPs
// (the platform would break), and under which does it sign in without MFA
// from outside (a protection gap)? It evaluates every combination of the
// platform's applications, client app types (modern and legacy), device
// platforms (unknown included), each allowed range and an outside address,
// each with and without a country, and groups the answers into the fewest
// readable conditions it can find.
//
// An allowed range is split where a named IP location's range begins or
// ends inside it, so that every part is evaluated from an address whose
// locations are those of the whole part: a policy scoped to half of an
// allowed range is not hidden by the half the sample address fell in.

// SweepInput is what a sweep evaluates.
type SweepInput struct {
	Subject Subject
	// Allowed are the allowed ranges (iprange.ParseList's prefixes).
	Allowed []netip.Prefix
	// AllowedCountry is the country of the allowed ranges, when known: each
	// range is evaluated without a country and, when given, with it.
	AllowedCountry string
	// Outside is an address outside the allowed ranges; when zero, the
	// first of a few documentation addresses that is in no allowed range
	// and no named IP location.
	Outside        netip.Addr
	OutsideCountry string
	// Apps default to PlatformApps.
	Apps []App
}

// SweepPlatformUnknown is how a sign-in with no device platform is named in
// the sweep's conditions and JSON.
const SweepPlatformUnknown = "unknown"

// sweepPlatforms are the device platforms swept: the ones a sign-in can
// report, and none (unknown).
var sweepPlatforms = append(slices.Clone(DevicePlatforms), "")

// OutsideCandidates are documentation addresses (RFC 5737), used as the
// outside address when none is given: no tenant allows them, and the
// picture never suggests that a real network is "outside".
var OutsideCandidates = []string{"198.51.100.77", "203.0.113.77", "192.0.2.77"}

// Combination is one swept sign-in and its verdict.
type Combination struct {
	From           string   `json:"from"` // the allowed range (part), or "outside"
	Allowed        bool     `json:"allowed"`
	IP             string   `json:"ipAddress"`
	Country        string   `json:"country"` // "" is none
	Application    string   `json:"application"`
	ClientAppType  string   `json:"clientAppType"`
	DevicePlatform string   `json:"devicePlatform"` // "unknown" when none
	Verdict        string   `json:"verdict"`
	DecidedBy      []string `json:"decidedBy"` // the enforced policies whose demand is the verdict
	// Undetermined are enforced policies that could apply but depend on a
	// fact not given, each with those facts: "CA005 (devices)".
	Undetermined []string `json:"undetermined,omitempty"`
}

// SweepGroup is a set of combinations with one outcome, described as one
// condition: every combination of the listed values has the outcome.
type SweepGroup struct {
	Condition    string `json:"condition"` // "from 20.190.128.0/24, any client, platform linux or macOS"
	Outcome      string `json:"outcome"`   // "MFA required by CA002"
	Combinations int    `json:"combinations"`
	// The values, for machines; an absent list is every value.
	From            []string `json:"from"`
	Countries       []string `json:"countries"` // "" is none
	Applications    []string `json:"applications"`
	ClientAppTypes  []string `json:"clientAppTypes"`
	DevicePlatforms []string `json:"devicePlatforms"`
	// sample is the index of one of its combinations.
	sample int
}

// String is the group as one line.
func (g SweepGroup) String() string { return g.Condition + ": " + g.Outcome }

// SweepConfirmation is Graph's What If asked about a sample of the sweep.
type SweepConfirmation struct {
	Compared      bool     `json:"compared"`
	Note          string   `json:"note,omitempty"`
	Requests      int      `json:"requests"`
	Disagreements []string `json:"disagreements"`
}

// Sweep is the result: every combination and the three groupings.
type Sweep struct {
	Subject      Subject       `json:"subject"`
	Allowed      []string      `json:"allowedRanges"`
	Outside      string        `json:"outsideAddress"`
	Combinations []Combination `json:"combinations"`
	// Challenged: from the allowed IPs, with a modern client, asked for MFA
	// or another control, or blocked (the platform would break).
	Challenged []SweepGroup `json:"challengedFromAllowedIPs"`
	// Unprotected: from outside, signed in without MFA (a protection gap).
	Unprotected []SweepGroup `json:"withoutMFAFromOutside"`
	// Undetermined: what depends on facts not given.
	Undetermined []SweepGroup        `json:"undetermined"`
	Graph        *SweepConfirmation  `json:"graphWhatIf,omitempty"`
	dims         [sweepDims][]string // the values of each dimension, for conditions
	points       [][sweepDims]uint16 // each combination's value indexes
	inside, out  int                 // counts of combinations from allowed IPs (modern clients) and from outside
	apps         []App
}

// Dimensions of a combination, in the order conditions are read.
const (
	dimFrom = iota
	dimCountry
	dimApp
	dimClient
	dimPlatform
	sweepDims
)

// cell is one place a sweep signs in from.
type cell struct {
	label   string
	addr    netip.Addr
	allowed bool
}

// Sweep evaluates every combination locally. It is pure: no I/O.
func (ps *PolicySet) Sweep(in SweepInput) (*Sweep, error) {
	if len(in.Allowed) == 0 {
		return nil, fmt.Errorf("sweep: no allowed IP ranges")
	}
	apps := in.Apps
	if apps == nil {
		apps = PlatformApps()
	}
	outside := in.Outside
	if !outside.IsValid() {
		for _, c := range OutsideCandidates {
			a := netip.MustParseAddr(c)
			if !inAny(in.Allowed, a) && !ps.inNamedIPLocation(a) {
				outside = a
				break
			}
		}
		if !outside.IsValid() {
			return nil, fmt.Errorf("sweep: every candidate outside address is allowed or in a named location; give one")
		}
	}
	if inAny(in.Allowed, outside) {
		return nil, fmt.Errorf("sweep: the outside address %s is in an allowed range", outside)
	}
	cells := ps.cells(in.Allowed)
	cells = append(cells, cell{label: "outside", addr: outside})

	sw := &Sweep{Subject: in.Subject, Outside: outside.String(), Allowed: make([]string, len(in.Allowed)),
		Combinations: []Combination{}, apps: apps}
	for i, p := range in.Allowed {
		sw.Allowed[i] = p.String()
	}
	for _, c := range cells {
		sw.dims[dimFrom] = append(sw.dims[dimFrom], c.label)
	}
	countries := []string{""}
	for _, c := range []string{in.AllowedCountry, in.OutsideCountry} {
		if c != "" && !slices.Contains(countries, c) {
			countries = append(countries, c)
		}
	}
	sw.dims[dimCountry] = countries
	for _, a := range apps {
		sw.dims[dimApp] = append(sw.dims[dimApp], a.Name)
	}
	sw.dims[dimClient] = ClientAppTypes
	for _, p := range sweepPlatforms {
		sw.dims[dimPlatform] = append(sw.dims[dimPlatform], cmp.Or(p, SweepPlatformUnknown))
	}

	base := ca.SignIn{Subject: in.Subject.evaluatorSubject(), ServicePrincipal: in.Subject.ServicePrincipalID}
	for ci, c := range cells {
		own := in.OutsideCountry
		if c.allowed {
			own = in.AllowedCountry
		}
		for ki, country := range countries {
			// The allowed ranges have the allowed country, the outside
			// address its own; each is also evaluated without one.
			if country != "" && country != own {
				continue
			}
			for ai, app := range apps {
				for li, client := range ClientAppTypes {
					for pi, platform := range sweepPlatforms {
						s := base
						s.IP, s.Country, s.Application, s.ClientAppType, s.DevicePlatform = c.addr, country, app.ID, client, platform
						b := ps.ev.Brief(s)
						comb := Combination{
							From: c.label, Allowed: c.allowed, IP: c.addr.String(), Country: country, Application: app.Name,
							ClientAppType: client, DevicePlatform: cmp.Or(platform, SweepPlatformUnknown),
							Verdict: b.Verdict, DecidedBy: make([]string, len(b.Culprits)),
						}
						for i, p := range b.Culprits {
							comb.DecidedBy[i] = ps.Policies[p].DisplayName
						}
						for i, p := range b.Undetermined {
							comb.Undetermined = append(comb.Undetermined, ps.Policies[p].DisplayName+" ("+strings.Join(b.Undecided[i], ", ")+")")
						}
						sw.Combinations = append(sw.Combinations, comb)
						sw.points = append(sw.points, [sweepDims]uint16{uint16(ci), uint16(ki), uint16(ai), uint16(li), uint16(pi)})
						if c.allowed {
							if modernClient(client) {
								sw.inside++
							}
						} else {
							sw.out++
						}
					}
				}
			}
		}
	}
	sw.group()
	return sw, nil
}

// caseOf is combination i as a What If case, for Graph; false when Graph
// cannot be asked about its application.
func (sw *Sweep) caseOf(i int) (Case, bool) {
	c, p := sw.Combinations[i], sw.points[i]
	app := sw.apps[p[dimApp]]
	if len(app.GraphIDs) == 0 {
		return Case{}, false
	}
	return Case{Label: c.From, Apps: []App{app}, Conditions: Conditions{
		IP: c.IP, Country: c.Country, ClientAppType: c.ClientAppType, DevicePlatform: sweepPlatforms[p[dimPlatform]],
	}}, true
}

// inAny reports whether a is in one of the prefixes.
func inAny(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// namedIPPrefixes are the ranges of every IP named location.
func (ps *PolicySet) namedIPPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, l := range ps.NamedLocations {
		if !l.IsIP() {
			continue
		}
		for _, r := range l.IPRanges {
			if p, err := netip.ParsePrefix(strings.TrimSpace(r.CIDRAddress)); err == nil {
				out = append(out, p.Masked())
			}
		}
	}
	return out
}

func (ps *PolicySet) inNamedIPLocation(a netip.Addr) bool { return inAny(ps.namedIPPrefixes(), a) }

// cells splits each allowed range into parts whose addresses are in the
// same named IP locations: the parts begin where a named range begins or
// ends inside the allowed range, and neighbours in the same locations are
// joined again. A part is named by the range when it is the whole range,
// else as rangeLabel names it.
func (ps *PolicySet) cells(allowed []netip.Prefix) []cell {
	type named struct {
		p   netip.Prefix
		loc int
	}
	var all []named
	for li, l := range ps.NamedLocations {
		if !l.IsIP() {
			continue
		}
		for _, r := range l.IPRanges {
			if p, err := netip.ParsePrefix(strings.TrimSpace(r.CIDRAddress)); err == nil {
				all = append(all, named{p.Masked(), li})
			}
		}
	}
	var out []cell
	for _, a := range allowed {
		a = a.Masked()
		first, last := a.Addr(), lastAddr(a)
		var inside []named
		starts := []netip.Addr{first}
		for _, n := range all {
			if !n.p.Overlaps(a) {
				continue
			}
			inside = append(inside, n)
			if s := n.p.Addr(); a.Contains(s) {
				starts = append(starts, s)
			}
			if e := lastAddr(n.p).Next(); e.IsValid() && a.Contains(e) {
				starts = append(starts, e)
			}
		}
		slices.SortFunc(starts, func(x, y netip.Addr) int { return x.Compare(y) })
		starts = slices.Compact(starts)
		// The locations each part is in, as a bit string over inside's
		// locations; neighbours with the same set are one part.
		sig := func(at netip.Addr) string {
			var locs []int
			for _, n := range inside {
				if n.p.Contains(at) && !slices.Contains(locs, n.loc) {
					locs = append(locs, n.loc)
				}
			}
			slices.Sort(locs)
			return fmt.Sprint(locs)
		}
		var parts []netip.Addr
		prev := ""
		for i, s := range starts {
			if k := sig(s); i == 0 || k != prev {
				parts = append(parts, s)
				prev = k
			}
		}
		for i, s := range parts {
			end := last
			if i+1 < len(parts) {
				end = parts[i+1].Prev()
			}
			out = append(out, cell{label: rangeLabel(s, end), addr: s, allowed: true})
		}
	}
	return out
}

// rangeLabel names the addresses first to last: as a CIDR range when they
// are one, else as "first-last".
func rangeLabel(first, last netip.Addr) string {
	for bits := 0; bits <= first.BitLen(); bits++ {
		if p := netip.PrefixFrom(first, bits).Masked(); p.Addr() == first && lastAddr(p) == last {
			return p.String()
		}
	}
	return first.String() + "-" + last.String()
}

// lastAddr is the last address of a prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// group builds the three groupings.
func (sw *Sweep) group() {
	var challenged, unprotected, undetermined []int
	for i, c := range sw.Combinations {
		switch {
		case c.Allowed && c.Verdict != ca.VerdictAllow && modernClient(c.ClientAppType):
			challenged = append(challenged, i)
		case !c.Allowed && c.Verdict != ca.VerdictMFA && c.Verdict != ca.VerdictBlock:
			unprotected = append(unprotected, i)
		}
		if len(c.Undetermined) > 0 {
			undetermined = append(undetermined, i)
		}
	}
	sw.Challenged = sw.groups(challenged, func(c Combination) string { return outcomeText(c.Verdict, c.DecidedBy) })
	sw.Unprotected = sw.groups(unprotected, func(c Combination) string {
		if c.Verdict == ca.VerdictAllow {
			return "no MFA: no enforced policy demands anything"
		}
		return "no MFA: only " + outcomeText(c.Verdict, c.DecidedBy)
	})
	sw.Undetermined = sw.groups(undetermined, func(c Combination) string {
		return "depends on facts not given: " + strings.Join(c.Undetermined, "; ")
	})
}

// modernClient reports whether a client app type is modern authentication,
// the kind the platform signs in with: a legacy client refused from the
// allowed IPs breaks nothing, so only modern ones count as challenged
// there. From outside every client counts, legacy ones most of all, since
// they cannot do MFA.
func modernClient(t string) bool { return t == "browser" || t == "mobileAppsAndDesktopClients" }

func outcomeText(verdict string, by []string) string {
	who := strings.Join(by, ", ")
	switch verdict {
	case ca.VerdictBlock:
		return "blocked by " + who
	case ca.VerdictMFA:
		return "MFA required by " + who
	case ca.VerdictControls:
		return "controls required by " + who
	}
	return "allowed"
}

// cube is a product of value sets, one bit set per dimension.
type cube [sweepDims]uint64

// groups partitions the combinations by outcome and each outcome's
// combinations into as few products of values as the merging finds: cubes
// equal in every dimension but one are merged, dimension after dimension,
// until nothing merges.
func (sw *Sweep) groups(idx []int, outcome func(Combination) string) []SweepGroup {
	out := []SweepGroup{}
	if len(idx) == 0 {
		return out
	}
	byOutcome := map[string][]int{}
	var order []string
	for _, i := range idx {
		o := outcome(sw.Combinations[i])
		if _, ok := byOutcome[o]; !ok {
			order = append(order, o)
		}
		byOutcome[o] = append(byOutcome[o], i)
	}
	for _, o := range order {
		members := byOutcome[o]
		// Dimensions of more than 64 values (many allowed ranges) are
		// grouped in blocks of 64: still correct, less merged.
		type keyed struct {
			c      cube
			blk    uint16
			sample int
			n      int
		}
		var cubes []keyed
		for _, i := range members {
			p := sw.points[i]
			var c cube
			for d := range sweepDims {
				c[d] = 1 << (p[d] % 64)
			}
			cubes = append(cubes, keyed{c: c, blk: p[dimFrom] / 64, sample: i, n: 1})
		}
		for changed := true; changed; {
			changed = false
			for _, d := range []int{dimPlatform, dimClient, dimApp, dimCountry, dimFrom} {
				type mkey struct {
					c   cube
					blk uint16
				}
				at := map[mkey]int{}
				var merged []keyed
				for _, k := range cubes {
					key := mkey{k.c, k.blk}
					key.c[d] = 0
					if j, ok := at[key]; ok {
						merged[j].c[d] |= k.c[d]
						merged[j].n += k.n
						changed = true
						continue
					}
					at[key] = len(merged)
					merged = append(merged, k)
				}
				cubes = merged
			}
		}
		for _, k := range cubes {
			g := SweepGroup{Outcome: o, Combinations: k.n, sample: k.sample}
			var parts []string
			for d := range sweepDims {
				vals := sw.values(d, k.c[d], k.blk)
				all := len(vals) == len(sw.dims[d])
				if d == dimFrom {
					// "every allowed range" is all of the allowed cells.
					all = false
				}
				var list *[]string
				switch d {
				case dimFrom:
					list = &g.From
				case dimCountry:
					list = &g.Countries
				case dimApp:
					list = &g.Applications
				case dimClient:
					list = &g.ClientAppTypes
				case dimPlatform:
					list = &g.DevicePlatforms
				}
				*list = vals
				if s := describe(d, vals, all, sw); s != "" {
					parts = append(parts, s)
				}
			}
			g.Condition = strings.Join(parts, ", ")
			out = append(out, g)
		}
	}
	return out
}

// values lists the values of dimension d a bit set holds.
func (sw *Sweep) values(d int, bits uint64, blk uint16) []string {
	var out []string
	for i := range 64 {
		if bits&(1<<i) != 0 {
			n := i
			if d == dimFrom {
				n += int(blk) * 64
			}
			out = append(out, sw.dims[d][n])
		}
	}
	return out
}

// describe writes one dimension of a condition for people; "" leaves it
// out (every value).
func describe(d int, vals []string, all bool, sw *Sweep) string {
	switch d {
	case dimFrom:
		allowedCells := len(sw.dims[dimFrom]) - 1
		if len(vals) == len(sw.dims[dimFrom]) {
			return "from anywhere"
		}
		if len(vals) == allowedCells && allowedCells > 1 && !slices.Contains(vals, "outside") {
			return "from every allowed range"
		}
		if len(vals) == 1 && vals[0] == "outside" {
			return "from outside (" + sw.Outside + ")"
		}
		return "from " + orList(vals)
	case dimCountry:
		// A place is swept without a country and with its own, so both
		// together are every country the condition could have.
		switch {
		case len(sw.dims[dimCountry]) == 1: // no country was given at all
			return ""
		case len(vals) > 1 && vals[0] == "":
			return ""
		case vals[0] == "":
			return "without a country"
		}
		return "in " + orList(vals)
	case dimApp:
		if all {
			return "any application"
		}
		return orList(vals)
	case dimClient:
		switch {
		case all:
			return "any client"
		case slices.Equal(vals, []string{"browser", "mobileAppsAndDesktopClients"}):
			return "modern clients"
		case slices.Equal(vals, []string{"exchangeActiveSync", "other"}):
			return "legacy clients"
		}
		return "client " + orList(vals)
	case dimPlatform:
		if all {
			return "any platform"
		}
		return "platform " + orList(vals)
	}
	return ""
}

func orList(vals []string) string {
	switch len(vals) {
	case 0:
		return "nothing"
	case 1:
		return vals[0]
	}
	return strings.Join(vals[:len(vals)-1], ", ") + " or " + vals[len(vals)-1]
}

// Headlines are the sweep's two answers, one line each: from the allowed
// IPs, and from outside. The wizard and status show them; the groups are
// the details.
func (sw *Sweep) Headlines() [2]string {
	var h [2]string
	if len(sw.Challenged) == 0 {
		h[0] = fmt.Sprintf("From the allowed IPs: never challenged or blocked (%d modern sign-ins checked).", sw.inside)
	} else {
		h[0] = fmt.Sprintf("From the allowed IPs: challenged or blocked in %d of %d modern sign-ins, by %s.",
			count(sw.Challenged), sw.inside, deciders(sw, sw.Challenged))
	}
	if len(sw.Unprotected) == 0 {
		h[1] = fmt.Sprintf("From outside: MFA or a block for every one of %d sign-ins.", sw.out)
	} else {
		h[1] = fmt.Sprintf("From outside: no MFA in %d of %d sign-ins, e.g. %s%s.",
			count(sw.Unprotected), sw.out, sw.Unprotected[0].Condition, more(len(sw.Unprotected)))
	}
	return h
}

// deciders lists the policies that decide the groups' outcomes, once each.
func deciders(sw *Sweep, gs []SweepGroup) string {
	var names []string
	for _, g := range gs {
		for _, n := range sw.Combinations[g.sample].DecidedBy {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func count(gs []SweepGroup) int {
	n := 0
	for _, g := range gs {
		n += g.Combinations
	}
	return n
}

func more(groups int) string {
	if groups < 2 {
		return ""
	}
	return fmt.Sprintf(" (and %d more conditions)", groups-1)
}

// Clean reports whether the sweep found nothing to fix: no challenge from
// the allowed IPs and no gap from outside.
func (sw *Sweep) Clean() bool { return len(sw.Challenged) == 0 && len(sw.Unprotected) == 0 }

// ConfirmWithGraph asks Graph's What If about one combination of each
// challenged and unprotected group, at most max, one request every
// interval (Conditional Access allows about one request per second per
// tenant), and records every disagreement. A subject Graph cannot evaluate
// (an account not created yet) is noted, with no request.
func (ps *PolicySet) ConfirmWithGraph(ctx context.Context, g GraphWhatIf, sw *Sweep, max int, interval time.Duration) error {
	conf := &SweepConfirmation{Disagreements: []string{}}
	sw.Graph = conf
	if !sw.Subject.Exists() {
		conf.Note = "the account does not exist yet; Graph's What If evaluates existing accounts only"
		return nil
	}
	var samples []int
	for _, gs := range [][]SweepGroup{sw.Challenged, sw.Unprotected} {
		for _, grp := range gs {
			samples = append(samples, grp.sample)
		}
	}
	if len(samples) == 0 && len(sw.Combinations) > 0 {
		// Nothing to fix: confirm one sign-in from each side instead.
		samples = append(samples, 0, len(sw.Combinations)-1)
	}
	conf.Compared = true
	for _, i := range samples {
		if conf.Requests >= max {
			break
		}
		c, ok := sw.caseOf(i)
		if !ok {
			continue
		}
		if conf.Requests > 0 && interval > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(interval):
			}
		}
		r := ps.Evaluate(sw.Subject, c)
		if err := r.CompareWithGraph(ctx, g, sw.Subject); err != nil {
			return err
		}
		conf.Requests += r.Graph.Requests
		comb := sw.Combinations[i]
		for _, d := range r.Graph.Disagreements {
			conf.Disagreements = append(conf.Disagreements, fmt.Sprintf("%s from %s, %s, %s: %s: %s",
				comb.Application, comb.From, comb.ClientAppType, comb.DevicePlatform, d.DisplayName, d.Detail))
		}
	}
	return nil
}
