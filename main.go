// Command mgmtsession prepares a Microsoft 365 / Entra ID tenant for a
// delegated management session. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"mgmtsession/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first Ctrl+C or SIGTERM cancels ctx, which every wait honours,
		// and the program ends with "aborted" (exit code 130). From then on
		// the signals have their default effect again, so that a second one
		// ends at once a program that something kept from ending.
		<-ctx.Done()
		stop()
	}()
	code := cli.Run(ctx, os.Args[1:], cli.DefaultStreams())
	stop()
	os.Exit(code)
}
