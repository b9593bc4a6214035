package main

import (
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where the numbers were measured.
type Machine struct {
	CPUs       int    `json:"cpus"`
	CPUModel   string `json:"cpu_model"`
	Kernel     string `json:"kernel"`
	MemTotal   string `json:"mem_total"`
	PostgreSQL string `json:"postgresql"`
	Pgbench    string `json:"pgbench"`
	Pgbouncer  string `json:"pgbouncer"`
	OpenSSH    string `json:"openssh"`
	// Go is the toolchain that built bin/jitgate, and HarnessGo the one
	// that built this program and so the minimal relay.
	Go        string `json:"go"`
	HarnessGo string `json:"harness_go"`
	// LoadBefore and LoadAfter are /proc/loadavg before the servers
	// started and after they stopped. Other work on the machine shows
	// here, and it makes every number less reliable.
	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after"`
}

// readMachine collects the machine description. A value that cannot be
// read is "unknown", because a missing detail should not fail a run that
// took half an hour.
func readMachine(jitgateBin string) Machine {
	m := Machine{
		CPUs:       runtime.NumCPU(),
		CPUModel:   procField("/proc/cpuinfo", "model name"),
		Kernel:     strings.TrimSpace(readOr("/proc/sys/kernel/osrelease")),
		MemTotal:   memTotal(),
		PostgreSQL: commandLine("/usr/lib/postgresql/15/bin/postgres", "--version"),
		Pgbench:    commandLine("pgbench", "--version"),
		Pgbouncer:  commandLine(pgbouncerBin, "--version"),
		OpenSSH:    commandLine("ssh", "-V"),
		HarnessGo:  runtime.Version(),
		Go:         "unknown",
	}
	if info, err := buildinfo.ReadFile(jitgateBin); err == nil {
		m.Go = info.GoVersion
	}
	return m
}

// procField returns the value of the first "key: value" line of a /proc
// file, or "unknown".
func procField(path, key string) string {
	for line := range strings.Lines(readOr(path)) {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(name) == key {
			return strings.TrimSpace(value)
		}
	}
	return "unknown"
}

func readOr(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return string(data)
}

// commandLine returns the first line a program prints on stdout or
// stderr, or "unknown".
func commandLine(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil && len(out) == 0 {
		return "unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// memTotal returns MemTotal of /proc/meminfo in GiB, such as "23.5 GiB".
func memTotal() string {
	fields := strings.Fields(procField("/proc/meminfo", "MemTotal"))
	if len(fields) != 2 || fields[1] != "kB" {
		return "unknown"
	}
	kib, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f GiB", kib/(1<<20))
}

// loadAverage returns the 1, 5 and 15 minute load averages of
// /proc/loadavg, such as "0.12 0.30 0.25".
func loadAverage() string {
	fields := strings.Fields(readOr("/proc/loadavg"))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}
