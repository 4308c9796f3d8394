// Package ident checks the identifiers an operator types before they go into
// a Microsoft Graph URL: a user principal name or an object id. A value such
// as "." or "a/b" is not refused by Graph but changes which resource a path
// names (`/users/.` is the user list), so the check is made where the value
// comes in, and the error names the value so the operator can correct it.
package ident

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits Entra documents for a user principal name. The part before the @
// may hold at most 113 characters; the domain is a DNS name, so at most 253
// characters in labels of at most 63. These are generous upper bounds: a
// lookup of a name that is too long for a tenant would only answer 404, but
// refusing a real account's name would lock the operator out of it.
const (
	MaxUPNLocalLength  = 113
	MaxDomainLength    = 253
	MaxDomainLabelSize = 63
)

// ErrEmpty is returned for an empty identifier, so a caller can tell a
// missing value from a malformed one.
var ErrEmpty = errors.New("empty")

// CheckUPN reports whether s is a user principal name as Entra accepts one:
// alias@domain, with the alias made of the characters Entra allows
// (A-Z a-z 0-9 ' . - _ ! # ^ ~), not ending with a period, and the domain a
// DNS name with at least one dot. Guest names such as
// "ann_contoso.com#EXT#@fabrikam.onmicrosoft.com" pass.
func CheckUPN(s string) error {
	if s == "" {
		return fmt.Errorf("user principal name: %w", ErrEmpty)
	}
	at := strings.IndexByte(s, '@')
	if at < 0 {
		return fmt.Errorf("%q is not a user principal name: it has no @ (expected user@domain)", s)
	}
	local, domain := s[:at], s[at+1:]
	if strings.IndexByte(domain, '@') >= 0 {
		return fmt.Errorf("%q is not a user principal name: it has more than one @", s)
	}
	if err := checkUPNLocal(local); err != nil {
		return fmt.Errorf("%q is not a user principal name: %w", s, err)
	}
	if err := CheckDomain(domain); err != nil {
		return fmt.Errorf("%q is not a user principal name: %w", s, err)
	}
	return nil
}

func checkUPNLocal(local string) error {
	switch {
	case local == "":
		return errors.New("nothing before the @")
	case len(local) > MaxUPNLocalLength:
		return fmt.Errorf("%d characters before the @, at most %d are allowed", len(local), MaxUPNLocalLength)
	case strings.HasSuffix(local, "."):
		return errors.New("a period right before the @")
	}
	for i := 0; i < len(local); i++ {
		if !upnLocalChar(local[i]) {
			return fmt.Errorf("%s is not allowed before the @", describeByte(local, i))
		}
	}
	return nil
}

// upnLocalChar is the set Entra documents for the part before the @.
func upnLocalChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("'.-_!#^~", c) >= 0
}

// CheckDomain reports whether s is a DNS domain name with at least one dot,
// as the domain of a user principal name must be.
func CheckDomain(s string) error {
	switch {
	case s == "":
		return errors.New("nothing after the @")
	case len(s) > MaxDomainLength:
		return fmt.Errorf("the domain has %d characters, at most %d are allowed", len(s), MaxDomainLength)
	case strings.IndexByte(s, '.') < 0:
		return fmt.Errorf("the domain %q has no dot", s)
	}
	for _, label := range strings.Split(s, ".") {
		switch {
		case label == "":
			return fmt.Errorf("the domain %q has an empty label", s)
		case len(label) > MaxDomainLabelSize:
			return fmt.Errorf("the domain %q has a label longer than %d characters", s, MaxDomainLabelSize)
		case label[0] == '-' || label[len(label)-1] == '-':
			return fmt.Errorf("the domain %q has a label starting or ending with a hyphen", s)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return fmt.Errorf("%s is not allowed in the domain", describeByte(label, i))
			}
		}
	}
	return nil
}

// CheckObjectID reports whether s is an Entra object id: a GUID written as
// 8-4-4-4-12 hexadecimal digits, without braces.
func CheckObjectID(s string) error {
	if s == "" {
		return fmt.Errorf("object id: %w", ErrEmpty)
	}
	if len(s) != 36 {
		return fmt.Errorf("%q is not an object id: expected a GUID such as 00000000-0000-0000-0000-000000000000", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return fmt.Errorf("%q is not an object id: expected a GUID such as 00000000-0000-0000-0000-000000000000", s)
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return fmt.Errorf("%q is not an object id: expected a GUID such as 00000000-0000-0000-0000-000000000000", s)
			}
		}
	}
	return nil
}

// CheckUserRef reports whether s names a user the way the command line takes
// one: a user principal name when it holds an @, otherwise an object id.
func CheckUserRef(s string) error {
	if s == "" {
		return fmt.Errorf("user: %w", ErrEmpty)
	}
	if strings.IndexByte(s, '@') >= 0 {
		return CheckUPN(s)
	}
	if err := CheckObjectID(s); err != nil {
		return fmt.Errorf("%q is neither a user principal name (user@domain) nor an object id (a GUID)", s)
	}
	return nil
}

// describeByte names the character at s[i] for an error message, quoted so
// that a control character or a stray byte is shown escaped, never raw.
func describeByte(s string, i int) string {
	r, size := utf8.DecodeRuneInString(s[i:])
	switch {
	case r == utf8.RuneError && size <= 1:
		return fmt.Sprintf("the byte %q", s[i:i+1])
	case r == ' ':
		return "a space"
	}
	return fmt.Sprintf("the character %q", string(r))
}
