package tenantsim

// limits bound what the tenant keeps between requests, so that a long-running
// emulator's memory stays flat however many sign-ins it serves. Variables,
// so that the package's tests can reach the bounds quickly.
var limits = struct {
	deviceCodes   int // pending device codes (each lives 15 minutes anyway)
	refreshTokens int // live refresh tokens
	signIns       int // sign-in log entries (Graph keeps 30 days of them)
	requestLog    int // RequestRecords kept for Requests()
}{deviceCodes: 1000, refreshTokens: 10000, signIns: 1000, requestLog: 100000}

// bounded is a map that forgets its oldest entries beyond max.
type bounded[V any] struct {
	m     map[string]V
	order []string // insertion order; may hold keys already deleted
}

func (b *bounded[V]) get(k string) (V, bool) {
	v, ok := b.m[k]
	return v, ok
}

func (b *bounded[V]) put(k string, v V, max int) {
	if b.m == nil {
		b.m = map[string]V{}
	}
	if _, ok := b.m[k]; !ok {
		b.order = append(b.order, k)
	}
	b.m[k] = v
	for len(b.m) > max && len(b.order) > 0 {
		oldest := b.order[0]
		b.order = b.order[1:]
		delete(b.m, oldest)
	}
	// Deleted keys linger in order; drop them once they dominate it.
	if len(b.order) > 2*max+16 {
		kept := make([]string, 0, len(b.m))
		for _, k := range b.order {
			if _, ok := b.m[k]; ok {
				kept = append(kept, k)
			}
		}
		b.order = kept
	}
}

func (b *bounded[V]) del(k string) { delete(b.m, k) }

func (b *bounded[V]) len() int { return len(b.m) }

// each calls f for every entry until it returns false; f may delete the
// entry it is given.
func (b *bounded[V]) each(f func(k string, v V) bool) {
	for k, v := range b.m {
		if !f(k, v) {
			return
		}
	}
}
