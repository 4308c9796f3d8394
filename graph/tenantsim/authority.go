package tenantsim

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"mgmtsession/ca"
)

// Microsoft Graph's application id: the resource a Graph token is for.
const graphAppID = "00000003-0000-0000-c000-000000000000"

const deviceCodeLifetime = 900 * time.Second

// tokenClaims is what the simulated tenant puts in its access tokens (and
// what a refresh token stands for).
type tokenClaims struct {
	Aud      string   `json:"aud"`
	Iss      string   `json:"iss"`
	Tid      string   `json:"tid"`
	Oid      string   `json:"oid"`
	Upn      string   `json:"upn,omitempty"`
	Name     string   `json:"name,omitempty"`
	Scp      string   `json:"scp,omitempty"`
	Roles    []string `json:"roles,omitempty"`
	AppID    string   `json:"appid"`
	IdTyp    string   `json:"idtyp"`
	Iat      int64    `json:"iat"`
	Exp      int64    `json:"exp"`
	ClientID string   `json:"-"`
}

// caller is who a Graph request comes from.
type caller struct {
	App      bool
	UserID   string
	Scopes   []string
	AppRoles []string
}

type deviceCode struct {
	userCode string
	clientID string
	scope    string
	expires  time.Time
	approved bool
}

// refreshToken is what a refresh token stands for: a user signed in to a
// client. Entra binds refresh tokens to the user and the client, not to a
// resource, and revokes them when the user's sessions are revoked.
type refreshToken struct {
	userID   string
	clientID string
	issued   time.Time
	expires  time.Time
}

// refreshTokenLifetime is Entra's default for refresh tokens outside
// single-page apps.
const refreshTokenLifetime = 90 * 24 * time.Hour

func (s *Server) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	base := s.BaseURL() + "/" + r.PathValue("tenant")
	writeAuthorityJSON(w, http.StatusOK, map[string]any{
		"issuer":                        base + "/v2.0",
		"authorization_endpoint":        base + "/oauth2/v2.0/authorize",
		"token_endpoint":                base + "/oauth2/v2.0/token",
		"device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":          base + "/oauth2/v2.0/logout",
		"jwks_uri":                      base + "/discovery/v2.0/keys",
		"response_types_supported":      []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":              []string{"openid", "profile", "email", "offline_access"},
		"tenant_region_scope":           "EU",
	})
}

// oauthError answers the token and device code endpoints in the Entra
// format, AADSTS code first in the description.
func oauthError(w http.ResponseWriter, status int, errCode string, aadsts int, desc string) {
	writeAuthorityJSON(w, status, map[string]any{
		"error":             errCode,
		"error_description": fmt.Sprintf("AADSTS%d: %s", aadsts, desc),
		"error_codes":       []int{aadsts},
		"timestamp":         time.Now().UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id":          newGUID(),
		"correlation_id":    newGUID(),
	})
}

func (s *Server) knownTenant(t string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t == s.st.TenantID || t == "organizations" || t == "common" {
		return true
	}
	for _, d := range s.st.Domains {
		if strings.EqualFold(d.ID, t) {
			return true
		}
	}
	return false
}

