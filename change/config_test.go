package change

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "session.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfigReadsEveryKey(t *testing.T) {
	path := writeConfig(t, `# the management session of Contoso
account:
  mode: serviceAccount
  upn: coreview.admin@contoso.onmicrosoft.com
  roles:
    - Global Reader
    - exchange  administrator
    - 69091246-20e8-4a56-aa4d-066075b2a7a8
allowedIPs:
  - 20.190.128.5
  - "51.140.12.0/27, 51.140.12.5"  # the second is inside the first
  - 203.0.114.7/24
  - 2a01:111:f400:7e00::/64
policyState: reportOnly
autoEnable: true
excludeFrom:
  - 5A1C3E4B-0000-4000-8000-000000000001
`)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode.Value != ServiceAccount || cfg.Mode.Where != path+":3:9" {
		t.Errorf("mode = %+v", cfg.Mode)
	}
	if cfg.UPN.Value != "coreview.admin@contoso.onmicrosoft.com" {
		t.Errorf("upn = %+v", cfg.UPN)
	}
	var roles []string
	for _, r := range cfg.Roles.Value {
		roles = append(roles, r.DisplayName)
	}
	if !slices.Equal(roles, []string{"Global Reader", "Exchange Administrator", "Teams Administrator"}) {
		t.Errorf("roles = %v", roles)
	}
	want := prefixes("20.190.128.5/32", "51.140.12.0/27", "203.0.114.0/24", "2a01:111:f400:7e00::/64")
	if !slices.Equal(cfg.AllowedIPs.Value, want) {
		t.Errorf("allowed IPs = %v, want %v", cfg.AllowedIPs.Value, want)
	}
	var notes []string
	for _, n := range cfg.Notes {
		notes = append(notes, strings.TrimPrefix(n.String(), path))
	}
	wantNotes := []string{
		`:11:22: "51.140.12.5": inside 51.140.12.0/27, merged into it`,
		`:12:5: "203.0.114.7/24": host bits cleared: 203.0.114.0/24`,
	}
	if !slices.Equal(notes, wantNotes) {
		t.Errorf("notes = %q, want %q", notes, wantNotes)
	}
	if cfg.PolicyState.Value != PolicyReportOnly || !cfg.AutoEnable.Value || !cfg.AutoEnable.Set {
		t.Errorf("policyState %+v autoEnable %+v", cfg.PolicyState, cfg.AutoEnable)
	}
	if e := cfg.ExcludeFrom.Value; e.Auto || !slices.Equal(e.PolicyIDs, []string{"5a1c3e4b-0000-4000-8000-000000000001"}) {
		t.Errorf("excludeFrom = %+v", e)
	}
}

func TestLoadConfigEmptyFileSetsNothing(t *testing.T) {
	for _, body := range []string{"", "# nothing yet\n", "\uFEFFallowedIPs: [20.190.128.5]\n"} {
		cfg, err := LoadConfig(writeConfig(t, body))
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		if cfg.Mode.Set || cfg.UPN.Set || cfg.Roles.Set || cfg.PolicyState.Set || cfg.AutoEnable.Set || cfg.ExcludeFrom.Set {
			t.Errorf("%q set something: %+v", body, cfg)
		}
	}
}

