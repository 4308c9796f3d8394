package change

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestNewPasswordMeetsEntraComplexity(t *testing.T) {
	const samples = 5000
	seen := make(map[string]bool, samples)
	for range samples {
		s, err := NewPassword()
		if err != nil {
			t.Fatal(err)
		}
		p := s.Reveal()
		if len(p) != PasswordLength {
			t.Fatalf("length %d, want %d", len(p), PasswordLength)
		}
		for _, set := range []string{passwordUpper, passwordLower, passwordDigits, passwordSymbols} {
			if !strings.ContainsAny(p, set) {
				t.Fatalf("a password lacks one of %q", set)
			}
		}
		for _, c := range p {
			if strings.ContainsRune("0Oo1lI$`\"'\\!&;|<>*?(){}[]~# %^,/", c) {
				t.Fatalf("a password holds %q, which looks alike or a shell reads", c)
			}
		}
		if !isLetter(p[0]) {
			t.Fatalf("a password starts with %q, not a letter", p[0])
		}
		if seen[p] {
			t.Fatal("the same password was drawn twice")
		}
		seen[p] = true
	}
}

// TestNewPasswordUsesEveryPosition guards against a shuffle that leaves the
// class characters where they were put: over many samples every position
// sees a digit and a symbol.
func TestNewPasswordUsesEveryPosition(t *testing.T) {
	digitAt := make([]bool, PasswordLength)
	symbolAt := make([]bool, PasswordLength)
	for range 2000 {
		s, err := NewPassword()
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range s.Reveal() {
			digitAt[i] = digitAt[i] || strings.ContainsRune(passwordDigits, c)
			symbolAt[i] = symbolAt[i] || strings.ContainsRune(passwordSymbols, c)
		}
	}
	for i := 1; i < PasswordLength; i++ {
		if !digitAt[i] || !symbolAt[i] {
			t.Errorf("position %d never held a digit (%v) or a symbol (%v)", i, digitAt[i], symbolAt[i])
		}
	}
}

type xmlDoc struct{ P Secret }

type holder struct {
	Password Secret
	hidden   Secret
	Ptr      *Secret
}

func TestSecretNeverPrints(t *testing.T) {
	s, err := NewPassword()
	if err != nil {
		t.Fatal(err)
	}
	value := s.Reveal()
	h := holder{Password: s, hidden: s, Ptr: &s}

	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s", "%T"} {
		outputs = append(outputs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, &s), fmt.Sprintf(verb, h), fmt.Sprintf(verb, &h))
	}
	outputs = append(outputs, fmt.Sprint(s, h), fmt.Sprintln(s), fmt.Errorf("creating the account: %v", h).Error())
	for _, v := range []any{s, &s, h, map[string]Secret{"password": s}, []Secret{s}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(b))
		b, err = xml.Marshal(xmlDoc{P: s})
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(b))
	}
	var logs bytes.Buffer
	for _, handler := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
		log := slog.New(handler)
		log.Info("account created", "password", s, "holder", h, slog.Any("ptr", &s))
		log.Info("account created", slog.Group("g", "password", s))
	}
	outputs = append(outputs, logs.String())

	for _, out := range outputs {
		if strings.Contains(out, value) {
			t.Errorf("the password shows in %q", out)
		}
	}
	if got := fmt.Sprint(s); got != Redacted {
		t.Errorf("fmt.Sprint = %q, want %q", got, Redacted)
	}
	if b, _ := json.Marshal(s); string(b) != `"[redacted]"` {
		t.Errorf("json = %s", b)
	}
	if !strings.Contains(logs.String(), Redacted) {
		t.Errorf("the log does not say [redacted]: %s", logs.String())
	}
	if s.Reveal() != value || s.IsZero() {
		t.Error("Reveal does not give the value back")
	}
	if (Secret{}).Reveal() != "" || !(Secret{}).IsZero() {
		t.Error("the zero Secret is not empty")
	}
}
