// Package tenantsim is the simulated tenant: an HTTPS server on loopback that
// speaks the Microsoft Graph v1.0 wire format (and the beta per-user MFA
// endpoint) and the Entra ID authority endpoints, keeps state, validates
// requests the way Graph does and can inject faults. The demo, every test and
// every benchmark run the real adapter, msgraph-sdk-go and azidentity against
// it; it shares nothing with the adapter but the wire format.
package tenantsim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// PublicClientID is the public client the product signs in with by default
// (the Microsoft Graph Command Line Tools app, GRAPH-NOTES section 8); the
// simulated tenant grants it every delegated scope the product uses.
const PublicClientID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"

// DemoAppClientID is the confidential demo app the emulator offers for the
// client-credentials grant.
const DemoAppClientID = "7d4c3b2a-5e6f-4a1b-9c8d-0e1f2a3b4c5d"

// Options configure a simulated tenant.
type Options struct {
	// Listen is the address to serve on; loopback with a free port when empty.
	Listen string
	// StatePath, when set, makes the tenant persist there between runs.
	StatePath string
	// Scenario names an entry of assets/scenarios.json; "" is "default".
	Scenario string
	// PageSize is how many items a list returns before @odata.nextLink
	// (100 when zero, like most Graph collections).
	PageSize int
	// CrashAfterWrites, when positive, makes the tenant die right after
	// its k-th write, as SetCrashAfterWrites does.
	CrashAfterWrites int
}

// Server is a running simulated tenant.
type Server struct {
	mu    sync.Mutex
	st    *state
	opts  Options
	roles []roleDefinition

	ln      net.Listener
	http    *http.Server
	inner   http.Handler // the routes without the front door, for $batch items
	certPEM []byte
	pool    *x509.CertPool
	signKey []byte
	secret  string // the demo app's client secret

	file      *stateFile // the --demo-state file, locked; nil without one
	closeOnce sync.Once
	closeErr  error

	deviceCodes bounded[*deviceCode]  // by device_code
	refresh     bounded[refreshToken] // by refresh token

	connMu sync.Mutex
	fresh  map[net.Conn]bool // connections that have not sent a request yet

	faults      []*Fault
	latency     time.Duration
	replication time.Duration
	visibleAt   map[string]time.Time // object id -> when replication makes it visible
	caNext      time.Time            // earliest time the CA throttle admits the next request
	consented   []string             // nil: ProductScopes
	// Where sign-ins come from (signinlog.go), and smart lockout's counts.
	originIP      netip.Addr
	originCountry string
	lockouts      map[string]*lockout // by lower-case user id
	// userConsents are the delegated scopes a user consented to for
	// themselves when signing in interactively, by "userID clientID".
	userConsents map[string][]string
	log          []RequestRecord

	// Writes committed, and the crash after the k-th (crash.go).
	writes           int
	crashAt          int // the value of writes that kills the tenant; 0 never
	crashLosesAnswer bool
	crashed          bool
}

// RequestRecord is one request the tenant answered, for tests and
// benchmarks that count round trips.
type RequestRecord struct {
	Method, Path string
	Query        string // the raw query, e.g. $filter=...&$skiptoken=2
	Status       int    // 0 when the connection was dropped
	// RequestID is the request-id the tenant sent back (and put in the
	// innerError of an error body), for matching the ids a client reports.
	RequestID string
	// ContentEncoding is the request's Content-Encoding ("gzip" for the
	// SDK's compressed bodies).
	ContentEncoding string
	Start, End      time.Time
}

