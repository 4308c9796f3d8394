package tenantsim

import (
	"context"
	"net/netip"
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
}

// SetResolverForTest replaces the name lookup of the loopback guard, as a
// hosts file mapping localhost elsewhere would; the returned func restores it.
func SetResolverForTest(f func(host string) ([]netip.Addr, error)) (restore func()) {
	old := lookupHost
	lookupHost = func(_ context.Context, host string) ([]netip.Addr, error) { return f(host) }
	return func() { lookupHost = old }
}
