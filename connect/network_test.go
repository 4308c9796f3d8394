package connect_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
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

	"mgmtsession/connect"
	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
)

// The clouds --cloud names: where the authority is, where Graph is, and the
// scope a Graph token is asked for (GRAPH-NOTES section 8).
func TestCloudConfigurations(t *testing.T) {
	t.Setenv("SSL_CERT_FILE", "")
	t.Setenv("SSL_CERT_DIR", "")
	cases := []struct{ cloud, authority, graphRoot, scope string }{
		{"", "https://login.microsoftonline.com/", "https://graph.microsoft.com", "https://graph.microsoft.com/.default"},
		{"global", "https://login.microsoftonline.com/", "https://graph.microsoft.com", "https://graph.microsoft.com/.default"},
		{"usgov", "https://login.microsoftonline.us/", "https://graph.microsoft.us", "https://graph.microsoft.us/.default"},
		{"usgovdod", "https://login.microsoftonline.us/", "https://dod-graph.microsoft.us", "https://dod-graph.microsoft.us/.default"},
		{"china", "https://login.chinacloudapi.cn/", "https://microsoftgraph.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn/.default"},
	}
	for _, c := range cases {
		env, err := connect.Open(connect.Options{Cloud: c.cloud, Auth: graph.AuthDeviceCode})
		if err != nil {
			t.Fatalf("%q: %v", c.cloud, err)
		}
		got := env.Cloud
		if got.AuthorityHost != c.authority || got.GraphRoot != c.graphRoot || got.GraphScope() != c.scope {
			t.Errorf("--cloud %q: authority %s, Graph %s, scope %s; want %s, %s, %s",
				c.cloud, got.AuthorityHost, got.GraphRoot, got.GraphScope(), c.authority, c.graphRoot, c.scope)
		}
		env.Close()
	}
	if _, err := connect.Open(connect.Options{Cloud: "germany"}); err == nil {
		t.Error("--cloud germany was accepted")
	}
}

// The default method: device code where no browser can open here (SSH, no
// display, accessible mode), the browser on a desktop.
func TestDefaultAuth(t *testing.T) {
	cases := []struct {
		ssh, display, accessibleEnv string
		accessible                  bool
		want                        string
	}{
		{"", ":0", "", false, graph.AuthBrowser},
		{"10.0.0.1 5000 10.0.0.2 22", ":0", "", false, graph.AuthDeviceCode},
		{"", ":0", "", true, graph.AuthDeviceCode},
		{"", ":0", "1", false, graph.AuthDeviceCode},
	}
	for _, c := range cases {
		t.Setenv("SSH_CONNECTION", c.ssh)
		t.Setenv("SSH_TTY", "")
		t.Setenv("DISPLAY", c.display)
		t.Setenv("ACCESSIBLE", c.accessibleEnv)
		if got := connect.DefaultAuth(c.accessible); got != c.want {
			t.Errorf("%+v: %s, want %s", c, got, c.want)
		}
	}
}

// cloudStandIn answers for a national cloud's authority and Graph hosts
// with the simulated tenant behind it, as the cloud's own servers would:
// TLS with a certificate for those names, issued by a CA of the test, and
// the tenant's URLs in its answers rewritten to the name asked for. It
// records the host of every request.
type cloudStandIn struct {
	srv   *httptest.Server
	mu    sync.Mutex
	hosts []string // host and path of each request
}

func (s *cloudStandIn) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.hosts)
}

func newCloudStandIn(t *testing.T, sim *tenantsim.Server, leaf tls.Certificate) *cloudStandIn {
	simURL, _ := url.Parse(sim.BaseURL())
	s := &cloudStandIn{}
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
			if root := resp.Request.Header.Get("X-Graph-Root"); root != "" {
				body = bytes.ReplaceAll(body, []byte(sim.BaseURL()+"/"), []byte(root+"/"))
			}
			body = bytes.ReplaceAll(body, []byte(sim.BaseURL()), []byte("https://"+resp.Request.Header.Get("X-Cloud-Host")))
			resp.Body = io.NopCloser(bytes.NewReader(body))
			resp.ContentLength = int64(len(body))
			resp.Header.Del("Content-Length")
			return nil
		},
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hosts = append(s.hosts, r.Host+" "+r.URL.Path)
		s.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	s.srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12}
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	return s
}

