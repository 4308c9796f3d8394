package connect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/net/http/httpproxy"

	"mgmtsession/graph"
)

// EnvError is an environment variable with a value that cannot be used
// (a CA file that is missing or holds no certificate): the operator's
// input, named as they gave it.
type EnvError struct {
	Name, Value, Reason string
}

func (e *EnvError) Error() string { return fmt.Sprintf("%s=%s: %s", e.Name, e.Value, e.Reason) }

// networkTransport is the one transport for every connection of a real
// tenant, the authority's and Graph's alike. It reads the environment
// when called: net/http's ProxyFromEnvironment and x509's system pool read
// it once per process, which would make the same process (a test, or a
// wizard signing in again) ignore a change. Loopback addresses never go
// through the proxy, as curl and Go do.
func networkTransport(getenv func(string) string) (*http.Transport, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	proxy := (&httpproxy.Config{
		HTTPProxy:  firstSet(getenv, "HTTP_PROXY", "http_proxy"),
		HTTPSProxy: firstSet(getenv, "HTTPS_PROXY", "https_proxy"),
		NoProxy:    firstSet(getenv, "NO_PROXY", "no_proxy"),
	}).ProxyFunc()
	t.Proxy = func(r *http.Request) (*url.URL, error) { return proxy(r.URL) }
	// A proxy's refusal of CONNECT otherwise reaches the caller as a bare
	// status text ("Forbidden"); a typed error keeps the status, so that
	// a 407 can be told from a 403.
	t.OnProxyConnectResponse = func(_ context.Context, proxyURL *url.URL, req *http.Request, resp *http.Response) error {
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		return &graph.ProxyRefusedError{Proxy: proxyURL.Host, Target: req.Host, Status: resp.StatusCode}
	}
	roots, err := rootsFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if roots != nil {
		t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return t, nil
}

func firstSet(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// rootsFromEnv is the CAs SSL_CERT_FILE and SSL_CERT_DIR name (a colon-
// separated list of directories), which replace the system's as they do
// for OpenSSL and Go; nil when neither is set (the system's CAs). Unlike
// Go's own reading, a file that cannot be read or holds no certificate is
// an error: silently trusting nothing would turn a typo into a TLS failure
// that names no cause.
func rootsFromEnv(getenv func(string) string) (*x509.CertPool, error) {
	file, dirs := getenv("SSL_CERT_FILE"), getenv("SSL_CERT_DIR")
	if file == "" && dirs == "" {
		return nil, nil
	}
	pool := x509.NewCertPool()
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, &EnvError{Name: "SSL_CERT_FILE", Value: file, Reason: readReason(err)}
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, &EnvError{Name: "SSL_CERT_FILE", Value: file, Reason: "holds no PEM certificate"}
		}
	}
	if dirs != "" {
		found := false
		for _, dir := range strings.Split(dirs, string(os.PathListSeparator)) {
			entries, err := os.ReadDir(dir)
			if err != nil {
				return nil, &EnvError{Name: "SSL_CERT_DIR", Value: dir, Reason: readReason(err)}
			}
			for _, e := range entries {
				if data, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && pool.AppendCertsFromPEM(data) {
					found = true
				}
			}
		}
		if !found {
			return nil, &EnvError{Name: "SSL_CERT_DIR", Value: dirs, Reason: "holds no PEM certificate"}
		}
	}
	return pool, nil
}

func readReason(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file or directory"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
