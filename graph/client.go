// Package graph is the product's only door to Microsoft Graph. It speaks
// domain types (ca.Policy, User, netip prefixes, *Error) so that steps/ and
// ui/ never import msgraph-sdk-go, and it knows nothing of the terminal.
//
// Requests go through msgraph-sdk-go-core's request adapter (the SDK's
// middleware: retry on 429/503/504 honouring Retry-After, redirects, gzip
// request bodies). Every object, directory and Conditional Access alike,
// travels as Graph's own JSON between the adapter and the domain types
// (getJSON, sendJSON, listJSON): no generated package of msgraph-sdk-go is
// compiled but its error model (models/odataerrors). The generated request
// builders are 10 MB of code for the dozen calls the product makes; the
// generated models were most of a cold build's time and memory and most of
// the binary, and they rewrite enum values they do not know (see
// condaccess.go and directory.go).
package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	abs "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	kauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	textser "github.com/microsoft/kiota-serialization-text-go"
	core "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// Config builds a Client.
type Config struct {
	Cloud      Cloud
	Credential azcore.TokenCredential
	// Transport is the base HTTP transport (proxy settings, or trust of the
	// simulated tenant). nil means Go's default with the environment's proxy.
	Transport *http.Transport
	// Log, when set, receives one line per HTTP exchange (never headers or
	// bodies): --debug-log.
	Log *slog.Logger
	// ReplicationTimeout bounds how long a call retries while a new object
	// replicates (default 5 minutes, as real tenants can take minutes).
	ReplicationTimeout time.Duration
}

// Client talks to one tenant's Graph.
type Client struct {
	adapter    *core.GraphRequestAdapterBase
	base       string // Graph v1.0 base URL
	beta       string // Graph beta base URL
	replWait   time.Duration
	replPause  time.Duration
	errMapping abs.ErrorMappings
	pacer      *caPacer
}

// New builds a client on the SDK's request adapter with its default
// middleware and the JSON and text serializers registered.
func New(cfg Config) (*Client, error) {
	host, err := url.Parse(cfg.Cloud.GraphRoot)
	if err != nil || host.Hostname() == "" {
		return nil, fmt.Errorf("invalid Graph root %q", cfg.Cloud.GraphRoot)
	}
	auth, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(
		cfg.Credential, []string{cfg.Cloud.GraphScope()}, []string{host.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("setting up Graph authentication: %w", err)
	}
	base := cfg.Transport
	if base == nil {
		base = khttp.GetDefaultTransport().(*http.Transport)
	}
	opts := core.GraphClientOptions{GraphServiceLibraryVersion: "1.89.0"}
	pacer := &caPacer{base: requestIDTransport{withLog(base, cfg.Log)}, interval: caInterval}
	httpClient := &http.Client{
		Transport:     khttp.NewCustomTransportWithParentTransport(pacer, middlewares(&opts, cfg.Log)...),
		Timeout:       100 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	parse := absser.NewParseNodeFactoryRegistry()
	parse.ContentTypeAssociatedFactories["application/json"] = jsonser.NewJsonParseNodeFactory()
	parse.ContentTypeAssociatedFactories["text/plain"] = textser.NewTextParseNodeFactory()
	write := absser.NewSerializationWriterFactoryRegistry()
	write.ContentTypeAssociatedFactories["application/json"] = jsonser.NewJsonSerializationWriterFactory()
	write.ContentTypeAssociatedFactories["text/plain"] = textser.NewTextSerializationWriterFactory()
	adapter, err := core.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, opts, parse, write, httpClient)
	if err != nil {
		return nil, fmt.Errorf("setting up the Graph client: %w", err)
	}
	root := strings.TrimSuffix(cfg.Cloud.GraphRoot, "/")
	adapter.SetBaseUrl(root + "/v1.0")
	c := &Client{
		adapter:    adapter,
		base:       root + "/v1.0",
		beta:       root + "/beta",
		replWait:   cfg.ReplicationTimeout,
		replPause:  time.Second,
		errMapping: abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue},
		pacer:      pacer,
	}
	if c.replWait <= 0 {
		c.replWait = 5 * time.Minute
	}
	return c, nil
}

// middlewares is the SDK's default middleware in a fixed order, with
// compression outside retry and a fresh body for every attempt.
//
// kiota-http-go builds its default list from a map, so the order changed
// from one client to the next; whenever retry came first, a POST or PATCH
// retried after a 429 or 503 went out with "Content-Encoding: gzip" over the
// uncompressed body and Graph refused it with 400 (kiota-http-go issue 183).
// Compressing once, outside retry, makes every retry resend the same
// compressed bytes. And the retry handler rewinds the one body reader that
// every attempt shares, while net/http may still be writing the previous
// attempt's body after its early 429 answer; the retry then went out empty
// ("ContentLength=N with Body length 0"). attemptBody gives each attempt a
// reader of its own.
//
// safeReadRetry sits under the SDK's retry: it sends a read again after a
// dropped connection or a 500 or 502, which the SDK's retry leaves alone,
// and the SDK's retry still sees every 429, 503 and 504 it answers with.
func middlewares(opts *core.GraphClientOptions, log *slog.Logger) []khttp.Middleware {
	return []khttp.Middleware{
		core.NewGraphTelemetryHandler(opts),
		khttp.NewUrlReplaceHandler(true, core.ReplacementPairs),
		khttp.NewCompressionHandler(),
		khttp.NewRetryHandler(),
		safeReadRetry{log: log},
		attemptBody{},
		khttp.NewRedirectHandler(),
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewUserAgentHandler(),
		khttp.NewHeadersInspectionHandler(),
	}
}

