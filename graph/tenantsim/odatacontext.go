package tenantsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// contexts is the @odata.context fragment Graph writes for each route (the
// pattern without method and version); {id} stands for the id in the
// request's path. A POST to a collection answers with the collection's
// fragment and "/$entity".
var contexts = map[string]string{
	"/organization":   "organization",
	"/domains":        "domains",
	"/subscribedSkus": "subscribedSkus",
	"/policies/identitySecurityDefaultsEnforcementPolicy": "policies/identitySecurityDefaultsEnforcementPolicy",
	"/me":                                     "users/$entity",
	"/me/transitiveMemberOf":                  "directoryObjects",
	"/users":                                  "users",
	"/users/{id}":                             "users/$entity",
	"/users/{id}/revokeSignInSessions":        "Edm.Boolean",
	"/users/{id}/transitiveMemberOf":          "directoryObjects",
	"/users/{id}/authentication/methods":      "users('{id}')/authentication/methods",
	"/users/{id}/authentication/requirements": "users('{id}')/authentication/requirements",
	"/users/{id}/extensions":                  "users('{id}')/extensions",
	"/users/{id}/extensions/{name}":           "users('{id}')/extensions/$entity",
	"/groups/{id}/transitiveMembers/microsoft.graph.user": "users",
	"/roleManagement/directory/roleDefinitions":           "roleManagement/directory/roleDefinitions",
	"/roleManagement/directory/roleAssignments":           "roleManagement/directory/roleAssignments",
	"/identity/conditionalAccess/policies":                "identity/conditionalAccess/policies",
	"/identity/conditionalAccess/policies/{id}":           "identity/conditionalAccess/policies/$entity",
	"/identity/conditionalAccess/namedLocations":          "identity/conditionalAccess/namedLocations",
	"/identity/conditionalAccess/namedLocations/{id}":     "identity/conditionalAccess/namedLocations/$entity",
	"/identity/conditionalAccess/evaluate":                "Collection(microsoft.graph.whatIfAnalysisResult)",
	"/auditLogs/signIns":                                  "auditLogs/signIns",
}

// odataContext is the @odata.context Graph puts in a successful answer to
// the request, e.g. https://graph.microsoft.com/v1.0/$metadata#users/$entity
// (here on the server's own base URL); "" where Graph writes none.
func (s *Server) odataContext(r *http.Request) string {
	_, pattern, _ := strings.Cut(r.Pattern, " ")
	version, route := "v1.0", strings.TrimPrefix(pattern, "/v1.0")
	if rest, ok := strings.CutPrefix(pattern, "/beta"); ok {
		version, route = "beta", rest
	}
	frag, ok := contexts[route]
	if !ok {
		return ""
	}
	if r.Method == http.MethodPost && !strings.HasSuffix(frag, "$entity") && !strings.HasPrefix(frag, "Edm.") && !strings.HasPrefix(frag, "Collection(") {
		frag += "/$entity"
	}
	frag = strings.ReplaceAll(frag, "{id}", r.PathValue("id"))
	// A $select on users is part of the context: users(id,displayName).
	if sel := r.URL.Query().Get("$select"); sel != "" && strings.HasPrefix(frag, "users") && !strings.HasPrefix(frag, "users(") {
		frag = "users(" + sel + ")" + strings.TrimPrefix(frag, "users")
	}
	return s.BaseURL() + "/" + version + "/$metadata#" + frag
}

// odataWriter carries the request's @odata.context to writeJSON.
type odataWriter struct {
	http.ResponseWriter
	context string
}

// withContext puts "@odata.context" first in a JSON object, as Graph does.
func withContext(body []byte, context string) []byte {
	rest, ok := bytes.CutPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{"))
	if !ok || context == "" {
		return body
	}
	head, _ := json.Marshal(context)
	out := append([]byte(`{"@odata.context":`), head...)
	if t := bytes.TrimLeft(rest, " \t\r\n"); len(t) > 0 && t[0] != '}' {
		out = append(out, ',')
	}
	return append(out, rest...)
}
