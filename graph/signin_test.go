package graph_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
)

// signInWith signs in to the simulated tenant with o (its cloud and
// transport filled in), approving a device code as the operator would.
func signInWith(t *testing.T, srv *tenantsim.Server, o graph.AuthOptions) error {
	t.Helper()
	o.Cloud, o.Transport, o.DisableInstanceDiscovery = simCloud(srv), srv.Transport(), true
	o.OnDeviceCode = func(_ context.Context, dc graph.DeviceCode) error {
		srv.ApproveDeviceCode(dc.UserCode)
		return nil
	}
	cred, err := graph.NewCredential(o)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = graph.SignIn(ctx, cred, simCloud(srv))
	return err
}

// Each refusal the simulated authority gives, as Entra gives it, comes back
// with its AADSTS code, a cause and a fix that can work (none says "try
// again" alone).
func TestSignInRefusalsAreExplained(t *testing.T) {
	srv := tenant(t, "")
	blocked := tenant(t, "device-code-blocked")
	const otherApp = "6b0e1f2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
	cases := []struct {
		name   string
		srv    *tenantsim.Server
		o      graph.AuthOptions
		code   int
		inText string
	}{
		{"tenant not found: the cloud may be wrong", srv,
			graph.AuthOptions{Method: graph.AuthDeviceCode, TenantID: "fabrikam.onmicrosoft.com"}, 90002, "Fix (--tenant, --cloud): check the tenant, and give --cloud usgov, usgovdod or china"},
		{"public client flows off on the app", srv,
			graph.AuthOptions{Method: graph.AuthDeviceCode, TenantID: srv.TenantID(), ClientID: otherApp}, 7000218, "turn on 'Allow public client flows'"},
		{"app not in the tenant", srv,
			graph.AuthOptions{Method: graph.AuthSecret, TenantID: srv.TenantID(), ClientID: otherApp, ClientSecret: "x"}, 700016, "Application (client) ID of an app registration in this tenant"},
		{"wrong client secret", srv,
			graph.AuthOptions{Method: graph.AuthSecret, TenantID: srv.TenantID(), ClientID: tenantsim.DemoAppClientID, ClientSecret: "wrong"}, 7000215, "MGMTSESSION_CLIENT_SECRET to the secret's Value"},
		{"device code blocked by Conditional Access: the other methods", blocked,
			graph.AuthOptions{Method: graph.AuthDeviceCode, TenantID: blocked.TenantID()}, 53003, "--auth browser on a machine with a browser, --auth certificate or --auth secret"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := signInWith(t, c.srv, c.o)
			var se *graph.SignInError
			if !errors.As(err, &se) || se.Code != c.code {
				t.Fatalf("sign-in: %v, want AADSTS%d", err, c.code)
			}
			text := graph.ExplainSignIn(err, c.o.Method).Text()
			if !strings.Contains(text, c.inText) || strings.Contains(text, "try again") {
				t.Errorf("explanation:\n%s\nwant %q", text, c.inText)
			}
		})
	}
}

// The --cert file: a PEM with its key and a PFX with its password give a
// credential; everything else is a CertificateError that says what is
// wrong with the file, never a bare "open : no such file".
func TestCertificateFiles(t *testing.T) {
	dir := t.TempDir()
	unreadable := filepath.Join(dir, "unreadable.pem")
	data, err := os.ReadFile("testdata/app-cert.pem")
	must(t, err)
	must(t, os.WriteFile(unreadable, data, 0o000))
	ok := []struct{ path, password string }{
		{"testdata/app-cert.pem", ""},
		{"testdata/app-cert.pfx", "pfx-test-password"},
	}
	for _, c := range ok {
		if _, err := graph.NewCredential(graph.AuthOptions{Method: graph.AuthCertificate, TenantID: "contoso.onmicrosoft.com",
			ClientID: graph.DefaultClientID, CertPath: c.path, CertPassword: c.password, Cloud: graph.Clouds["global"]}); err != nil {
			t.Errorf("%s: %v", c.path, err)
		}
	}
	bad := []struct{ name, path, password, reason string }{
		{"missing", filepath.Join(dir, "none.pem"), "", "no such file"},
		{"not given", "", "", "no certificate file given"},
		{"a directory", dir, "", "not a regular file"},
		{"PFX, wrong password", "testdata/app-cert.pfx", "wrong", "the password in MGMTSESSION_CERT_PASSWORD does not open"},
		{"PFX, no password", "testdata/app-cert.pfx", "", "needs its password in MGMTSESSION_CERT_PASSWORD"},
		{"PFX with AES", "testdata/app-cert-aes.pfx", "pfx-test-password", "openssl pkcs12 -in FILE -nodes -out cert.pem"},
		{"PEM without its key", "testdata/cert-only.pem", "", "without the private key"},
		{"not a certificate", "signin_test.go", "", "nor a PFX"},
	}
	if os.Geteuid() != 0 { // root reads any file
		bad = append(bad, struct{ name, path, password, reason string }{"unreadable", unreadable, "", "permission denied"})
	}
	for _, c := range bad {
		_, err := graph.NewCredential(graph.AuthOptions{Method: graph.AuthCertificate, TenantID: "contoso.onmicrosoft.com",
			ClientID: graph.DefaultClientID, CertPath: c.path, CertPassword: c.password, Cloud: graph.Clouds["global"]})
		var ce *graph.CertificateError
		if !errors.As(err, &ce) || !strings.Contains(ce.Reason, c.reason) {
			t.Errorf("%s: %v, want a CertificateError saying %q", c.name, err, c.reason)
			continue
		}
		if text := graph.ExplainSignIn(err, graph.AuthCertificate).Text(); !strings.Contains(text, "Fix (--cert)") {
			t.Errorf("%s: explanation %q does not name --cert", c.name, text)
		}
		if strings.Contains(err.Error(), "pfx-test-password") {
			t.Errorf("%s: the password reached the error: %v", c.name, err)
		}
	}
}

