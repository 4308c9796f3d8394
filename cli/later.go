package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// later is a command of SPEC section 3 whose issue has not landed: it is
// listed and documented, says plainly that this build cannot do it yet, and
// exits 1 instead of pretending.
func later(use, group, short, long, example string) *cobra.Command {
	cmd := &cobra.Command{
		Use:     use,
		Short:   short + " (not in this build yet)",
		Long:    long + "\n\nNot available in this build yet: it arrives with the safe-writes engine. Today 'mgmtsession status' shows the tenant's state and 'mgmtsession whatif' what Conditional Access would do.",
		GroupID: group,
		Example: example,
		Args:    cobra.ArbitraryArgs,
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return fmt.Errorf("'%s' is not available in this build yet (it arrives with the safe-writes engine); 'mgmtsession status' and 'mgmtsession whatif' work today", cmd.CommandPath())
	}
	return cmd
}

func signinsCmd() *cobra.Command {
	return later("signins", groupReadOnly, "The management account's recent sign-ins, each failure explained",
		"Lists the management account's recent sign-ins from the sign-in log with the policies applied to each, and explains every failure; --watch follows new ones.",
		`  mgmtsession signins --demo
  mgmtsession signins --watch`)
}
