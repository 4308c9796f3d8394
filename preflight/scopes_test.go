package preflight_test

import (
	"slices"
	"testing"

	"mgmtsession/preflight"
)

// The scopes asked for by name are the README's list, least privilege
// first, each once.
func TestRequestedScopes(t *testing.T) {
	want := []string{"Organization.Read.All", "User.ReadWrite.All", "Policy.Read.All", "UserAuthenticationMethod.Read.All",
		"Application.Read.All", "Policy.ReadWrite.ConditionalAccess", "RoleManagement.ReadWrite.Directory",
		"Policy.ReadWrite.SecurityDefaults", "AuditLog.Read.All"}
	if got := preflight.Requested(); !slices.Equal(got, want) {
		t.Errorf("Requested() = %v\nwant %v", got, want)
	}
}

// ByStep splits granted and missing per later step, in the wizard's order;
// a broader scope (Directory.Read.All) covers the narrower needs.
func TestScopesByStep(t *testing.T) {
	got := preflight.ByStep([]string{"Directory.Read.All", "User.ReadWrite.All", "Policy.Read.All", "UserAuthenticationMethod.ReadWrite.All", "AuditLog.Read.All"})
	var steps []string
	missing := map[string][]string{}
	for _, s := range got {
		steps = append(steps, s.Step)
		for _, m := range s.Missing {
			missing[s.Step] = append(missing[s.Step], m.AnyOf[0])
		}
	}
	if !slices.Equal(steps, []string{preflight.StepPreflight, preflight.StepWhatIf, preflight.StepCreate, preflight.StepTurnOn}) {
		t.Errorf("steps %v", steps)
	}
	if len(missing[preflight.StepPreflight]) != 0 || len(missing[preflight.StepWhatIf]) != 0 || len(missing[preflight.StepTurnOn]) != 0 {
		t.Errorf("missing %v", missing)
	}
	if !slices.Equal(missing[preflight.StepCreate], []string{"Policy.ReadWrite.ConditionalAccess", "RoleManagement.ReadWrite.Directory", "Policy.ReadWrite.SecurityDefaults"}) {
		t.Errorf("Create misses %v", missing[preflight.StepCreate])
	}
	if len(preflight.Missing(nil)) != len(preflight.Needs) {
		t.Error("nothing granted should miss every need")
	}
}