// connectProxy is an HTTP CONNECT proxy on loopback: it answers CONNECT
// with refuse when set, else connects the tunnel to upstream (it resolves
// every name to the cloud stand-in, as DNS would for the real cloud) and
// pipes the bytes both ways. It records each CONNECT's target.
type connectProxy struct {
	srv      *httptest.Server
	upstream string
	refuse   int
	mu       sync.Mutex
	targets  []string
}

func (p *connectProxy) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.targets)
}

func newConnectProxy(t *testing.T, upstream string, refuse int) *connectProxy {
	p := &connectProxy{upstream: upstream, refuse: refuse}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "this proxy only tunnels", http.StatusMethodNotAllowed)
			return
		}
		p.mu.Lock()
		p.targets = append(p.targets, r.Host)
		p.mu.Unlock()
		if p.refuse != 0 {
			if p.refuse == http.StatusProxyAuthRequired {
				w.Header().Set("Proxy-Authenticate", `Basic realm="corp"`)
			}
			w.WriteHeader(p.refuse)
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
	t.Cleanup(p.srv.Close)
	return p
}

// testCA makes a CA and a certificate it signs for the national clouds'
// hosts; it writes the CA to a PEM file for SSL_CERT_FILE.
func testCA(t *testing.T) (caFile string, leaf tls.Certificate) {
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

// proxyEnv points the process at the proxy and the CA file, as an
// operator on a jump host does.
func proxyEnv(t *testing.T, proxy, caFile string) {
	for _, n := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_DIR"} {
		t.Setenv(n, "")
	}
	t.Setenv("HTTPS_PROXY", proxy)
	t.Setenv("SSL_CERT_FILE", caFile)
}

