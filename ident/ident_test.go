package ident

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckUPN(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string // empty: valid
	}{
		{"ann@contoso.com", ""},
		{"Ann.Lee@Contoso.OnMicrosoft.com", ""},
		{"o'brien_1-2!#^~@sub.contoso.co.uk", ""},
		{"ann_contoso.com#EXT#@fabrikam.onmicrosoft.com", ""},
		{strings.Repeat("a", 113) + "@contoso.com", ""},
		{"a@" + strings.Repeat("b", 63) + ".com", ""},
		{"", "empty"},
		{".", "has no @"},
		{"..", "has no @"},
		{"ann", "has no @"},
		{"@contoso.com", "nothing before the @"},
		{"ann@", "nothing after the @"},
		{"ann@contoso", "has no dot"},
		{"ann@@contoso.com", "more than one @"},
		{"ann@b@contoso.com", "more than one @"},
		{"ann.@contoso.com", "period right before the @"},
		{strings.Repeat("a", 114) + "@contoso.com", "114 characters before the @"},
		{"a@" + strings.Repeat("b", 64) + ".com", "label longer than 63"},
		{"a@" + strings.Repeat("b.", 127) + "com", "at most 253"},
		{"ann lee@contoso.com", "space is not allowed"},
		{"ann\x1b[2J@contoso.com", `"\x1b" is not allowed`},
		{"ann/x@contoso.com", `"/" is not allowed`},
		{"ann%2f@contoso.com", `"%" is not allowed`},
		{"ann?x@contoso.com", `"?" is not allowed`},
		{"anné@contoso.com", `"é" is not allowed`},
		{"ann\xff@contoso.com", `"\xff" is not allowed`},
		{"ann@contoso..com", "empty label"},
		{"ann@.contoso.com", "empty label"},
		{"ann@contoso.com.", "empty label"},
		{"ann@-contoso.com", "hyphen"},
		{"ann@contoso-.com", "hyphen"},
		{"ann@con/toso.com", `"/" is not allowed in the domain`},
		{"ann@con toso.com", "space is not allowed in the domain"},
		{"ann@contoso.com\u202e", `"\u202e" is not allowed in the domain`},
	}
	for _, tt := range tests {
		err := CheckUPN(tt.in)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("CheckUPN(%q) = %v, want valid", tt.in, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("CheckUPN(%q) = nil, want an error containing %q", tt.in, tt.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("CheckUPN(%q) = %q, want it to contain %q", tt.in, err, tt.wantErr)
		}
		assertPrintable(t, err)
	}
}

func TestCheckObjectID(t *testing.T) {
	tests := []struct {
		in    string
		valid bool
	}{
		{"00000000-0000-0000-0000-000000000000", true},
		{"8a1f3c4e-2b7d-4f19-9c3e-5d6a7b8c9d0e", true},
		{"8A1F3C4E-2B7D-4F19-9C3E-5D6A7B8C9D0E", true},
		{"", false},
		{".", false},
		{"..", false},
		{"8a1f3c4e2b7d4f199c3e5d6a7b8c9d0e", false},
		{"{8a1f3c4e-2b7d-4f19-9c3e-5d6a7b8c9d0e}", false},
		{"8a1f3c4e-2b7d-4f19-9c3e-5d6a7b8c9d0g", false},
		{"8a1f3c4e-2b7d-4f19-9c3e_5d6a7b8c9d0e", false},
		{"8a1f3c4e-2b7d-4f19-9c3e-5d6a7b8c9d0", false},
		{"8a1f3c4e-2b7d-4f19-9c3e-5d6a7b8c9d0e0", false},
		{"../../../../../../../../../../../..", false},
		{"8a1f3c4e-2b7d-4f19-9c3e-5d6a7b8c9d/e", false},
		{"8a1f3c4e-2b7d-4f19-9c3e-5d6a7b8c9\x1b[e", false},
	}
	for _, tt := range tests {
		err := CheckObjectID(tt.in)
		if (err == nil) != tt.valid {
			t.Errorf("CheckObjectID(%q) = %v, want valid=%v", tt.in, err, tt.valid)
		}
		if err != nil {
			assertPrintable(t, err)
		}
	}
	if err := CheckObjectID(""); !errors.Is(err, ErrEmpty) {
		t.Errorf("CheckObjectID(\"\") = %v, want ErrEmpty", err)
	}
}

func TestCheckUserRef(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{"ann@contoso.com", ""},
		{"8a1f3c4e-2b7d-4f19-9c3e-5d6a7b8c9d0e", ""},
		{"", "empty"},
		{".", `"." is neither a user principal name`},
		{"..", `".." is neither`},
		{"ann", `"ann" is neither`},
		{"ann@contoso", "has no dot"},
	}
	for _, tt := range tests {
		err := CheckUserRef(tt.in)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("CheckUserRef(%q) = %v, want valid", tt.in, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("CheckUserRef(%q) = %v, want an error containing %q", tt.in, err, tt.wantErr)
		}
	}
}

// assertPrintable checks that an error naming a hostile value shows it
// escaped: the message itself must be safe to print.
func assertPrintable(t *testing.T, err error) {
	t.Helper()
	for _, r := range err.Error() {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || (r >= 0x202a && r <= 0x202e) {
			t.Errorf("error %q carries the raw control %U", err, r)
		}
	}
}

func FuzzCheckUserRef(f *testing.F) {
	f.Add("ann@contoso.com")
	f.Add("8a1f3c4e-2b7d-4f19-9c3e-5d6a7b8c9d0e")
	f.Add("../x")
	f.Fuzz(func(t *testing.T, s string) {
		if CheckUserRef(s) != nil {
			return
		}
		// Whatever passes must be a single, harmless path segment.
		if s == "." || s == ".." || strings.ContainsAny(s, "/?%\\ \x00") {
			t.Fatalf("CheckUserRef accepted %q", s)
		}
	})
}
