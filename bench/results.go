package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Path names. Each group compares jitgate with a direct connection and
// with a reference proxy: pgbouncer for Postgres, the minimal relay for
// SSH.
const (
	pathDirect    = "direct"
	pathPgbouncer = "pgbouncer"
	pathRelay     = "sshrelay"
	pathJitgate   = "jitgate"
)

// Which way is better for a workload's unit.
const (
	higherIsBetter = "higher"
	lowerIsBetter  = "lower"
)

// Results is the content of latest.json.
type Results struct {
	GeneratedAt time.Time        `json:"generated_at"`
	Mode        string           `json:"mode"` // "full" or "smoke"
	Command     string           `json:"command"`
	Machine     Machine          `json:"machine"`
	Settings    Settings         `json:"settings"`
	Workloads   []WorkloadResult `json:"workloads"`
	Targets     []TargetResult   `json:"targets"`
}

// Settings are the options the numbers were measured with.
type Settings struct {
	Runs            int      `json:"runs"`
	Duration        string   `json:"pgbench_duration"`
	PgbenchScale    int      `json:"pgbench_scale"`
	TransferBytes   int64    `json:"ssh_transfer_bytes"`
	SetupLogins     int      `json:"ssh_setup_logins_per_run"`
	IdleConnections int      `json:"idle_connections"`
	LatencySamples  int      `json:"latency_samples"`
	Profiled        bool     `json:"jitgate_profiled"`
	Groups          []string `json:"groups"`
}

// WorkloadResult is one workload measured on each of its paths.
type WorkloadResult struct {
	Name    string `json:"name"`
	Group   string `json:"group"`
	Unit    string `json:"unit"`
	Better  string `json:"better"`
	Command string `json:"command"`
	// PathOrder lists the paths in the order they ran in each round.
	PathOrder []string              `json:"path_order"`
	Paths     map[string]PathResult `json:"paths"`
	// Ratios maps a path to its median divided by the median of each path
	// before it in PathOrder, keyed "to_direct", "to_pgbouncer" or
	// "to_sshrelay".
	Ratios map[string]map[string]float64 `json:"ratios,omitempty"`
}

// PathResult is one path's measurements of one workload.
type PathResult struct {
	Summary
	// Extra holds secondary measurements per run, such as the proxy's
	// CPU time per transaction, keyed by name with the unit in the name.
	Extra map[string]Summary `json:"extra,omitempty"`
	// Error is the reason the path has fewer runs than requested, or
	// empty when it has all of them.
	Error string `json:"error,omitempty"`
}

// TargetResult is one goal of the performance work, checked against this
// run's numbers.
type TargetResult struct {
	Goal     string `json:"goal"`
	Status   string `json:"status"` // met, missed or not measured
	Measured string `json:"measured"`
}

// Target statuses.
const (
	targetMet         = "met"
	targetMissed      = "missed"
	targetNotMeasured = "not measured"
)

// workload returns the result of the workload called name, or nil.
func (r *Results) workload(name string) *WorkloadResult {
	for i := range r.Workloads {
		if r.Workloads[i].Name == name {
			return &r.Workloads[i]
		}
	}
	return nil
}

// path returns the path's result, or an empty one.
func (w *WorkloadResult) path(name string) PathResult {
	if w == nil {
		return PathResult{}
	}
	return w.Paths[name]
}

// addRatios fills Ratios: each path's median divided by the median of
// every path before it in PathOrder, so jitgate is compared with direct
// and with the reference proxy, and the reference proxy with direct.
func (w *WorkloadResult) addRatios() {
	for i, p := range w.PathOrder {
		for _, ref := range w.PathOrder[:i] {
			r, ok := ratioOf(w.Paths[p].Summary, w.Paths[ref].Summary)
			if !ok {
				continue
			}
			if w.Ratios == nil {
				w.Ratios = map[string]map[string]float64{}
			}
			if w.Ratios[p] == nil {
				w.Ratios[p] = map[string]float64{}
			}
			w.Ratios[p]["to_"+ref] = r
		}
	}
}

// writeJSON writes r to dir/latest.json.
func writeJSON(dir string, r *Results) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the results: %w", err)
	}
	path := filepath.Join(dir, "latest.json")
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