// attemptBody sends each attempt of a request with a body reader of its own
// (see middlewares). Only it reads the shared reader, which the retry
// handler rewinds before each attempt.
type attemptBody struct{}

func (attemptBody) Intercept(pipeline khttp.Pipeline, middlewareIndex int, req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return pipeline.Next(req, middlewareIndex)
	}
	data, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	attempt := req.WithContext(req.Context())
	attempt.Body = io.NopCloser(bytes.NewReader(data))
	attempt.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	attempt.ContentLength = int64(len(data))
	return pipeline.Next(attempt, middlewareIndex)
}

// SetReplicationPolicy changes how long and how often replication-aware
// calls retry (tests shorten it).
func (c *Client) SetReplicationPolicy(timeout, pause time.Duration) {
	c.replWait, c.replPause = timeout, pause
}

// SetCAPacing changes the spacing of Conditional Access requests once the
// tenant has throttled one (tests that inject a single 429 shorten it).
func (c *Client) SetCAPacing(interval time.Duration) {
	c.pacer.mu.Lock()
	defer c.pacer.mu.Unlock()
	c.pacer.interval = interval
}

// request builds a request for a path under the v1.0 (or a full URL, such as
// an @odata.nextLink) with query parameters.
func (c *Client) request(method abs.HttpMethod, pathOrURL string, query url.Values) (*abs.RequestInformation, error) {
	raw := pathOrURL
	if strings.HasPrefix(pathOrURL, "/") {
		raw = c.base + pathOrURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if len(query) > 0 {
		// Graph wants $ kept literal and spaces as %20.
		u.RawQuery = strings.ReplaceAll(strings.ReplaceAll(query.Encode(), "%24", "$"), "+", "%20")
	}
	ri := abs.NewRequestInformation()
	ri.Method = method
	ri.SetUri(*u)
	ri.Headers.TryAdd("Accept", "application/json")
	return ri, nil
}

// getJSON sends a GET for a path (or a full URL, such as an
// @odata.nextLink) and decodes Graph's JSON answer into dst.
func (c *Client) getJSON(ctx context.Context, op, pathOrURL string, query url.Values, dst any) error {
	ri, err := c.request(abs.GET, pathOrURL, query)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return c.exchangeJSON(ctx, op, ri, dst)
}

// sendJSON writes body as JSON (nil sends none) and decodes the answer into
// dst, when dst is not nil; otherwise it expects no content.
func (c *Client) sendJSON(ctx context.Context, op string, method abs.HttpMethod, path string, body, dst any) error {
	ri, err := c.request(method, path, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		ri.SetStreamContentAndContentType(data, "application/json")
	}
	if dst == nil {
		return wrapErr(op, c.adapter.SendNoContent(ctx, ri, c.errMapping))
	}
	return c.exchangeJSON(ctx, op, ri, dst)
}

func (c *Client) exchangeJSON(ctx context.Context, op string, ri *abs.RequestInformation, dst any) error {
	res, err := c.adapter.SendPrimitive(ctx, ri, "[]byte", c.errMapping)
	if err != nil {
		return wrapErr(op, err)
	}
	data, _ := res.([]byte)
	if len(data) == 0 {
		return fmt.Errorf("%s: Graph answered with no content", op)
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("%s: reading Graph's answer: %w", op, err)
	}
	return nil
}

// listJSON reads a whole collection as Graph's JSON, following
// @odata.nextLink.
func listJSON[T any](ctx context.Context, c *Client, op, path string, query url.Values) ([]T, error) {
	out := []T{}
	next, q := path, query
	for next != "" {
		var page struct {
			Value    []T    `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		if err := c.getJSON(ctx, op, next, q, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Value...)
		next, q = page.NextLink, nil
	}
	return out, nil
}

// writeBody is a domain value as a JSON write body: edit adjusts it, and
// properties left null are dropped, so that a write changes only what the
// value holds (Graph may refuse null for a collection).
func writeBody(v any, edit func(map[string]any)) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	dropNulls(m)
	if edit != nil {
		edit(m)
	}
	return m, nil
}

func dropNulls(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			dropNulls(x)
		case []any:
			for _, e := range x {
				if em, ok := e.(map[string]any); ok {
					dropNulls(em)
				}
			}
		}
	}
}