func (s *Server) deviceCodeEndpoint(w http.ResponseWriter, r *http.Request) {
	if !s.knownTenant(r.PathValue("tenant")) {
		oauthError(w, http.StatusBadRequest, "invalid_request", 90002, "Tenant '"+r.PathValue("tenant")+"' not found.")
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("client_id") == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	}
	if r.PostForm.Get("client_id") != PublicClientID {
		oauthError(w, http.StatusBadRequest, "unauthorized_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	if _, e := s.parseScope(r.PostForm.Get("scope"), false); e != nil {
		e.write(w)
		return
	}
	// Nine characters from an alphabet without look-alikes, like Entra's.
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	raw := randomBytes(9)
	for i := range raw {
		raw[i] = alphabet[int(raw[i])%len(alphabet)]
	}
	code := string(raw)
	dc := &deviceCode{userCode: code, clientID: r.PostForm.Get("client_id"), scope: r.PostForm.Get("scope"), expires: time.Now().Add(deviceCodeLifetime)}
	device := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	s.locked(func() {
		// Expired codes are dropped as new ones come; beyond the bound
		// the oldest go first.
		now := time.Now()
		s.deviceCodes.each(func(k string, old *deviceCode) bool {
			if now.After(old.expires) {
				s.deviceCodes.del(k)
			}
			return true
		})
		s.deviceCodes.put(device, dc, limits.deviceCodes)
	})
	verify := s.BaseURL() + "/devicelogin"
	writeAuthorityJSON(w, http.StatusOK, map[string]any{
		"user_code":        code,
		"device_code":      device,
		"verification_uri": verify,
		"expires_in":       int(deviceCodeLifetime.Seconds()),
		"interval":         1,
		"message":          fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", verify, code),
	})
}

// Roles whose holders may consent to Graph's admin-restricted delegated
// scopes (for themselves or the organisation).
var consentingRoles = []string{roleGlobalAdmin, "e8611ab8-c189-46e8-94e1-60213ab1f814"}

// consentInteractively is the consent prompt of an interactive sign-in
// that names scopes: the named scopes not yet consented are consented by
// the person for themselves if they hold a role that may (every scope the
// product names needs an administrator's consent); otherwise they are
// returned as missing.
func (s *Server) consentInteractively(u *user, clientID string, tr tokenRequest) (missing []string) {
	if !tr.graph || tr.isDefault {
		return nil
	}
	consented := s.consentedFor(u.ID, clientID)
	var ask []string
	for _, p := range tr.perms {
		if !slices.ContainsFunc(consented, func(x string) bool { return strings.EqualFold(x, p) }) {
			ask = append(ask, p)
		}
	}
	if len(ask) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	may := slices.ContainsFunc(s.st.roleTemplates(u.ID), func(r string) bool { return slices.Contains(consentingRoles, r) })
	if !may {
		return ask
	}
	if s.userConsents == nil {
		s.userConsents = map[string][]string{}
	}
	k := u.ID + " " + clientID
	s.userConsents[k] = append(s.userConsents[k], ask...)
	return nil
}

// consentedFor is what a user's token for the client may carry: the
// tenant's consent, then what the user consented to for themselves.
func (s *Server) consentedFor(userID, clientID string) []string {
	out := s.consentedScopes()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.userConsents[userID+" "+clientID] {
		if !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, p) }) {
			out = append(out, p)
		}
	}
	return out
}

// userRealm answers MSAL's home realm discovery before a password grant:
// Managed for a name on one of the tenant's domains (the simulated tenant
// federates none), Unknown for any other, as Entra answers a domain no
// tenant has.
func (s *Server) userRealm(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("user")
	_, dom, _ := strings.Cut(name, "@")
	kind := "Unknown"
	if dom != "" && s.knownTenant(dom) {
		kind = "Managed"
	}
	writeAuthorityJSON(w, http.StatusOK, map[string]any{
		"ver": "1.0", "account_type": kind, "domain_name": dom,
		"cloud_instance_name": "microsoftonline.com", "cloud_audience_urn": "urn:federation:MicrosoftOnline",
	})
}

// ApproveDeviceCode completes the browser half of a device code sign-in as
// the tenant's operator, as a person would after entering the code. It
// reports whether the code was pending.
func (s *Server) ApproveDeviceCode(userCode string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	s.deviceCodes.each(func(_ string, dc *deviceCode) bool {
		if strings.EqualFold(dc.userCode, userCode) && !dc.approved && time.Now().Before(dc.expires) {
			dc.approved, found = true, true
		}
		return !found
	})
	return found
}

func (s *Server) deviceLoginPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, `<!doctype html><title>Simulated tenant sign-in</title><form method="post">
<label>Code <input name="user_code" autofocus></label> <button>Approve as the operator</button></form>`)
}

