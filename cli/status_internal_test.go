package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"mgmtsession/connect"
	"mgmtsession/graph/tenantsim"
)

// TestStatusUnknownWhenAReadFails runs status's reads and judgement against
// the simulated tenant with one Graph read failing past every retry: the
// policy read dropped once used to print "Conditional Access policies: 0
// policies" as PASS and exit 0. Each read's failure now makes the checks
// that need it UNKNOWN, with the request id, and the command exit 1 (3
// with --fail-on-problems).
func TestStatusUnknownWhenAReadFails(t *testing.T) {
	for _, c := range []struct {
		path, read, mustNotPass string
		status                  int
	}{
		{"/conditionalAccess/policies", "policies", "[PASS] Conditional Access policies", 500},
		{"/identitySecurityDefaultsEnforcementPolicy", "securityDefaults", "[PASS] Security defaults", 403},
		{"/subscribedSkus", "subscribedSkus", "[FAIL] Entra ID P1 licence", 500},
		{"/organization", "organization", "[INFO] Tenant", 429},
	} {
		t.Run(c.read, func(t *testing.T) {
			env, err := connect.Open(connect.Options{Demo: true})
			if err != nil {
				t.Fatal(err)
			}
			defer env.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			client, sess, err := env.SignIn(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			env.Sim.InjectFault(tenantsim.Fault{Path: c.path, Status: c.status, RetryAfter: "0", Times: 1000})

			var out bytes.Buffer
			err = reportStatus(ctx, nil, &out, false, client, sess, statusOptions{})
			if code := exitCode(ctx, err); code != ExitFailure {
				t.Errorf("exit %d (%v), want %d", code, err, ExitFailure)
			}
			text := out.String()
			if strings.Contains(text, c.mustNotPass) || !strings.Contains(text, "[UNKNOWN] ") || !strings.Contains(text, "request-id ") {
				t.Errorf("want an UNKNOWN check with the request id and no %q:\n%s", c.mustNotPass, text)
			}

			err = reportStatus(ctx, nil, &out, false, client, sess, statusOptions{failOnProblems: true})
			if code := exitCode(ctx, err); code != ExitProblems {
				t.Errorf("--fail-on-problems: exit %d (%v), want %d", code, err, ExitProblems)
			}

			out.Reset()
			err = reportStatus(ctx, nil, &out, true, client, sess, statusOptions{})
			if code := exitCode(ctx, err); code != ExitFailure {
				t.Errorf("--json: exit %d, want %d", code, ExitFailure)
			}
			var got struct {
				Checks []struct{ ID, Result, Read, RequestID string } `json:"checks"`
			}
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out.String())
			}
			found := false
			for _, ch := range got.Checks {
				found = found || ch.Result == "unknown" && ch.Read == c.read && ch.RequestID != ""
			}
			if !found {
				t.Errorf("--json has no unknown check naming %s with a request id: %+v", c.read, got.Checks)
			}
		})
	}
}

// TestStatusPrintsUnreadFactsAsUnknown: with every read throttled, status
// printed "Tenant ()" and "Security defaults off".
func TestStatusPrintsUnreadFactsAsUnknown(t *testing.T) {
	env, err := connect.Open(connect.Options{Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, sess, err := env.SignIn(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	env.Sim.InjectFault(tenantsim.Fault{Path: "/v1.0/", Status: 429, RetryAfter: "0", Times: 100000})
	var out bytes.Buffer
	err = reportStatus(ctx, nil, &out, false, client, sess, statusOptions{})
	if code := exitCode(ctx, err); code != ExitFailure {
		t.Errorf("exit %d, want %d", code, ExitFailure)
	}
	text := out.String()
	for _, bad := range []string{"Tenant ()", "Security defaults off", "[PASS] Security defaults", "Entra ID P1 / P2  no", "Policies          0"} {
		if strings.Contains(text, bad) {
			t.Errorf("status prints %q from reads that failed:\n%s", bad, text)
		}
	}
	for _, want := range []string{"Tenant            unknown (could not be read)", "Security defaults unknown (could not be read)", "Management        unknown"} {
		if !strings.Contains(text, want) {
			t.Errorf("status lacks %q:\n%s", want, text)
		}
	}
}
