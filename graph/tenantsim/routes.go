package tenantsim

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Permission sets. A route names the permissions any one of which lets a
// caller in (delegated scopes in scp, application permissions in roles), and
// for delegated writes the directory roles the signed-in user must hold.
var (
	permOrgRead      = []string{"Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All"}
	permUserRead     = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permUserWrite    = []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}
	permMemberOf     = []string{"Directory.Read.All", "GroupMember.Read.All", "Directory.ReadWrite.All"}
	permMethodsRead  = []string{"UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"}
	permMethodsWrite = []string{"UserAuthenticationMethod.ReadWrite.All", "Policy.ReadWrite.AuthenticationMethod"}
	permPolicyRead   = []string{"Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"}
	permCAWrite      = []string{"Policy.ReadWrite.ConditionalAccess"}
	permEvaluate     = []string{"Policy.Read.ConditionalAccess", "Policy.Read.All"}
	permSecDefWrite  = []string{"Policy.ReadWrite.SecurityDefaults"}
	permRoleRead     = []string{"RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory", "Directory.Read.All"}
	permRoleWrite    = []string{"RoleManagement.ReadWrite.Directory"}
	permAuditRead    = []string{"AuditLog.Read.All"}
	permMe           = []string{"User.Read", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All"}

	// Directory roles (template ids) a delegated caller needs for writes.
	roleGlobalAdmin   = "62e90394-69f5-4237-9190-012177145e10"
	rolesCAWrite      = []string{roleGlobalAdmin, "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", "194ae4cb-b126-40b2-bd5b-6091b380977d"}
	rolesUserWrite    = []string{roleGlobalAdmin, "fe930be7-5e62-47db-91af-98c3a49a38b1", "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"}
	rolesRoleWrite    = []string{roleGlobalAdmin, "e8611ab8-c189-46e8-94e1-60213ab1f814"}
	rolesMethodsWrite = []string{roleGlobalAdmin, "c4e39bd9-1100-46d3-8c65-fb160da0071f", "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"}
	rolesSecDefWrite  = []string{roleGlobalAdmin, "194ae4cb-b126-40b2-bd5b-6091b380977d", "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"}
)

// ProductScopes are the delegated scopes the simulated tenant has consented
// for the public client, and the application permissions of the demo app.
var ProductScopes = []string{
	"User.Read", "User.ReadWrite.All", "Directory.Read.All", "Organization.Read.All",
	"Policy.Read.All", "Policy.ReadWrite.ConditionalAccess", "Policy.ReadWrite.SecurityDefaults",
	"Application.Read.All", "RoleManagement.ReadWrite.Directory", "UserAuthenticationMethod.ReadWrite.All",
	"AuditLog.Read.All",
}

// handlerFunc answers a Graph request for an authenticated caller.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c *caller) *graphError