// --auth browser where no browser can open, and --auth azcli without az:
// the fix says which method to use or what to install.
func TestMethodsThatCannotRunHere(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("PATH", t.TempDir())
	for method, want := range map[string]string{
		graph.AuthBrowser:  "Fix (--auth): use --auth devicecode",
		graph.AuthAzureCLI: "install it (https://aka.ms/installazurecli) and run 'az login', or use --auth devicecode",
	} {
		_, err := graph.NewCredential(graph.AuthOptions{Method: method, TenantID: "contoso.onmicrosoft.com", Cloud: graph.Clouds["global"]})
		if err == nil {
			if method == graph.AuthBrowser && (runtime.GOOS == "darwin" || runtime.GOOS == "windows") {
				continue
			}
			t.Errorf("%s: no error", method)
			continue
		}
		if text := graph.ExplainSignIn(err, method).Text(); !strings.Contains(text, want) || strings.Contains(text, "try again") {
			t.Errorf("%s: %q, want %q", method, text, want)
		}
	}
}

// The network failures met on the way to the authority: a name that does
// not resolve, nothing listening, an untrusted certificate, and a web page
// in place of JSON (a captive portal). Each is explained by kind.
func TestSignInNetworkFailuresAreExplained(t *testing.T) {
	portal := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<html><body>Welcome to Hotel Wi-Fi. Accept the terms to continue.</body></html>"))
	}))
	defer portal.Close()
	portalTransport := portal.Client().Transport.(*http.Transport)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	closed := ln.Addr().String()
	ln.Close()

	srv := tenant(t, "")
	untrusting := http.DefaultTransport.(*http.Transport).Clone()
	untrusting.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12} // the system roots, not the tenant's
	untrusting.Proxy = nil

	cases := []struct {
		name      string
		authority string
		transport *http.Transport
		kind      graph.NetworkKind
		fix       string
	}{
		// A name no resolver accepts (a label ending in "-") fails without a
		// query leaving the machine.
		{"DNS", "https://login-.invalid/", nil, graph.NetDNS, "check the network connection and DNS; behind a proxy set HTTPS_PROXY"},
		{"nothing listening", "https://" + closed + "/", nil, graph.NetRefused, "set HTTPS_PROXY=http://proxy:port"},
		{"untrusted certificate", srv.AuthorityURL(), untrusting, graph.NetTLSUntrusted, "SSL_CERT_FILE="},
		{"captive portal", portal.URL + "/", portalTransport, graph.NetCaptivePortal, "sign in to the network"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := c.transport
			if tr == nil {
				tr = http.DefaultTransport.(*http.Transport).Clone()
				tr.Proxy = nil
			}
			cl := graph.Cloud{Name: "test", AuthorityHost: c.authority, GraphRoot: "https://graph.invalid"}
			cred, err := graph.NewCredential(graph.AuthOptions{Method: graph.AuthDeviceCode, TenantID: "contoso.onmicrosoft.com",
				Cloud: cl, Transport: tr, DisableInstanceDiscovery: true})
			must(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err = graph.SignIn(ctx, cred, cl)
			var ne *graph.NetworkError
			if !errors.As(err, &ne) || ne.Kind != c.kind {
				t.Fatalf("sign-in: %v (%T), want network failure kind %d", err, err, c.kind)
			}
			text := graph.ExplainSignIn(err, graph.AuthDeviceCode).Text()
			if !strings.Contains(text, c.fix) || strings.Contains(text, "try again") {
				t.Errorf("explanation:\n%s\nwant %q", text, c.fix)
			}
		})
	}
}

// --auth certificate against the simulated authority: an app-only session
// with a PEM (certificate and key) or a PFX registered on the app, and
// AADSTS700027, explained, with a certificate the app does not know.
func TestCertificateSignIn(t *testing.T) {
	srv := tenant(t, "")
	data, err := os.ReadFile("testdata/cert-only.pem")
	must(t, err)
	block, _ := pem.Decode(data)
	cert, err := x509.ParseCertificate(block.Bytes)
	must(t, err)
	signIn := func(path, password string) (graph.Session, error) {
		cred, err := graph.NewCredential(graph.AuthOptions{Method: graph.AuthCertificate, TenantID: srv.TenantID(),
			ClientID: tenantsim.DemoAppClientID, CertPath: path, CertPassword: password,
			Cloud: simCloud(srv), Transport: srv.Transport(), DisableInstanceDiscovery: true})
		if err != nil {
			return graph.Session{}, err
		}
		return graph.SignIn(testCtx(t), cred, simCloud(srv))
	}
	_, err = signIn("testdata/app-cert.pem", "")
	var se *graph.SignInError
	if !errors.As(err, &se) || se.Code != 700027 {
		t.Fatalf("a certificate the app does not know: %v, want AADSTS700027", err)
	}
	if text := graph.ExplainSignIn(err, graph.AuthCertificate).Text(); !strings.Contains(text, "Fix (--cert): upload the certificate's public part") {
		t.Errorf("explanation %q", text)
	}
	srv.AddAppCertificate(cert)
	for _, c := range []struct{ path, password string }{{"testdata/app-cert.pem", ""}, {"testdata/app-cert.pfx", "pfx-test-password"}} {
		sess, err := signIn(c.path, c.password)
		if err != nil || !sess.AppOnly || sess.TenantID != srv.TenantID() {
			t.Errorf("%s: %+v, %v", c.path, sess, err)
		}
	}
}
