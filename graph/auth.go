package graph

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"golang.org/x/crypto/pkcs12"
)

// Cloud is where a tenant lives: its authority, its Graph root and the
// scope a Graph token is asked for.
type Cloud struct {
	Name          string
	AuthorityHost string // with a trailing slash
	GraphRoot     string // without /v1.0
	// Scope is the scope a Graph token is asked with; empty means
	// GraphRoot/.default. It differs from the root only when Graph is
	// reached under another name than its own (a test through a proxy).
	Scope string
}

// GraphScope is the scope every Graph token of this cloud is asked for: the
// sign-in and the client must ask for the same one, or the token cache
// misses and the operator signs in twice.
func (c Cloud) GraphScope() string {
	if c.Scope != "" {
		return c.Scope
	}
	return strings.TrimSuffix(c.GraphRoot, "/") + "/.default"
}

// The national clouds (GRAPH-NOTES section 8).
var Clouds = map[string]Cloud{
	"global":   {Name: "global", AuthorityHost: "https://login.microsoftonline.com/", GraphRoot: "https://graph.microsoft.com", Scope: "https://graph.microsoft.com/.default"},
	"usgov":    {Name: "usgov", AuthorityHost: "https://login.microsoftonline.us/", GraphRoot: "https://graph.microsoft.us", Scope: "https://graph.microsoft.us/.default"},
	"usgovdod": {Name: "usgovdod", AuthorityHost: "https://login.microsoftonline.us/", GraphRoot: "https://dod-graph.microsoft.us", Scope: "https://dod-graph.microsoft.us/.default"},
	"china":    {Name: "china", AuthorityHost: "https://login.chinacloudapi.cn/", GraphRoot: "https://microsoftgraph.chinacloudapi.cn", Scope: "https://microsoftgraph.chinacloudapi.cn/.default"},
}

// DefaultClientID is the public client the product signs in with: the
// Microsoft Graph Command Line Tools app, which may request the delegated
// scopes for CA writes and role management (azidentity's default, the Azure
// CLI app, may not).
const DefaultClientID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"

// Auth methods for --auth.
const (
	AuthDeviceCode  = "devicecode"
	AuthBrowser     = "browser"
	AuthSecret      = "secret"
	AuthCertificate = "certificate"
	AuthAzureCLI    = "azcli"
)

// DeviceCode is what the operator needs to finish a device code sign-in.
type DeviceCode struct {
	UserCode        string
	VerificationURL string
	Message         string
}

// AuthOptions choose how to sign in.
type AuthOptions struct {
	Method       string
	TenantID     string
	ClientID     string
	ClientSecret string // AuthSecret
	CertPath     string // AuthCertificate: a PEM or PKCS#12 file
	// CertPassword opens a PKCS#12 (PFX) file; it comes from the
	// environment, never a flag.
	CertPassword string
	Cloud        Cloud
	// Transport carries the token requests (a proxy-aware transport, or
	// one that trusts the simulated tenant).
	Transport *http.Transport
	// Log, when set, receives one line per request to the authority (never
	// the form or the answer: they carry codes and tokens).
	Log *slog.Logger
	// DisableInstanceDiscovery is needed for an authority that is not one
	// of Microsoft's (the simulated tenant).
	DisableInstanceDiscovery bool
	// OnDeviceCode is called with the code to show; it must not print to
	// stdout while a TUI owns the terminal.
	OnDeviceCode func(context.Context, DeviceCode) error
}

// NewCredential builds the azidentity credential for the chosen method.
func NewCredential(o AuthOptions) (azcore.TokenCredential, error) {
	o, copts, rec := clientOptions(o)
	cred, err := newCredential(o, copts)
	if err != nil {
		return nil, err
	}
	return explainingCredential{TokenCredential: cred, rec: rec}, nil
}

// NewPasswordCredential builds the credential of a password sign-in (the
// resource-owner password grant, ROPC) for the sign-in probe: azidentity's
// UsernamePasswordCredential, which is MSAL's public client underneath, so
// the token request is the one Microsoft's own libraries send, through the
// same transport (proxy, CAs, --debug-log) and refusal recorder as every
// other sign-in. Microsoft deprecated this flow (azidentity 1.9.0, MSAL Go
// 2025) because it cannot do MFA; the product uses it only for the
// optional probe, whose very question is whether a password alone is
// enough. The password stays in the credential's memory only.
func NewPasswordCredential(o AuthOptions, username, password string) (azcore.TokenCredential, error) {
	o, copts, rec := clientOptions(o)
	//lint:ignore SA1019 the probe exists to try exactly this deprecated flow (see above)
	cred, err := azidentity.NewUsernamePasswordCredential(o.TenantID, o.ClientID, username, password, &azidentity.UsernamePasswordCredentialOptions{ //nolint:staticcheck
		ClientOptions: copts, DisableInstanceDiscovery: o.DisableInstanceDiscovery,
	})
	if err != nil {
		return nil, fmt.Errorf("preparing the password sign-in: %w", err)
	}
	return explainingCredential{TokenCredential: cred, rec: rec}, nil
}

