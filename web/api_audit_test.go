package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/jitgate/jitgate/web"
)

func TestAuditVerifyAndExport(t *testing.T) {
	h := newHarness(t)
	granted := h.grant()

	var report web.AuditReport
	h.call("GET", "/api/v1/audit/verify", bob, nil, http.StatusOK, &report)
	if !report.OK {
		t.Errorf("verify = not OK at %d: %s", report.BrokenSeq, report.Problem)
	}
	if report.Events < 4 {
		t.Errorf("events = %d, want at least config.loaded, request.created, decision, grant", report.Events)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(report.Head) {
		t.Errorf("head = %q, want a hex SHA-256", report.Head)
	}

	resp := h.call("GET", "/api/v1/audit/export?format=jsonl", bob, nil, http.StatusOK, nil)
	if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/jsonl") {
		t.Errorf("Content-Type = %q, want application/jsonl", ct)
	}
	var types []string
	var lastSeq int64
	sc := bufio.NewScanner(bytes.NewReader(resp.body))
	for sc.Scan() {
		var ev struct {
			Seq       int64  `json:"seq"`
			Type      string `json:"type"`
			RequestID int64  `json:"request_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("export line %q is not JSON: %v", sc.Text(), err)
		}
		if ev.Seq != lastSeq+1 {
			t.Errorf("event seq %d follows %d, want contiguous", ev.Seq, lastSeq)
		}
		lastSeq = ev.Seq
		types = append(types, ev.Type)
	}
	if int64(len(types)) != report.Events {
		t.Errorf("export has %d events, verify counted %d", len(types), report.Events)
	}
	if len(types) == 0 || types[0] != "config.loaded" {
		t.Errorf("first exported event = %v, want config.loaded", types)
	}
	if !strings.Contains(strings.Join(types, " "), "grant.created") {
		t.Errorf("exported types %v lack grant.created for grant %d", types, granted.Grant.ID)
	}

	csv := h.call("GET", "/api/v1/audit/export?format=csv", bob, nil, http.StatusOK, nil)
	lines := strings.Split(strings.TrimSpace(string(csv.body)), "\n")
	if !strings.HasPrefix(lines[0], "seq,time,type") {
		t.Errorf("csv header = %q, want seq,time,type,...", lines[0])
	}
	if int64(len(lines)-1) != report.Events {
		t.Errorf("csv has %d rows, want %d", len(lines)-1, report.Events)
	}

	later := h.call("GET", "/api/v1/audit/export?since=2099-01-01", bob, nil, http.StatusOK, nil)
	if len(bytes.TrimSpace(later.body)) != 0 {
		t.Errorf("export since 2099 = %q, want nothing", later.body)
	}
}

func TestAuditExportRejectsBadQuery(t *testing.T) {
	h := newHarness(t)
	for _, query := range []string{"format=xml", "since=yesterday", "since=2026-03-02&until=2026-03-01"} {
		resp := h.do(context.Background(), "GET", "/api/v1/audit/export?"+query, bob, nil)
		if resp.status != http.StatusBadRequest || errorOf(t, resp).Code != "bad_request" {
			t.Errorf("export?%s: status %d body %s, want 400 bad_request", query, resp.status, resp.body)
		}
	}
}

func TestHealthEndpoints(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		resp := h.do(context.Background(), "GET", p, "", nil)
		if resp.status != http.StatusOK || !strings.Contains(string(resp.body), `"ok"`) {
			t.Errorf("GET %s = %d %s, want 200 ok without a token", p, resp.status, resp.body)
		}
	}

	if err := h.srv.Store().Close(); err != nil {
		t.Fatalf("closing the store: %v", err)
	}
	resp := h.do(context.Background(), "GET", "/readyz", "", nil)
	if resp.status != http.StatusServiceUnavailable || errorOf(t, resp).Code != "unavailable" {
		t.Errorf("readyz with the store closed = %d %s, want 503 unavailable", resp.status, resp.body)
	}
	if resp := h.do(context.Background(), "GET", "/healthz", "", nil); resp.status != http.StatusOK {
		t.Errorf("healthz with the store closed = %d, want 200", resp.status)
	}
}
