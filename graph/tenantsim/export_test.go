package tenantsim

import (
	"context"
	"net/netip"
	"time"
)

// Hooks for the package's own tests: they reach what no client can, to
// show what the server does when its state is already broken or its
// bounds are reached.

// InjectNilUserForTest appends a nil user, as a state file with a null entry
// did before the state was validated on load.
func (s *Server) InjectNilUserForTest() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.Users = append(s.st.Users, nil)
	s.st.changedDirectory()
}

// SetResolverForTest replaces the name lookup of the loopback guard, as a
// hosts file mapping localhost elsewhere would; the returned func restores it.
func SetResolverForTest(f func(host string) ([]netip.Addr, error)) (restore func()) {
	old := lookupHost
	lookupHost = func(_ context.Context, host string) ([]netip.Addr, error) { return f(host) }
	return func() { lookupHost = old }
}

// SetLimitsForTest lowers the bounds on what the tenant keeps; the returned
// func restores them.
func SetLimitsForTest(n int) (restore func()) {
	old := limits
	limits.deviceCodes, limits.refreshTokens, limits.signIns, limits.requestLog = n, n, n, n
	return func() { limits = old }
}

// RetainedForTest counts what the tenant keeps between requests.
func (s *Server) RetainedForTest() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]int{"device codes": s.deviceCodes.len(), "refresh tokens": s.refresh.len(),
		"sign-ins": len(s.st.SignIns), "request log": len(s.log), "replication timers": len(s.visibleAt)}
}

// SetIdleTimeoutForTest shortens the idle keep-alive timeout of servers
// started from now on.
func SetIdleTimeoutForTest(d time.Duration) (restore func()) {
	old := idleTimeout
	idleTimeout = d
	return func() { idleTimeout = old }
}