// New loads the tenant (persisted state, or the demo tenant with the
// scenario applied) and starts serving HTTPS.
func New(opts Options) (s *Server, err error) {
	var file *stateFile
	var data []byte
	if opts.StatePath != "" {
		if file, data, err = openStateFile(opts.StatePath); err != nil {
			return nil, err
		}
		// A start that fails leaves no file behind and no lock held.
		defer func() {
			if err != nil {
				file.release(true)
			}
		}()
	}
	st, err := loadState(data, opts.StatePath, opts.Scenario)
	if err != nil {
		return nil, err
	}
	roles, err := loadRoleDefinitions()
	if err != nil {
		return nil, err
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	s = &Server{
		st:        st,
		opts:      opts,
		roles:     roles,
		signKey:   randomBytes(32),
		secret:    "demo~" + hex.EncodeToString(randomBytes(18)),
		visibleAt: map[string]time.Time{},
		file:      file,
		crashAt:   max(opts.CrashAfterWrites, 0),
	}
	if err := s.start(); err != nil {
		return nil, err
	}
	if file != nil {
		// A tenant read from the file is not written back until it
		// changes; a new one is written once it serves.
		if data != nil {
			err = file.remember(st)
		} else {
			err = file.write(st)
			if err == nil {
				err = file.remember(st)
			}
		}
		if err != nil {
			s.http.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) start() error {
	cert, certPEM, err := selfSignedCert()
	if err != nil {
		return fmt.Errorf("making the simulated tenant's certificate: %w", err)
	}
	s.certPEM = certPEM
	s.pool = x509.NewCertPool()
	s.pool.AppendCertsFromPEM(certPEM)

	addr, err := loopbackAddr(s.opts.Listen)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	s.ln = ln
	s.http = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		// A client that keeps a connection open without using it must
		// not hold it (and a goroutine) for ever.
		IdleTimeout: idleTimeout,
		// HTTP/1.1 only, so that a dropped-connection fault can hijack the
		// connection and close it mid-request.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		TLSConfig:    &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		// The server's own complaints (a client hanging up mid-handshake)
		// must not reach a terminal the demo's TUI owns.
		ErrorLog:  log.New(io.Discard, "", 0),
		ConnState: s.trackConn,
	}
	go s.http.ServeTLS(ln, "", "")
	return nil
}

// Close stops serving: it lets requests in progress finish (so that their
// changes are saved), writes a sign-in log that grew since the last save,
// and releases the state file. Calling it again does nothing.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		err := s.shutdown()
		s.locked(func() {
			if s.file != nil {
				err = errors.Join(err, s.file.saveIfChanged(s.st, true))
			}
		})
		s.file.release(false)
		s.closeErr = err
	})
	return s.closeErr
}

func (s *Server) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.http.Shutdown(ctx) }()
	// Shutdown waits five seconds for a connection that has not sent a
	// request yet (HTTP clients open spare ones when requests run
	// concurrently); there is nothing on it to finish.
	func() {
		s.connMu.Lock()
		defer s.connMu.Unlock()
		for c := range s.fresh {
			c.Close()
		}
	}()
	return <-done
}

// trackConn keeps the set of connections that have not sent a request.
func (s *Server) trackConn(c net.Conn, state http.ConnState) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if s.fresh == nil {
		s.fresh = map[net.Conn]bool{}
	}
	if state == http.StateNew {
		s.fresh[c] = true
	} else {
		delete(s.fresh, c)
	}
}

// BaseURL is the server's root, e.g. https://127.0.0.1:41234.
func (s *Server) BaseURL() string { return "https://" + s.ln.Addr().String() }

// GraphURL is the Graph v1.0 base URL.
func (s *Server) GraphURL() string { return s.BaseURL() + "/v1.0" }

// AuthorityURL is the authority host URL (with a trailing slash, as azcore's
// cloud configuration expects).
func (s *Server) AuthorityURL() string { return s.BaseURL() + "/" }

// TenantID is the simulated tenant's id.
func (s *Server) TenantID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.TenantID
}

// ClientSecret is the demo app's secret for the client-credentials grant.
func (s *Server) ClientSecret() string { return s.secret }

// CertPEM is the server certificate, for clients that must trust it.
func (s *Server) CertPEM() []byte { return s.certPEM }

// CertPool trusts the server certificate.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// Transport returns an HTTP transport that trusts the server.
func (s *Server) Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: s.pool, MinVersion: tls.VersionTLS12}
	t.Proxy = nil // loopback never goes through a proxy
	return t
}

// Fault is an injected failure for the next Times requests whose path
// contains Path (and whose method is Method, when set): e.g. {Method:
// "PATCH", Path: "/identity/conditionalAccess/policies/"} fails the next
// policy update once.
type Fault struct {
	Method     string
	Path       string
	Status     int    // the status to answer with (429, 500, 503, ...)
	RetryAfter string // a Retry-After header value; "" sends none
	Drop       bool   // close the connection without answering
	Times      int    // how many requests it hits; 1 when zero
	// AfterCommit lets the request do its work first and fails only the
	// answer: a write is committed, and the client sees the fault (a
	// lost reply, or a 5xx) instead of its success.
	AfterCommit bool
}

// InjectFault queues a fault.
func (s *Server) InjectFault(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// SetLatency delays every answer by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetReplicationDelay makes objects created from now on invisible (404, or
// "not a valid reference" when referenced) for d after their creation.
func (s *Server) SetReplicationDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replication = d
}

// SetPageSize changes how many items a list page holds.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.PageSize = n
}

// SetCAThrottle turns the one-request-per-second Conditional Access limit on
// or off.
func (s *Server) SetCAThrottle(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.CAThrottle = on
}

