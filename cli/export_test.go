package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// export then whatif --snapshot gives the verdicts, required controls and
// per-policy answers the live (demo) tenant gives, for existing accounts
// and the account to be created.
func TestExportSnapshotRoundTrip(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "snap.json")
	r := run(t, "export", "--demo", "--out", snap)
	if r.code != 0 {
		t.Fatalf("export: exit %d: %s", r.code, r.err)
	}
	if !strings.Contains(r.out, snap) {
		t.Errorf("export does not say where it wrote: %q", r.out)
	}
	fi, err := os.Stat(snap)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("snapshot mode %v, want 0600", fi.Mode().Perm())
	}
	var doc struct {
		TenantID       string           `json:"tenantId"`
		Policies       []map[string]any `json:"policies"`
		NamedLocations []map[string]any `json:"namedLocations"`
		Principals     []struct {
			ID, UserPrincipalName, UserType string
			MemberOf, Roles                 []string
		} `json:"principals"`
	}
	data, _ := os.ReadFile(snap)
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("snapshot is not JSON: %v", err)
	}
	if doc.TenantID == "" || len(doc.Policies) != 8 || len(doc.NamedLocations) != 2 {
		t.Errorf("snapshot: tenant %q, %d policies, %d locations", doc.TenantID, len(doc.Policies), len(doc.NamedLocations))
	}
	// Named locations keep Graph's @odata.type; policies keep properties
	// the product does not model as Graph sent them (null included).
	for _, l := range doc.NamedLocations {
		if l["@odata.type"] == nil {
			t.Errorf("named location without @odata.type: %v", l)
		}
		// Graph sends false values too; the domain type would drop them.
		if l["@odata.type"] == "#microsoft.graph.countryNamedLocation" {
			if v, ok := l["includeUnknownCountriesAndRegions"]; !ok || v != false {
				t.Errorf("country location lost includeUnknownCountriesAndRegions: %v", l)
			}
		}
	}
	if _, ok := doc.Policies[0]["templateId"]; !ok {
		t.Errorf("policy lost Graph's templateId: %v", doc.Policies[0])
	}
	// The operator and the two break-glass accounts CA001 excludes by id.
	var upns []string
	for _, p := range doc.Principals {
		upns = append(upns, p.UserPrincipalName)
		if p.UserType == "" || p.MemberOf == nil || p.Roles == nil {
			t.Errorf("principal %s incomplete: %+v", p.UserPrincipalName, p)
		}
	}
	for _, want := range []string{adeleUPN, breakGlass1, "bg.emergency2@contosodemo.onmicrosoft.com"} {
		if !slices.Contains(upns, want) {
			t.Errorf("principals %q lack %s", upns, want)
		}
	}

	for _, args := range [][]string{
		{"--user", adeleUPN, "--ip", outsideIP},
		{"--user", adeleUPN, "--ip", headOfficeIP, "--country", "GB"},
		{"--user", adeleUPN, "--ip", outsideIP, "--country", "RU", "--app", "office365"},
		{"--user", breakGlass1, "--ip", outsideIP, "--country", "US"},
		{"--new-account", "--ip", outsideIP, "--country", "US"},
		{"--new-account", "--ip", "2a01:111:f400:7e00::25", "--country", "GB", "--auth-flow", "deviceCode"},
		{"--new-account", "--roles", "Global Reader", "--ip", headOfficeIP, "--country", "GB", "--client-app", "other"},
	} {
		live, _ := whatif(t, append([]string{"--demo"}, args...)...)
		offline, _ := whatif(t, append([]string{"--snapshot", snap}, args...)...)
		if live.Verdict != offline.Verdict || !slices.Equal(live.RequiredControls, offline.RequiredControls) {
			t.Errorf("%q: live %s %q, snapshot %s %q", args, live.Verdict, live.RequiredControls, offline.Verdict, offline.RequiredControls)
		}
		if len(live.Policies) != len(offline.Policies) {
			t.Fatalf("%q: %d policies live, %d in the snapshot", args, len(live.Policies), len(offline.Policies))
		}
		for i, lp := range live.Policies {
			op := offline.Policies[i]
			if lp.ID != op.ID || lp.Applies != op.Applies || !slices.Equal(lp.Reasons, op.Reasons) {
				t.Errorf("%q: %s: live applies %v %q, snapshot %s applies %v %q", args, lp.DisplayName, lp.Applies, lp.Reasons, op.DisplayName, op.Applies, op.Reasons)
			}
		}
	}
}

// export never overwrites a file unless asked to, and never leaves a
// temporary file behind.
func TestExportRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "snap.json")
	if err := os.WriteFile(snap, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "export", "--demo", "--out", snap)
	if r.code != 2 || r.out != "" || !strings.Contains(r.err, snap) || !strings.Contains(r.err, "--force") {
		t.Errorf("existing file: exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
	}
	if data, _ := os.ReadFile(snap); string(data) != "keep me" {
		t.Errorf("the existing file was changed")
	}
	r = run(t, "export", "--demo", "--out", snap, "--force", "--json")
	if r.code != 0 {
		t.Fatalf("--force: exit %d: %s", r.code, r.err)
	}
	var summary struct {
		File       string `json:"file"`
		Policies   int    `json:"policies"`
		Principals int    `json:"principals"`
	}
	if err := json.Unmarshal([]byte(r.out), &summary); err != nil || summary.File != snap || summary.Policies != 8 {
		t.Errorf("--json summary %q: %v", r.out, err)
	}
	if fi, _ := os.Stat(snap); fi.Mode().Perm() != 0o600 {
		t.Errorf("replaced file mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left in the folder: %v", entries)
	}
	for _, args := range [][]string{{"--demo"}, {"--demo", "--out", filepath.Join(dir, "no", "such", "dir.json")}} {
		r := run(t, append([]string{"export"}, args...)...)
		if r.code != 2 || r.out != "" || strings.Count(r.err, "\n") != 2 || !strings.HasSuffix(r.err, "Run 'mgmtsession export --help' for usage.\n") {
			t.Errorf("export %q: exit %d, stdout %q, stderr %q", args, r.code, r.out, r.err)
		}
	}
}
