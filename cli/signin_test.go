package cli_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mgmtsession/cli"
	"mgmtsession/connect/connecttest"
	"mgmtsession/graph/tenantsim"
)

// Bad sign-in input is one line naming the option, and exit 2, before any
// connection is made.
func TestSignInBadInput(t *testing.T) {
	t.Setenv("SSL_CERT_FILE", "")
	t.Setenv("SSL_CERT_DIR", "")
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown cloud", nil, []string{"status", "--cloud", "mars"}, `unknown --cloud "mars" (use global, usgov, usgovdod or china)`},
		{"unknown method", nil, []string{"status", "--auth", "telepathy"}, `unknown --auth "telepathy"`},
		{"malformed tenant", nil, []string{"status", "--tenant", "not a tenant"}, `unknown --tenant "not a tenant"`},
		{"certificate without --cert", nil, []string{"status", "--auth", "certificate"}, "--auth certificate needs --cert FILE"},
		{"missing certificate", nil, []string{"status", "--auth", "certificate", "--cert", missing}, "--cert " + missing + ": no such file"},
		{"PFX without its password", nil, []string{"status", "--auth", "certificate", "--cert", "../graph/testdata/app-cert.pfx"},
			"--cert ../graph/testdata/app-cert.pfx: a PFX that needs its password in MGMTSESSION_CERT_PASSWORD"},
		{"PFX with a wrong password", map[string]string{"MGMTSESSION_CERT_PASSWORD": "wrong-horse"},
			[]string{"status", "--auth", "certificate", "--cert", "../graph/testdata/app-cert.pfx"}, "the password in MGMTSESSION_CERT_PASSWORD does not open"},
		{"certificate from the environment", map[string]string{"MGMTSESSION_CERT": missing},
			[]string{"status", "--auth", "certificate"}, "MGMTSESSION_CERT " + missing + ": no such file"},
		{"CA file missing", map[string]string{"SSL_CERT_FILE": missing}, []string{"status", "--tenant", "contoso.onmicrosoft.com"}, "SSL_CERT_FILE=" + missing + ": no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			r := run(t, c.args...)
			first, _, _ := strings.Cut(r.err, "\n")
			if r.code != 2 || !strings.Contains(first, c.want) {
				t.Errorf("exit %d, %q; want exit 2 and %q", r.code, r.err, c.want)
			}
			if strings.Contains(r.err, "wrong-horse") || r.out != "" {
				t.Errorf("stdout %q, stderr %q: a password or output leaked", r.out, r.err)
			}
		})
	}
}

// A method that cannot run here says what to use or install, never "try
// again".
func TestSignInMethodsThatCannotRunHere(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("PATH", t.TempDir())
	for method, want := range map[string]string{
		"browser": "Fix (--auth): use --auth devicecode",
		"azcli":   "install it (https://aka.ms/installazurecli) and run 'az login', or use --auth devicecode",
	} {
		r := run(t, "status", "--auth", method, "--tenant", "contoso.onmicrosoft.com")
		if r.code != 1 || !strings.Contains(r.err, want) || strings.Contains(r.err, "try again") {
			t.Errorf("--auth %s: exit %d, %q; want %q", method, r.code, r.err, want)
		}
	}
}

// codeApprover is stderr for a headless command: it approves each device
// code the command prints there, as the operator would in a browser.
type codeApprover struct {
	mu  sync.Mutex
	buf bytes.Buffer
	sim *tenantsim.Server
}

var userCode = regexp.MustCompile(`enter the code ([A-Z0-9]+)`)

func (a *codeApprover) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.buf.Write(p)
	for _, m := range userCode.FindAllStringSubmatch(a.buf.String(), -1) {
		a.sim.ApproveDeviceCode(m[1])
	}
	return len(p), nil
}

func (a *codeApprover) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.buf.String()
}