// SetConsentedScopes changes the permissions the tenant has consented for
// the product (delegated scopes of the public client, application
// permissions of the demo app). Tokens issued from now on carry only these,
// so that a missing consent can be shown and tested; no argument restores
// ProductScopes.
func (s *Server) SetConsentedScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consented = append([]string(nil), scopes...)
	if len(scopes) == 0 {
		s.consented = nil
	}
}

func (s *Server) consentedScopes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.consented == nil {
		return ProductScopes
	}
	return append([]string(nil), s.consented...)
}

// Requests returns what the tenant has answered so far.
func (s *Server) Requests() []RequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RequestRecord(nil), s.log...)
}

// ResetRequests forgets the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

// takeFault returns the first queued fault matching the request, spending
// one of its uses.
func (s *Server) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if (f.Method == "" || strings.EqualFold(f.Method, r.Method)) && strings.Contains(r.URL.Path, f.Path) {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			copy := *f
			return &copy
		}
	}
	return nil
}

// visible reports whether replication has caught up with the object.
// Callers hold s.mu.
func (s *Server) visible(id string) bool {
	t, ok := s.visibleAt[id]
	return !ok || !time.Now().Before(t)
}

// created marks a new object as subject to the replication delay. Callers
// hold s.mu.
func (s *Server) created(id string) {
	// Timers whose time has passed are forgotten, so that the map holds
	// only objects still replicating.
	now := time.Now()
	for k, t := range s.visibleAt {
		if !now.Before(t) {
			delete(s.visibleAt, k)
		}
	}
	if s.replication > 0 {
		s.visibleAt[id] = time.Now().Add(s.replication)
	}
}

// persist writes the state after a change, and only if the tenant did
// change. Callers hold s.mu.
func (s *Server) persist() error {
	if s.file == nil {
		return nil
	}
	return s.file.saveIfChanged(s.st, false)
}

// commit ends a successful write: it persists the state, then answers with
// the status and body (nil for none). Callers hold s.mu.
func (s *Server) commit(w http.ResponseWriter, status int, body any) *graphError {
	if gerr := s.committed(); gerr != nil {
		return gerr
	}
	if body == nil {
		w.WriteHeader(status)
		return nil
	}
	writeJSON(w, status, body)
	return nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b
}

func newGUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// selfSignedCert makes a short-lived certificate for loopback names.
func selfSignedCert() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	// Each instance is its own CA with its own name and key identifiers:
	// a client trusting two instances at once (two emulators, or tests in
	// parallel) must find each certificate's issuer by name and key id,
	// and verifiers that pick one issuer by name alone would pick the
	// wrong one if every instance were called the same.
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	keyID := sha256.Sum256(pub)
	serial := new(big.Int).SetBytes(randomBytes(16))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "mgmtsession simulated tenant " + hex.EncodeToString(randomBytes(6)), Organization: []string{"mgmtsession"}, SerialNumber: serial.Text(16)},
		SubjectKeyId:          keyID[:20],
		AuthorityKeyId:        keyID[:20],
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, nil, errors.Join(errors.New("pairing certificate and key"), err)
	}
	return cert, certPEM, nil
}

// locked runs f holding s.mu, and releases it even if f panics (a handler
// bug must never leave every later request waiting on the lock).
func (s *Server) locked(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

// loopbackAddr turns a listen address into the loopback address to bind:
// the tenant grants tokens to anyone who asks, so it must never be reachable
// from another machine. A name is resolved, and every address it stands for
// must be loopback (a hosts file may map localhost to 0.0.0.0); the address
// is bound, not the name, so that what was checked is what is served.
func loopbackAddr(listen string) (string, error) {
	if listen == "" {
		return "127.0.0.1:0", nil
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", listen, err)
	}
	refuse := func(why string) error {
		return fmt.Errorf("listen address %q: %s; the simulated tenant serves only on loopback (127.0.0.1, ::1 or localhost)", listen, why)
	}
	if host == "" {
		return "", refuse("no host means every interface")
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if addrs, err = lookupHost(ctx, host); err != nil {
			return "", refuse("cannot resolve it: " + err.Error())
		}
	}
	if len(addrs) == 0 {
		return "", refuse("it resolves to no address")
	}
	for _, a := range addrs {
		if !a.Unmap().IsLoopback() {
			return "", refuse(fmt.Sprintf("%s is not a loopback address", a))
		}
	}
	return net.JoinHostPort(addrs[0].Unmap().WithZone("").String(), port), nil
}

// lookupHost resolves a listen address's name (a variable for tests).
var lookupHost = func(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// idleTimeout closes keep-alive connections that carry no request for
// this long (a variable for tests).
var idleTimeout = 2 * time.Minute