// TestLoadConfigRefusesBadInput is issue 7's "Bad input" for the file: each
// message names the file, the line and column, and the bad value.
func TestLoadConfigRefusesBadInput(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string // parts of the message, after the file's path
	}{
		{"malformed YAML", "account:\n  mode: serviceAccount\nallowedIPs: [20.190.128.5\n",
			[]string{":3:13: malformed YAML: sequence end token ']' not found"}},
		{"bad indentation", "account:\n  upn: a@b.com\n roles: []\n",
			[]string{":3:", "malformed YAML"}},
		{"duplicate key", "policyState: enabled\npolicyState: reportOnly\n",
			[]string{":2:1: malformed YAML: mapping key \"policyState\" already defined at [1:1]"}},
		{"unknown top-level key", "allowedIps:\n  - 20.190.128.5\n",
			[]string{`:1:1: "allowedIps": unknown key: did you mean allowedIPs? (the keys are account, allowedIPs, policyState, autoEnable, excludeFrom)`}},
		{"unknown key far from any", "colour: blue\n",
			[]string{`:1:1: "colour": unknown key (the keys are account, allowedIPs, policyState, autoEnable, excludeFrom)`}},
		{"a second document", "allowedIPs: [20.190.128.5]\n---\npolicyState: reportOnly\n",
			[]string{`:2:1: a second YAML document: put every setting in one document`}},
		{"unknown account key", "account:\n  mode: serviceAccount\n  userPrincipalName: a@contoso.com\n",
			[]string{`:3:3: "userPrincipalName": unknown key under account (the keys are mode, upn, roles)`}},
		{"misspelt account key", "account:\n  UPN: a@contoso.com\n",
			[]string{`:2:3: "UPN": unknown key under account: did you mean upn? (the keys are mode, upn, roles)`}},
		{"the file is a list", "- 20.190.128.5\n",
			[]string{":1:1: the file: expected a mapping of keys, found a sequence"}},
		{"account is a list", "account: [a]\n",
			[]string{":1:10: account: expected a mapping of keys, found a sequence"}},
		{"bad mode", "account:\n  mode: serviceaccount2\n",
			[]string{`:2:9: account.mode: "serviceaccount2": expected serviceAccount or globalAdmin`}},
		{"bad policy state", "policyState: enforced\n",
			[]string{`:1:14: policyState: "enforced": expected enabled or reportOnly`}},
		{"policy state of the wrong type", "policyState: 1\n",
			[]string{`:1:14: policyState: "1": wrong type: expected enabled or reportOnly`}},
		{"autoEnable is not a boolean", "autoEnable: yes\n",
			[]string{`:1:13: autoEnable: "yes": wrong type: expected true or false`}},
		{"invalid UPN", "account:\n  upn: admin.contoso.com\n",
			[]string{`:2:8: account.upn: "admin.contoso.com" is not a user principal name: it has no @`}},
		{"UPN with a space", "account:\n  upn: \"ad min@contoso.com\"\n",
			[]string{`:2:8: account.upn: "ad min@contoso.com" is not a user principal name`, "a space is not allowed"}},
		{"unknown role", "account:\n  roles:\n    - Global Reader\n    - Exchange Admin\n",
			[]string{`:4:7: account.roles: unknown role "Exchange Admin": did you mean "Exchange Administrator"?`}},
		{"roles not a list", "account:\n  roles: Global Reader\n",
			[]string{`:2:10: account.roles: "Global Reader": wrong type: expected a list`}},
		{"excludeFrom neither auto nor ids", "excludeFrom: all\n",
			[]string{`:1:14: excludeFrom: "all": expected auto or a list of Conditional Access policy ids`}},
		{"excludeFrom with a bad id", "excludeFrom:\n  - 5a1c3e4b-0000-4000-8000-000000000001\n  - policy-2\n",
			[]string{`:3:5: excludeFrom: "policy-2": not a Conditional Access policy id`}},
		{"not an address", "allowedIPs:\n  - 20.190.128.5\n  - 20.190.128\n",
			[]string{`:3:5: allowedIPs: "20.190.128": not an IP address or CIDR range`}},
		{"a number", "allowedIPs: [5]\n",
			[]string{`:1:14: allowedIPs: "5": not an IP address`}},
		{"private", "allowedIPs:\n  - \"51.140.12.0/27, 10.1.2.3\"\n",
			[]string{`:2:22: allowedIPs: "10.1.2.3": private: 10.1.2.3/32 is in 10.0.0.0/8 (RFC 1918)`}},
		{"prefix too wide", "allowedIPs: [20.0.0.0/8]\n", []string{`:1:14: allowedIPs: "20.0.0.0/8": prefix /8 is too wide`}},
		{"every IPv4 address", "allowedIPs: [0.0.0.0/0]\n", []string{`"0.0.0.0/0": 0.0.0.0/0 is every IPv4 address`}},
		{"every IPv6 address", "allowedIPs: ['::/0']\n", []string{`:1:15: allowedIPs: "::/0": ::/0 is every IPv6 address`}},
		{"loopback", "allowedIPs: [127.0.0.1]\n", []string{`"127.0.0.1": loopback`}},
		{"link-local", "allowedIPs: [169.254.10.1]\n", []string{`"169.254.10.1": link-local`}},
		{"multicast", "allowedIPs: [ff02::1]\n", []string{`"ff02::1": multicast`}},
		{"reserved", "allowedIPs: [100.64.0.1]\n", []string{`"100.64.0.1": reserved: 100.64.0.1/32 is in 100.64.0.0/10`}},
		{"unspecified", "allowedIPs: [0.0.0.0]\n", []string{`"0.0.0.0": unspecified`}},
		{"zone id", "allowedIPs: [\"fe80::1%eth0\"]\n", []string{`:1:15: allowedIPs: "fe80::1%eth0": a zone id`}},
		{"IPv6 unique local", "allowedIPs:\n  - fd00:1::/48\n", []string{`:2:5: allowedIPs: "fd00:1::/48": private`}},
		{"allowedIPs of the wrong type", "allowedIPs: {a: 1}\n",
			[]string{`:1:13: allowedIPs: "map[a:1]": wrong type: expected a list of IP addresses`}},
		{"every problem at once", "account:\n  upn: nobody\nallowedIPs: [10.0.0.1, 192.168.0.1]\n",
			[]string{`:2:8: account.upn: "nobody" is not a user principal name`, `:3:14: allowedIPs: "10.0.0.1": private`,
				`:3:24: allowedIPs: "192.168.0.1": private`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.body)
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.body)
			}
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("error %v is not ErrInvalidInput", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, path+":") {
				t.Errorf("message %q does not start with the file's path", msg)
			}
			for _, w := range tt.want {
				if strings.HasPrefix(w, ":") {
					w = path + w
				}
				if !strings.Contains(msg, w) {
					t.Errorf("message\n%s\ndoes not contain\n%s", msg, w)
				}
			}
		})
	}
}