// routes builds the whole server: Entra authority endpoints and Graph.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	// Entra ID authority.
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.openIDConfiguration)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/devicecode", s.deviceCodeEndpoint)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.tokenEndpoint)
	mux.HandleFunc("GET /common/UserRealm/{user}", s.userRealm)
	mux.HandleFunc("GET /devicelogin", s.deviceLoginPage)
	mux.HandleFunc("POST /devicelogin", s.deviceLoginApprove)

	graph := func(pattern string, perms, roles []string, h handlerFunc) {
		mux.Handle(pattern, s.graphHandler(perms, roles, h))
	}
	for _, v := range []string{"/v1.0", "/beta"} {
		graph("POST "+v+"/$batch", nil, nil, s.batch)
		graph("GET "+v+"/organization", permOrgRead, nil, s.getOrganization)
		graph("GET "+v+"/domains", permOrgRead, nil, s.listDomains)
		graph("GET "+v+"/subscribedSkus", permOrgRead, nil, s.listSkus)
		graph("GET "+v+"/policies/identitySecurityDefaultsEnforcementPolicy", permPolicyRead, nil, s.getSecurityDefaults)
		graph("PATCH "+v+"/policies/identitySecurityDefaultsEnforcementPolicy", permSecDefWrite, rolesSecDefWrite, s.patchSecurityDefaults)

		graph("GET "+v+"/me", permMe, nil, s.getMe)
		graph("GET "+v+"/me/transitiveMemberOf", permMe, nil, s.myMemberships)
		graph("GET "+v+"/users", permUserRead, nil, s.listUsers)
		graph("POST "+v+"/users", permUserWrite, rolesUserWrite, s.createUser)
		graph("GET "+v+"/users/{id}", permUserRead, nil, s.getUser)
		graph("PATCH "+v+"/users/{id}", permUserWrite, rolesUserWrite, s.patchUser)
		graph("DELETE "+v+"/users/{id}", permUserWrite, rolesUserWrite, s.deleteUser)
		graph("POST "+v+"/users/{id}/revokeSignInSessions", permUserWrite, rolesUserWrite, s.revokeSessions)
		graph("GET "+v+"/users/{id}/transitiveMemberOf", permMemberOf, nil, s.userMemberships)
		graph("GET "+v+"/groups/{id}/transitiveMembers/microsoft.graph.user", permMemberOf, nil, s.groupUsers)
		graph("GET "+v+"/users/{id}/authentication/methods", permMethodsRead, nil, s.listMethods)
		graph("GET "+v+"/users/{id}/extensions", permUserRead, nil, s.listExtensions)
		graph("POST "+v+"/users/{id}/extensions", permUserWrite, rolesUserWrite, s.createExtension)
		graph("GET "+v+"/users/{id}/extensions/{name}", permUserRead, nil, s.getExtension)
		graph("PATCH "+v+"/users/{id}/extensions/{name}", permUserWrite, rolesUserWrite, s.patchExtension)
		graph("DELETE "+v+"/users/{id}/extensions/{name}", permUserWrite, rolesUserWrite, s.deleteExtension)

		graph("GET "+v+"/roleManagement/directory/roleDefinitions", permRoleRead, nil, s.listRoleDefinitions)
		graph("GET "+v+"/roleManagement/directory/roleAssignments", permRoleRead, nil, s.listRoleAssignments)
		graph("POST "+v+"/roleManagement/directory/roleAssignments", permRoleWrite, rolesRoleWrite, s.createRoleAssignment)
		graph("DELETE "+v+"/roleManagement/directory/roleAssignments/{id}", permRoleWrite, rolesRoleWrite, s.deleteRoleAssignment)

		graph("GET "+v+"/identity/conditionalAccess/policies", permPolicyRead, nil, s.listPolicies)
		graph("POST "+v+"/identity/conditionalAccess/policies", permCAWrite, rolesCAWrite, s.createPolicy)
		graph("GET "+v+"/identity/conditionalAccess/policies/{id}", permPolicyRead, nil, s.getPolicy)
		graph("PATCH "+v+"/identity/conditionalAccess/policies/{id}", permCAWrite, rolesCAWrite, s.patchPolicy)
		graph("DELETE "+v+"/identity/conditionalAccess/policies/{id}", permCAWrite, rolesCAWrite, s.deletePolicy)
		graph("GET "+v+"/identity/conditionalAccess/namedLocations", permPolicyRead, nil, s.listLocations)
		graph("POST "+v+"/identity/conditionalAccess/namedLocations", permCAWrite, rolesCAWrite, s.createLocation)
		graph("GET "+v+"/identity/conditionalAccess/namedLocations/{id}", permPolicyRead, nil, s.getLocation)
		graph("PATCH "+v+"/identity/conditionalAccess/namedLocations/{id}", permCAWrite, rolesCAWrite, s.patchLocation)
		graph("DELETE "+v+"/identity/conditionalAccess/namedLocations/{id}", permCAWrite, rolesCAWrite, s.deleteLocation)
		graph("POST "+v+"/identity/conditionalAccess/evaluate", permEvaluate, nil, s.evaluate)

		graph("GET "+v+"/auditLogs/signIns", permAuditRead, nil, s.listSignIns)
	}
	graph("GET /beta/users/{id}/authentication/requirements", permMethodsRead, nil, s.getRequirements)
	graph("PATCH /beta/users/{id}/authentication/requirements", permMethodsWrite, rolesMethodsWrite, s.patchRequirements)

	s.inner = graphErrors(mux)
	return s.frontDoor(s.inner)
}

// graphErrors answers what no route matches the way Graph does, with its
// JSON error body (http.ServeMux would answer in plain text, and the SDK
// cannot read an error body without error.code and error.message).
func graphErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete} {
			other := r.Clone(r.Context())
			other.Method = m
			if _, pattern := mux.Handler(other); pattern != "" {
				writeError(w, r, &graphError{Status: http.StatusMethodNotAllowed, Code: "Request_BadRequest",
					Message: "Specified HTTP method is not allowed for the request target."})
				return
			}
		}
		segment := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		writeError(w, r, errBadRequest("BadRequest", "Resource not found for the segment '%s'.", segment))
	})
}

