package tenantsim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Ids Graph fixes for a kind of method rather than giving each its own:
// a user has at most one password, one mobile phone and one email method.
const (
	passwordMethodID    = "28c10230-6103-485e-b985-444c60001490"
	mobilePhoneMethodID = "3179e48a-750b-4051-897c-87b9720928f7"
	emailMethodID       = "3ddfcfc8-9383-446f-83cc-3ab9be4be18f"
)

// methodJSON is one registered method as Graph lists it: its derived type,
// id and the properties of that type. The tenant stores only the method's
// kind, so the rest is derived from the user, the same on every read.
func methodJSON(u *user, kind string, i int) map[string]any {
	created := u.CreatedDateTime
	if created == "" {
		created = "2024-01-15T09:30:00Z"
	}
	m := map[string]any{"@odata.type": methodTypes[kind], "id": stableGUID(u.ID, kind, fmt.Sprint(i))}
	switch kind {
	case "password":
		m["id"], m["password"], m["createdDateTime"] = passwordMethodID, nil, created
	case "microsoftAuthenticator":
		m["displayName"], m["deviceTag"], m["phoneAppVersion"], m["createdDateTime"] = "iPhone 15", "SoftwareTokenActivated", "6.8.7", created
	case "phone":
		m["id"], m["phoneNumber"], m["phoneType"], m["smsSignInState"] = mobilePhoneMethodID, "+44 7700 900"+digits(u.ID, 3), "mobile", "notSupported"
	case "email":
		local, _, _ := strings.Cut(u.UserPrincipalName, "@")
		m["id"], m["emailAddress"] = emailMethodID, local+".recovery@example.com"
	case "fido2":
		m["displayName"], m["createdDateTime"], m["aaGuid"], m["model"], m["attestationCertificates"], m["attestationLevel"] =
			"Security key", created, "cb69481e-8ff7-4039-93ec-0a2729a154a8", "YubiKey 5 Series", []string{}, "attested"
	case "softwareOath":
		m["secretKey"] = nil
	case "windowsHelloForBusiness":
		m["displayName"], m["createdDateTime"], m["keyStrength"] = "DESKTOP-"+digits(u.ID, 4), created, "normal"
	case "temporaryAccessPass":
		m["temporaryAccessPass"], m["createdDateTime"], m["startDateTime"], m["lifetimeInMinutes"], m["isUsableOnce"], m["isUsable"], m["methodUsabilityReason"] =
			nil, created, created, 60, true, false, "Expired"
	}
	return m
}

// stableGUID is a version-5-shaped GUID derived from parts, so that an
// object the tenant does not store (a method, a directory role) keeps its
// id from one read to the next.
func stableGUID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b)
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// digits derives n decimal digits from s.
func digits(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	out := make([]byte, n)
	for i := range out {
		out[i] = '0' + sum[i]%10
	}
	return string(out)
}

// directoryRoleID is the id of the tenant's activated directory role for a
// role template: a GUID of its own, as in Graph, where it differs from the
// template id.
func (s *Server) directoryRoleID(templateID string) string {
	return stableGUID(s.st.TenantID, "directoryRole", templateID)
}
