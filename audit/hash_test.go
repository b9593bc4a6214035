package audit

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/store"
)

// TestEventHashMatchesPython checks the hash input against an independent
// implementation: the expected hash came from Python 3.11, hashing
// json.dumps(input, ensure_ascii=False, separators=(",", ":"),
// sort_keys=True) as doc.go describes. The details text is Python's
// default json.dumps output, with spaces, \u escapes and a surrogate pair,
// so the Go side has to canonicalize it.
func TestEventHashMatchesPython(t *testing.T) {
	details := `{"b": 1, "a": [true, false, null, -7, {"y": "x", "x": "y"}], "\u00e9": "caf\u00e9", ` +
		`"Z": "line\nbreak\ttab\u0001ctl \"q\" back\\slash <&> \u2028 \u007f \b\f\r", "\uffff": 0, "\ud83d\ude00": "smile"}`
	e := &store.Event{
		Seq:       42,
		Time:      time.Date(2026, 3, 14, 10, 26, 53, 589793000, time.FixedZone("CET", 3600)),
		Type:      "grant.revoked",
		Actor:     `bob "the" approver`,
		RequestID: 7,
		GrantID:   8,
		Details:   []byte(details),
		PrevHash:  strings.Repeat("ab", 32),
	}
	const want = "c3b14ce68afafe5db6b6bc0c12cec394e813b0f227afa0b3a560a564cdba6ef2"
	got, err := EventHash(e)
	if err != nil {
		t.Fatalf("EventHash: %v", err)
	}
	if got != want {
		input, _ := hashInput(e)
		t.Errorf("EventHash = %s, want %s\nhash input: %s", got, want, input)
	}
}

func TestCanonicalObject(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want string
	}{
		{"empty", `{}`, `{}`},
		{"whitespace", " {\n \"a\" : 1 ,\t\"b\":[ 1 , 2 ] }\n", `{"a":1,"b":[1,2]}`},
		{"keys sorted by code point", `{"é":1,"z":2,"Z":3,"😀":4,"￿":5}`, `{"Z":3,"z":2,"é":1,"￿":5,"😀":4}`},
		{"nested objects sorted", `{"o":{"b":{"d":1,"c":2},"a":null}}`, `{"o":{"a":null,"b":{"c":2,"d":1}}}`},
		{"number literals kept", `{"a":1.50,"b":1e2,"c":-0,"d":12345678901234567890}`, `{"a":1.50,"b":1e2,"c":-0,"d":12345678901234567890}`},
		{"escapes", `{"s":"\u0041\/\u00e9\n\u001f\u007f\u2028"}`, "{\"s\":\"A/é\\n\\u001f\x7f\u2028\"}"},
		{"html kept", `{"s":"<a&b>"}`, `{"s":"<a&b>"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := canonicalObject([]byte(tc.in))
			if err != nil {
				t.Fatalf("canonicalObject(%q): %v", tc.in, err)
			}
			if string(got) != tc.want {
				t.Errorf("canonicalObject(%q) = %s, want %s", tc.in, got, tc.want)
			}
			again, err := canonicalObject(got)
			if err != nil || string(again) != string(got) {
				t.Errorf("canonical form is not stable: %s became %s (%v)", got, again, err)
			}
		})
	}
}

func TestCanonicalObjectRejects(t *testing.T) {
	cases := []struct {
		name string
		in   string
	}{
		{"array", `[1]`},
		{"string", `"x"`},
		{"null", `null`},
		{"empty input", ``},
		{"duplicate key", `{"a":1,"a":2}`},
		{"nested duplicate key", `{"o":{"a":1,"a":1}}`},
		{"trailing data", `{"a":1} {}`},
		{"truncated", `{"a":`},
		{"invalid", `{"a":tru}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := canonicalObject([]byte(tc.in)); err == nil {
				t.Errorf("canonicalObject(%q) = %s, want an error", tc.in, got)
			}
		})
	}
	if _, err := canonicalObject([]byte(`[]`)); !errors.Is(err, errNotObject) {
		t.Errorf("canonicalObject([]) error = %v, want errNotObject", err)
	}
}
