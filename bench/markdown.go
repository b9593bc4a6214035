package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// renderMarkdown writes the results as Markdown: settings, machine, one
// table per group, the targets and the paths that failed. chartPath is
// the link to tps.svg from where the Markdown will live, or "" for none.
func renderMarkdown(r *Results, chartPath string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s (%s run): %s.\n\n", r.GeneratedAt.UTC().Format(time.DateTime+" MST"), r.Mode, settingsSentence(r.Settings))
	m := r.Machine
	fmt.Fprintf(&b, "Machine: %d × %s, Linux %s, %s memory; %s; %s; %s; %s; jitgate built with %s, the harness and relay with %s.\n\n",
		m.CPUs, m.CPUModel, m.Kernel, m.MemTotal, m.PostgreSQL, m.Pgbench, m.Pgbouncer, m.OpenSSH, m.Go, m.HarnessGo)
	fmt.Fprintf(&b, "Load average (1, 5, 15 min) before the servers started: %s; after they stopped: %s.\n\n", m.LoadBefore, m.LoadAfter)
	fmt.Fprintf(&b, "Command: `%s`\n\n", r.Command)
	b.WriteString("Each cell is the median, with the minimum and maximum in brackets. A ratio divides medians.\n\n")

	groups := []struct{ group, title string }{
		{groupPG, "PostgreSQL"},
		{groupSSH, "SSH"},
		{groupLatency, "jitgate latency"},
		{groupMemory, "Memory per idle connection"},
	}
	for _, g := range groups {
		ws := workloadsOf(r, g.group)
		if len(ws) == 0 {
			continue
		}
		fmt.Fprintf(&b, "### %s\n\n", g.title)
		if g.group == groupLatency {
			writeLatencyTable(&b, ws)
		} else {
			writeResultTable(&b, ws)
		}
		writeExtraTables(&b, ws)
		if g.group == groupPG && chartPath != "" {
			fmt.Fprintf(&b, "![pgbench -S TPS by client count for each path](%s)\n\n", chartPath)
		}
	}

	if len(r.Targets) > 0 {
		b.WriteString("### Targets\n\n| target | status | measured |\n| --- | --- | --- |\n")
		for _, t := range r.Targets {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", escapeCell(t.Goal), t.Status, escapeCell(t.Measured))
		}
		b.WriteString("\n")
	}
	if lines := failures(r.Workloads); len(lines) > 0 {
		b.WriteString("### Paths that did not run\n\n")
		for _, l := range lines {
			fmt.Fprintf(&b, "- %s\n", escapeCell(l))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func settingsSentence(s Settings) string {
	runs := "runs"
	if s.Runs == 1 {
		runs = "run"
	}
	return fmt.Sprintf("%d %s per path in alternation, pgbench -T %s at scale %d, SSH transfers of %s, %d logins per SSH login run, %d idle connections, %d latency samples",
		s.Runs, runs, s.Duration, s.PgbenchScale, formatBytes(s.TransferBytes), s.SetupLogins, s.IdleConnections, s.LatencySamples)
}

func workloadsOf(r *Results, group string) []WorkloadResult {
	var out []WorkloadResult
	for _, w := range r.Workloads {
		if w.Group == group {
			out = append(out, w)
		}
	}
	return out
}

// writeResultTable writes one table per run of workloads that share
// their paths, with a row per workload and a column per path and ratio.
func writeResultTable(b *strings.Builder, ws []WorkloadResult) {
	for len(ws) > 0 {
		n := 1
		for n < len(ws) && slices.Equal(ws[n].PathOrder, ws[0].PathOrder) {
			n++
		}
		writeSamePathTable(b, ws[:n])
		ws = ws[n:]
	}
}

func writeSamePathTable(b *strings.Builder, ws []WorkloadResult) {
	paths := ws[0].PathOrder
	ratios := ratioColumns(paths)
	header := []string{"workload", "unit"}
	header = append(header, paths...)
	for _, rc := range ratios {
		header = append(header, rc[0]+" / "+rc[1])
	}
	writeRow(b, header)
	writeRow(b, repeat("---", len(header)))
	for _, w := range ws {
		row := []string{w.Name, w.Unit + ", " + w.Better + " is better"}
		for _, p := range paths {
			row = append(row, summaryCell(w.Paths[p]))
		}
		for _, rc := range ratios {
			row = append(row, ratioCell(w, rc[0], rc[1]))
		}
		writeRow(b, row)
	}
	b.WriteString("\n")
}

// ratioColumns pairs each path with every path before it in the order,
// so the reference comes second: pgbouncer / direct, jitgate / direct,
// jitgate / pgbouncer.
func ratioColumns(paths []string) [][2]string {
	var out [][2]string
	for i, p := range paths {
		for _, ref := range paths[:i] {
			out = append(out, [2]string{p, ref})
		}
	}
	return out
}

func ratioCell(w WorkloadResult, path, ref string) string {
	r, ok := w.Ratios[path]["to_"+ref]
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", r)
}

// writeExtraTables writes a table per extra value that the workloads
// have, such as proxy CPU per transaction.
func writeExtraTables(b *strings.Builder, ws []WorkloadResult) {
	for _, key := range extraKeys(ws) {
		fmt.Fprintf(b, "%s:\n\n", extraTitle(key))
		var paths []string
		for _, w := range ws {
			for _, p := range w.PathOrder {
				if _, ok := w.Paths[p].Extra[key]; ok && !slices.Contains(paths, p) {
					paths = append(paths, p)
				}
			}
		}
		writeRow(b, append([]string{"workload"}, paths...))
		writeRow(b, repeat("---", len(paths)+1))
		for _, w := range ws {
			row := []string{w.Name}
			has := false
			for _, p := range paths {
				s, ok := w.Paths[p].Extra[key]
				if ok && !s.Empty() {
					has = true
					row = append(row, summaryCell(PathResult{Summary: s}))
				} else {
					row = append(row, "n/a")
				}
			}
			if has {
				writeRow(b, row)
			}
		}
		b.WriteString("\n")
	}
}

// extraKeys lists the extra values of ws in a fixed order.
func extraKeys(ws []WorkloadResult) []string {
	order := []string{"proxy_cpu_us_per_txn", "proxy_cpu_s_per_gib", "recording_mib", "rss_mib"}
	var out []string
	for _, k := range order {
		for _, w := range ws {
			found := false
			for _, p := range w.Paths {
				if _, ok := p.Extra[k]; ok {
					found = true
				}
			}
			if found {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

func extraTitle(key string) string {
	switch key {
	case "proxy_cpu_us_per_txn":
		return "CPU time of the proxy process per transaction, in µs (user + system, all threads, from /proc/PID/stat)"
	case "proxy_cpu_s_per_gib":
		return "CPU time of the proxy process per GiB moved, in seconds"
	case "recording_mib":
		return "Size of jitgate's recording of one transfer, in MiB"
	case "rss_mib":
		return "RSS of the proxy process with every idle connection open, in MiB"
	}
	return key
}

// writeLatencyTable writes p50, p99, min and max of each latency
// workload, with the client and backend parts where measured.
func writeLatencyTable(b *strings.Builder, ws []WorkloadResult) {
	writeRow(b, []string{"workload", "p50 ms", "p99 ms", "min ms", "max ms", "samples"})
	writeRow(b, repeat("---", 6))
	for _, w := range ws {
		s := w.Paths[pathJitgate].Summary
		if s.Empty() {
			writeRow(b, []string{w.Name, "n/a", "n/a", "n/a", "n/a", "0"})
			continue
		}
		writeRow(b, []string{w.Name, formatNumber(s.Median), formatNumber(s.P99), formatNumber(s.Min), formatNumber(s.Max), strconv.Itoa(len(s.Runs))})
	}
	b.WriteString("\n")
	for _, w := range ws {
		extra := w.Paths[pathJitgate].Extra
		if len(extra) == 0 {
			continue
		}
		med := func(key string) string { return formatNumber(extra[key].Median) }
		// An SSH client of the workload closes its connection itself once
		// jitgate has closed its session channel, as OpenSSH's client does,
		// unless jitgate's FIN comes first.
		clientSide := "client socket closed (jitgate's FIN arrived)"
		if strings.HasPrefix(w.Name, "SSH ") {
			clientSide = "client connection closed (by the client after jitgate closed its session channel, or by jitgate's FIN)"
		}
		fmt.Fprintf(b, "%s, by side. The %s at p50 %s ms, p99 %s ms. The upstream connection closed at p50 %s ms, p99 %s ms.", w.Name, clientSide,
			med("client_closed_p50_ms"), med("client_closed_p99_ms"), med("upstream_closed_p50_ms"), med("upstream_closed_p99_ms"))
		if _, ok := extra["client_reached_p50_ms"]; ok {
			fmt.Fprintf(b, " jitgate's first bytes after the end (the final error, or the session's last line) had reached the client socket at p50 %s ms, p99 %s ms.", med("client_reached_p50_ms"), med("client_reached_p99_ms"))
		}
		if _, ok := extra["backend_gone_p50_ms"]; ok {
			fmt.Fprintf(b, " The backend processes were gone from pg_stat_activity at p50 %s ms, p99 %s ms after the window end.", med("backend_gone_p50_ms"), med("backend_gone_p99_ms"))
		}
		if _, ok := extra["direct_backend_gone_p50_ms"]; ok {
			fmt.Fprintf(b, " For comparison, the same number of direct connections closed by the harness at one instant left PostgreSQL at p50 %s ms, p99 %s ms, which is PostgreSQL's own time to end that many backends at once.", med("direct_backend_gone_p50_ms"), med("direct_backend_gone_p99_ms"))
		}
		b.WriteString("\n\n")
	}
}

func summaryCell(p PathResult) string {
	if p.Empty() {
		if p.Error != "" {
			return "did not run"
		}
		return "n/a"
	}
	if len(p.Runs) == 1 {
		return formatNumber(p.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", formatNumber(p.Median), formatNumber(p.Min), formatNumber(p.Max))
}

// formatNumber writes v with about three significant digits, and with
// thousands separators from 1,000 up.
func formatNumber(v float64) string {
	abs := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "n/a"
	case v == 0:
		return "0"
	case abs >= 1000:
		return groupThousands(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	case abs >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case abs >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func groupThousands(digits string) string {
	sign := ""
	if strings.HasPrefix(digits, "-") {
		sign, digits = "-", digits[1:]
	}
	var parts []string
	for len(digits) > 3 {
		parts = append([]string{digits[len(digits)-3:]}, parts...)
		digits = digits[:len(digits)-3]
	}
	parts = append([]string{digits}, parts...)
	return sign + strings.Join(parts, ",")
}

func writeRow(b *strings.Builder, cells []string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" " + escapeCell(c) + " |")
	}
	b.WriteString("\n")
}

// escapeCell keeps a value inside one Markdown table cell.
func escapeCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}
