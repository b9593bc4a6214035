package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// pgbenchGrace is added to -T for the timeout of one pgbench process,
// which covers its connection setup and a slow final report.
const pgbenchGrace = 2 * time.Minute

// pgWarmup is the length of the unrecorded pgbench run per path before a
// workload's measured rounds in a full run.
const pgWarmup = 2 * time.Second

// pgbenchSpec is one pgbench workload.
type pgbenchSpec struct {
	clients    int
	selectOnly bool // -S: one SELECT by primary key per transaction
	reconnect  bool // -C: a new connection per transaction
	// tls makes pgbench require TLS on its own leg (PGSSLMODE=require).
	// The proxies still reach PostgreSQL without it, so the run shows
	// what TLS on the client leg costs each proxy.
	tls bool
}

func (s pgbenchSpec) name() string {
	var b strings.Builder
	b.WriteString("pgbench")
	if s.reconnect {
		b.WriteString(" -C")
	}
	if s.selectOnly {
		b.WriteString(" -S")
	}
	fmt.Fprintf(&b, " -c %d", s.clients)
	if !s.selectOnly {
		b.WriteString(" (TPC-B-like)")
	}
	if s.tls {
		b.WriteString(" over TLS")
	}
	return b.String()
}

// sslmode returns pgbench's PGSSLMODE.
func (s pgbenchSpec) sslmode() string {
	if s.tls {
		return "require"
	}
	return "disable"
}

// threads returns pgbench's -j: one thread per client up to the 2 cores
// the benchmark is sized for, so pgbench does not crowd out the proxy.
func (s pgbenchSpec) threads() int { return min(s.clients, 2) }

func (s pgbenchSpec) args(d time.Duration, p pgPath) []string {
	args := []string{"-n", "-T", strconv.Itoa(int(d.Seconds())), "-c", strconv.Itoa(s.clients), "-j", strconv.Itoa(s.threads())}
	if s.selectOnly {
		args = append(args, "-S")
	}
	if s.reconnect {
		args = append(args, "-C")
	}
	return append(args, "-h", "127.0.0.1", "-p", strconv.Itoa(p.port), "-U", p.user, p.database)
}

// pgPath is the address and login of a Postgres client on one path.
type pgPath struct {
	port     int
	user     string
	password string
	database string
	// pid is the proxy process whose CPU time is measured, or 0.
	pid int
}

func (h *harness) pgPath(name string) (pgPath, error) {
	switch name {
	case pathDirect:
		return pgPath{port: h.t.pg.Port, user: benchUser, password: h.t.benchPassword, database: benchDatabase}, nil
	case pathPgbouncer:
		return pgPath{port: h.bouncer.port, user: benchUser, password: h.t.benchPassword, database: benchDatabase, pid: h.bouncer.proc.pid()}, nil
	case pathJitgate:
		if h.jg.pgErr != nil {
			return pgPath{}, h.jg.pgErr
		}
		return pgPath{port: h.setup.ports.postgres, user: personThroughput, password: h.setup.tokens[personThroughput], database: pgTargetName, pid: h.jg.pid()}, nil
	}
	return pgPath{}, fmt.Errorf("no Postgres path %q", name)
}

// pgWorkloads returns the pgbench workloads of the run.
func (h *harness) pgWorkloads() []workload {
	specs := []pgbenchSpec{
		{clients: 1, selectOnly: true},
		{clients: 8, selectOnly: true},
		{clients: 32, selectOnly: true},
		{clients: 8},
		{clients: 8, selectOnly: true, reconnect: true},
		{clients: 8, selectOnly: true, tls: true},
	}
	if h.o.smoke {
		specs = []pgbenchSpec{{clients: 8, selectOnly: true}}
	}
	var out []workload
	for _, s := range specs {
		w := workload{
			name: s.name(), group: groupPG, unit: "TPS", better: higherIsBetter,
			command: "pgbench " + strings.Join(s.args(h.o.duration, pgPath{user: "USER", database: "DBNAME"}), " "),
			paths:   []string{pathDirect, pathPgbouncer, pathJitgate},
			run: func(ctx context.Context, path string) (measurement, error) {
				return h.runPgbench(ctx, s, path, h.o.duration)
			},
		}
		w.command = strings.Replace(w.command, " -p 0 ", " -p PORT ", 1)
		if s.tls {
			w.command = "PGSSLMODE=require " + w.command
		}
		if !h.o.smoke {
			w.warmup = func(ctx context.Context, path string) error {
				_, err := h.runPgbench(ctx, s, path, pgWarmup)
				return err
			}
		}
		out = append(out, w)
	}
	return out
}

