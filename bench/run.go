package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// run starts the servers, measures every workload of the selected groups,
// stops the servers and writes the results. It returns the exit status:
// 1 when a server did not start, when an output could not be written, or
// when any path of any workload failed to run.
func run(ctx context.Context, o options, log *slog.Logger) int {
	loadBefore := loadAverage()
	h := &harness{o: o, log: log}
	if err := h.start(ctx); err != nil {
		log.Error("setup failed", "err", err)
		return 1
	}
	outDir, err := resultsDir(o)
	if err != nil {
		log.Error("no folder for the results", "err", err)
		return 1
	}
	started := time.Now()
	h.profileDir, h.heapSaved = filepath.Join(outDir, "profiles"), map[string]bool{}
	workloads := h.measureAll(ctx)
	if err := h.stop(); err != nil {
		log.Error("stopping the servers failed", "err", err)
	}
	log.Info("measurements done", "took", time.Since(started).Round(time.Second))
	machine := readMachine(o.jitgateBin)
	machine.LoadBefore, machine.LoadAfter = loadBefore, loadAverage()

	res := &Results{
		GeneratedAt: time.Now().UTC(),
		Mode:        "full",
		Command:     "go run ./bench " + strings.Join(os.Args[1:], " "),
		Machine:     machine,
		Settings: Settings{
			Runs: o.runCount, Duration: o.duration.String(), PgbenchScale: o.scale,
			TransferBytes: o.transferBytes, SetupLogins: o.setupCount, IdleConnections: o.idle,
			LatencySamples: o.latencySamples, Profiled: o.pprof, Groups: selectedGroups(o),
		},
		Workloads: workloads,
	}
	if o.smoke {
		res.Mode = "smoke"
	}
	res.Targets = evaluateTargets(res)
	if err := writeOutputs(o, outDir, res); err != nil {
		log.Error("writing the results failed", "err", err)
		return 1
	}
	fmt.Print(renderMarkdown(res, ""))
	log.Info("results written", "dir", outDir)

	if lines := failures(workloads); len(lines) > 0 {
		for _, l := range lines {
			log.Error("path did not run", "what", l)
		}
		return 1
	}
	return 0
}

// measureAll runs the workloads of every selected group in order. The
// memory group goes last because it restarts jitgate and the relay.
func (h *harness) measureAll(ctx context.Context) []WorkloadResult {
	r := &runner{runs: h.o.runCount, log: h.log}
	var out []WorkloadResult
	for _, g := range selectedGroups(h.o) {
		var ws []workload
		switch g {
		case groupPG:
			ws = h.pgWorkloads()
		case groupSSH:
			ws = h.sshWorkloads()
		case groupLatency:
			ws = h.latencyWorkloads()
		case groupMemory:
			ws = h.memoryWorkloads()
		}
		for _, w := range ws {
			if ctx.Err() != nil {
				return out
			}
			if h.o.match != nil && !h.o.match.MatchString(w.name) {
				continue
			}
			h.log.Info("workload", "name", w.name, "paths", strings.Join(w.paths, " "))
			out = append(out, r.measure(ctx, h.withProfile(w, h.profileDir)))
		}
	}
	return out
}

func selectedGroups(o options) []string {
	var out []string
	for _, g := range allGroups {
		if o.runs(g) {
			out = append(out, g)
		}
	}
	return out
}

// resultsDir returns -out, created when missing, or for -smoke without
// -out a new temporary folder, so a smoke run never replaces the
// published results.
func resultsDir(o options) (string, error) {
	if o.outDir == "" {
		return os.MkdirTemp("", "jitgate-bench-smoke-")
	}
	if err := os.MkdirAll(o.outDir, 0o755); err != nil {
		return "", fmt.Errorf("create -out %s: %w", o.outDir, err)
	}
	return o.outDir, nil
}

// writeOutputs writes latest.json, latest.md and tps.svg to dir, and
// the generated section of the docs page when one is set.
func writeOutputs(o options, dir string, res *Results) error {
	if err := writeJSON(dir, res); err != nil {
		return err
	}
	chart, hasChart := tpsChart(res)
	chartFile := filepath.Join(dir, "tps.svg")
	if hasChart {
		if err := os.WriteFile(chartFile, []byte(chart.svg()), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", chartFile, err)
		}
	}
	link := func(from string) string {
		if !hasChart {
			return ""
		}
		return relativeLink(from, chartFile)
	}
	mdFile := filepath.Join(dir, "latest.md")
	if err := os.WriteFile(mdFile, []byte(renderMarkdown(res, link(mdFile))), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", mdFile, err)
	}
	if o.docsPath == "" {
		return nil
	}
	return updateDocs(o.docsPath, renderMarkdown(res, link(o.docsPath)))
}

// renderOnly rewrites the outputs from the results in o.render. The
// targets are evaluated again, so a change to a goal shows at once.
func renderOnly(o options, log *slog.Logger) int {
	data, err := os.ReadFile(o.render)
	if err != nil {
		log.Error("reading the results failed", "err", err)
		return 1
	}
	var res Results
	if err := json.Unmarshal(data, &res); err != nil {
		log.Error("decoding the results failed", "file", o.render, "err", err)
		return 1
	}
	res.Targets = evaluateTargets(&res)
	dir := o.outDir
	if dir == "" {
		dir = filepath.Dir(o.render)
	}
	if err := writeOutputs(o, dir, &res); err != nil {
		log.Error("writing the results failed", "err", err)
		return 1
	}
	log.Info("results written", "dir", dir)
	return 0
}
