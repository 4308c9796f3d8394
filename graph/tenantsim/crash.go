package tenantsim

import (
	"bytes"
	"net/http"
)

// Dying after the k-th write. A test of the safe-writes engine must show
// what happens when the process making the changes (or the service, as the
// client sees it) stops between two writes: the tenant then holds exactly
// the writes committed so far, and a later run must converge from there.
//
// A write is a POST, PATCH or DELETE the tenant committed and answers 2xx,
// a PATCH that leaves everything as it was included (What If's POST, the
// authority's token requests and the $batch envelope are not writes; the
// items of a batch are). With
// Options.StatePath every write is saved before it is answered, so a new
// Server on the same StatePath sees exactly what was committed. Without a
// StatePath the tenant dies with its process's memory, as a real one would
// not; tests that restart need a StatePath.

// Writes is how many writes the tenant has committed since it started.
func (s *Server) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// SetCrashAfterWrites makes the tenant die right after the k-th write from
// now: that write is committed, saved and answered, and every later request
// (Graph or authority) has its connection dropped without an answer, as a
// killed process's would be. The state file is released at that moment, so
// that a new Server can open it while this one is still in memory. Zero
// turns the crash off (until it has happened).
func (s *Server) SetCrashAfterWrites(k int) { s.setCrash(k, false) }

// SetCrashAtWrite is SetCrashAfterWrites where the k-th write's own answer
// is lost too: the write is committed and saved, then its connection is
// dropped, so the client cannot know whether it happened (a process killed
// between the service's commit and its reply).
func (s *Server) SetCrashAtWrite(k int) { s.setCrash(k, true) }

func (s *Server) setCrash(k int, loseAnswer bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.crashAt, s.crashLosesAnswer = 0, loseAnswer
	if k > 0 {
		s.crashAt = s.writes + k
	}
}

// Crashed reports whether the tenant has died after its k-th write.
func (s *Server) Crashed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.crashed
}

// committed saves a write that has just changed the state and counts it;
// the k-th one kills the tenant. A write that reaches this point after the
// tenant died (it was in flight when the k-th committed) is neither saved
// nor answered. Callers hold s.mu and have changed the state already.
func (s *Server) committed() *graphError {
	if s.crashed {
		panic(http.ErrAbortHandler)
	}
	if err := s.persist(); err != nil {
		return internal(err)
	}
	s.writes++
	if s.crashAt > 0 && s.writes >= s.crashAt {
		s.crashed = true
		// What was written is all that survives: the file is released
		// as the kernel releases a killed process's locks, and nothing
		// (not even Close) writes it again.
		s.file.release(false)
		s.file = nil
		if s.crashLosesAnswer {
			panic(http.ErrAbortHandler)
		}
	}
	return nil
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// discardWriter takes a handler's answer and keeps it from the client,
// for a fault that strikes after the write was committed.
type discardWriter struct {
	header http.Header
	body   bytes.Buffer
	status int
}

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(p []byte) (int, error) { return d.body.Write(p) }
func (d *discardWriter) WriteHeader(status int)      { d.status = status }
