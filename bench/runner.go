package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// measurement is the result of one run of one path.
type measurement struct {
	// value is the run's result in the workload's unit.
	value float64
	// samples replace value for latency workloads, where one run yields
	// one value per held connection.
	samples []float64
	// extra holds secondary values, keyed as in PathResult.Extra.
	extra map[string]float64
}

// workload is one benchmark measured on several paths in alternation.
type workload struct {
	name    string
	group   string
	unit    string
	better  string
	command string
	paths   []string
	latency bool
	// rounds, when above 0, replaces the runner's number of rounds: a
	// latency workload yields its samples in one round.
	rounds int
	// warmup, when set, runs once per path before the measured rounds.
	warmup func(ctx context.Context, path string) error
	run    func(ctx context.Context, path string) (measurement, error)
}

// runner measures workloads in rounds of alternating paths (A B C A B C
// ...), so slow drift of a shared machine affects every path alike.
type runner struct {
	runs int
	log  *slog.Logger
}

// measure runs w.run for every path in every round and summarizes. A
// path that fails is not run again in this workload, and its error is
// kept in the result.
func (r *runner) measure(ctx context.Context, w workload) WorkloadResult {
	res := WorkloadResult{
		Name: w.name, Group: w.group, Unit: w.unit, Better: w.better, Command: w.command,
		PathOrder: w.paths, Paths: map[string]PathResult{},
	}
	values := map[string][]float64{}
	extras := map[string]map[string][]float64{}
	failed := map[string]error{}
	if w.warmup != nil {
		for _, p := range w.paths {
			if failed[p] != nil || ctx.Err() != nil {
				continue
			}
			if err := w.warmup(ctx, p); err != nil {
				failed[p] = fmt.Errorf("warm-up: %w", err)
				r.log.Error("warm-up failed", "workload", w.name, "path", p, "err", err)
			}
		}
	}
	rounds := r.runs
	if w.rounds > 0 {
		rounds = w.rounds
	}
	for round := 1; round <= rounds; round++ {
		for _, p := range w.paths {
			if failed[p] != nil || ctx.Err() != nil {
				continue
			}
			m, err := w.run(ctx, p)
			if err != nil && ctx.Err() != nil {
				failed[p] = fmt.Errorf("interrupted in run %d of %d: %w", round, rounds, context.Cause(ctx))
				continue
			}
			if err != nil {
				failed[p] = fmt.Errorf("run %d of %d: %w", round, rounds, err)
				r.log.Error("run failed", "workload", w.name, "path", p, "run", round, "err", err)
				continue
			}
			if w.latency {
				values[p] = append(values[p], m.samples...)
			} else {
				values[p] = append(values[p], m.value)
			}
			for k, v := range m.extra {
				if extras[p] == nil {
					extras[p] = map[string][]float64{}
				}
				extras[p][k] = append(extras[p][k], v)
			}
			r.log.Info("run done", "workload", w.name, "path", p, "run", round, "value", formatMeasurement(m, w), "unit", w.unit)
		}
	}
	for _, p := range w.paths {
		pr := PathResult{}
		if w.latency {
			pr.Summary = summarizeLatency(values[p])
		} else {
			pr.Summary = summarize(values[p])
		}
		for k, v := range extras[p] {
			if pr.Extra == nil {
				pr.Extra = map[string]Summary{}
			}
			pr.Extra[k] = summarize(v)
		}
		if err := failed[p]; err != nil {
			pr.Error = err.Error()
		} else if ctx.Err() != nil && len(values[p]) == 0 {
			pr.Error = fmt.Sprintf("interrupted: %v", context.Cause(ctx))
		}
		res.Paths[p] = pr
	}
	res.addRatios()
	return res
}

func formatMeasurement(m measurement, w workload) string {
	if !w.latency {
		return formatNumber(m.value)
	}
	s := summarizeLatency(m.samples)
	if s.Empty() {
		return "no samples"
	}
	return fmt.Sprintf("p50 %s p99 %s over %d", formatNumber(s.Median), formatNumber(s.P99), len(m.samples))
}

// failures lists every path error of results, one line each.
func failures(results []WorkloadResult) []string {
	var lines []string
	for _, w := range results {
		for _, p := range w.PathOrder {
			if e := w.Paths[p].Error; e != "" {
				lines = append(lines, fmt.Sprintf("%s, %s: %s", w.Name, p, firstLine(e)))
			}
		}
	}
	return lines
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