// frontDoor applies what every request meets before routing: latency,
// injected faults, request ids and the request log.
func (s *Server) frontDoor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var latency time.Duration
		s.locked(func() { latency = s.latency })
		if latency > 0 {
			time.Sleep(latency)
		}
		rid := newGUID()
		w.Header().Set("request-id", rid)
		crid := r.Header.Get("client-request-id")
		if crid == "" {
			crid = rid
		}
		w.Header().Set("client-request-id", crid)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			s.locked(func() {
				s.log = append(s.log, RequestRecord{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: rec.status,
					RequestID: rid, ContentEncoding: r.Header.Get("Content-Encoding"), Start: start, End: time.Now()})
				// Only the newest records are kept. Reslicing drops the
				// oldest in constant time; append copies just the live
				// part when it grows the array, so memory stays bounded.
				if over := len(s.log) - limits.requestLog; over > 0 {
					s.log = s.log[over:]
				}
			})
		}()
		// Deferred after the log, so that it runs first and the log holds
		// the status it sends.
		defer func() {
			// A bug in a handler still answers with Graph's error body
			// rather than a dropped connection.
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					rec.status = 0
					panic(v)
				}
				if !rec.wrote {
					writeError(rec, r, &graphError{Status: http.StatusInternalServerError, Code: "generalException",
						Message: fmt.Sprintf("The simulated tenant failed: %v", v)})
				}
			}
		}()

		var crashed bool
		s.locked(func() { crashed = s.crashed })
		if crashed {
			rec.status = 0
			dropConnection(w)
			return
		}
		if f := s.takeFault(r); f != nil {
			if f.AfterCommit {
				next.ServeHTTP(&discardWriter{header: http.Header{}}, r)
			}
			if f.Drop {
				rec.status = 0
				dropConnection(w)
				return
			}
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			writeError(rec, r, faultError(f.Status))
			return
		}
		next.ServeHTTP(rec, r)
	})
}

func faultError(status int) *graphError {
	switch status {
	case http.StatusTooManyRequests:
		return &graphError{Status: status, Code: "TooManyRequests", Message: "Too many requests. Please try again later."}
	case http.StatusServiceUnavailable:
		return &graphError{Status: status, Code: "serviceNotAvailable", Message: "The service is temporarily unavailable."}
	case http.StatusGatewayTimeout:
		return &graphError{Status: status, Code: "UnknownError", Message: "Gateway timeout."}
	default:
		return &graphError{Status: status, Code: "generalException", Message: "An internal server error occurred."}
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status, r.wrote = code, true
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(p)
}

// graphHandler authenticates the caller, checks permissions and the CA
// throttle, then runs the handler and sends its error, if any.
func (s *Server) graphHandler(perms, roles []string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w = &odataWriter{ResponseWriter: w, context: s.odataContext(r)}
		c, gerr := s.authenticate(r)
		if gerr != nil {
			// Graph names the authority that issues its tokens on every
			// 401, as RFC 6750 asks.
			w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="`+s.BaseURL()+`/common/oauth2/authorize", client_id="`+graphAppID+`"`)
		}
		if gerr == nil && perms != nil {
			gerr = s.authorize(c, perms, roles)
		}
		if gerr == nil && strings.Contains(r.URL.Path, "/identity/conditionalAccess/") {
			gerr = s.caThrottle()
		}
		if gerr == nil {
			gerr = h(w, r, c)
		}
		if gerr != nil {
			writeError(w, r, gerr)
		}
	})
}

// caThrottle enforces the documented one request per second per tenant for
// Conditional Access, answering 429 without Retry-After as the service does.
func (s *Server) caThrottle() *graphError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.st.CAThrottle {
		return nil
	}
	now := time.Now()
	if now.Before(s.caNext) {
		return faultError(http.StatusTooManyRequests)
	}
	s.caNext = now.Add(time.Second)
	return nil
}

func (s *Server) authorize(c *caller, perms, roles []string) *graphError {
	granted := c.Scopes
	if c.App {
		granted = c.AppRoles
	}
	if !slices.ContainsFunc(perms, func(p string) bool { return slices.Contains(granted, p) }) {
		return errDenied()
	}
	if c.App || roles == nil {
		return nil
	}
	var held []string
	s.locked(func() { held = s.st.roleTemplates(c.UserID) })
	if !slices.ContainsFunc(roles, func(r string) bool { return slices.Contains(held, r) }) {
		return errDenied()
	}
	return nil
}
