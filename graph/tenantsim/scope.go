package tenantsim

import (
	"net/http"
	"slices"
	"strings"
)

// oauthErr is an authority refusal, written in the Entra format.
type oauthErr struct {
	status int
	code   string
	aadsts int
	desc   string
}

func (e *oauthErr) write(w http.ResponseWriter) { oauthError(w, e.status, e.code, e.aadsts, e.desc) }

// tokenRequest is what a token request's scope asks for: one resource,
// and either its .default permissions or the named ones.
type tokenRequest struct {
	aud       string   // the audience of the access token
	graph     bool     // the resource is Microsoft Graph (this server)
	isDefault bool     // resource/.default: whatever was consented
	perms     []string // the named permissions otherwise
	scopes    []string // the resource scopes as asked, for the answer
}

// oidcScopes ask for an id_token and a refresh token, not for a resource.
var oidcScopes = []string{"openid", "profile", "offline_access", "email"}

// otherResources are resources besides Graph the authority issues tokens
// for, by identifier (URI or app id), with the audience their tokens carry.
var otherResources = map[string]string{
	"https://management.azure.com":                 "https://management.azure.com",
	"https://management.core.windows.net":          "https://management.core.windows.net/",
	"797f4846-ba00-4fd7-ba43-dac1f8f63013":         "https://management.core.windows.net/",
	"https://outlook.office365.com":                "https://outlook.office365.com",
	"00000002-0000-0ff1-ce00-000000000000":         "https://outlook.office365.com",
	"https://vault.azure.net":                      "https://vault.azure.net",
	"cfa8b339-82a2-471a-a3c9-0fc0be7a4093":         "https://vault.azure.net",
	"https://database.windows.net":                 "https://database.windows.net/",
	"022907d3-0f1b-48f7-badc-1ba6abab6d66":         "https://database.windows.net/",
	"https://storage.azure.com":                    "https://storage.azure.com",
	"e406a681-f3d4-42a8-90b6-c2b029497af1":         "https://storage.azure.com",
	"https://api.spaces.skype.com":                 "https://api.spaces.skype.com",
	"cc15fd57-2c6c-4117-a88c-83b1d56b4bbe":         "https://api.spaces.skype.com",
	"https://ps.compliance.protection.outlook.com": "https://ps.compliance.protection.outlook.com",
}

// graphAudiences are the audiences Graph accepts: this server's root (the
// Graph root the product is pointed at), Microsoft Graph's URI and app id.
func (s *Server) graphAudiences() []string {
	return []string{s.BaseURL(), "https://graph.microsoft.com", graphAppID}
}

// parseScope reads a token request's scope as Entra does: the OpenID
// scopes aside, every scope names one resource (a bare permission is
// Graph's), all the same one; an app asks for resource/.default only.
func (s *Server) parseScope(scope string, app bool) (tokenRequest, *oauthErr) {
	var tr tokenRequest
	fields := strings.Fields(scope)
	if app && len(fields) == 0 {
		return tr, &oauthErr{http.StatusBadRequest, "invalid_request", 90014, "The required field 'scope' is missing from the credential. Ensure that you have all the necessary parameters for the login request."}
	}
	resource := ""
	for _, f := range fields {
		if slices.Contains(oidcScopes, strings.ToLower(f)) {
			continue
		}
		res, perm := "", f
		if i := strings.LastIndex(f, "/"); i >= 0 {
			res, perm = strings.TrimRight(f[:i], "/"), f[i+1:]
		}
		aud, graph, e := s.resourceAudience(res)
		if e != nil {
			return tr, e
		}
		if resource != "" && aud != resource {
			return tr, &oauthErr{http.StatusBadRequest, "invalid_scope", 28000, "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope " + scope + " is not valid."}
		}
		resource, tr.aud, tr.graph = aud, aud, graph
		tr.scopes = append(tr.scopes, f)
		if perm == ".default" {
			tr.isDefault = true
		} else {
			tr.perms = append(tr.perms, perm)
		}
	}
	if resource == "" {
		// Only OpenID scopes: Entra issues a Graph token.
		tr = tokenRequest{aud: s.BaseURL(), graph: true, isDefault: true, scopes: []string{s.BaseURL() + "/.default"}}
	}
	if app && (!tr.isDefault || len(tr.perms) > 0) {
		return tr, &oauthErr{http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope " + scope + " is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."}
	}
	if tr.isDefault && len(tr.perms) > 0 {
		return tr, &oauthErr{http.StatusBadRequest, "invalid_scope", 70011, "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid: .default cannot be combined with other scopes of the resource."}
	}
	return tr, nil
}

// resourceAudience maps a resource identifier from a scope to the audience
// of its tokens ("" is Graph, as for a bare permission).
func (s *Server) resourceAudience(res string) (aud string, graph bool, e *oauthErr) {
	if res == "" {
		return s.BaseURL(), true, nil
	}
	for _, g := range s.graphAudiences() {
		if strings.EqualFold(res, g) {
			return g, true, nil
		}
	}
	for id, a := range otherResources {
		if strings.EqualFold(res, id) {
			return a, false, nil
		}
	}
	return "", false, &oauthErr{http.StatusBadRequest, "invalid_resource", 500011, "The resource principal named " + res + " was not found in the tenant named " + s.TenantID() + ". This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."}
}
