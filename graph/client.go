// Package graph is the product's only door to Microsoft Graph. It speaks
// domain types (ca.Policy, User, netip prefixes, *Error) so that steps/ and
// ui/ never import msgraph-sdk-go, and it knows nothing of the terminal.
//
// Requests go through msgraph-sdk-go-core's request adapter (the SDK's
// middleware: retry on 429/503/504 honouring Retry-After, redirects, gzip
// request bodies) and its generated models. Only one generated request
// builder package is compiled (identity, for What If); the other requests
// are built on the same adapter, because the generated users package alone
// is 10 MB of code for the dozen calls the product makes.
package graph

import (
	"context"
	"encoding/json"
	"fmt"
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
}

// New builds a client on the SDK's request adapter with its default
// middleware and the JSON and text serializers registered.
func New(cfg Config) (*Client, error) {
	host, err := url.Parse(cfg.Cloud.GraphRoot)
	if err != nil || host.Hostname() == "" {
		return nil, fmt.Errorf("invalid Graph root %q", cfg.Cloud.GraphRoot)
	}
	auth, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(
		cfg.Credential, []string{cfg.Cloud.GraphRoot + "/.default"}, []string{host.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("setting up Graph authentication: %w", err)
	}
	base := cfg.Transport
	if base == nil {
		base = khttp.GetDefaultTransport().(*http.Transport)
	}
	opts := core.GraphClientOptions{GraphServiceLibraryVersion: "1.89.0"}
	httpClient := &http.Client{
		Transport:     khttp.NewCustomTransportWithParentTransport(base, middlewares(&opts)...),
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
	}
	if c.replWait <= 0 {
		c.replWait = 5 * time.Minute
	}
	return c, nil
}

// middlewares is the SDK's default middleware in a fixed order, with
// compression outside retry. kiota-http-go builds its default list from a
// map, so the order changes from one client to the next; whenever retry
// came first, a POST or PATCH retried after a 429 or 503 went out with
// "Content-Encoding: gzip" over the uncompressed body and Graph refused it
// with 400 (kiota-http-go issue 183). Compressing once, outside retry, makes
// every retry resend the same compressed bytes.
func middlewares(opts *core.GraphClientOptions) []khttp.Middleware {
	return []khttp.Middleware{
		core.NewGraphTelemetryHandler(opts),
		khttp.NewUrlReplaceHandler(true, core.ReplacementPairs),
		khttp.NewCompressionHandler(),
		khttp.NewRetryHandler(),
		khttp.NewRedirectHandler(),
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewUserAgentHandler(),
		khttp.NewHeadersInspectionHandler(),
	}
}

// SetReplicationPolicy changes how long and how often replication-aware
// calls retry (tests shorten it).
func (c *Client) SetReplicationPolicy(timeout, pause time.Duration) {
	c.replWait, c.replPause = timeout, pause
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

// get sends a GET and parses the answer into the model the factory makes.
func (c *Client) get(ctx context.Context, op, path string, query url.Values, factory absser.ParsableFactory) (absser.Parsable, error) {
	ri, err := c.request(abs.GET, path, query)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	res, err := c.adapter.Send(ctx, ri, factory, c.errMapping)
	return res, wrapErr(op, err)
}

// send writes a body (nil for none) and parses the answer, when a factory
// is given; otherwise it expects no content.
func (c *Client) send(ctx context.Context, op string, method abs.HttpMethod, path string, body absser.Parsable, factory absser.ParsableFactory) (absser.Parsable, error) {
	ri, err := c.request(method, path, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if body != nil {
		if err := ri.SetContentFromParsable(ctx, c.adapter, "application/json", body); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	if factory == nil {
		return nil, wrapErr(op, c.adapter.SendNoContent(ctx, ri, c.errMapping))
	}
	res, err := c.adapter.Send(ctx, ri, factory, c.errMapping)
	return res, wrapErr(op, err)
}

// collectionPage is what every generated *CollectionResponse offers.
type collectionPage[T any] interface {
	absser.Parsable
	GetValue() []T
	GetOdataNextLink() *string
}

// list reads a whole collection, following @odata.nextLink.
func list[T any](ctx context.Context, c *Client, op, path string, query url.Values, factory absser.ParsableFactory) ([]T, error) {
	var out []T
	next, q := path, query
	for next != "" {
		res, err := c.get(ctx, op, next, q, factory)
		if err != nil {
			return nil, err
		}
		page, ok := res.(collectionPage[T])
		if !ok {
			return nil, fmt.Errorf("%s: unexpected answer of type %T", op, res)
		}
		out = append(out, page.GetValue()...)
		next, q = deref(page.GetOdataNextLink()), nil
	}
	return out, nil
}

// toDomain converts an SDK model into a domain struct through its JSON
// form: the SDK has parsed (and validated) the wire answer, and the domain
// types carry Graph's JSON names, so one conversion serves every type.
func toDomain(p absser.Parsable, dst any) error {
	w := jsonser.NewJsonSerializationWriter()
	defer w.Close()
	if err := w.WriteObjectValue("", p); err != nil {
		return err
	}
	data, err := w.GetSerializedContent()
	if err != nil {
		return err
	}
	return json.Unmarshal(data, dst)
}

// fromDomain converts a domain struct into an SDK model for a write. edit,
// when given, adjusts the JSON form first (to leave out read-only
// properties Graph refuses on create and PATCH, or to send a false that the
// domain type omits).
func fromDomain(v any, factory absser.ParsableFactory, edit func(map[string]any)) (absser.Parsable, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if edit != nil {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		edit(m)
		data, _ = json.Marshal(m)
	}
	node, err := jsonser.NewJsonParseNode(data)
	if err != nil {
		return nil, err
	}
	return node.GetObjectValue(factory)
}

// listAll reads a collection of model M and converts every item to the
// domain type D.
func listAll[M absser.Parsable, D any](ctx context.Context, c *Client, op, path string, query url.Values, factory absser.ParsableFactory) ([]D, error) {
	items, err := list[M](ctx, c, op, path, query, factory)
	if err != nil {
		return nil, err
	}
	out := make([]D, len(items))
	for i, it := range items {
		if err := toDomain(it, &out[i]); err != nil {
			return nil, fmt.Errorf("%s: reading item %d: %w", op, i, err)
		}
	}
	return out, nil
}
