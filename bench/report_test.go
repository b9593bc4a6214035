package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sampleResults returns results with one workload per group, jitgate
// missing on the SSH transfer, for the report tests.
func sampleResults() *Results {
	pg := func(d, b, j []float64) WorkloadResult {
		w := WorkloadResult{
			Name: "pgbench -S -c 8", Group: groupPG, Unit: "TPS", Better: higherIsBetter,
			PathOrder: []string{pathDirect, pathPgbouncer, pathJitgate},
			Paths: map[string]PathResult{
				pathDirect:    {Summary: summarize(d)},
				pathPgbouncer: {Summary: summarize(b), Extra: map[string]Summary{"proxy_cpu_us_per_txn": summarize([]float64{20, 21})}},
				pathJitgate:   {Summary: summarize(j), Extra: map[string]Summary{"proxy_cpu_us_per_txn": summarize([]float64{25, 26})}},
			},
		}
		w.addRatios()
		return w
	}
	ssh := WorkloadResult{
		Name: "SSH 1 GiB upload, aes128-gcm@openssh.com", Group: groupSSH, Unit: "MiB/s", Better: higherIsBetter,
		PathOrder: []string{pathDirect, pathRelay, pathJitgate},
		Paths: map[string]PathResult{
			pathDirect:  {Summary: summarize([]float64{500, 510})},
			pathRelay:   {Summary: summarize([]float64{260, 250})},
			pathJitgate: {Error: "run 1 of 5: jitgate serve does not listen on listen.ssh"},
		},
	}
	ssh.addRatios()
	latency := WorkloadResult{
		Name: "approval to first query result", Group: groupLatency, Unit: "ms", Better: lowerIsBetter,
		PathOrder: []string{pathJitgate},
		Paths:     map[string]PathResult{pathJitgate: {Summary: summarizeLatency([]float64{10, 12, 11, 60})}},
	}
	memory := WorkloadResult{
		Name: "1000 idle SSH sessions", Group: groupMemory, Unit: "KiB per session", Better: lowerIsBetter,
		PathOrder: []string{pathRelay, pathJitgate},
		Paths: map[string]PathResult{
			pathRelay:   {Summary: summarize([]float64{150})},
			pathJitgate: {Summary: summarize([]float64{90})},
		},
	}
	memory.addRatios()
	r := &Results{
		GeneratedAt: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC),
		Mode:        "full",
		Command:     "go run ./bench",
		Machine:     Machine{CPUs: 2, CPUModel: "Test CPU"},
		Settings:    Settings{Runs: 2, Duration: "10s", PgbenchScale: 10, TransferBytes: 1 << 30},
		Workloads:   []WorkloadResult{pg([]float64{30000, 31000}, []float64{20000, 21000}, []float64{18000, 19000}), ssh, latency, memory},
	}
	r.Targets = evaluateTargets(r)
	return r
}

func TestAddRatios(t *testing.T) {
	w := sampleResults().Workloads[0]
	tests := []struct {
		path, ref string
		want      float64
	}{
		{pathPgbouncer, pathDirect, 20500.0 / 30500},
		{pathJitgate, pathDirect, 18500.0 / 30500},
		{pathJitgate, pathPgbouncer, 18500.0 / 20500},
	}
	for _, tt := range tests {
		got, ok := w.Ratios[tt.path]["to_"+tt.ref]
		if !ok {
			t.Errorf("no ratio %s to %s", tt.path, tt.ref)
			continue
		}
		if diff := got - tt.want; diff > 1e-12 || diff < -1e-12 {
			t.Errorf("ratio %s to %s = %v, want %v", tt.path, tt.ref, got, tt.want)
		}
	}
	if _, ok := w.Ratios[pathDirect]; ok {
		t.Errorf("direct has ratios %v, want none because it is the reference", w.Ratios[pathDirect])
	}
}

func TestEvaluateTargets(t *testing.T) {
	r := sampleResults()
	byGoal := map[string]TargetResult{}
	for _, tr := range r.Targets {
		byGoal[tr.Goal] = tr
	}
	tests := []struct {
		goal, status, measured string
	}{
		{"pgbench -S -c 8: jitgate TPS at least pgbouncer's", targetMissed, "0.90×, 10% short of 1.00×"},
		{"pgbench -S -c 8: jitgate CPU per transaction at most pgbouncer's", targetMissed, "jitgate 25.5 µs CPU/txn"},
		{"pgbench -S -c 1: jitgate TPS at least pgbouncer's", targetNotMeasured, "workload not run"},
		{"SSH 1 GiB upload, aes128-gcm@openssh.com: jitgate at least 0.95× the minimal relay", targetNotMeasured, "no numbers for jitgate"},
		{"pgbench -S -c 8: jitgate CPU per transaction at most pgbouncer's", targetMissed, "24% over 1.00×"},
		{"approval to first query result: p99 at most 50 ms", targetMissed, "over 4"},
		{"1000 idle SSH sessions: jitgate at most 100 KiB per session", targetMet, "90.0 KiB per session"},
	}
	for _, tt := range tests {
		t.Run(tt.goal, func(t *testing.T) {
			got, ok := byGoal[tt.goal]
			if !ok {
				t.Fatalf("no target %q", tt.goal)
			}
			if got.Status != tt.status {
				t.Errorf("status = %q, want %q (measured %q)", got.Status, tt.status, got.Measured)
			}
			if !strings.Contains(got.Measured, tt.measured) {
				t.Errorf("measured = %q, want it to contain %q", got.Measured, tt.measured)
			}
		})
	}
}

