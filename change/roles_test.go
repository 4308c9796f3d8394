package change

import (
	"slices"
	"strings"
	"testing"
)

func TestLookupRole(t *testing.T) {
	tests := []struct {
		ref      string
		wantID   string
		wantName string
	}{
		{"Global Reader", "f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader"},
		{"  exchange   ADMINISTRATOR ", "29232cdf-9323-42fd-ade2-1d097af3e4de", "Exchange Administrator"},
		{"69091246-20E8-4A56-AA4D-066075B2A7A8", "69091246-20e8-4a56-aa4d-066075b2a7a8", "Teams Administrator"},
		{"Global Administrator", GlobalAdministratorID, "Global Administrator"},
		{GlobalAdministratorID, GlobalAdministratorID, "Global Administrator"},
		// A template id this product does not name (Intune Administrator)
		// is kept for the plan to check against the tenant.
		{"3a2c62db-5318-420d-8d74-23affee5d9d5", "3a2c62db-5318-420d-8d74-23affee5d9d5", ""},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := LookupRole(tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if got.TemplateID != tt.wantID || got.DisplayName != tt.wantName {
				t.Errorf("LookupRole(%q) = %+v", tt.ref, got)
			}
		})
	}
}

func TestLookupRoleRefusesUnknownNames(t *testing.T) {
	tests := []struct {
		ref  string
		want []string
	}{
		{"Teams Adminstrator", []string{`unknown role "Teams Adminstrator"`, `did you mean "Teams Administrator"?`}},
		{"exchange admin", []string{`unknown role "exchange admin"`, `did you mean "Exchange Administrator"?`}},
		{"Global Admin", []string{`unknown role "Global Admin"`, `did you mean "Global Administrator"?`}},
		{"Coffee Maker", []string{`unknown role "Coffee Maker" (give a built-in role's display name or template id)`}},
		{"", []string{"empty role name"}},
		{"f2ef992c-3afb-46b9-b7cf", []string{`unknown role "f2ef992c-3afb-46b9-b7cf"`}},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			_, err := LookupRole(tt.ref)
			if err == nil {
				t.Fatalf("LookupRole(%q) accepted", tt.ref)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tt.ref == "Coffee Maker" && strings.Contains(err.Error(), "did you mean") {
				t.Errorf("a far-fetched suggestion: %v", err)
			}
		})
	}
}

func TestDefaultRolesAreTheLeastPrivilegeSet(t *testing.T) {
	roles, err := DefaultRoles()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range roles {
		if r.TemplateID == GlobalAdministratorID {
			t.Error("Global Administrator is in the default set")
		}
		names = append(names, r.DisplayName)
	}
	want := []string{"Global Reader", "Exchange Administrator", "Teams Administrator", "User Administrator",
		"Authentication Administrator", "SharePoint Administrator"}
	if !slices.Equal(names, want) {
		t.Errorf("default roles = %v, want %v", names, want)
	}
}

func TestLookupRolesDropsRepeats(t *testing.T) {
	roles, err := LookupRoles([]string{"Global Reader", "f2ef992c-3afb-46b9-b7cf-a126ee74c451", "teams administrator"})
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) != 2 || roles[0].DisplayName != "Global Reader" || roles[1].DisplayName != "Teams Administrator" {
		t.Errorf("roles = %v", roles)
	}
}
