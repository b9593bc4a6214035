package main

import (
	"errors"
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Workload groups, the values of -only.
const (
	groupPG      = "pg"
	groupSSH     = "ssh"
	groupLatency = "latency"
	groupMemory  = "memory"
)

var allGroups = []string{groupPG, groupSSH, groupLatency, groupMemory}

// options are the command-line settings of one benchmark run.
type options struct {
	smoke bool
	only  []string
	// matchExpr is the -match flag. match is compiled from it, and nil
	// when every workload runs.
	matchExpr string
	match     *regexp.Regexp
	runCount  int
	duration  time.Duration
	scale     int
	// transferBytes is the size of each SSH upload and download.
	transferBytes int64
	// setupCount is the number of `ssh host true` logins per run.
	setupCount int
	// idle is the number of idle connections in the memory workloads.
	idle int
	// latencySamples is the number of held connections in the approval
	// and window-end workloads.
	latencySamples int
	jitgateBin     string
	outDir         string
	docsPath       string
	docsSet        bool // -docs was given, even as empty
	pprof          bool
	// render is a latest.json to write the Markdown, chart and docs
	// section from, without measuring.
	render   string
	keepWork bool
	verbose  bool
}

// Defaults of a full run and of -smoke.
const (
	fullRuns           = 5
	fullDuration       = 10 * time.Second
	fullScale          = 10
	fullTransferBytes  = 1 << 30
	fullSetupCount     = 10
	fullIdle           = 1000
	fullLatencySamples = 200

	smokeDuration       = 2 * time.Second
	smokeScale          = 1
	smokeTransferBytes  = 64 << 20
	smokeSetupCount     = 3
	smokeIdle           = 50
	smokeLatencySamples = 10
)

func parseOptions(args []string) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o options
	var only string

	fs.BoolVar(&o.smoke, "smoke", false, "quick check that every path runs: 1 run, 2 s each, a few workloads, smaller sizes; exits 1 if any path fails")
	fs.StringVar(&only, "only", "", "comma-separated workload groups to run: pg, ssh, latency, memory (default: all)")
	fs.StringVar(&o.matchExpr, "match", "", "run only the workloads whose name matches this regular expression, such as 'pgbench -S -c (8|32)$'")
	fs.IntVar(&o.runCount, "runs", 0, fmt.Sprintf("runs of each path per workload, in alternation (default %d, -smoke 1)", fullRuns))
	fs.DurationVar(&o.duration, "duration", 0, fmt.Sprintf("length of each pgbench run (default %v, -smoke %v)", fullDuration, smokeDuration))
	fs.IntVar(&o.scale, "scale", 0, fmt.Sprintf("pgbench scale factor (default %d, -smoke %d)", fullScale, smokeScale))
	fs.Int64Var(&o.transferBytes, "transfer-bytes", 0, fmt.Sprintf("bytes per SSH upload and download (default %d, -smoke %d)", int64(fullTransferBytes), int64(smokeTransferBytes)))
	fs.IntVar(&o.idle, "idle", 0, fmt.Sprintf("idle connections in the memory workloads (default %d, -smoke %d)", fullIdle, smokeIdle))
	fs.IntVar(&o.latencySamples, "latency-samples", 0, fmt.Sprintf("held connections in the approval and window-end workloads (default %d, -smoke %d)", fullLatencySamples, smokeLatencySamples))
	fs.StringVar(&o.jitgateBin, "jitgate", "bin/jitgate", "jitgate binary that `make build` writes")
	fs.StringVar(&o.outDir, "out", "", "folder for latest.json, latest.md and tps.svg (default bench/results, -smoke a temporary folder)")
	fs.StringVar(&o.docsPath, "docs", "", "Markdown page whose generated section is replaced with the results; empty for none (default docs/benchmarks.md for a full run of every group, else none)")
	fs.BoolVar(&o.pprof, "pprof", false, "run jitgate as a profiled copy of the server and save a CPU profile and an allocation profile of each workload's first jitgate run to OUT/profiles; for the memory workloads, heap profiles, memory statistics and goroutines instead")
	fs.StringVar(&o.render, "render", "", "write latest.md, tps.svg and the docs section from this latest.json without measuring, such as after a change to the report code")
	fs.BoolVar(&o.keepWork, "keep", false, "keep the working folder with the logs, configs and recordings")
	fs.BoolVar(&o.verbose, "v", false, "log each server start and stop")

	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q; see -h", fs.Arg(0))
	}
	if err := o.parseOnly(only); err != nil {
		return o, err
	}
	if o.matchExpr != "" {
		re, err := regexp.Compile(o.matchExpr)
		if err != nil {
			return o, fmt.Errorf("-match %q is not a valid regular expression: %w", o.matchExpr, err)
		}
		o.match = re
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "docs" {
			o.docsSet = true
		}
	})
	o.applyDefaults()
	return o, o.validate()
}

func (o *options) parseOnly(only string) error {
	if only == "" {
		return nil
	}
	for g := range strings.SplitSeq(only, ",") {
		g = strings.TrimSpace(g)
		if !slices.Contains(allGroups, g) {
			return fmt.Errorf("-only %q: unknown group %q; use a comma-separated list of %s", only, g, strings.Join(allGroups, ", "))
		}
		o.only = append(o.only, g)
	}
	return nil
}

func (o *options) applyDefaults() {
	pick := func(v *int, full, smoke int) {
		if *v == 0 {
			*v = full
			if o.smoke {
				*v = smoke
			}
		}
	}
	pick(&o.runCount, fullRuns, 1)
	pick(&o.scale, fullScale, smokeScale)
	pick(&o.setupCount, fullSetupCount, smokeSetupCount)
	pick(&o.idle, fullIdle, smokeIdle)
	pick(&o.latencySamples, fullLatencySamples, smokeLatencySamples)
	if o.duration == 0 {
		o.duration = fullDuration
		if o.smoke {
			o.duration = smokeDuration
		}
	}
	if o.transferBytes == 0 {
		o.transferBytes = fullTransferBytes
		if o.smoke {
			o.transferBytes = smokeTransferBytes
		}
	}
	if o.outDir == "" && !o.smoke {
		o.outDir = "bench/results"
	}
	if !o.docsSet && !o.smoke && len(o.only) == 0 && o.match == nil {
		o.docsPath = "docs/benchmarks.md"
	}
}

// Upper bounds that keep every loop of a run bounded in count and time.
const (
	maxRuns           = 50
	maxDuration       = 10 * time.Minute
	maxIdle           = 20000
	maxLatencySamples = 5000
	maxTransferBytes  = 16 << 30
)

func (o *options) validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(o.runCount >= 1 && o.runCount <= maxRuns, "-runs %d: use 1 to %d", o.runCount, maxRuns)
	check(o.duration >= time.Second && o.duration <= maxDuration, "-duration %v: use 1s to %v", o.duration, maxDuration)
	check(o.scale >= 1 && o.scale <= 1000, "-scale %d: use 1 to 1000", o.scale)
	check(o.idle >= 1 && o.idle <= maxIdle, "-idle %d: use 1 to %d", o.idle, maxIdle)
	check(o.latencySamples >= 1 && o.latencySamples <= maxLatencySamples, "-latency-samples %d: use 1 to %d", o.latencySamples, maxLatencySamples)
	check(o.transferBytes >= 1<<20 && o.transferBytes <= maxTransferBytes, "-transfer-bytes %d: use 1 MiB to 16 GiB", o.transferBytes)
	return errors.Join(errs...)
}

// runs reports whether the run includes group.
func (o *options) runs(group string) bool {
	return len(o.only) == 0 || slices.Contains(o.only, group)
}
