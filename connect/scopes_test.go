package connect_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"mgmtsession/connect"
	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
	"mgmtsession/preflight"
)

// demoSignIn signs in to a fresh simulated tenant as --demo does, after
// setting the tenant-wide consent, and counts the device codes shown.
func demoSignIn(t *testing.T, scenario string, consented ...string) (graph.Session, int, *tenantsim.Server) {
	t.Helper()
	sim, err := tenantsim.New(tenantsim.Options{Scenario: scenario})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	sim.SetConsentedScopes(consented...)
	env, err := connect.OpenSimulated(sim, connect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	codes := 0
	_, sess, err := env.SignIn(ctx, func(graph.DeviceCode) { codes++ })
	if err != nil {
		t.Fatal(err)
	}
	return sess, codes, sim
}

// The scopes are asked for by name: an administrator signing in consents
// to those the tenant had not, so every later step has what it needs.
func TestNamedScopesConsentedByAnAdministrator(t *testing.T) {
	partial := []string{"User.Read", "Organization.Read.All", "User.ReadWrite.All", "Policy.Read.All"}
	sess, codes, _ := demoSignIn(t, "", partial...)
	if codes != 1 {
		t.Errorf("%d device codes, want 1", codes)
	}
	for _, s := range preflight.Requested() {
		if !slices.Contains(sess.Scopes, s) {
			t.Errorf("named scope %s not granted: %v", s, sess.Scopes)
		}
	}
	if m := preflight.Missing(sess.Scopes); len(m) != 0 {
		t.Errorf("missing after consenting: %+v", m)
	}
}

// An operator who may not consent (a Global Reader) is refused the named
// scopes the tenant never consented (AADSTS65001, in the sign-in log);
// the sign-in then falls back on .default and gets in with what was
// granted, and the preflight names what is missing for which step.
// (Entra's "Need admin approval" page ends the first sign-in.)
func TestNamedScopesRefusedFallBackOnDefault(t *testing.T) {
	partial := []string{"User.Read", "Organization.Read.All", "Directory.Read.All", "User.ReadWrite.All", "Policy.Read.All", "UserAuthenticationMethod.Read.All"}
	sess, codes, _ := demoSignIn(t, "operator-lacks-role", partial...)
	if codes != 2 {
		t.Errorf("%d device codes, want 2 (named scopes refused, then .default)", codes)
	}
	if !slices.Equal(sess.Scopes, partial) {
		t.Errorf("granted %v, want the tenant's consent %v", sess.Scopes, partial)
	}
	var steps []string
	for _, st := range preflight.ByStep(sess.Scopes) {
		if len(st.Missing) > 0 {
			steps = append(steps, st.Step)
		}
	}
	if !slices.Equal(steps, []string{preflight.StepCreate, preflight.StepTurnOn}) {
		t.Errorf("steps missing scopes: %v", steps)
	}
}

// With the tenant's consent complete, the named scopes are granted at once.
func TestNamedScopesAlreadyConsented(t *testing.T) {
	all := append([]string{"User.Read"}, preflight.Requested()...)
	sess, codes, _ := demoSignIn(t, "operator-lacks-role", all...)
	if codes != 1 || !slices.Equal(sess.Scopes, all) {
		t.Errorf("%d codes, scopes %v", codes, sess.Scopes)
	}
}