func TestLoadConfigRefusesMoreThan2000Ranges(t *testing.T) {
	var b strings.Builder
	b.WriteString("allowedIPs:\n")
	for i := range 2001 {
		b.WriteString("  - " + netip.AddrFrom4([4]byte{20, byte(100 + i/256), byte(i % 256), 0}).String() + "/24\n")
	}
	path := writeConfig(t, b.String())
	_, err := LoadConfig(path)
	if err == nil || !strings.Contains(err.Error(), path+":2:3: allowedIPs: 2001 ranges after merging; a named location holds at most 2000") {
		t.Fatalf("err = %v", err)
	}
}

// FuzzParseConfig checks that no file, however broken, panics the reader
// or yields an error without its file and position, and that what is
// accepted resolves or is refused as bad input, never anything else.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"account:\n  mode: globalAdmin\n  upn: a@contoso.com\nallowedIPs: [20.190.128.5]\n",
		"allowedIPs:\n  - \"51.140.12.0/27, 10.0.0.1\"\nexcludeFrom: auto\n",
		"account: [1]\n", "- a\n", "a: &x [*x]\n", "allowedIPs: |\n  20.190.128.5\n  10.0.0.1\n",
		"policyState: !!binary aGVsbG8=\n", "{account: {roles: [Global Reader, 62e90394-69f5-4237-9190-012177145e10]}}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const path = "fuzz.yaml"
		cfg, err := parseConfig(path, data)
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) || !strings.HasPrefix(err.Error(), path) {
				t.Fatalf("error %q is not an input error naming the file", err)
			}
			return
		}
		if _, err := Resolve(cfg, Overrides{}); err != nil && !errors.Is(err, ErrInvalidInput) {
			t.Fatalf("Resolve: %v is not an input error", err)
		}
	})
}

// The configuration shown in the README loads as it stands.
func TestReadmeConfigLoads(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	start := strings.Index(s, "```yaml\n")
	if start < 0 {
		t.Fatal("the README shows no YAML configuration")
	}
	body := s[start+len("```yaml\n"):]
	body = body[:strings.Index(body, "```")]
	cfg, err := LoadConfig(writeConfig(t, body))
	if err != nil {
		t.Fatalf("the README's configuration: %v", err)
	}
	if !cfg.AllowedIPs.Set || !cfg.Roles.Set || !cfg.PolicyState.Set || !cfg.ExcludeFrom.Set || !cfg.AutoEnable.Set {
		t.Errorf("the README's configuration leaves settings out: %+v", cfg)
	}
}