// runPgbench runs one pgbench and returns its TPS, with the proxy's CPU
// time per transaction as an extra value.
func (h *harness) runPgbench(ctx context.Context, s pgbenchSpec, path string, d time.Duration) (measurement, error) {
	p, err := h.pgPath(path)
	if err != nil {
		return measurement{}, err
	}
	if !s.selectOnly {
		if err := h.resetTPCB(ctx); err != nil {
			return measurement{}, err
		}
	}
	var meter *cpuMeter
	if p.pid != 0 {
		if meter, err = startCPUMeter(p.pid); err != nil {
			return measurement{}, err
		}
	}

	ctx, cancel := context.WithTimeout(ctx, d+pgbenchGrace)
	defer cancel()
	cmd := exec.CommandContext(ctx, "pgbench", s.args(d, p)...)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+p.password, "PGSSLMODE="+s.sslmode(), "PGCONNECT_TIMEOUT=30")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return measurement{}, fmt.Errorf("pgbench %s: %w\n%s", strings.Join(s.args(d, p), " "), err, lastLines(string(out), 15))
	}
	report, err := parsePgbench(string(out))
	if err != nil {
		return measurement{}, err
	}
	m := measurement{value: report.tps, extra: map[string]float64{}}
	if meter != nil {
		used, err := meter.used()
		if err != nil {
			return measurement{}, err
		}
		if report.transactions > 0 {
			m.extra["proxy_cpu_us_per_txn"] = float64(used.Microseconds()) / float64(report.transactions)
		}
	}
	return m, nil
}

// resetTPCB does what pgbench does before a TPC-B-like run without -n:
// it vacuums the small tables and empties the history table. The
// harness runs pgbench with -n and does this itself as the superuser,
// because the roles of the paths do not own the tables.
func (h *harness) resetTPCB(ctx context.Context) error {
	return h.t.adminExec(ctx,
		"VACUUM pgbench_branches",
		"VACUUM pgbench_tellers",
		"TRUNCATE pgbench_history",
	)
}

// pgbenchReport holds the numbers of a pgbench summary.
type pgbenchReport struct {
	tps          float64
	transactions int64
	failed       int64
}

var (
	pgbenchTPS          = regexp.MustCompile(`(?m)^tps = ([0-9.]+)`)
	pgbenchTransactions = regexp.MustCompile(`(?m)^number of transactions actually processed: ([0-9]+)`)
	pgbenchFailed       = regexp.MustCompile(`(?m)^number of failed transactions: ([0-9]+)`)
)

// parsePgbench reads the summary that pgbench 15 prints at the end of a
// run. A run with failed transactions is an error, so a broken path never
// counts as a slow one.
func parsePgbench(out string) (pgbenchReport, error) {
	var r pgbenchReport
	m := pgbenchTPS.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("pgbench printed no \"tps = \" line:\n%s", lastLines(out, 15))
	}
	var err error
	if r.tps, err = strconv.ParseFloat(m[1], 64); err != nil {
		return r, fmt.Errorf("parse pgbench tps %q: %w", m[1], err)
	}
	m = pgbenchTransactions.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("pgbench printed no transaction count:\n%s", lastLines(out, 15))
	}
	if r.transactions, err = strconv.ParseInt(m[1], 10, 64); err != nil {
		return r, fmt.Errorf("parse the pgbench transaction count %q: %w", m[1], err)
	}
	if m = pgbenchFailed.FindStringSubmatch(out); m != nil {
		r.failed, _ = strconv.ParseInt(m[1], 10, 64) // the pattern allows only digits
	}
	if r.failed > 0 {
		return r, fmt.Errorf("pgbench reports %d failed transactions:\n%s", r.failed, lastLines(out, 15))
	}
	if r.transactions == 0 {
		return r, fmt.Errorf("pgbench processed no transaction:\n%s", lastLines(out, 15))
	}
	return r, nil
}

func lastLines(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
