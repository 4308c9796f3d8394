package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Cloud is where a tenant lives: its authority and its Graph root.
type Cloud struct {
	Name          string
	AuthorityHost string // with a trailing slash
	GraphRoot     string // without /v1.0
}

// The national clouds (GRAPH-NOTES section 8).
var Clouds = map[string]Cloud{
	"global":   {Name: "global", AuthorityHost: "https://login.microsoftonline.com/", GraphRoot: "https://graph.microsoft.com"},
	"usgov":    {Name: "usgov", AuthorityHost: "https://login.microsoftonline.us/", GraphRoot: "https://graph.microsoft.us"},
	"usgovdod": {Name: "usgovdod", AuthorityHost: "https://login.microsoftonline.us/", GraphRoot: "https://dod-graph.microsoft.us"},
	"china":    {Name: "china", AuthorityHost: "https://login.chinacloudapi.cn/", GraphRoot: "https://microsoftgraph.chinacloudapi.cn"},
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
	}
	cred, err := newCredential(o, copts)
	if err != nil {
		return nil, err
	}
	return explainingCredential{TokenCredential: cred, rec: rec}, nil
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
		data, err := os.ReadFile(o.CertPath)
		if err != nil {
			return nil, fmt.Errorf("reading the certificate: %w", err)
		}
		certs, key, err := azidentity.ParseCertificates(data, nil)
		if err != nil {
			return nil, fmt.Errorf("parsing the certificate %s: %w", o.CertPath, err)
		}
		return azidentity.NewClientCertificateCredential(o.TenantID, o.ClientID, certs, key, &azidentity.ClientCertificateCredentialOptions{
			ClientOptions: copts, DisableInstanceDiscovery: o.DisableInstanceDiscovery,
		})
	case AuthAzureCLI:
		return azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: o.TenantID})
	default:
		return nil, fmt.Errorf("unknown --auth %q (use devicecode, browser, secret, certificate or azcli)", o.Method)
	}
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
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.GraphRoot + "/.default"}, EnableCAE: true})
	if err != nil {
		return Session{}, err
	}
	return sessionFromToken(tok.Token)
}

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
