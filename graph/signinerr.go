package graph

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// SignInError is a refused sign-in with Entra's AADSTS code. azidentity's
// own error loses the answer's body for device code sign-ins (MSAL reads it
// while polling), and with it the code that says why; the credential's
// transport keeps the last refusal so that the operator learns the cause.
type SignInError struct {
	Code        int    // AADSTS code, e.g. 53003
	OAuthError  string // OAuth error, e.g. invalid_grant
	Description string
	Err         error
}

func (e *SignInError) Error() string {
	return fmt.Sprintf("sign-in refused: %s", e.Description)
}

func (e *SignInError) Unwrap() error { return e.Err }

// refusalRecorder is an HTTP transport for the credential that remembers the
// last OAuth error answer from the authority.
type refusalRecorder struct {
	base    http.RoundTripper
	mu      sync.Mutex
	last    *SignInError
	lastNet *NetworkError
}

func (r *refusalRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		// MSAL words a transport failure in its own way, sometimes
		// without wrapping it; the recorder keeps the failure itself so
		// that the explanation can say what to check.
		r.mu.Lock()
		r.lastNet = classifyNetwork(req.URL.Host, err)
		r.mu.Unlock()
		return resp, err
	}
	if isHTML(resp) {
		// The authority answers JSON, even its errors; a web page in its
		// place comes from something in between: a captive portal or a
		// proxy's block page.
		r.mu.Lock()
		r.lastNet = &NetworkError{Kind: NetCaptivePortal, Host: req.URL.Host, Status: resp.StatusCode}
		r.mu.Unlock()
		return resp, nil
	}
	if resp.StatusCode < 400 {
		return resp, nil
	}
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if rerr != nil {
		return resp, nil
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Codes       []int  `json:"error_codes"`
	}
	if json.Unmarshal(data, &body) == nil && body.Error != "" && body.Error != "authorization_pending" && body.Error != "slow_down" {
		e := &SignInError{OAuthError: body.Error, Description: body.Description}
		if len(body.Codes) > 0 {
			e.Code = body.Codes[0]
		}
		r.mu.Lock()
		r.last = e
		r.mu.Unlock()
	}
	return resp, nil
}

func (r *refusalRecorder) take() (*SignInError, *NetworkError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, n := r.last, r.lastNet
	r.last, r.lastNet = nil, nil
	return e, n
}

// explainingCredential wraps a credential so that its errors carry the
// authority's reason.
type explainingCredential struct {
	azcore.TokenCredential
	rec *refusalRecorder
}

func (c explainingCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := c.TokenCredential.GetToken(ctx, opts)
	if err != nil {
		refusal, network := c.rec.take()
		switch {
		case refusal != nil:
			refusal.Err = err
			return tok, refusal
		case network != nil:
			network.Err = err
			return tok, network
		}
	} else {
		c.rec.take()
	}
	return tok, err
}

// NetworkKind is why the authority could not be reached.
type NetworkKind int

// The network failures a sign-in meets, each with its own fix.
const (
	NetOther         NetworkKind = iota
	NetDNS                       // the host name does not resolve
	NetProxyDown                 // the proxy does not answer
	NetProxyRefused              // the proxy answered CONNECT with an error
	NetTLSUntrusted              // a certificate this machine does not trust
	NetCaptivePortal             // a web page where JSON was expected
	NetRefused                   // the host refused or did not answer
)

// NetworkError is a sign-in that did not reach Entra: which host, why,
// and the proxy's status when a proxy refused.
type NetworkError struct {
	Kind   NetworkKind
	Host   string
	Status int // NetProxyRefused, NetCaptivePortal: the HTTP status
	Err    error
}

func (e *NetworkError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return "cannot reach " + e.Host
}

func (e *NetworkError) Unwrap() error { return e.Err }

// ProxyRefusedError is an HTTP proxy's refusal of a CONNECT: the transport
// returns it (see connect's OnProxyConnectResponse) so that the status is
// not lost in a bare status text.
type ProxyRefusedError struct {
	Proxy  string // host:port, never with credentials
	Target string
	Status int
}

func (e *ProxyRefusedError) Error() string {
	return fmt.Sprintf("the proxy %s refused to connect to %s: %d %s", e.Proxy, e.Target, e.Status, http.StatusText(e.Status))
}

// classifyNetwork names a transport failure by its type, never its wording.
func classifyNetwork(host string, err error) *NetworkError {
	n := &NetworkError{Kind: NetOther, Host: host, Err: err}
	var pr *ProxyRefusedError
	var dns *net.DNSError
	var op *net.OpError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &pr):
		n.Kind, n.Status = NetProxyRefused, pr.Status
	case errors.As(err, &op) && op.Op == "proxyconnect":
		n.Kind = NetProxyDown
	case errors.As(err, &dns):
		n.Kind = NetDNS
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &verify):
		n.Kind = NetTLSUntrusted
	case errors.As(err, &op) && op.Op == "dial":
		n.Kind = NetRefused
	}
	return n
}

func isHTML(resp *http.Response) bool {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return mt == "text/html"
}
