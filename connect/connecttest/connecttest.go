// Package connecttest stands in, on loopback, for what lies between the
// operator and a national cloud: an HTTP CONNECT proxy, an organisation's
// CA, and the cloud's authority and Graph hosts (the simulated tenant
// behind them). The tests of connect and of the command line share it.
package connecttest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
)

// CloudStandIn answers for a national cloud's authority and Graph hosts
// with the simulated tenant behind it, as the cloud's own servers would:
// TLS with a certificate for those names, issued by a CA of the test, and
// the tenant's URLs in its answers rewritten to the name asked for. It
// records the host of every request.
type CloudStandIn struct {
	Srv   *httptest.Server
	mu    sync.Mutex
	hosts []string // host and path of each request
}

func (s *CloudStandIn) Seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.hosts)
}

func NewCloudStandIn(t testing.TB, sim *tenantsim.Server, leaf tls.Certificate) *CloudStandIn {
	simURL, _ := url.Parse(sim.BaseURL())
	s := &CloudStandIn{}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(simURL)
			pr.Out.Header.Set("X-Cloud-Host", pr.In.Host)
			pr.Out.Header.Del("Accept-Encoding") // answers are rewritten
			// A token request names the cloud's Graph as the scope's
			// resource; the tenant knows itself by its own address.
			if strings.HasPrefix(pr.In.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
				body, _ := io.ReadAll(pr.Out.Body)
				for _, c := range graph.Clouds {
					if bytes.Contains(body, []byte(url.QueryEscape(c.GraphRoot+"/"))) {
						pr.Out.Header.Set("X-Graph-Root", c.GraphRoot)
					}
					body = bytes.ReplaceAll(body, []byte(url.QueryEscape(c.GraphRoot+"/")), []byte(url.QueryEscape(sim.BaseURL()+"/")))
				}
				pr.Out.Body = io.NopCloser(bytes.NewReader(body))
				pr.Out.ContentLength = int64(len(body))
			}
		},
		Transport: sim.Transport(),
		ModifyResponse: func(resp *http.Response) error {
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			// A token answer names the scopes granted, on the cloud's
			// Graph root; everything else names the host asked.
			if root := resp.Request.Header.Get("X-Graph-Root"); root != "" && strings.HasSuffix(resp.Request.URL.Path, "/token") {
				body = bytes.ReplaceAll(body, []byte(sim.BaseURL()+"/"), []byte(root+"/"))
			}
			body = bytes.ReplaceAll(body, []byte(sim.BaseURL()), []byte("https://"+resp.Request.Header.Get("X-Cloud-Host")))
			resp.Body = io.NopCloser(bytes.NewReader(body))
			resp.ContentLength = int64(len(body))
			resp.Header.Del("Content-Length")
			return nil
		},
	}
	s.Srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hosts = append(s.hosts, r.Host+" "+r.URL.Path)
		s.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	s.Srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12}
	s.Srv.StartTLS()
	t.Cleanup(s.Srv.Close)
	return s
}

// ConnectProxy is an HTTP CONNECT proxy on loopback: it answers CONNECT
// with refuse when set, else connects the tunnel to upstream (it resolves
// every name to the cloud stand-in, as DNS would for the real cloud) and
// pipes the bytes both ways. It records each CONNECT's target.
type ConnectProxy struct {
	Srv      *httptest.Server
	upstream string
	Refuse   int
	mu       sync.Mutex
	targets  []string
}

func (p *ConnectProxy) Seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.targets)
}

func NewConnectProxy(t testing.TB, upstream string, refuse int) *ConnectProxy {
	p := &ConnectProxy{upstream: upstream, Refuse: refuse}
	p.Srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "this proxy only tunnels", http.StatusMethodNotAllowed)
			return
		}
		p.mu.Lock()
		p.targets = append(p.targets, r.Host)
		p.mu.Unlock()
		if p.Refuse != 0 {
			if p.Refuse == http.StatusProxyAuthRequired {
				w.Header().Set("Proxy-Authenticate", `Basic realm="corp"`)
			}
			w.WriteHeader(p.Refuse)
			return
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() {
			io.Copy(up, buf)
			up.Close()
		}()
		io.Copy(conn, up)
		conn.Close()
	}))
	t.Cleanup(p.Srv.Close)
	return p
}

// NewCA makes a CA and a certificate it signs for the national clouds'
// hosts; it writes the CA to a PEM file for SSL_CERT_FILE.
func NewCA(t testing.TB) (caFile string, leaf tls.Certificate) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mgmtsession test proxy CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var hosts []string
	for _, c := range graph.Clouds {
		for _, u := range []string{c.AuthorityHost, c.GraphRoot} {
			pu, _ := url.Parse(u)
			hosts = append(hosts, pu.Hostname())
		}
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "clouds"}, DNSNames: hosts,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "corp-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return caFile, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// ProxyEnv points the process at the proxy and the CA file, as an
// operator on a jump host does.
func ProxyEnv(t testing.TB, proxy, caFile string) {
	for _, n := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_DIR"} {
		t.Setenv(n, "")
	}
	t.Setenv("HTTPS_PROXY", proxy)
	t.Setenv("SSL_CERT_FILE", caFile)
}

// Addr is the stand-in's address, where a proxy connects its tunnels.
func (s *CloudStandIn) Addr() string { return s.Srv.Listener.Addr().String() }
