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
	code := cli.Run(ctx, os.Args[1:], cli.DefaultStreams())
	stop()
	os.Exit(code)
}
