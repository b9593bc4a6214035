package main

import (
	"fmt"
	"slices"
	"strings"
)

// evaluateTargets checks the run's numbers against the performance
// targets of jitgate's relays. A target whose workload did not run, or
// whose paths have no numbers, is "not measured".
func evaluateTargets(r *Results) []TargetResult {
	var out []TargetResult
	for _, c := range []int{1, 8, 32} {
		name := pgbenchSpec{clients: c, selectOnly: true}.name()
		out = append(out,
			relativeGoal(r, name+": jitgate TPS at least pgbouncer's", name, "", pathJitgate, pathPgbouncer, 1, true),
			relativeGoal(r, name+": jitgate CPU per transaction at most pgbouncer's", name, "proxy_cpu_us_per_txn", pathJitgate, pathPgbouncer, 1, false),
		)
	}
	connect := pgbenchSpec{clients: 8, selectOnly: true, reconnect: true}.name()
	out = append(out, relativeGoal(r, connect+": jitgate TPS at least 0.9× pgbouncer's", connect, "", pathJitgate, pathPgbouncer, 0.9, true))

	for _, w := range r.Workloads {
		if w.Group == groupSSH && w.Unit == "MiB/s" {
			out = append(out, relativeGoal(r, w.Name+": jitgate at least 0.95× the minimal relay", w.Name, "", pathJitgate, pathRelay, 0.95, true))
		}
	}
	login := "SSH login, ssh HOST true"
	out = append(out, relativeGoal(r, login+": jitgate at most 1.5× direct", login, "", pathJitgate, pathDirect, 1.5, false))

	out = append(out,
		absoluteGoal(r, "approval to first query result: p99 at most 50 ms", "approval to first query result", 50),
		absoluteGoal(r, "window end to both sockets closed: p99 at most 100 ms", "window end to both sockets closed", 100),
		absoluteGoal(r, sshWindowEndName+": p99 at most 100 ms", sshWindowEndName, 100),
	)
	for _, w := range r.Workloads {
		if w.Group != groupMemory {
			continue
		}
		limit := 32.0
		if w.Unit == "KiB per session" {
			limit = 100
		}
		out = append(out, memoryGoal(&w, limit))
	}
	return out
}

// relativeGoal compares path with ref on a workload's median, or on the
// median of an extra value when extra is set. With atLeast the ratio
// path/ref must be at least bound, else at most bound.
func relativeGoal(r *Results, goal, workload, extra, path, ref string, bound float64, atLeast bool) TargetResult {
	t := TargetResult{Goal: goal, Status: targetNotMeasured}
	w := r.workload(workload)
	if w == nil {
		t.Measured = "workload not run"
		return t
	}
	a, b := w.path(path).Summary, w.path(ref).Summary
	unit := w.Unit
	if extra != "" {
		a, b = w.path(path).Extra[extra], w.path(ref).Extra[extra]
		unit = extraUnit(extra)
	}

	value, ok := ratioOf(a, b)
	if !ok {
		var missing []string
		for name, s := range map[string]Summary{path: a, ref: b} {
			if s.Empty() {
				missing = append(missing, name)
			}
		}
		slices.Sort(missing)
		t.Measured = "no numbers for " + strings.Join(missing, " and ")
		return t
	}

	t.Measured = fmt.Sprintf("%s %s %s, %s %s %s: %s×", path, formatNumber(a.Median), unit, ref, formatNumber(b.Median), unit, formatRatio(value, bound))
	met := value <= bound
	if atLeast {
		met = value >= bound
	}
	if met {
		t.Status = targetMet
		return t
	}
	t.Status = targetMissed
	t.Measured += ", " + missText(value, bound, atLeast)
	return t
}

// formatRatio formats value with two decimals, or with three when two
// would show the bound itself, so that a ratio just under its bound does
// not read as the bound.
func formatRatio(value, bound float64) string {
	text := fmt.Sprintf("%.2f", value)
	if value != bound && text == fmt.Sprintf("%.2f", bound) {
		text = fmt.Sprintf("%.3f", value)
	}
	return text
}

// missText describes how far value misses bound, in percent of the bound: with
// one decimal below 1%, where a whole number would read as 0%.
func missText(value, bound float64, atLeast bool) string {
	gap, word := value-bound, "over"
	if atLeast {
		gap, word = bound-value, "short of"
	}
	percent := 100 * gap / bound
	digits := 0
	if percent < 1 {
		digits = 1
	}
	return fmt.Sprintf("%.*f%% %s %.2f×", digits, percent, word, bound)
}

// absoluteGoal checks a latency workload's p99 against a limit in ms.
func absoluteGoal(r *Results, goal, workload string, limit float64) TargetResult {
	t := TargetResult{Goal: goal, Status: targetNotMeasured}
	w := r.workload(workload)
	if w == nil {
		t.Measured = "workload not run"
		return t
	}
	s := w.path(pathJitgate).Summary
	if s.Empty() {
		t.Measured = "no numbers for jitgate"
		return t
	}
	t.Measured = fmt.Sprintf("p50 %s ms, p99 %s ms over %d", formatNumber(s.Median), formatNumber(s.P99), len(s.Runs))
	if s.P99 <= limit {
		t.Status = targetMet
	} else {
		t.Status = targetMissed
		t.Measured += fmt.Sprintf(", %s ms over", formatNumber(s.P99-limit))
	}
	return t
}

// memoryGoal checks jitgate's RSS per idle connection against limit KiB.
func memoryGoal(w *WorkloadResult, limit float64) TargetResult {
	t := TargetResult{Goal: fmt.Sprintf("%s: jitgate at most %s %s", w.Name, formatNumber(limit), w.Unit), Status: targetNotMeasured}
	s := w.path(pathJitgate).Summary
	if s.Empty() {
		t.Measured = "no numbers for jitgate"
		return t
	}
	t.Measured = fmt.Sprintf("%s %s", formatNumber(s.Median), w.Unit)
	if s.Median <= limit {
		t.Status = targetMet
	} else {
		t.Status = targetMissed
		t.Measured += fmt.Sprintf(", %.1f× the target", s.Median/limit)
	}
	return t
}

// extraUnit names the unit of an extra value from its key.
func extraUnit(key string) string {
	switch key {
	case "proxy_cpu_us_per_txn":
		return "µs CPU/txn"
	case "proxy_cpu_s_per_gib":
		return "s CPU/GiB"
	}
	return ""
}