// clientOptions fills the defaults and builds what every credential shares:
// the cloud's authority, the transport under the refusal recorder and the
// debug log, and the retry rule.
func clientOptions(o AuthOptions) (AuthOptions, azcore.ClientOptions, *refusalRecorder) {
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.TenantID == "" {
		o.TenantID = "organizations"
	}
	var base http.RoundTripper = http.DefaultTransport
	if o.Transport != nil {
		base = o.Transport
	}
	rec := &refusalRecorder{base: withLog(base, o.Log)}
	copts := azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: o.Cloud.AuthorityHost},
		Transport: &http.Client{Transport: rec},
		Retry:     policy.RetryOptions{ShouldRetry: shouldRetrySignIn},
	}
	return o, copts, rec
}

func newCredential(o AuthOptions, copts azcore.ClientOptions) (azcore.TokenCredential, error) {
	switch o.Method {
	case AuthDeviceCode, "":
		prompt := o.OnDeviceCode
		if prompt == nil {
			prompt = func(_ context.Context, c DeviceCode) error {
				_, err := fmt.Fprintln(os.Stderr, c.Message)
				return err
			}
		}
		return azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
			ClientOptions: copts, ClientID: o.ClientID, TenantID: o.TenantID,
			DisableInstanceDiscovery: o.DisableInstanceDiscovery,
			UserPrompt: func(ctx context.Context, m azidentity.DeviceCodeMessage) error {
				return prompt(ctx, DeviceCode{UserCode: m.UserCode, VerificationURL: m.VerificationURL, Message: m.Message})
			},
		})
	case AuthBrowser:
		if !browserCanOpen() {
			return nil, ErrNoBrowser
		}
		return azidentity.NewInteractiveBrowserCredential(&azidentity.InteractiveBrowserCredentialOptions{
			ClientOptions: copts, ClientID: o.ClientID, TenantID: o.TenantID,
			DisableInstanceDiscovery: o.DisableInstanceDiscovery,
		})
	case AuthSecret:
		if o.ClientSecret == "" {
			return nil, fmt.Errorf("--auth secret needs a client secret (set MGMTSESSION_CLIENT_SECRET)")
		}
		return azidentity.NewClientSecretCredential(o.TenantID, o.ClientID, o.ClientSecret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions: copts, DisableInstanceDiscovery: o.DisableInstanceDiscovery,
		})
	case AuthCertificate:
		certs, key, err := readCertificate(o.CertPath, o.CertPassword)
		if err != nil {
			return nil, err
		}
		return azidentity.NewClientCertificateCredential(o.TenantID, o.ClientID, certs, key, &azidentity.ClientCertificateCredentialOptions{
			ClientOptions: copts, DisableInstanceDiscovery: o.DisableInstanceDiscovery,
		})
	case AuthAzureCLI:
		// Without az on the PATH azidentity's error ends in "try again",
		// which cannot help: say what to install instead.
		if _, err := exec.LookPath(azureCLIName()); err != nil {
			return nil, ErrNoAzureCLI
		}
		return azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: o.TenantID})
	default:
		return nil, fmt.Errorf("unknown --auth %q (use devicecode, browser, secret, certificate or azcli)", o.Method)
	}
}

// shouldRetrySignIn is azcore's retry rule for the authority (a timeout,
// throttling or a server error is tried again) except for the failures no
// retry heals: a proxy that refuses and a certificate that is not trusted
// would otherwise keep the operator waiting through four attempts and
// their backoff before the explanation.
func shouldRetrySignIn(resp *http.Response, err error) bool {
	if err != nil {
		switch classifyNetwork("", err).Kind {
		case NetProxyRefused, NetTLSUntrusted:
			return false
		}
		return true
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Session is who is signed in, read from the access token's claims (Graph
// tokens are JWTs whose payload a client may read; it does not verify them,
// Graph does).
type Session struct {
	TenantID    string
	ObjectID    string
	UPN         string
	DisplayName string
	AppOnly     bool
	Scopes      []string // delegated scopes, or application permissions when AppOnly
}

// SignIn gets a token for Graph and reports the session it stands for.
func SignIn(ctx context.Context, cred azcore.TokenCredential, c Cloud) (Session, error) {
	// EnableCAE as the SDK's authentication provider asks for it: azidentity
	// keeps CAE and non-CAE tokens in separate caches, and a mismatch would
	// make the operator sign in twice.
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.GraphScope()}, EnableCAE: true})
	if err != nil {
		return Session{}, err
	}
	return sessionFromToken(tok.Token)
}

// SignInRequesting signs in asking for the named delegated scopes (bare
// names such as "Policy.Read.All"), so that Entra asks for any consent
// they lack while the operator is at the sign-in page rather than a later
// step failing; then it reports the session of the resource/.default
// token, which the Graph client uses and which carries every scope granted
// (taken silently with the refresh token: no second prompt). Only
// interactive, delegated credentials (device code, browser) can name
// scopes; app-only tokens are always .default.
func SignInRequesting(ctx context.Context, cred azcore.TokenCredential, c Cloud, scopes []string) (Session, error) {
	if len(scopes) > 0 {
		prefix := strings.TrimSuffix(c.GraphScope(), ".default")
		named := make([]string, len(scopes))
		for i, s := range scopes {
			named[i] = prefix + s
		}
		if _, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: named, EnableCAE: true}); err != nil {
			return Session{}, err
		}
	}
	return SignIn(ctx, cred, c)
}

