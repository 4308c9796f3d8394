package cli

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"mgmtsession/graph/tenantsim"
	"mgmtsession/safe"
)

type emulatorOptions struct {
	listen, state, scenario, certOut string
	clientIP, clientCountry          string
	list                             bool
}

func emulatorCmd(f *factory) *cobra.Command {
	var o emulatorOptions
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Serve the simulated tenant on loopback, for scripts and integrators",
		Long: "Serves the simulated tenant (Graph v1.0 and the Entra authority) on a loopback address until interrupted, and prints five lines a script reads: " +
			"graph, authority, tenant, client-id and client-secret (the secret opens only this throwaway tenant).",
		GroupID: groupTools,
		Args:    noArgs,
		Example: `  mgmtsession emulator --list-scenarios
  mgmtsession emulator --listen 127.0.0.1:18443 --cert-out /tmp/sim.pem
  mgmtsession emulator --demo-scenario throttled --demo-state /tmp/t.json
  mgmtsession emulator --client-ip 20.190.128.7 --client-country GB`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runEmulator(cmd.Context(), f, o) },
	}
	fs := cmd.Flags()
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "loopback address to serve on (port 0 picks a free one)")
	fs.StringVar(&o.state, "demo-state", "", "file that keeps the simulated tenant between runs")
	fs.StringVar(&o.scenario, "demo-scenario", "", "scenario to start from")
	fs.StringVar(&o.certOut, "cert-out", "", "write the server certificate (PEM) here, for curl --cacert")
	fs.StringVar(&o.clientIP, "client-ip", tenantsim.DefaultClientIP.String(), "address sign-ins come from, as Conditional Access and the sign-in log see it (default: outside any range you can allow)")
	fs.StringVar(&o.clientCountry, "client-country", tenantsim.DefaultClientCountry, "the country sign-ins come from (ISO 3166 two-letter code)")
	fs.BoolVar(&o.list, "list-scenarios", false, "list the scenarios and exit")
	return cmd
}

// runEmulator serves the simulated tenant until interrupted, for scripts
// and integrators. It first prints five lines a script can read.
func runEmulator(ctx context.Context, f *factory, o emulatorOptions) error {
	s := f.streams
	listen, state, scenario, certOut, list := &o.listen, &o.state, &o.scenario, &o.certOut, &o.list
	if *list {
		all, err := tenantsim.Scenarios()
		if err != nil {
			return err
		}
		for _, sc := range all {
			fmt.Fprintf(s.Out, "%-22s %s\n", sc[0], sc[1])
		}
		return nil
	}
	if err := checkLoopback(*listen); err != nil {
		return err
	}
	origin, err := netip.ParseAddr(o.clientIP)
	if err != nil {
		return usagef("--client-ip %q: not an IPv4 or IPv6 address", o.clientIP)
	}
	if !countryCode.MatchString(o.clientCountry) {
		return usagef("--client-country %q: give a two-letter country code such as GB", o.clientCountry)
	}
	srv, err := tenantsim.New(tenantsim.Options{Listen: *listen, StatePath: *state, Scenario: *scenario})
	if err != nil {
		return usagef("%v", err)
	}
	defer srv.Close()
	srv.SetClientIP(origin.Unmap(), o.clientCountry)
	if *certOut != "" {
		if err := writeCertOut(*certOut, srv.CertPEM()); err != nil {
			return err
		}
	}
	// The demo app's secret is printed on purpose: it opens only this
	// throwaway simulated tenant, and scripts need it for a token.
	fmt.Fprintf(s.Out, "graph: %s\nauthority: %s\ntenant: %s\nclient-id: %s\nclient-secret: %s\n",
		srv.GraphURL(), srv.AuthorityURL(), srv.TenantID(), tenantsim.DemoAppClientID, srv.ClientSecret())
	fmt.Fprintf(s.Err, "Serving the simulated tenant; sign-ins come from %s (%s). Press Ctrl+C to stop.\n", origin.Unmap(), strings.ToUpper(o.clientCountry))
	<-ctx.Done()
	return nil
}

var countryCode = regexp.MustCompile(`^[A-Za-z]{2}$`)

// checkLoopback refuses to serve the simulated tenant beyond this machine:
// it grants tokens to anyone who asks.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--listen %q: %v", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return usagef("--listen %q: the emulator serves only on loopback (127.0.0.1, ::1 or localhost)", addr)
	}
	return nil
}

// writeCertOut writes the server certificate for --cert-out. os.WriteFile
// would follow a symbolic link to any file the operator can write and
// block for ever on a FIFO; instead only a regular file (or nothing) is
// replaced, through a temporary file renamed into place, which replaces a
// link put there meanwhile rather than following it.
func writeCertOut(path string, pem []byte) error {
	if fi, err := os.Lstat(path); err == nil {
		switch {
		case fi.IsDir():
			return usagef("--cert-out %s is a directory; give the path of the file to write, such as %s", safe.Text(path), safe.Text(filepath.Join(path, "sim.pem")))
		case !fi.Mode().IsRegular():
			return usagef("--cert-out %s is %s; give the path of a regular file", safe.Text(path), kindOf(fi.Mode()))
		}
	}
	if err := writeFileAtomic(path, pem, true); err != nil {
		return fmt.Errorf("writing the certificate: %w", err)
	}
	return nil
}
