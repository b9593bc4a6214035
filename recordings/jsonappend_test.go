package recordings

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"
)

// queryEventLine is the JSON form of QueryEvent as encoding/json writes
// it, the reference for appendQueryEvent.
type queryEventLine struct {
	Type         string   `json:"type"`
	Start        string   `json:"start"`
	DurationUS   int64    `json:"duration_us"`
	Text         string   `json:"text"`
	Params       []string `json:"params,omitempty"`
	Tag          string   `json:"tag,omitempty"`
	Rows         int64    `json:"rows"`
	ErrorCode    string   `json:"error_code,omitempty"`
	ErrorMessage string   `json:"error_message,omitempty"`
}

func referenceLine(t testing.TB, ev QueryEvent) []byte {
	line, err := marshalLine(queryEventLine{
		Type: queryLogTypeQuery, Start: formatLogTime(ev.Start), DurationUS: ev.Duration.Microseconds(),
		Text: ev.Text, Params: ev.Params, Tag: ev.Tag, Rows: ev.Rows,
		ErrorCode: ev.ErrorCode, ErrorMessage: ev.ErrorMessage,
	})
	if err != nil {
		t.Fatal(err)
	}
	return line
}

// checkSameLine compares appendQueryEvent with encoding/json: byte for
// byte when every string is valid UTF-8, and as decoded values otherwise,
// because the two write U+FFFD differently.
func checkSameLine(t testing.TB, ev QueryEvent) {
	got := appendQueryEvent(nil, ev, &secondStamp{})
	want := referenceLine(t, ev)
	valid := utf8.ValidString(ev.Text) && utf8.ValidString(ev.Tag) &&
		utf8.ValidString(ev.ErrorCode) && utf8.ValidString(ev.ErrorMessage)
	for _, p := range ev.Params {
		valid = valid && utf8.ValidString(p)
	}
	if valid {
		if !bytes.Equal(got, want) {
			t.Fatalf("line for %+v\n got %s\nwant %s", ev, got, want)
		}
		return
	}
	var gotValue, wantValue map[string]any
	if err := json.Unmarshal(got, &gotValue); err != nil {
		t.Fatalf("line %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal(want, &wantValue); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotValue, wantValue) {
		t.Fatalf("line for %+v decodes to %v, want %v", ev, gotValue, wantValue)
	}
}

func TestAppendQueryEventMatchesEncodingJSON(t *testing.T) {
	start := time.Date(2026, 12, 4, 23, 59, 59, 123456789, time.FixedZone("CET", 3600))
	tests := []QueryEvent{
		{Start: start, Duration: 1500 * time.Microsecond, Text: "SELECT 1", Tag: "SELECT 1", Rows: 1},
		{Start: start, Text: "", Rows: 0},
		{Start: start, Text: "SELECT $1, $2", Params: []string{"a\"b\\c", "line\nbreak\ttab"}, Tag: "SELECT 1", Rows: 1},
		{Start: start, Text: "bad", ErrorCode: "42601", ErrorMessage: "syntax error at or near \"bad\""},
		{Start: start, Text: "control \x00\x01\x08\x0c\x1f\x7f end"},
		{Start: start, Text: "separators \u2028 and \u2029, <html> & more, ünïcödé 日本"},
		{Start: start, Text: "invalid \xff\xfe bytes", Params: []string{"\xc3"}},
		{Start: start, Text: "x", Params: []string{}},
	}
	for _, ev := range tests {
		checkSameLine(t, ev)
	}
}

func FuzzAppendQueryEvent(f *testing.F) {
	f.Add("SELECT 1", "p\"1", "SELECT 1", "", int64(3))
	f.Add("\x00\u2028\xff", "\\", "", "boom\n", int64(-1))
	f.Fuzz(func(t *testing.T, text, param, tag, message string, rows int64) {
		checkSameLine(t, QueryEvent{
			Start: time.Unix(1_700_000_000, 0), Text: text, Params: []string{param, text},
			Tag: tag, Rows: rows, ErrorMessage: message,
		})
	})
}

func TestSecondStampMatchesAppendFormat(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	times := []time.Time{
		time.Date(2026, 12, 4, 23, 59, 59, 123456789, cet),
		time.Date(2026, 12, 4, 23, 59, 59, 999999999, cet), // same second
		time.Date(2026, 12, 5, 0, 0, 0, 1000, cet),         // next second, next local day
		time.Date(2026, 12, 4, 23, 59, 59, 0, cet),         // back to an earlier second
		time.Date(1969, 12, 31, 23, 59, 59, 500000, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 7000, time.UTC),
		time.Now(),
	}
	var stamp secondStamp
	for _, tm := range times {
		got := string(stamp.appendTime([]byte("x"), tm))
		want := "x" + tm.UTC().Format(logTimeLayout)
		if got != want {
			t.Errorf("stamp of %v = %q, want %q", tm, got, want)
		}
	}
}

func FuzzSecondStamp(f *testing.F) {
	f.Add(int64(1_700_000_000), int64(999_999), int64(1_700_000_001), int64(0))
	f.Add(int64(-1), int64(999_999_999), int64(-1), int64(1))
	f.Fuzz(func(t *testing.T, sec1, nsec1, sec2, nsec2 int64) {
		var stamp secondStamp
		for _, tm := range []time.Time{time.Unix(sec1, nsec1), time.Unix(sec2, nsec2), time.Unix(sec1, nsec2)} {
			got := string(stamp.appendTime(nil, tm))
			if want := tm.UTC().Format(logTimeLayout); got != want {
				t.Fatalf("stamp of %v = %q, want %q", tm, got, want)
			}
		}
	})
}
