package tenantsim

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
