package change

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func roleNames(roles []RoleRef) []string {
	var out []string
	for _, r := range roles {
		out = append(out, r.String())
	}
	return out
}

func TestResolveDefaults(t *testing.T) {
	d, err := Resolve(Config{}, Overrides{AllowedIPs: []string{"20.190.128.5", "51.140.12.5"}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Account.Mode != ServiceAccount || d.Account.UPN != "" {
		t.Errorf("account = %+v", d.Account)
	}
	want := []string{"Global Reader", "Exchange Administrator", "Teams Administrator", "User Administrator",
		"Authentication Administrator", "SharePoint Administrator"}
	if got := roleNames(d.Account.Roles); !slices.Equal(got, want) {
		t.Errorf("roles = %v, want %v", got, want)
	}
	if d.PolicyState != PolicyEnabled || d.PolicyState.GraphState() != "enabled" {
		t.Errorf("policy state = %q", d.PolicyState)
	}
	if d.AutoEnable || !d.ExcludeFrom.Auto {
		t.Errorf("autoEnable %v excludeFrom %+v", d.AutoEnable, d.ExcludeFrom)
	}
	if !slices.Equal(d.AllowedIPs, prefixes("20.190.128.5/32", "51.140.12.5/32")) {
		t.Errorf("allowed IPs = %v", d.AllowedIPs)
	}
	upn, err := d.DefaultUPN("contoso.onmicrosoft.com")
	if err != nil || upn != "coreview.admin@contoso.onmicrosoft.com" {
		t.Errorf("DefaultUPN = %q, %v", upn, err)
	}
	if _, err := d.DefaultUPN("not a domain"); err == nil {
		t.Error("DefaultUPN accepted a bad initial domain")
	}
	d.Account.UPN = "ops@contoso.com"
	if upn, _ := d.DefaultUPN("contoso.onmicrosoft.com"); upn != "ops@contoso.com" {
		t.Errorf("DefaultUPN with a UPN given = %q", upn)
	}
}

func TestResolveFlagsWinOverTheFile(t *testing.T) {
	cfg, err := LoadConfig(writeConfig(t, `account:
  upn: file@contoso.com
  roles: [Global Reader]
allowedIPs: [20.190.128.5, 203.0.114.7/24]
policyState: reportOnly
autoEnable: true
excludeFrom: auto
`))
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := Resolve(cfg, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if fromFile.Account.UPN != "file@contoso.com" || !slices.Equal(roleNames(fromFile.Account.Roles), []string{"Global Reader"}) ||
		fromFile.PolicyState != PolicyReportOnly || fromFile.PolicyState.GraphState() != "enabledForReportingButNotEnforced" ||
		!fromFile.AutoEnable || len(fromFile.Notes) != 1 || !strings.Contains(fromFile.Notes[0].String(), "host bits cleared") {
		t.Errorf("from the file: %+v", fromFile)
	}

	d, err := Resolve(cfg, Overrides{
		UPN:         ptr("flag@contoso.com"),
		Roles:       []string{"Teams Administrator", "SharePoint Administrator"},
		AllowedIPs:  []string{"51.140.12.0/27,51.140.12.0/27"},
		PolicyState: ptr("enabled"),
		AutoEnable:  ptr(false),
		ExcludeFrom: []string{"5A1C3E4B-0000-4000-8000-000000000001,5a1c3e4b-0000-4000-8000-000000000002"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d.Account.UPN != "flag@contoso.com" {
		t.Errorf("upn = %q", d.Account.UPN)
	}
	if got := roleNames(d.Account.Roles); !slices.Equal(got, []string{"Teams Administrator", "SharePoint Administrator"}) {
		t.Errorf("roles = %v", got)
	}
	if !slices.Equal(d.AllowedIPs, prefixes("51.140.12.0/27")) {
		t.Errorf("allowed IPs = %v", d.AllowedIPs)
	}
	if len(d.Notes) != 1 || d.Notes[0].String() != `--allowed-ip: "51.140.12.0/27": duplicate of 51.140.12.0/27, merged` {
		t.Errorf("notes = %v", d.Notes)
	}
	if d.PolicyState != PolicyEnabled || d.AutoEnable {
		t.Errorf("policy state %q auto-enable %v", d.PolicyState, d.AutoEnable)
	}
	if d.ExcludeFrom.Auto || !slices.Equal(d.ExcludeFrom.PolicyIDs,
		[]string{"5a1c3e4b-0000-4000-8000-000000000001", "5a1c3e4b-0000-4000-8000-000000000002"}) {
		t.Errorf("excludeFrom = %+v", d.ExcludeFrom)
	}
}

func TestResolveGlobalAdminMode(t *testing.T) {
	d, err := Resolve(Config{}, Overrides{Mode: ptr("globalAdmin"), UPN: ptr("admin@contoso.com"), AllowedIPs: []string{"20.190.128.5"}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Account.Mode != GlobalAdmin || len(d.Account.Roles) != 0 || d.Account.UPN != "admin@contoso.com" {
		t.Errorf("account = %+v", d.Account)
	}
}

// TestResolveRefusesBadInput is issue 7's "Bad input" for the flags and for
// the rules between settings: each message names the flag or the file's
// line and column, and the bad value.
func TestResolveRefusesBadInput(t *testing.T) {
	ips := []string{"20.190.128.5"}
	fileWithRoles := "account:\n  mode: globalAdmin\n  upn: admin@contoso.com\n  roles: [Global Reader]\nallowedIPs: [20.190.128.5]\n"
	tests := []struct {
		name string
		file string
		o    Overrides
		want []string
	}{
		{"private --allowed-ip", "", Overrides{AllowedIPs: []string{"20.190.128.5", "192.168.1.0/24"}},
			[]string{`--allowed-ip: "192.168.1.0/24": private: 192.168.1.0/24 is in 192.168.0.0/16 (RFC 1918)`}},
		{"garbage --allowed-ip", "", Overrides{AllowedIPs: []string{"20.190.128.5, office"}},
			[]string{`--allowed-ip: "office": not an IP address or CIDR range`}},
		{"wide --allowed-ip", "", Overrides{AllowedIPs: []string{"::/0"}}, []string{`--allowed-ip: "::/0": ::/0 is every IPv6 address`}},
		{"invalid --upn", "", Overrides{UPN: ptr("admin@contoso"), AllowedIPs: ips},
			[]string{`--upn: "admin@contoso" is not a user principal name: the domain "contoso" has no dot`}},
		{"unknown --role", "", Overrides{Roles: []string{"Global Reader", "Teams Admin"}, AllowedIPs: ips},
			[]string{`--role: unknown role "Teams Admin": did you mean "Teams Administrator"?`}},
		{"bad --mode", "", Overrides{Mode: ptr("admin"), AllowedIPs: ips}, []string{`--mode: "admin": expected serviceAccount or globalAdmin`}},
		{"bad --policy-state", "", Overrides{PolicyState: ptr("on"), AllowedIPs: ips},
			[]string{`--policy-state: "on": expected enabled or reportOnly`}},
		{"bad --exclude-from", "", Overrides{ExcludeFrom: []string{"all"}, AllowedIPs: ips},
			[]string{`--exclude-from: "all" is not a policy id (a GUID) nor auto`}},
		{"auto mixed with ids", "", Overrides{ExcludeFrom: []string{"auto,5a1c3e4b-0000-4000-8000-000000000001"}, AllowedIPs: ips},
			[]string{`--exclude-from: auto cannot be mixed with policy ids`}},
		{"no allowed IPs", "", Overrides{}, []string{`allowedIPs: no allowed IP range`}},
		{"global admin without a UPN", "", Overrides{Mode: ptr("globalAdmin"), AllowedIPs: ips},
			[]string{`--mode: account.upn: Global Admin mode protects an existing Global Administrator`}},
		{"global admin with roles from the file", fileWithRoles, Overrides{},
			[]string{`:4:10: account.roles: Global Admin mode assigns no roles`, "(mode set at ", ":2:9)"}},
		{"global admin with --role", "", Overrides{Mode: ptr("globalAdmin"), UPN: ptr("a@contoso.com"), Roles: []string{"Global Reader"}, AllowedIPs: ips},
			[]string{`--role: account.roles: Global Admin mode assigns no roles`, "(mode set at --mode)"}},
		{"every bad flag at once", "", Overrides{UPN: ptr("x"), AllowedIPs: []string{"10.0.0.1"}},
			[]string{`--upn: "x" is not a user principal name`, `--allowed-ip: "10.0.0.1": private`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg Config
			path := ""
			if tt.file != "" {
				path = writeConfig(t, tt.file)
				var err error
				if cfg, err = LoadConfig(path); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Resolve(cfg, tt.o)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("%v is not ErrInvalidInput", err)
			}
			for _, w := range tt.want {
				if strings.HasPrefix(w, ":") {
					w = path + w
				}
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message\n%s\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

func TestInputErrorShortensLongValues(t *testing.T) {
	long := strings.Repeat("MIIB", 500)
	_, err := Resolve(Config{}, Overrides{AllowedIPs: []string{long}})
	if err == nil {
		t.Fatal("accepted")
	}
	if len(err.Error()) > 300 || !strings.Contains(err.Error(), `"MIIBMIIB`) || !strings.Contains(err.Error(), `…": not an IP address`) {
		t.Errorf("message of %d bytes: %.300s", len(err.Error()), err)
	}
}
