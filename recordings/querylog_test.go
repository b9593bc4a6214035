package recordings

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestQueryLogLines(t *testing.T) {
	var buf bytes.Buffer
	start := time.Date(2026, 3, 2, 9, 30, 0, 123456789, time.UTC)
	log, err := NewQueryLog(&buf, QueryLogHeader{
		Start:        start,
		Person:       "alice",
		Target:       "orders",
		Database:     "orders",
		Role:         "readonly",
		UpstreamRole: "jitgate_g3_ab12cd",
		RequestID:    7,
		GrantID:      3,
		SessionID:    12,
		ContractHash: "sha256:0123abcd",
		Parameters:   ParamsRedacted,
	})
	mustNil(t, err)

	mustNil(t, log.Record(QueryEvent{
		Start:    start.Add(time.Second),
		Duration: 1500 * time.Microsecond,
		Text:     "SELECT * FROM orders WHERE id = $1",
		Params:   RedactParams(ParamsRedacted, [][]byte{[]byte("42")}),
		Tag:      "SELECT 1",
		Rows:     1,
	}))
	mustNil(t, log.Record(QueryEvent{
		Start:        start.Add(2 * time.Second),
		Text:         "DROP TABLE orders \xff",
		ErrorCode:    "42501",
		ErrorMessage: "must be owner of table orders",
	}))
	mustNil(t, log.Close())

	lines := readJSONLines(t, &buf)
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want a header and 2 queries", len(lines))
	}
	header := lines[0]
	wantHeader := map[string]any{
		"type":          "header",
		"version":       float64(1),
		"start":         "2026-03-02T09:30:00.123456Z",
		"who":           "alice",
		"upstream_role": "jitgate_g3_ab12cd",
		"grant":         float64(3),
		"parameters":    "redacted",
	}
	for key, want := range wantHeader {
		if header[key] != want {
			t.Errorf("header %s = %v, want %v", key, header[key], want)
		}
	}
	if approvers, ok := header["approvers"].([]any); !ok || len(approvers) != 0 {
		t.Errorf("header approvers = %v, want []", header["approvers"])
	}

	first := lines[1]
	wantFirst := map[string]any{
		"type":        "query",
		"start":       "2026-03-02T09:30:01.123456Z",
		"duration_us": float64(1500),
		"tag":         "SELECT 1",
		"rows":        float64(1),
	}
	for key, want := range wantFirst {
		if first[key] != want {
			t.Errorf("first query %s = %v, want %v", key, first[key], want)
		}
	}
	if params, ok := first["params"].([]any); !ok || len(params) != 1 || params[0] != "[REDACTED len=2]" {
		t.Errorf("first query params = %v, want [[REDACTED len=2]]", first["params"])
	}

	second := lines[2]
	if second["error_code"] != "42501" {
		t.Errorf("second query error_code = %v, want 42501", second["error_code"])
	}
	if second["text"] != "DROP TABLE orders \ufffd" {
		t.Errorf("second query text = %q, want the invalid byte as U+FFFD", second["text"])
	}
	if _, ok := second["params"]; ok {
		t.Errorf("second query has params %v, but none were recorded", second["params"])
	}

	if err := log.Record(QueryEvent{Start: start}); !errors.Is(err, ErrClosed) {
		t.Errorf("Record after Close: err = %v, want ErrClosed", err)
	}
}

func TestQueryLogConcurrentRecords(t *testing.T) {
	var buf bytes.Buffer
	log, err := NewQueryLog(&buf, QueryLogHeader{Start: castStart})
	mustNil(t, err)

	const writers, perWriter = 8, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				if err := log.Record(QueryEvent{Start: castStart, Text: strings.Repeat("x", w+i)}); err != nil {
					t.Errorf("Record: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()

	if lines := readJSONLines(t, &buf); len(lines) != 1+writers*perWriter {
		t.Errorf("got %d lines, want %d", len(lines), 1+writers*perWriter)
	}
}

func TestQueryLogRequiresStart(t *testing.T) {
	if _, err := NewQueryLog(&bytes.Buffer{}, QueryLogHeader{}); err == nil {
		t.Error("NewQueryLog without Start: got nil error")
	}
}

func readJSONLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	scanner := bufio.NewScanner(buf)
	for scanner.Scan() {
		var line map[string]any
		if err := json.Unmarshal(scanner.Bytes(), &line); err != nil {
			t.Fatalf("line %d is not a JSON object: %v: %s", len(lines)+1, err, scanner.Text())
		}
		lines = append(lines, line)
	}
	return lines
}
