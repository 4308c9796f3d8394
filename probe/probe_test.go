package probe_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mgmtsession/change"
	"mgmtsession/connect"
	"mgmtsession/graph"
	"mgmtsession/graph/tenantsim"
	"mgmtsession/probe"
)

// The platform's range the tests allow, an address inside it, and one
// outside every range and named location of the demo tenant.
const (
	platformRange = "20.190.128.0/24"
	allowedIP     = "20.190.128.7"
	outsideIP     = "203.0.113.77"
)

// tenant is the simulated tenant signed in as the demo operator, as --demo
// does it, with the management account set up by the real engine.
type tenant struct {
	env       *connect.Env
	client    *graph.Client
	sess      graph.Session
	accountID string
	upn       string
	password  change.Secret
	policyID  string // the account's policy: MFA outside the allowed IPs
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func open(t testing.TB, o connect.Options) (*connect.Env, *graph.Client, graph.Session) {
	t.Helper()
	o.Demo = true
	env, err := connect.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, sess, err := env.SignIn(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	client.SetReplicationPolicy(10*time.Second, 20*time.Millisecond)
	return env, client, sess
}

// applied is the demo tenant after `apply` with the platform's range: the
// account, its roles, the named location, the policy requiring MFA
// outside it, the exclusions, and the session on.
func applied(t testing.TB, o connect.Options) *tenant {
	t.Helper()
	env, client, sess := open(t, o)
	d, err := change.Resolve(change.Config{}, change.Overrides{AllowedIPs: []string{platformRange}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := change.ReadFacts(t.Context(), client, sess, d)
	if err != nil {
		t.Fatal(err)
	}
	p, err := change.MakePlan(d, f)
	if err != nil {
		t.Fatal(err)
	}
	j, err := change.CreateJournal(t.TempDir(), change.NewRunID(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	res, err := change.Apply(t.Context(), client, p, change.Options{
		VerifyReads: 2, VerifyPause: 10 * time.Millisecond, VerifyTimeout: 20 * time.Second, Operator: "test", Journal: j})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	u, err := client.User(t.Context(), res.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	return &tenant{env: env, client: client, sess: sess, accountID: res.AccountID, upn: u.UserPrincipalName, password: res.Password, policyID: res.Record.PolicyID}
}

func (tn *tenant) from(ip, country string) {
	tn.env.Sim.SetClientIP(netip.MustParseAddr(ip), country)
}

func (tn *tenant) try(t testing.TB, password change.Secret) probe.Result {
	t.Helper()
	res, err := probe.Try(t.Context(), tn.env, probe.Request{UPN: tn.upn, Password: password, Log: tn.client})
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	return res
}

func policyNames(ps []graph.AppliedPolicy) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.DisplayName+"="+p.Result)
	}
	return out
}

func resultOf(ps []graph.AppliedPolicy, id string) string {
	for _, p := range ps {
		if p.ID == id {
			return p.Result
		}
	}
	return "(absent)"
}

// After apply, the probe from an allowed IP gets in with the password
// alone; from outside it is asked for MFA by the account's own policy. The
// sign-in log shows both, with the policies applied and their results.
func TestProbeAfterApply(t *testing.T) {
	tn := applied(t, connect.Options{})

	tn.from(allowedIP, "GB")
	in := tn.try(t, tn.password)
	if in.Outcome != probe.Succeeded || in.Code != 0 {
		t.Fatalf("from the allowed IP: %+v", in)
	}
	if !strings.EqualFold(in.Session.UPN, tn.upn) {
		t.Errorf("signed in as %q, want %q", in.Session.UPN, tn.upn)
	}
	if in.Entry == nil || in.Entry.IPAddress != allowedIP {
		t.Errorf("the allowed sign-in's log entry: %+v (%s)", in.Entry, in.LogNote)
	}

	tn.from(outsideIP, "GB")
	out := tn.try(t, tn.password)
	if out.Outcome != probe.MFARequired || out.Code != 50076 {
		t.Fatalf("from outside: %+v", out)
	}
	if resultOf(out.Policies, tn.policyID) != "failure" {
		t.Errorf("from outside, the policies that applied are %v; want the account's own failed", policyNames(out.Policies))
	}

	log, err := tn.client.SignInLog(t.Context(), graph.SignInQuery{UserID: tn.accountID})
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 {
		t.Fatalf("%d sign-in log entries for the account, want 2: %+v", len(log), log)
	}
	newest, oldest := log[0], log[1]
	if newest.Status.ErrorCode != 50076 || newest.IPAddress != outsideIP || newest.ConditionalAccessStatus != "failure" {
		t.Errorf("newest entry %+v", newest)
	}
	if oldest.Status.ErrorCode != 0 || oldest.IPAddress != allowedIP || oldest.ConditionalAccessStatus == "failure" {
		t.Errorf("oldest entry %+v", oldest)
	}
	for _, e := range log {
		if e.AppID != graph.DefaultClientID || e.AppDisplayName != "Microsoft Graph Command Line Tools" || e.CreatedDateTime.IsZero() {
			t.Errorf("entry without application or time: %+v", e)
		}
	}
	// From the allowed range the account's policy does not apply and the
	// tenant policies that would demand MFA exclude the account.
	for _, p := range oldest.AppliedPolicies {
		if p.Result == "failure" {
			t.Errorf("from the allowed IP %q failed", p.DisplayName)
		}
	}
	if got := resultOf(oldest.AppliedPolicies, tn.policyID); got != "notApplied" {
		t.Errorf("from the allowed IP the account's policy is %q, want notApplied", got)
	}
	if got := resultOf(newest.AppliedPolicies, tn.policyID); got != "failure" {
		t.Errorf("from outside the account's policy is %q in the log, want failure", got)
	}
	// Report-only results come through (the client asks for them).
	var reportOnly bool
	for _, p := range newest.AppliedPolicies {
		reportOnly = reportOnly || strings.HasPrefix(p.Result, "reportOnly")
	}
	if !reportOnly {
		t.Errorf("no report-only result in %v", policyNames(newest.AppliedPolicies))
	}
}

// Each refusal the probe meets is classified with its code, against the
// simulated authority.
func TestProbeRefusals(t *testing.T) {
	tn := applied(t, connect.Options{})
	tn.from(allowedIP, "GB")

	t.Run("blocked by CA names the policy", func(t *testing.T) {
		// A user of the tenant that the setup did not exclude from the
		// country policy, signing in from a country it blocks.
		const pw = "Probe-Blocked-2026!"
		u, err := tn.client.CreateUser(t.Context(), graph.NewUser{UserPrincipalName: "probe.blocked@contosodemo.onmicrosoft.com",
			DisplayName: "Probe blocked", MailNickname: "probe.blocked", Password: pw, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		tn.from(allowedIP, "KP")
		defer tn.from(allowedIP, "GB")
		res, err := probe.Try(t.Context(), tn.env, probe.Request{UPN: u.UserPrincipalName, Password: change.NewSecret(pw), Log: tn.client})
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != probe.BlockedByCA || res.Code != 53003 {
			t.Fatalf("%+v", res)
		}
		if !slices.Contains(policyNames(res.Policies), "CA004: Block sign-ins outside allowed countries=failure") {
			t.Errorf("policies %v", policyNames(res.Policies))
		}
	})
	t.Run("bad credentials", func(t *testing.T) {
		res := tn.try(t, change.NewSecret("not-"+tn.password.Reveal()))
		if res.Outcome != probe.BadCredentials || res.Code != 50126 {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		off, on := false, true
		if err := tn.client.UpdateUser(t.Context(), tn.accountID, graph.UserPatch{AccountEnabled: &off}); err != nil {
			t.Fatal(err)
		}
		defer tn.client.UpdateUser(context.Background(), tn.accountID, graph.UserPatch{AccountEnabled: &on})
		res := tn.try(t, tn.password)
		if res.Outcome != probe.Disabled || res.Code != 50057 {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("locked after ten wrong passwords", func(t *testing.T) {
		for range 10 {
			tn.try(t, change.NewSecret("Wrong-1234"))
		}
		res := tn.try(t, tn.password)
		if res.Outcome != probe.Locked || res.Code != 50053 {
			t.Fatalf("%+v", res)
		}
	})
}

// An app registration that does not allow public client flows refuses the
// password flow; the probe says Microsoft is retiring it and falls back on
// the account's recent sign-ins in the log.
func TestProbeFlowRefusedFallsBackOnTheLog(t *testing.T) {
	tn := applied(t, connect.Options{})
	tn.from(outsideIP, "GB")
	tn.try(t, tn.password) // one sign-in for the log to show

	// The same simulated tenant, through an app that is not a public
	// client.
	res, err := probe.Try(t.Context(), probeEnv(t, tn, tenantsim.DemoAppClientID), probe.Request{UPN: tn.upn, Password: tn.password, Log: tn.client})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != probe.FlowRefused || res.Code != 7000218 {
		t.Fatalf("%+v", res)
	}
	if !strings.Contains(res.Cause, "retiring") {
		t.Errorf("the cause does not say the flow is being retired: %q", res.Cause)
	}
	if len(res.Recent) != 1 || res.Recent[0].Status.ErrorCode != 50076 {
		t.Errorf("recent sign-ins %+v (%s)", res.Recent, res.LogNote)
	}
}

// probeEnv is an Env on tn's simulated tenant with another client id.
func probeEnv(t testing.TB, tn *tenant, clientID string) *connect.Env {
	t.Helper()
	env, err := connect.OpenSimulated(tn.env.Sim, connect.Options{ClientID: clientID})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// The password never reaches the debug log, the result or its printing.
func TestProbeNeverShowsThePassword(t *testing.T) {
	var buf syncBuffer
	tn := applied(t, connect.Options{Log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	tn.from(outsideIP, "GB")
	before := len(buf.String())
	res := tn.try(t, tn.password)
	if res.Outcome != probe.MFARequired {
		t.Fatalf("%+v", res)
	}
	logged := buf.String()
	if len(logged) == before {
		t.Fatal("the probe's exchange is not in the debug log")
	}
	pw := tn.password.Reveal()
	for name, text := range map[string]string{
		"debug log": logged, "%+v": fmt.Sprintf("%+v", res), "%#v": fmt.Sprintf("%#v", res),
		"request": fmt.Sprintf("%+v", probe.Request{UPN: tn.upn, Password: tn.password}),
	} {
		if strings.Contains(text, pw) {
			t.Errorf("the password is in the %s", name)
		}
	}
}

// Without Entra ID P1 the probe still answers, and says the log cannot
// name the policies.
func TestProbeWithoutP1(t *testing.T) {
	env, client, _ := open(t, connect.Options{DemoScenario: "no-p1"})
	env.Sim.SetClientIP(netip.MustParseAddr(outsideIP), "GB")
	res, err := probe.Try(t.Context(), env, probe.Request{UPN: "megan.bowen@contoso-demo.com", Password: change.NewSecret("Wrong-1234"), Log: client})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != probe.BadCredentials || !strings.Contains(res.LogNote, "P1") {
		t.Errorf("%+v", res)
	}
}

func TestProbeNeedsAccountAndPassword(t *testing.T) {
	env, _, _ := open(t, connect.Options{})
	if _, err := probe.Try(t.Context(), env, probe.Request{Password: change.NewSecret("x")}); err == nil {
		t.Error("no UPN: no error")
	}
	if _, err := probe.Try(t.Context(), env, probe.Request{UPN: "a@b.c"}); err == nil {
		t.Error("no password: no error")
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		code  int
		oauth string
		want  probe.Outcome
	}{
		{50076, "invalid_grant", probe.MFARequired},
		{50079, "invalid_grant", probe.MFARequired},
		{53003, "invalid_grant", probe.BlockedByCA},
		{53000, "invalid_grant", probe.BlockedByCA},
		{530035, "invalid_grant", probe.BlockedBySecurityDefaults},
		{50126, "invalid_grant", probe.BadCredentials},
		{50055, "invalid_grant", probe.PasswordExpired},
		{50057, "invalid_grant", probe.Disabled},
		{50053, "invalid_grant", probe.Locked},
		{7000218, "invalid_client", probe.FlowRefused},
		{65001, "invalid_grant", probe.FlowRefused},
		{0, "unsupported_grant_type", probe.FlowRefused},
		{90002, "invalid_request", probe.Refused},
	} {
		if got := probe.Classify(c.code, c.oauth); got != c.want {
			t.Errorf("Classify(%d, %s) = %s, want %s", c.code, c.oauth, got, c.want)
		}
	}
}

// Follow hands over each new sign-in once, oldest first, as it appears.
func TestFollowTheLog(t *testing.T) {
	tn := applied(t, connect.Options{})
	tn.from(outsideIP, "GB")
	tn.try(t, tn.password) // already there when following starts

	ctx, cancel := context.WithCancel(t.Context())
	got := make(chan []probe.Entry, 10)
	done := make(chan error, 1)
	go func() {
		done <- probe.Follow(ctx, tn.client, graph.SignInQuery{UPN: tn.upn}, 0, func(es []probe.Entry) error {
			got <- es
			return nil
		})
	}()
	next := func() []probe.Entry {
		t.Helper()
		select {
		case es := <-got:
			return es
		case <-time.After(20 * time.Second):
			t.Fatal("Follow handed nothing over")
			return nil
		}
	}
	if first := next(); len(first) != 1 || first[0].Outcome != probe.MFARequired || first[0].Cause == "" {
		t.Fatalf("first read: %+v", first)
	}
	tn.from(allowedIP, "GB")
	tn.try(t, tn.password)
	tn.try(t, change.NewSecret("Wrong-1234"))
	var fresh []probe.Entry
	for len(fresh) < 2 {
		fresh = append(fresh, next()...)
	}
	if len(fresh) != 2 || fresh[0].Outcome != probe.Succeeded || fresh[1].Outcome != probe.BadCredentials {
		t.Errorf("new sign-ins, oldest first: %+v", fresh)
	}
	// Nothing is handed over twice.
	if again := next(); len(again) != 0 {
		t.Errorf("handed over again: %+v", again)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Follow ended with %v", err)
	}
}

// A log entry's failure is explained for the account, by outcome; a code
// the product does not know still gets its reason and where to look.
func TestExplainLogEntry(t *testing.T) {
	entry := func(code int, reason string) graph.SignInEntry {
		var e graph.SignInEntry
		e.UserPrincipalName, e.Status.ErrorCode, e.Status.FailureReason = "svc@contoso.example", code, reason
		return e
	}
	if x := probe.Explain(entry(0, "")); x.Outcome != probe.Succeeded || x.Cause != "" {
		t.Errorf("success: %+v", x)
	}
	if x := probe.Explain(entry(53003, "blocked")); x.Outcome != probe.BlockedByCA || !strings.Contains(x.Cause, "svc@contoso.example") || x.Fix == "" {
		t.Errorf("53003: %+v", x)
	}
	if x := probe.Explain(entry(90002, "")); x.Outcome != probe.Refused || !strings.Contains(x.Cause, "AADSTS90002") {
		t.Errorf("90002: %+v", x)
	}
	if x := probe.Explain(entry(123456, "Something new.")); x.Outcome != probe.Refused || !strings.Contains(x.Cause, "Something new.") || !strings.Contains(x.Fix, "code=123456") {
		t.Errorf("unknown code: %+v", x)
	}
}

// An account on a domain Entra does not know ends before any token request
// (MSAL's user realm discovery): an error naming the account, not an
// outcome.
func TestProbeUnknownDomain(t *testing.T) {
	env, _, _ := open(t, connect.Options{})
	_, err := probe.Try(t.Context(), env, probe.Request{UPN: "someone@fabrikam.example", Password: change.NewSecret("Pass-1234")})
	if err == nil || !strings.Contains(err.Error(), "someone@fabrikam.example") || strings.Contains(err.Error(), "Pass-1234") {
		t.Errorf("unknown domain: %v", err)
	}
}
