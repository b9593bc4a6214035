package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseOptionsDefaults(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		runs     int
		duration time.Duration
		idle     int
		outDir   string
		docs     string
	}{
		{"full run", nil, fullRuns, fullDuration, fullIdle, "bench/results", "docs/benchmarks.md"},
		{"smoke", []string{"-smoke"}, 1, smokeDuration, smokeIdle, "", ""},
		{"only some groups leaves the docs alone", []string{"-only", "pg,ssh"}, fullRuns, fullDuration, fullIdle, "bench/results", ""},
		{"empty -docs turns the page off", []string{"-docs", ""}, fullRuns, fullDuration, fullIdle, "bench/results", ""},
		{"flags override", []string{"-runs", "7", "-duration", "15s", "-idle", "10"}, 7, 15 * time.Second, 10, "bench/results", "docs/benchmarks.md"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if o.runCount != tt.runs {
				t.Errorf("runs = %d, want %d", o.runCount, tt.runs)
			}
			if o.duration != tt.duration {
				t.Errorf("duration = %v, want %v", o.duration, tt.duration)
			}
			if o.idle != tt.idle {
				t.Errorf("idle = %d, want %d", o.idle, tt.idle)
			}
			if o.outDir != tt.outDir {
				t.Errorf("out = %q, want %q", o.outDir, tt.outDir)
			}
			if o.docsPath != tt.docs {
				t.Errorf("docs = %q, want %q", o.docsPath, tt.docs)
			}
		})
	}
}

func TestParseOptionsRejects(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unknown group", []string{"-only", "pg,disk"}, `unknown group "disk"`},
		{"zero runs", []string{"-runs", "-1"}, "-runs -1"},
		{"too long", []string{"-duration", "1h"}, "-duration 1h0m0s"},
		{"stray argument", []string{"extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseOptions(tt.args)
			if err == nil {
				t.Fatal("parseOptions returned no error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseOptionsMatch(t *testing.T) {
	o, err := parseOptions([]string{"-match", `pgbench -S -c (8|32)$`})
	if err != nil {
		t.Fatal(err)
	}
	if !o.match.MatchString("pgbench -S -c 32") {
		t.Errorf("-match %v skips pgbench -S -c 32", o.match)
	}
	if o.match.MatchString("pgbench -S -c 8 over TLS") {
		t.Errorf("-match %v selects pgbench -S -c 8 over TLS", o.match)
	}
	if o.docsPath != "" {
		t.Errorf("a run of some workloads writes the page %q, want none", o.docsPath)
	}
	if _, err := parseOptions([]string{"-match", "("}); err == nil || !strings.Contains(err.Error(), "-match") {
		t.Errorf("an invalid -match gave %v, want an error naming -match", err)
	}
}
