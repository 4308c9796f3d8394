package cli

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/spf13/cobra"

	"mgmtsession/graph/tenantsim"
)

type emulatorOptions struct {
	listen, state, scenario, certOut string
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
  mgmtsession emulator --demo-scenario throttled --demo-state /tmp/t.json`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runEmulator(cmd.Context(), f, o) },
	}
	fs := cmd.Flags()
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "loopback address to serve on (port 0 picks a free one)")
	fs.StringVar(&o.state, "demo-state", "", "file that keeps the simulated tenant between runs")
	fs.StringVar(&o.scenario, "demo-scenario", "", "scenario to start from")
	fs.StringVar(&o.certOut, "cert-out", "", "write the server certificate (PEM) here, for curl --cacert")
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
	srv, err := tenantsim.New(tenantsim.Options{Listen: *listen, StatePath: *state, Scenario: *scenario})
	if err != nil {
		return usagef("%v", err)
	}
	defer srv.Close()
	if *certOut != "" {
		if err := os.WriteFile(*certOut, srv.CertPEM(), 0o644); err != nil {
			return fmt.Errorf("writing the certificate: %w", err)
		}
	}
	// The demo app's secret is printed on purpose: it opens only this
	// throwaway simulated tenant, and scripts need it for a token.
	fmt.Fprintf(s.Out, "graph: %s\nauthority: %s\ntenant: %s\nclient-id: %s\nclient-secret: %s\n",
		srv.GraphURL(), srv.AuthorityURL(), srv.TenantID(), tenantsim.DemoAppClientID, srv.ClientSecret())
	fmt.Fprintln(s.Err, "Serving the simulated tenant; press Ctrl+C to stop.")
	<-ctx.Done()
	return nil
}

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
