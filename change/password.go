package change

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
)

// PasswordLength is the length of a generated password: well inside
// Entra's 8 to 256 characters, and about 140 bits from the alphabet below.
const PasswordLength = 24

// The alphabet leaves out characters that look alike (0 O o 1 l I) and
// symbols that a shell, a YAML file or a CSV would treat specially, so the
// password survives being pasted anywhere. Entra accepts every symbol here.
const (
	passwordUpper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	passwordLower   = "abcdefghijkmnpqrstuvwxyz"
	passwordDigits  = "23456789"
	passwordSymbols = "@-_+=.:"
)

// Redacted is what a Secret prints as.
const Redacted = "[redacted]"

// Secret holds a password. Every way of printing, logging or marshalling it
// gives [redacted]; Reveal is the only way to the value, so a password can
// reach the screen or a file only where the code says so.
//
// The value sits inside a closure: fmt prints an unexported field holding a
// Secret through reflection, without calling its methods, and with a verb
// it does not expect (%s on a pointer) it even prints what a pointer points
// to; a func prints only as an address, whatever the verb.
type Secret struct {
	value func() string
}

// NewSecret wraps a value the caller already has.
func NewSecret(s string) Secret {
	return Secret{value: func() string { return s }}
}

// Reveal returns the value.
func (s Secret) Reveal() string {
	if s.value == nil {
		return ""
	}
	return s.value()
}

// IsZero reports whether the secret holds nothing.
func (s Secret) IsZero() bool { return s.Reveal() == "" }

func (s Secret) String() string   { return Redacted }
func (s Secret) GoString() string { return Redacted }

// Format prints [redacted] for every verb, %x and %q included.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(Redacted) }
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(Redacted) }

// NewPassword draws a password from crypto/rand that meets Entra's
// complexity rule (three of the four classes) with all four: one character
// of each class, the rest from the whole alphabet, shuffled. It starts with
// a letter, so that it is never read as a command-line option.
func NewPassword() (Secret, error) {
	all := passwordUpper + passwordLower + passwordDigits + passwordSymbols
	b := make([]byte, PasswordLength)
	for i, set := range []string{passwordUpper, passwordLower, passwordDigits, passwordSymbols} {
		c, err := randomByte(set)
		if err != nil {
			return Secret{}, err
		}
		b[i] = c
	}
	for i := 4; i < len(b); i++ {
		c, err := randomByte(all)
		if err != nil {
			return Secret{}, err
		}
		b[i] = c
	}
	for i := len(b) - 1; i > 0; i-- {
		j, err := randomInt(i + 1)
		if err != nil {
			return Secret{}, err
		}
		b[i], b[j] = b[j], b[i]
	}
	if !isLetter(b[0]) {
		// Swap a letter to the front: at least two exist (upper and lower).
		for i := 1; i < len(b); i++ {
			if isLetter(b[i]) {
				b[0], b[i] = b[i], b[0]
				break
			}
		}
	}
	return NewSecret(string(b)), nil
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func randomByte(set string) (byte, error) {
	i, err := randomInt(len(set))
	if err != nil {
		return 0, err
	}
	return set[i], nil
}

func randomInt(n int) (int, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0, fmt.Errorf("drawing a password from the system's random source: %w", err)
	}
	return int(v.Int64()), nil
}
