package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	base http.RoundTripper
	mu   sync.Mutex
	last *SignInError
}

func (r *refusalRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
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

func (r *refusalRecorder) take() *SignInError {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.last
	r.last = nil
	return e
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
		if e := c.rec.take(); e != nil {
			e.Err = err
			return tok, e
		}
	}
	return tok, err
}
