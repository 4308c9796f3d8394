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

func planCmd() *cobra.Command {
	return later("plan", groupReadOnly, "Show the exact changes apply would make, as a diff",
		"Reads the tenant fresh and prints, in order, every change 'mgmtsession apply' would make for the desired state (from flags or --config FILE): the named location, the policy requiring MFA outside the allowed IPs, the account and its roles, the exclusions. Writes nothing.",
		`  mgmtsession plan --demo
  mgmtsession plan --config mgmt.yaml --json`)
}

func applyCmd() *cobra.Command {
	return later("apply", groupChanges, "Make the planned changes, verify and record them",
		"Makes the changes 'mgmtsession plan' shows, protection before exclusion, reads each back until Graph shows it, and records the run in a journal that 'mgmtsession undo' restores.",
		`  mgmtsession apply --demo --yes
  mgmtsession apply --config mgmt.yaml --yes`)
}

func onCmd() *cobra.Command {
	return later("on", groupChanges, "Turn the management session on",
		"Enables the management account's sign-in from the allowed IPs, and verifies it.",
		`  mgmtsession on --demo`)
}

func offCmd() *cobra.Command {
	return later("off", groupChanges, "Turn the management session off",
		"Blocks the management account's sign-in, leaving its setup in place for the next 'mgmtsession on'.",
		`  mgmtsession off --demo`)
}

func undoCmd() *cobra.Command {
	return later("undo [RUN]", groupChanges, "Restore what a recorded run changed",
		"Restores the objects a run of 'mgmtsession apply' changed, from its journal (the latest run without RUN), exclusions first.",
		`  mgmtsession undo --demo
  mgmtsession undo 2026-12-03T10-15-00Z`)
}

func removeCmd() *cobra.Command {
	return later("remove", groupChanges, "Disable advanced management: delete the account and its protection",
		"Takes the account's exclusions out of the tenant's policies, then deletes its policy, its named location and the account itself (in Global Admin mode only the protection), found through the tenant's own state record.",
		`  mgmtsession remove --demo --yes`)
}

func signinsCmd() *cobra.Command {
	return later("signins", groupReadOnly, "The management account's recent sign-ins, each failure explained",
		"Lists the management account's recent sign-ins from the sign-in log with the policies applied to each, and explains every failure; --watch follows new ones.",
		`  mgmtsession signins --demo
  mgmtsession signins --watch`)
}
