package recordings

import (
	"slices"
	"testing"
)

func TestRedactorRedact(t *testing.T) {
	redactor, err := NewRedactor([]string{
		`(?i)password\s*=\s*'[^']*'`,
		`\b\d{4}-\d{4}-\d{4}-\d{4}\b`,
	})
	mustNil(t, err)

	tests := []struct {
		name string
		in   string
		want string
	}{
		{"no match", "SELECT 1", "SELECT 1"},
		{"password literal", "ALTER ROLE x PASSWORD = 'hunter2'", "ALTER ROLE x [REDACTED]"},
		{"two card numbers", "1111-2222-3333-4444 and 5555-6666-7777-8888", "[REDACTED] and [REDACTED]"},
		{"both patterns", "password='a' 1111-2222-3333-4444", "[REDACTED] [REDACTED]"},
		{"dollar sign kept literal", "password='$1'", "[REDACTED]"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redactor.Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactorNilAndInvalid(t *testing.T) {
	var nilRedactor *Redactor
	if got := nilRedactor.Redact("secret"); got != "secret" {
		t.Errorf("nil Redactor changed its input to %q", got)
	}
	if _, err := NewRedactor([]string{"("}); err == nil {
		t.Error("NewRedactor with an invalid pattern: got nil error")
	}
	if _, err := NewRedactor([]string{""}); err == nil {
		t.Error("NewRedactor with an empty pattern: got nil error")
	}
}

func TestRedactParams(t *testing.T) {
	params := [][]byte{[]byte("alice"), nil, {0x00, 0x00, 0x01, 0x00}, []byte("line\nbreak"), []byte("\xff")}
	tests := []struct {
		mode string
		want []string
	}{
		{ParamsOff, nil},
		{ParamsOn, []string{"alice", "NULL", `\x00000100`, "line\nbreak", `\xff`}},
		{ParamsRedacted, []string{"[REDACTED len=5]", "NULL", "[REDACTED len=4]", "[REDACTED len=10]", "[REDACTED len=1]"}},
		{"", []string{"[REDACTED len=5]", "NULL", "[REDACTED len=4]", "[REDACTED len=10]", "[REDACTED len=1]"}},
		{"typo", []string{"[REDACTED len=5]", "NULL", "[REDACTED len=4]", "[REDACTED len=10]", "[REDACTED len=1]"}},
	}
	for _, tt := range tests {
		t.Run("mode "+tt.mode, func(t *testing.T) {
			got := RedactParams(tt.mode, params)
			if !slices.Equal(got, tt.want) {
				t.Errorf("RedactParams(%q) = %q, want %q", tt.mode, got, tt.want)
			}
			if tt.want == nil && got != nil {
				t.Errorf("RedactParams(%q) = %q, want nil", tt.mode, got)
			}
		})
	}
}
