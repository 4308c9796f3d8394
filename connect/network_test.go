package connect_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mgmtsession/connect"
	"mgmtsession/connect/connecttest"
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
	caFile, leaf := connecttest.NewCA(t)
	front := connecttest.NewCloudStandIn(t, sim, leaf)
	for _, cloud := range []string{"usgov", "usgovdod", "china"} {
		t.Run(cloud, func(t *testing.T) {
			proxy := connecttest.NewConnectProxy(t, front.Addr(), 0)
			connecttest.ProxyEnv(t, proxy.Srv.URL, caFile)
			before := len(front.Seen())
			if _, err := signInThrough(t, sim, cloud); err != nil {
				t.Fatalf("signing in to %s through the proxy: %v", cloud, err)
			}
			c := graph.Clouds[cloud]
			authority, _ := url.Parse(c.AuthorityHost)
			graphRoot, _ := url.Parse(c.GraphRoot)
			targets := proxy.Seen()
			if !slices.Contains(targets, authority.Host+":443") || !slices.Contains(targets, graphRoot.Host+":443") {
				t.Errorf("CONNECT targets %v: want both %s and %s", targets, authority.Host, graphRoot.Host)
			}
			graphRequests := 0
			for _, req := range front.Seen()[before:] {
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
	caFile, leaf := connecttest.NewCA(t)
	front := connecttest.NewCloudStandIn(t, sim, leaf)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	down := "http://" + ln.Addr().String()
	ln.Close()
	cases := []struct {
		name, proxy, caFile string
		kind                graph.NetworkKind
		fix                 string
	}{
		{"proxy wants credentials", strings.Replace(connecttest.NewConnectProxy(t, front.Addr(), http.StatusProxyAuthRequired).Srv.URL, "http://", "http://alice:proxy-s3cret@", 1), caFile,
			graph.NetProxyRefused, "give them in HTTPS_PROXY: http://USER:PASSWORD@proxy:port"},
		{"proxy forbids the host", connecttest.NewConnectProxy(t, front.Addr(), http.StatusForbidden).Srv.URL, caFile,
			graph.NetProxyRefused, "The proxy refused to connect to login.microsoftonline.us (403 Forbidden)"},
		{"proxy down", down, caFile, graph.NetProxyDown, "check the proxy's address and port in HTTPS_PROXY"},
		{"proxy's CA not trusted", connecttest.NewConnectProxy(t, front.Addr(), 0).Srv.URL, "", graph.NetTLSUntrusted, "SSL_CERT_FILE=/path/to/ca-bundle.pem"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			connecttest.ProxyEnv(t, c.proxy, c.caFile)
			_, err := signInThrough(t, sim, "usgov")
			var ne *graph.NetworkError
			if !errors.As(err, &ne) || ne.Kind != c.kind {
				t.Fatalf("sign-in: %v, want network failure kind %d", err, c.kind)
			}
			text := graph.ExplainSignIn(err, graph.AuthDeviceCode).Text()
			if !strings.Contains(text, c.fix) || strings.Contains(text, "try again") {
				t.Errorf("explanation:\n%s\nwant %q", text, c.fix)
			}
			// The proxy's password, in HTTPS_PROXY, is never repeated.
			if strings.Contains(err.Error()+text, "proxy-s3cret") {
				t.Errorf("the proxy password reached the error: %v\n%s", err, text)
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