func (s *Server) deviceLoginApprove(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	code := r.PostForm.Get("user_code")
	if !s.ApproveDeviceCode(code) {
		http.Error(w, "unknown or expired code", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "Approved %s. You can close this page.", html.EscapeString(code))
}

func (s *Server) tokenEndpoint(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	if !s.knownTenant(tenant) {
		oauthError(w, http.StatusBadRequest, "invalid_request", 90002, "Tenant '"+tenant+"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body is not valid form data.")
		return
	}
	f := r.PostForm
	clientID := f.Get("client_id")
	grant := f.Get("grant_type")
	app := grant == "client_credentials"
	scope := f.Get("scope")
	if grant == "device_code" || grant == "urn:ietf:params:oauth:grant-type:device_code" {
		// The scope was named when the code was asked for.
		s.locked(func() {
			if dc, ok := s.deviceCodes.get(f.Get("device_code")); ok {
				scope = dc.scope
			}
		})
	}
	var tr tokenRequest
	if grant != "" {
		var e *oauthErr
		if tr, e = s.parseScope(scope, app); e != nil {
			e.write(w)
			return
		}
	}
	switch grant {
	case "device_code", "urn:ietf:params:oauth:grant-type:device_code":
		s.deviceCodeGrant(w, r, f.Get("device_code"), clientID, tr)
	case "password":
		s.passwordGrant(w, r, f.Get("username"), f.Get("password"), clientID, tr)
	case "refresh_token":
		s.refreshGrant(w, f.Get("refresh_token"), clientID, tr)
	case "client_credentials":
		if clientID != DemoAppClientID {
			oauthError(w, http.StatusBadRequest, "unauthorized_client", 700016, "Application with identifier '"+clientID+"' was not found in the directory.")
			return
		}
		if f.Get("client_assertion_type") == clientAssertionType {
			if e := s.checkClientAssertion(f.Get("client_assertion"), clientID); e != nil {
				e.write(w)
				return
			}
		} else if !hmac.Equal([]byte(f.Get("client_secret")), []byte(s.secret)) {
			oauthError(w, http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided.")
			return
		}
		s.issue(w, tokenClaims{Oid: DemoAppClientID, IdTyp: "app"}, clientID, tr)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '"+f.Get("grant_type")+"'.")
	}
}

// refreshGrant redeems a refresh token: only for the client it was issued
// to, only while the user's sessions have not been revoked since, and for
// any resource the client may call (refresh tokens are not tied to one).
func (s *Server) refreshGrant(w http.ResponseWriter, token, clientID string, tr tokenRequest) {
	var rt refreshToken
	var ok bool
	var u *user
	s.locked(func() {
		if rt, ok = s.refresh.get(token); ok {
			u = s.st.userByIDOrUPN(rt.userID)
		}
	})
	switch {
	case !ok:
		oauthError(w, http.StatusBadRequest, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
		return
	case time.Now().After(rt.expires):
		s.locked(func() { s.refresh.del(token) })
		oauthError(w, http.StatusBadRequest, "invalid_grant", 70043, "The refresh token has expired or is invalid due to sign-in frequency checks by Conditional Access.")
		return
	case rt.clientID != clientID:
		oauthError(w, http.StatusBadRequest, "invalid_grant", 70000, "The provided value for the 'refresh_token' is not valid: it was issued to another client.")
		return
	case u == nil:
		oauthError(w, http.StatusBadRequest, "invalid_grant", 50034, "The user account does not exist in this directory.")
		return
	case !u.AccountEnabled:
		oauthError(w, http.StatusBadRequest, "invalid_grant", 50057, "The user account is disabled.")
		return
	case revokedSince(u, rt.issued):
		s.locked(func() { s.refresh.del(token) })
		oauthError(w, http.StatusBadRequest, "invalid_grant", 50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.")
		return
	}
	s.issue(w, s.userClaims(u), clientID, tr)
}

// revokedSince reports whether the user's sessions were revoked at or after
// t (signInSessionsValidFromDateTime has a resolution of a second).
func revokedSince(u *user, t time.Time) bool {
	if u.SessionsValidFrom == "" {
		return false
	}
	from, err := time.Parse(time.RFC3339, u.SessionsValidFrom)
	return err == nil && !t.Truncate(time.Second).After(from)
}

func (s *Server) deviceCodeGrant(w http.ResponseWriter, r *http.Request, device, clientID string, tr tokenRequest) {
	var dc *deviceCode
	var ok bool
	var operator *user
	s.locked(func() {
		dc, ok = s.deviceCodes.get(device)
		operator = s.st.userByIDOrUPN(s.st.Operator)
	})
	switch {
	case !ok:
		oauthError(w, http.StatusBadRequest, "invalid_grant", 70000, "The provided value for the 'device_code' is not valid.")
		return
	case time.Now().After(dc.expires):
		oauthError(w, http.StatusBadRequest, "expired_token", 70020, "The provided authorization code or refresh token has expired due to inactivity.")
		return
	case !dc.approved:
		oauthError(w, http.StatusBadRequest, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
		return
	case operator == nil:
		oauthError(w, http.StatusBadRequest, "invalid_grant", 50034, "The user account does not exist in this directory.")
		return
	}
	s.locked(func() { s.deviceCodes.del(device) })
	// The person approved interactively, so MFA was done in the browser; a
	// policy that blocks (device code flow, country, ...) still stops it.
	res := s.signInCheck(r, operator, "deviceCodeFlow", "browser")
	ip, _ := s.origin(r)
	attempt := signInAttempt{user: operator, username: operator.UserPrincipalName, clientID: clientID, ip: ip, ca: &res, done: interactiveAll}
	if missing := s.consentInteractively(operator, clientID, tr); len(missing) > 0 {
		// The browser showed "Need admin approval": the person cannot
		// consent to these, so no token.
		desc := fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s'. Send an interactive authorization request for this user and resource (permissions %s).", clientID, strings.Join(missing, ", "))
		attempt.code, attempt.reason = 65001, desc
		s.recordSignIn(attempt)
		oauthError(w, http.StatusBadRequest, "invalid_grant", 65001, desc)
		return
	}
	if res.Verdict == ca.VerdictBlock {
		attempt.code, attempt.reason = 53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."
		s.recordSignIn(attempt)
		oauthError(w, http.StatusBadRequest, "invalid_grant", 53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.")
		return
	}
	s.recordSignIn(attempt)
	s.issue(w, s.userClaims(operator), clientID, tr)
}

// passwordGrant is the resource-owner password grant (ROPC) the live
// sign-in probe uses. It answers as Entra does, in Entra's order: the
// client first (a public client only), then the account (smart lockout,
// the password, disabled, must change its password), then Conditional
// Access, security defaults and per-user MFA, which a password alone never
// satisfies. Every answer about an account goes in the sign-in log.
func (s *Server) passwordGrant(w http.ResponseWriter, r *http.Request, username, password, clientID string, tr tokenRequest) {
	switch clientID {
	case PublicClientID:
	case DemoAppClientID:
		oauthError(w, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	default:
		oauthError(w, http.StatusBadRequest, "unauthorized_client", 700016, "Application with identifier '"+clientID+"' was not found in the directory '"+s.TenantID()+"'.")
		return
	}
	ip, _ := s.origin(r)
	attempt := signInAttempt{username: username, clientID: clientID, ip: ip}
	refuse := func(code int, reason, desc string) {
		attempt.code, attempt.reason = code, reason
		s.recordSignIn(attempt)
		oauthError(w, http.StatusBadRequest, "invalid_grant", code, desc)
	}
	var u *user
	var privileged, secDefaults, lockedOut, goodPassword bool
	now := time.Now()
	s.locked(func() {
		u = s.st.userByIDOrUPN(username)
		secDefaults = s.st.SecurityDefaults
		if u == nil {
			return
		}
		privileged = len(s.st.roleTemplates(u.ID)) > 0
		lockedOut = s.lockedOut(u.ID, now)
		goodPassword = u.Password != "" && hmac.Equal([]byte(u.Password), []byte(password))
		switch {
		case lockedOut:
		case goodPassword:
			s.passwordSucceeded(u.ID)
		default:
			s.passwordFailed(u.ID, now)
		}
	})
	attempt.user = u
	switch {
	case u == nil:
		refuse(50126, "Error validating credentials due to invalid username or password.", "Error validating credentials due to invalid username or password.")
		return
	case lockedOut:
		refuse(50053, "Account is locked because user tried to sign in too many times with an incorrect user ID or password.", "Your account is locked because you've tried to sign in too many times with an incorrect user ID or password.")
		return
	case !goodPassword:
		refuse(50126, "Error validating credentials due to invalid username or password.", "Error validating credentials due to invalid username or password.")
		return
	case !u.AccountEnabled:
		refuse(50057, "User account is disabled. The account has been disabled by an administrator.", "The user account is disabled.")
		return
	case u.MustChangePassword:
		refuse(50055, "The password is expired.", "The password is expired. The user must change it (forceChangePasswordNextSignIn) before signing in with it.")
		return
	}
	res := s.signInCheck(r, u, "", "mobileAppsAndDesktopClients")
	attempt.ca, attempt.done = &res, passwordOnly
	switch {
	case res.Verdict == ca.VerdictBlock:
		refuse(53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.", "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.")
	case res.Verdict == ca.VerdictMFA || u.PerUserMFAState == "enforced" || (secDefaults && privileged):
		refuse(50076, "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access.",
			"Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '"+graphAppID+"'.")
	case res.Verdict == ca.VerdictControls:
		// A compliant or joined device, an approved app: a password
		// sign-in from a tool proves none of them.
		refuse(53000, "Device is not in required device state: compliant. Conditional Access policy requires a compliant device, and the device is not compliant.", "Device is not in required device state: compliant. Conditional Access policy requires a compliant device, and the device is not compliant. The user must enroll their device with an approved MDM provider like Intune.")
	default:
		s.recordSignIn(attempt)
		s.issue(w, s.userClaims(u), clientID, tr)
	}
}

// signInCheck evaluates the tenant's CA policies for a sign-in to Graph
// from where the sign-in comes from (see origin).
func (s *Server) signInCheck(r *http.Request, u *user, flow, clientApp string) ca.Result {
	ip, country := s.origin(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	policies := make([]ca.Policy, len(s.st.Policies))
	for i, p := range s.st.Policies {
		policies[i] = *p
	}
	locations := make([]ca.NamedLocation, len(s.st.NamedLocations))
	for i, l := range s.st.NamedLocations {
		locations[i] = *l
	}
	return ca.Evaluate(policies, locations, ca.SignIn{
		Subject:       s.st.subject(u),
		Application:   graphAppID,
		ClientAppType: clientApp,
		IP:            ip,
		Country:       country,
		AuthFlow:      flow,
	})
}

func (s *Server) userClaims(u *user) tokenClaims {
	return tokenClaims{Oid: u.ID, Upn: u.UserPrincipalName, Name: u.DisplayName, IdTyp: "user"}
}

// issue answers a successful token request: an access token for the
// resource the scope named (a signed JWT whose claims the product may read,
// as with Entra), and for users an id_token, client_info and a refresh
// token bound to the client.
func (s *Server) issue(w http.ResponseWriter, c tokenClaims, clientID string, tr tokenRequest) {
	now := time.Now()
	tid := s.TenantID()
	c.Aud, c.Tid, c.Iss = tr.aud, tid, "https://sts.windows.net/"+tid+"/"
	c.AppID, c.Iat, c.Exp = clientID, now.Unix(), now.Add(time.Hour).Unix()
	if tr.graph {
		consented := s.consentedScopes()
		if c.IdTyp == "user" {
			consented = s.consentedFor(c.Oid, clientID)
		}
		// A scope named in the request must have been consented, and the
		// token carries those named; resource/.default carries every
		// consented one.
		granted := consented
		if !tr.isDefault {
			granted = tr.perms
		}
		for _, p := range tr.perms {
			if !slices.ContainsFunc(consented, func(x string) bool { return strings.EqualFold(x, p) }) {
				oauthError(w, http.StatusBadRequest, "invalid_grant", 65001, fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s'. Send an interactive authorization request for this user and resource (permission '%s').", clientID, p))
				return
			}
		}
		if c.IdTyp == "app" {
			c.Roles = consented
		} else {
			c.Scp = strings.Join(granted, " ")
		}
	} else if c.IdTyp == "user" {
		c.Scp = "user_impersonation"
	}
	resp := map[string]any{
		"token_type":     "Bearer",
		"scope":          strings.Join(tr.scopes, " "),
		"expires_in":     3599,
		"ext_expires_in": 3599,
		"access_token":   s.sign(c),
	}
	if c.IdTyp == "user" {
		rt := base64.RawURLEncoding.EncodeToString(randomBytes(32))
		s.locked(func() {
			s.refresh.put(rt, refreshToken{userID: c.Oid, clientID: clientID, issued: now, expires: now.Add(refreshTokenLifetime)}, limits.refreshTokens)
		})
		resp["refresh_token"] = rt
		resp["id_token"] = s.sign(map[string]any{
			"aud": clientID, "iss": s.BaseURL() + "/" + tid + "/v2.0", "tid": tid, "oid": c.Oid,
			"preferred_username": c.Upn, "name": c.Name, "iat": c.Iat, "exp": c.Exp, "ver": "2.0",
		})
		ci, _ := json.Marshal(map[string]string{"uid": c.Oid, "utid": tid})
		resp["client_info"] = base64.RawURLEncoding.EncodeToString(ci)
	}
	writeAuthorityJSON(w, http.StatusOK, resp)
}

func (s *Server) sign(claims any) string {
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body, _ := json.Marshal(claims)
	payload := header + "." + base64.RawURLEncoding.EncodeToString(body)
	mac := hmac.New(sha256.New, s.signKey)
	mac.Write([]byte(payload))
	return payload + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// authenticate checks the bearer token as Graph does: present, signed by
// this tenant's authority, not expired.
func (s *Server) authenticate(r *http.Request) (*caller, *graphError) {
	unauth := func(msg string) *graphError {
		return &graphError{Status: http.StatusUnauthorized, Code: "InvalidAuthenticationToken", Message: msg}
	}
	scheme, tok, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return nil, unauth("Access token is empty.")
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, unauth("IDX14100: JWT is not well formed.")
	}
	mac := hmac.New(sha256.New, s.signKey)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, unauth("Access token validation failure. Invalid audience.")
	}
	body, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c tokenClaims
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, unauth("Access token validation failure.")
	}
	if time.Now().Unix() > c.Exp {
		return nil, unauth("Lifetime validation failed, the token is expired.")
	}
	// A token for another resource, or an id_token (its audience is the
	// client), is signed by the same authority but does not open Graph.
	if !slices.Contains(s.graphAudiences(), c.Aud) {
		return nil, unauth("Access token validation failure. Invalid audience.")
	}
	tid := s.TenantID()
	if c.Tid != tid || c.Iss != "https://sts.windows.net/"+tid+"/" {
		return nil, unauth("Access token validation failure. Invalid issuer.")
	}
	if c.IdTyp != "user" && c.IdTyp != "app" {
		return nil, unauth("Access token validation failure.")
	}
	if c.IdTyp == "app" {
		return &caller{App: true, AppRoles: c.Roles}, nil
	}
	var u *user
	s.locked(func() { u = s.st.userByIDOrUPN(c.Oid) })
	if u == nil || !u.AccountEnabled {
		return nil, unauth("The user or administrator has not consented or the account is disabled.")
	}
	return &caller{UserID: c.Oid, Scopes: strings.Fields(c.Scp)}, nil
}

const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// appCertificates are the certificates registered on the demo app of each
// server (AddAppCertificate), by SHA-256 thumbprint. They live beside the
// server rather than in its state: a certificate is a test's, not the
// demo tenant's.
var appCertificates sync.Map // *Server -> *sync.Map of thumbprint -> *x509.Certificate

// AddAppCertificate registers a certificate on the demo app, as an
// administrator uploads its public part under Certificates & secrets: the
// client-credentials grant then accepts an assertion signed with its key.
func (s *Server) AddAppCertificate(cert *x509.Certificate) {
	m, _ := appCertificates.LoadOrStore(s, &sync.Map{})
	sum := sha256.Sum256(cert.Raw)
	m.(*sync.Map).Store(base64.StdEncoding.EncodeToString(sum[:]), cert)
}

// checkClientAssertion checks a certificate credential as Entra does: a
// JWT signed (PS256 or RS256) by a certificate registered on the app, for
// this client, not expired.
func (s *Server) checkClientAssertion(assertion, clientID string) *oauthErr {
	invalid := func(desc string) *oauthErr {
		return &oauthErr{http.StatusUnauthorized, "invalid_client", 700027, desc}
	}
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return invalid("Client assertion is not a valid JWT.")
	}
	var header struct {
		Alg     string `json:"alg"`
		X5tS256 string `json:"x5t#S256"`
		X5t     string `json:"x5t"`
	}
	var claims struct {
		Iss, Sub string
		Exp      int64 `json:"exp"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
		return invalid("Client assertion is not a valid JWT.")
	}
	var cert *x509.Certificate
	if m, ok := appCertificates.Load(s); ok && header.X5tS256 != "" {
		if c, ok := m.(*sync.Map).Load(header.X5tS256); ok {
			cert = c.(*x509.Certificate)
		}
	}
	if cert == nil {
		return invalid("The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found.]")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return invalid("Client assertion failed signature validation.")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	var err error
	switch header.Alg {
	case "PS256":
		err = rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	case "RS256":
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
	default:
		err = fmt.Errorf("algorithm %q", header.Alg)
	}
	switch {
	case err != nil:
		return invalid("Client assertion failed signature validation.")
	case claims.Iss != clientID || claims.Sub != clientID:
		return invalid("Client assertion audience or issuer claims are not valid.")
	case time.Now().Unix() > claims.Exp:
		return &oauthErr{http.StatusUnauthorized, "invalid_client", 700024, "Client assertion is not within its valid time range."}
	}
	return nil
}