// A ratio just under its bound must not read as the bound, and a gap
// under 1% must not read as 0%.
func TestNarrowMissText(t *testing.T) {
	value := 320.0 / 338
	if got, want := formatRatio(value, 0.95), "0.947"; got != want {
		t.Errorf("formatRatio(%v, 0.95) = %q, want %q", value, got, want)
	}
	if got, want := missText(value, 0.95, true), "0.3% short of 0.95×"; got != want {
		t.Errorf("missText(%v, 0.95, true) = %q, want %q", value, got, want)
	}
	if got, want := formatRatio(0.93, 0.95), "0.93"; got != want {
		t.Errorf("formatRatio(0.93, 0.95) = %q, want %q", got, want)
	}
	if got, want := missText(1.45, 1, false), "45% over 1.00×"; got != want {
		t.Errorf("missText(1.45, 1, false) = %q, want %q", got, want)
	}
}

func TestRenderMarkdown(t *testing.T) {
	md := renderMarkdown(sampleResults(), "tps.svg")
	for _, want := range []string{
		"| pgbench -S -c 8 | TPS, higher is better | 30,500 (30,000–31,000) | 20,500 (20,000–21,000) | 18,500 (18,000–19,000) | 0.67× | 0.61× | 0.90× |",
		"| SSH 1 GiB upload, aes128-gcm@openssh.com | MiB/s, higher is better | 505 (500–510) | 255 (250–260) | did not run | 0.50× | n/a | n/a |",
		"| approval to first query result | 11.5 | 58.6 | 10.0 | 60.0 | 4 |",
		"| 1000 idle SSH sessions | KiB per session, lower is better | 150 | 90.0 | 0.60× |",
		"![pgbench -S TPS by client count for each path](tps.svg)",
		"- SSH 1 GiB upload, aes128-gcm@openssh.com, jitgate: run 1 of 5: jitgate serve does not listen on listen.ssh",
		"| pgbench -S -c 8 | 20.5 (20.0–21.0) | 25.5 (25.0–26.0) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks the line\n%s\nfull output:\n%s", want, md)
		}
	}
	if strings.Contains(md, "NaN") {
		t.Errorf("Markdown contains NaN:\n%s", md)
	}
}

func TestWriteJSON(t *testing.T) {
	dir := t.TempDir()
	if err := writeJSON(dir, sampleResults()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "latest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var decoded struct {
		Workloads []struct {
			Name  string `json:"name"`
			Paths map[string]struct {
				Median float64   `json:"median"`
				Min    float64   `json:"min"`
				Max    float64   `json:"max"`
				Runs   []float64 `json:"runs"`
				Error  string    `json:"error"`
			} `json:"paths"`
			Ratios map[string]map[string]float64 `json:"ratios"`
		} `json:"workloads"`
	}
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatalf("latest.json does not decode: %v", err)
	}
	pg := decoded.Workloads[0]
	bouncer := pg.Paths[pathPgbouncer]
	if bouncer.Median != 20500 || bouncer.Min != 20000 || bouncer.Max != 21000 || len(bouncer.Runs) != 2 {
		t.Errorf("pgbouncer = %+v, want median 20500, min 20000, max 21000 and 2 runs", bouncer)
	}
	if got := pg.Ratios[pathJitgate]["to_pgbouncer"]; got < 0.9 || got > 0.91 {
		t.Errorf("jitgate to_pgbouncer = %v, want about 0.90", got)
	}
	if e := decoded.Workloads[1].Paths[pathJitgate].Error; e == "" {
		t.Error("the failed SSH path has no error in latest.json")
	}
}

func TestReplaceBetween(t *testing.T) {
	page := "# Benchmarks\n\nintro\n\n" + docsBegin + "\nold table\n" + docsEnd + "\n\n## Analysis\n"
	got, err := replaceBetween(page, "new table\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Benchmarks\n\nintro\n\n" + docsBegin + "\n\nnew table\n\n" + docsEnd + "\n\n## Analysis\n"
	if got != want {
		t.Errorf("page =\n%s\nwant\n%s", got, want)
	}
	if _, err := replaceBetween("# no markers\n", "x"); err == nil {
		t.Error("a page without markers gave no error")
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{33312.6, "33,313"},
		{1000, "1,000"},
		{-1234567, "-1,234,567"},
		{450.4, "450"},
		{20.46, "20.5"},
		{0.254, "0.25"},
		{0, "0"},
	}
	for _, tt := range tests {
		if got := formatNumber(tt.v); got != tt.want {
			t.Errorf("formatNumber(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestTPSChartSVG(t *testing.T) {
	chart, ok := tpsChart(sampleResults())
	if !ok {
		t.Fatal("no chart from results with pgbench -S -c 8")
	}
	svg := chart.svg()
	for _, want := range []string{`<svg xmlns="http://www.w3.org/2000/svg"`, ">-c 8</text>", ">30,500</text>", ">jitgate</text>", "</svg>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
		t.Errorf("SVG contains NaN or Inf:\n%s", svg)
	}
	if _, ok := tpsChart(&Results{}); ok {
		t.Error("results without pgbench -S workloads gave a chart")
	}
}

func TestNiceCeiling(t *testing.T) {
	tests := []struct{ v, want float64 }{{33313, 40000}, {59039, 60000}, {8200, 10000}, {1, 1}, {0, 1}, {180, 200}, {24000, 25000}}
	for _, tt := range tests {
		if got := niceCeiling(tt.v); got != tt.want {
			t.Errorf("niceCeiling(%v) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestSlug(t *testing.T) {
	if got, want := slug("SSH 1 GiB upload, aes128-gcm@openssh.com"), "ssh-1-gib-upload-aes128-gcm-openssh-com"; got != want {
		t.Errorf("slug = %q, want %q", got, want)
	}
}
