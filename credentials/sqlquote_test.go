package credentials

import "testing"

func TestQuoteLiteral(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "abc", "'abc'"},
		{"single quote", "it's", "'it''s'"},
		{"backslash", `a\b`, `E'a\\b'`},
		{"quote and backslash", `\'; DROP ROLE x; --`, `E'\\''; DROP ROLE x; --'`},
		{"empty", "", "''"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := quoteLiteral(tt.in)
			mustNil(t, err)
			if got != tt.want {
				t.Errorf("quoteLiteral(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
	if _, err := quoteLiteral("a\x00b"); err == nil {
		t.Error("quoteLiteral with a NUL byte: got nil error")
	}
}

func TestQuoteIdentifier(t *testing.T) {
	if got, want := quoteIdentifier(`weird"role`), `"weird""role"`; got != want {
		t.Errorf("quoteIdentifier = %s, want %s", got, want)
	}
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
