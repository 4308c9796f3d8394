package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mgmtsession/cli"
	"mgmtsession/graph/tenantsim"
)

// signedInTwice sets up the management account on a persisted simulated
// tenant with apply, then signs it in with its password once from the
// allowed range and once from outside, as the platform and a stranger
// would; it returns the demo options for that tenant.
func signedInTwice(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	state := filepath.Join(dir, "tenant.json")
	demo := []string{"--demo", "--demo-state", state}
	r := run(t, append([]string{"apply", "--allowed-ip", "20.190.128.0/24", "--yes", "--json"}, demo...)...)
	if r.code != 0 {
		t.Fatalf("apply: exit %d\n%s", r.code, r.err)
	}
	var applied struct {
		Password string `json:"password"`
	}
	if err := json.Unmarshal([]byte(r.out), &applied); err != nil || applied.Password == "" {
		t.Fatalf("apply --json: %v\n%s", err, r.out)
	}
	srv, err := tenantsim.New(tenantsim.Options{StatePath: state})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: srv.Transport()}
	for _, ip := range []string{"20.190.128.7", "203.0.113.77"} {
		srv.SetClientIP(netip.MustParseAddr(ip), "GB")
		resp, err := hc.PostForm(srv.BaseURL()+"/"+srv.TenantID()+"/oauth2/v2.0/token", url.Values{
			"grant_type": {"password"}, "client_id": {tenantsim.PublicClientID}, "scope": {srv.BaseURL() + "/.default"},
			"username": {"coreview.admin@contosodemo.onmicrosoft.com"}, "password": {applied.Password},
		})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	return demo
}

// signins lists the account's sign-ins with their policies, the failure
// explained by its code; --json carries the same.
func TestSignins(t *testing.T) {
	demo := signedInTwice(t)
	r := run(t, append([]string{"signins"}, demo...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	for _, want := range []string{
		"Sign-ins of coreview.admin@contosodemo.onmicrosoft.com, newest first (2):",
		"203.0.113.77  Microsoft Graph Command Line Tools",
		"Result    MFA required (AADSTS50076)",
		"20.190.128.7  Microsoft Graph Command Line Tools",
		"Result    success",
		"applied, not satisfied",
		"Cause     Entra asked coreview.admin@contosodemo.onmicrosoft.com for MFA (AADSTS50076)",
		"Fix       none from outside the allowed IPs: that is the protection working.",
		"Fix       ",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("signins lacks %q:\n%s", want, r.out)
		}
	}
	if strings.Index(r.out, "203.0.113.77") > strings.Index(r.out, "20.190.128.7") {
		t.Errorf("not newest first:\n%s", r.out)
	}

	r = run(t, append([]string{"signins", "--json"}, demo...)...)
	var doc struct {
		Account string `json:"account"`
		SignIns []struct {
			IPAddress string `json:"ipAddress"`
			Outcome   string `json:"outcome"`
			Status    struct {
				ErrorCode int `json:"errorCode"`
			} `json:"status"`
			Applied []struct {
				DisplayName, Result string
			} `json:"appliedConditionalAccessPolicies"`
			Cause string `json:"cause"`
		} `json:"signIns"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("signins --json: %v\n%s", err, r.out)
	}
	if len(doc.SignIns) != 2 || doc.SignIns[0].Status.ErrorCode != 50076 || doc.SignIns[0].Outcome != "mfaRequired" ||
		doc.SignIns[0].Cause == "" || len(doc.SignIns[0].Applied) == 0 || doc.SignIns[1].Outcome != "succeeded" {
		t.Errorf("signins --json: %s", r.out)
	}

	// Another account has none.
	r = run(t, append([]string{"signins", "--upn", "megan.bowen@contoso-demo.com"}, demo...)...)
	if r.code != 0 || !strings.Contains(r.out, "No sign-in of megan.bowen@contoso-demo.com") {
		t.Errorf("another account: exit %d\n%s%s", r.code, r.out, r.err)
	}
}

// Without Entra ID P1 there is no log to read: say so, exit 1.
func TestSigninsWithoutP1(t *testing.T) {
	r := run(t, "signins", "--demo", "--demo-scenario", "no-p1")
	if r.code != 1 || !strings.Contains(r.err, "Entra ID P1") {
		t.Errorf("exit %d: %s", r.code, r.err)
	}
}

func TestSigninsBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"signins", "--demo", "--top", "0"},
		{"signins", "--demo", "--since", "800h"},
		{"signins", "--demo", "--watch", "--json"},
	} {
		if r := run(t, args...); r.code != 2 || strings.Count(strings.TrimSpace(r.err), "\n") > 2 {
			t.Errorf("%v: exit %d: %s", args, r.code, r.err)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// --watch prints what is there, keeps following, and ends cleanly (exit
// 0) when interrupted.
func TestSigninsWatch(t *testing.T) {
	demo := signedInTwice(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, append([]string{"signins", "--watch"}, demo...), cli.Streams{In: strings.NewReader(""), Out: &out, Err: &out})
	}()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(out.String(), "20.190.128.7") || !strings.Contains(out.String(), "203.0.113.77") {
		select {
		case code := <-done:
			t.Fatalf("--watch ended by itself (exit %d):\n%s", code, out.String())
		case <-deadline:
			t.Fatalf("--watch printed nothing:\n%s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	// Oldest first as they come.
	if s := out.String(); strings.Index(s, "20.190.128.7") > strings.Index(s, "203.0.113.77") {
		t.Errorf("--watch is not oldest first:\n%s", s)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 && code != 130 {
			t.Errorf("exit %d after interrupt", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("--watch did not stop")
	}
}

// emulator --client-ip sets where sign-ins come from; a bad one is a usage
// error.
func TestEmulatorClientIP(t *testing.T) {
	if r := run(t, "emulator", "--client-ip", "not-an-ip"); r.code != 2 || !strings.Contains(r.err, "--client-ip") {
		t.Errorf("bad --client-ip: exit %d %s", r.code, r.err)
	}
	if r := run(t, "emulator", "--client-country", "GBR"); r.code != 2 || !strings.Contains(r.err, "--client-country") {
		t.Errorf("bad --client-country: exit %d %s", r.code, r.err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"emulator", "--client-ip", "20.190.128.7"}, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	}()
	deadline := time.After(20 * time.Second)
	for !strings.Contains(errb.String(), "sign-ins come from 20.190.128.7 (GB)") {
		select {
		case <-deadline:
			t.Fatalf("the emulator does not say where sign-ins come from: %s", errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	<-done
}