// IsConsentMissing reports a sign-in refused because a named scope was
// never consented and the person could not consent (AADSTS65001).
func IsConsentMissing(err error) bool { return err != nil && signInCode(err) == 65001 }

func sessionFromToken(token string) (Session, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Session{}, fmt.Errorf("the access token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return Session{}, fmt.Errorf("reading the access token: %w", err)
	}
	var claims struct {
		Tid, Oid, Upn, Name, Scp, IdTyp, UniqueName string
		PreferredUsername                           string   `json:"preferred_username"`
		Roles                                       []string `json:"roles"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return Session{}, fmt.Errorf("reading the access token: %w", err)
	}
	s := Session{TenantID: claims.Tid, ObjectID: claims.Oid, UPN: claims.Upn, DisplayName: claims.Name}
	if s.UPN == "" {
		s.UPN = claims.PreferredUsername
	}
	if claims.Scp == "" && len(claims.Roles) > 0 {
		s.AppOnly, s.Scopes = true, claims.Roles
	} else {
		s.Scopes = strings.Fields(claims.Scp)
	}
	return s, nil
}

// ErrNoBrowser is --auth browser where no browser can open: on Linux and
// the BSDs, a session without DISPLAY or WAYLAND_DISPLAY (an SSH session,
// a server console).
var ErrNoBrowser = errors.New("no browser can open here (no DISPLAY or WAYLAND_DISPLAY)")

// ErrNoAzureCLI is --auth azcli where the Azure CLI is not installed.
var ErrNoAzureCLI = errors.New("the Azure CLI (az) is not installed or not on the PATH")

// browserCanOpen reports whether a local browser can open: Windows and
// macOS always have a desktop; elsewhere a browser needs a display.
func browserCanOpen() bool {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// azureCLIName is the Azure CLI's program name, as azidentity runs it.
func azureCLIName() string {
	if runtime.GOOS == "windows" {
		return "az.cmd"
	}
	return "az"
}

// CertificateError is a --cert file that cannot be used: missing,
// unreadable, not a certificate with its key, or a PFX whose password is
// wrong. It is the operator's input, so the front end names the option.
type CertificateError struct {
	Path   string
	Reason string
}

func (e *CertificateError) Error() string { return e.Path + ": " + e.Reason }

// CheckCertificate reads a --cert file as the credential will, so that a
// file that cannot be used is refused before any sign-in starts.
func CheckCertificate(path, password string) error {
	_, _, err := readCertificate(path, password)
	return err
}

// readCertificate reads a PEM (certificate and private key) or a PKCS#12
// file (with password, possibly empty). The file is read only when it is
// a regular file: a FIFO would block the read for ever.
func readCertificate(path, password string) ([]*x509.Certificate, crypto.PrivateKey, error) {
	if path == "" {
		return nil, nil, &CertificateError{Path: path, Reason: "no certificate file given"}
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil, &CertificateError{Path: path, Reason: "no such file"}
	case errors.Is(err, fs.ErrPermission):
		return nil, nil, &CertificateError{Path: path, Reason: "permission denied"}
	case err != nil:
		return nil, nil, &CertificateError{Path: path, Reason: err.Error()}
	case !fi.Mode().IsRegular():
		return nil, nil, &CertificateError{Path: path, Reason: "not a regular file"}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		reason := "cannot be read"
		if errors.Is(err, fs.ErrPermission) {
			reason = "permission denied"
		}
		return nil, nil, &CertificateError{Path: path, Reason: reason}
	}
	var pw []byte
	if password != "" {
		pw = []byte(password)
	}
	certs, key, err := azidentity.ParseCertificates(data, pw)
	if err != nil {
		// azidentity reads PKCS#12 with x/crypto/pkcs12, whose errors are
		// typed: a wrong password, or a format it does not implement (the
		// AES encryption OpenSSL 3 and recent Windows write by default).
		var notImplemented pkcs12.NotImplementedError
		reason := "not a PEM file with a certificate and its private key, nor a PFX (PKCS#12) file"
		switch {
		case errors.Is(err, pkcs12.ErrIncorrectPassword) && password == "":
			reason = "a PFX that needs its password in MGMTSESSION_CERT_PASSWORD"
		case errors.Is(err, pkcs12.ErrIncorrectPassword):
			reason = "a PFX that the password in MGMTSESSION_CERT_PASSWORD does not open"
		case errors.As(err, &notImplemented):
			reason = "a PFX encrypted in a way this tool cannot read (AES, as OpenSSL 3 writes); " +
				"convert it to PEM with 'openssl pkcs12 -in FILE -nodes -out cert.pem' and give that file"
		case bytes.Contains(data, []byte("-----BEGIN CERTIFICATE")):
			reason = "a PEM file without the private key (it needs both the certificate and its key)"
		}
		return nil, nil, &CertificateError{Path: path, Reason: reason}
	}
	return certs, key, nil
}