// signInThrough signs in to cloud (a real --cloud, not the demo) and reads
// the organisation, approving the device code as the operator would.
func signInThrough(t *testing.T, sim *tenantsim.Server, cloud string) (*graph.Client, error) {
	env, err := connect.Open(connect.Options{Cloud: cloud, Auth: graph.AuthDeviceCode, Tenant: sim.TenantID()})
	if err != nil {
		return nil, err
	}
	t.Cleanup(env.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, _, err := env.SignIn(ctx, func(dc graph.DeviceCode) { sim.ApproveDeviceCode(dc.UserCode) })
	if err != nil {
		return nil, err
	}
	_, err = client.Organization(ctx)
	return client, err
}

// A sign-in and a Graph read in each national cloud, through an HTTP
// CONNECT proxy (HTTPS_PROXY) and a CA of the organisation's
// (SSL_CERT_FILE): every connection went through the proxy, the authority
// requests went to the cloud's authority and every Graph request to the
// cloud's Graph root, never to the global cloud's.
func TestSovereignCloudThroughProxy(t *testing.T) {
	sim, err := tenantsim.New(tenantsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	caFile, leaf := testCA(t)
	front := newCloudStandIn(t, sim, leaf)
	for _, cloud := range []string{"usgov", "usgovdod", "china"} {
		t.Run(cloud, func(t *testing.T) {
			proxy := newConnectProxy(t, front.srv.Listener.Addr().String(), 0)
			proxyEnv(t, proxy.srv.URL, caFile)
			before := len(front.seen())
			if _, err := signInThrough(t, sim, cloud); err != nil {
				t.Fatalf("signing in to %s through the proxy: %v", cloud, err)
			}
			c := graph.Clouds[cloud]
			authority, _ := url.Parse(c.AuthorityHost)
			graphRoot, _ := url.Parse(c.GraphRoot)
			targets := proxy.seen()
			if !slices.Contains(targets, authority.Host+":443") || !slices.Contains(targets, graphRoot.Host+":443") {
				t.Errorf("CONNECT targets %v: want both %s and %s", targets, authority.Host, graphRoot.Host)
			}
			graphRequests := 0
			for _, req := range front.seen()[before:] {
				host, path, _ := strings.Cut(req, " ")
				switch {
				case strings.HasPrefix(path, "/v1.0/") || strings.HasPrefix(path, "/beta/"):
					graphRequests++
					if host != graphRoot.Host {
						t.Errorf("Graph request %s went to %s, not %s", path, host, graphRoot.Host)
					}
				case host != authority.Host:
					t.Errorf("authority request %s went to %s, not %s", path, host, authority.Host)
				}
			}
			if graphRequests == 0 {
				t.Error("no Graph request reached the cloud")
			}
		})
	}
}

// A proxy that refuses (407, 403) or is down, and a TLS-inspecting proxy
// whose CA this machine does not trust: each is named with its fix.
func TestProxyAndTLSFailuresAreExplained(t *testing.T) {
	sim, err := tenantsim.New(tenantsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	caFile, leaf := testCA(t)
	front := newCloudStandIn(t, sim, leaf)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	down := "http://" + ln.Addr().String()
	ln.Close()
	cases := []struct {
		name, proxy, caFile string
		kind                graph.NetworkKind
		fix                 string
	}{
		{"proxy wants credentials", newConnectProxy(t, front.srv.Listener.Addr().String(), http.StatusProxyAuthRequired).srv.URL, caFile,
			graph.NetProxyRefused, "give them in HTTPS_PROXY: http://USER:PASSWORD@proxy:port"},
		{"proxy forbids the host", newConnectProxy(t, front.srv.Listener.Addr().String(), http.StatusForbidden).srv.URL, caFile,
			graph.NetProxyRefused, "The proxy refused to connect to login.microsoftonline.us (403 Forbidden)"},
		{"proxy down", down, caFile, graph.NetProxyDown, "check the proxy's address and port in HTTPS_PROXY"},
		{"proxy's CA not trusted", newConnectProxy(t, front.srv.Listener.Addr().String(), 0).srv.URL, "", graph.NetTLSUntrusted, "SSL_CERT_FILE=/path/to/ca-bundle.pem"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			proxyEnv(t, c.proxy, c.caFile)
			_, err := signInThrough(t, sim, "usgov")
			var ne *graph.NetworkError
			if !errors.As(err, &ne) || ne.Kind != c.kind {
				t.Fatalf("sign-in: %v, want network failure kind %d", err, c.kind)
			}
			text := graph.ExplainSignIn(err, graph.AuthDeviceCode).Text()
			if !strings.Contains(text, c.fix) || strings.Contains(text, "try again") {
				t.Errorf("explanation:\n%s\nwant %q", text, c.fix)
			}
		})
	}
}

// An SSL_CERT_FILE or SSL_CERT_DIR that cannot be used is refused at once,
// naming the variable, rather than trusting nothing.
func TestBadCAFiles(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	for _, c := range []struct{ name, value, want string }{
		{"SSL_CERT_FILE", filepath.Join(dir, "missing.pem"), "SSL_CERT_FILE=" + filepath.Join(dir, "missing.pem") + ": no such file"},
		{"SSL_CERT_FILE", notPEM, "holds no PEM certificate"},
		{"SSL_CERT_DIR", dir, "SSL_CERT_DIR=" + dir + ": holds no PEM certificate"},
	} {
		t.Setenv("SSL_CERT_FILE", "")
		t.Setenv("SSL_CERT_DIR", "")
		t.Setenv(c.name, c.value)
		_, err := connect.Open(connect.Options{Cloud: "global", Auth: graph.AuthDeviceCode})
		var ee *connect.EnvError
		if !errors.As(err, &ee) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%s: %v, want %q", c.name, c.value, err, c.want)
		}
	}
}
