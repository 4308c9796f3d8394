package cli

import (
	"fmt"

	mango "github.com/muesli/mango-cobra"
	"github.com/muesli/roff"
	"github.com/spf13/cobra"
)

// manCmd writes the man page, built from the command tree itself.
func manCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "man",
		Short:   "Write the man page (roff) to stdout",
		GroupID: groupTools,
		Args:    noArgs,
		Example: `  mgmtsession man > mgmtsession.1 && man ./mgmtsession.1
  mgmtsession man | gzip > /usr/local/share/man/man1/mgmtsession.1.gz`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			page, err := mango.NewManPage(1, cmd.Root())
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), page.Build(roff.NewDocument()))
			return err
		},
	}
}