// The jump-host recipe: `status --cloud usgov` with a device code,
// through an HTTP CONNECT proxy (HTTPS_PROXY) and the organisation's CA
// (SSL_CERT_FILE). The code is on stderr, the report on stdout, and every
// connection went through the proxy to the US Government cloud's hosts.
func TestStatusThroughProxyInUSGov(t *testing.T) {
	sim, err := tenantsim.New(tenantsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	caFile, leaf := connecttest.NewCA(t)
	front := connecttest.NewCloudStandIn(t, sim, leaf)
	proxy := connecttest.NewConnectProxy(t, front.Addr(), 0)
	connecttest.ProxyEnv(t, proxy.Srv.URL, caFile)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	errw := &codeApprover{sim: sim}
	code := cli.Run(ctx, []string{"status", "--cloud", "usgov", "--auth", "devicecode", "--tenant", sim.TenantID()},
		cli.Streams{In: strings.NewReader(""), Out: &out, Err: errw})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errw)
	}
	if !strings.Contains(out.String(), "Contoso Demo Ltd") || strings.Contains(out.String(), "enter the code") {
		t.Errorf("stdout:\n%s", out.String())
	}
	if !userCode.MatchString(errw.String()) || !strings.Contains(errw.String(), "https://login.microsoftonline.us/") {
		t.Errorf("the device code and the cloud's address are not on stderr: %q", errw)
	}
	// The What If follows the cloud too: Graph's evaluate is asked on the
	// US Government cloud's Graph root.
	out.Reset()
	code = cli.Run(ctx, []string{"whatif", "--cloud", "usgov", "--auth", "devicecode", "--tenant", sim.TenantID(),
		"--user", adeleUPN, "--ip", outsideIP, "--country", "US"},
		cli.Streams{In: strings.NewReader(""), Out: &out, Err: errw})
	if code != 0 {
		t.Fatalf("whatif: exit %d: %s", code, errw)
	}
	evaluated := false
	for _, req := range front.Seen() {
		if strings.HasSuffix(req, "/identity/conditionalAccess/evaluate") {
			evaluated = strings.HasPrefix(req, "graph.microsoft.us ")
		}
	}
	if !evaluated {
		t.Errorf("Graph's What If was not asked on graph.microsoft.us: %v", front.Seen())
	}
	for _, target := range proxy.Seen() {
		if target != "login.microsoftonline.us:443" && target != "graph.microsoft.us:443" {
			t.Errorf("a tunnel to %s", target)
		}
	}
	graphSeen := false
	for _, req := range front.Seen() {
		host, path, _ := strings.Cut(req, " ")
		if strings.HasPrefix(path, "/v1.0/") {
			graphSeen = true
			if host != "graph.microsoft.us" {
				t.Errorf("Graph request %s went to %s", path, host)
			}
		}
	}
	if !graphSeen || len(proxy.Seen()) == 0 {
		t.Errorf("no Graph request went through the proxy: %v", proxy.Seen())
	}
}

// A --demo-state file held by another process is no usage error: exit 1,
// naming the file and the other process, without a pointer to --help.
func TestDemoStateInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	holder, err := tenantsim.New(tenantsim.Options{StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	r := run(t, "status", "--demo", "--demo-state", path)
	if r.code != 1 || !strings.Contains(r.err, path) || !strings.Contains(r.err, "in use by another mgmtsession process") || strings.Contains(r.err, "--help") {
		t.Errorf("exit %d, %q", r.code, r.err)
	}
	// A state file that is not JSON is bad input: still exit 2.
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("not json"), 0o600)
	if r := run(t, "status", "--demo", "--demo-state", bad); r.code != 2 {
		t.Errorf("a state that is not JSON: exit %d, %q", r.code, r.err)
	}
	if os.Geteuid() == 0 {
		t.Log("running as root: a read-only file is writable, not checked")
		return
	}
	ro := filepath.Join(t.TempDir(), "ro.json")
	first, err := tenantsim.New(tenantsim.Options{StatePath: ro})
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	os.Chmod(ro, 0o444)
	if r := run(t, "status", "--demo", "--demo-state", ro); r.code != 1 || !strings.Contains(r.err, ro) || strings.Contains(r.err, "--help") {
		t.Errorf("read-only state: exit %d, %q", r.code, r.err)
	}
}

// emulator --cert-out replaces only a regular file: a symbolic link is not
// followed (the file it points to is untouched) and a FIFO does not block.
func TestEmulatorCertOutIsCareful(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim.txt")
	os.WriteFile(victim, []byte("keep me"), 0o600)
	link := filepath.Join(dir, "link.pem")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{link, "is a symbolic link"},
		{fifo, "is a named pipe (FIFO)"},
		{dir, "is a directory"},
	} {
		done := make(chan result, 1)
		go func() { done <- run(t, "emulator", "--cert-out", c.path) }()
		select {
		case r := <-done:
			if r.code != 2 || !strings.Contains(r.err, c.want) {
				t.Errorf("--cert-out %s: exit %d, %q; want %q", c.path, r.code, r.err, c.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("--cert-out %s blocked", c.path)
		}
	}
	if data, err := os.ReadFile(victim); err != nil || string(data) != "keep me" {
		t.Errorf("the link's target was written: %q %v", data, err)
	}
	if _, err := os.Lstat(link); errors.Is(err, os.ErrNotExist) {
		t.Error("the link was removed")
	}
}
