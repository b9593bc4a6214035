package main

import (
	"os"
	"regexp"
	"runtime"
	"strconv"
	"testing"

	"github.com/jitgate/jitgate/internal/server/servertest"
)

func TestServerProcs(t *testing.T) {
	tests := []struct {
		env         string
		goDefault   int
		wantProcs   int
		wantChanged bool
	}{
		{"", 1, 1, false},
		{"", 2, 1, true},
		{"", 3, 1, true},
		{"", 8, 4, true},
		{"2", 2, 2, false},
		{"1", 8, 8, false},
		{"0", 8, 4, true},
		{"four", 8, 4, true},
	}
	for _, tt := range tests {
		procs, changed := serverProcs(tt.env, tt.goDefault)
		if procs != tt.wantProcs {
			t.Errorf("serverProcs(%q, %d) procs = %d, want %d", tt.env, tt.goDefault, procs, tt.wantProcs)
		}
		if changed != tt.wantChanged {
			t.Errorf("serverProcs(%q, %d) changed = %v, want %v", tt.env, tt.goDefault, changed, tt.wantChanged)
		}
	}
}

// TestServeLogsItsProcs checks that `jitgate serve` applies serverProcs
// and logs the value. The test reads the CPU count from the server's log,
// because `go test -cpu` changes GOMAXPROCS in the test process only.
func TestServeLogsItsProcs(t *testing.T) {
	srv := startServer(t, servertest.WriteConfig(t, t.TempDir(), servertest.Options{}))
	srv.stop()
	m := regexp.MustCompile(`gomaxprocs=(\d+) cpus=(\d+)`).FindStringSubmatch(srv.log())
	if n, err := strconv.Atoi(os.Getenv("GOMAXPROCS")); err == nil && n > 0 {
		if m != nil {
			t.Errorf("the serve log changes GOMAXPROCS although the environment sets it:\n%s", srv.log())
		}
		return
	}
	if m == nil {
		if runtime.NumCPU() > 1 {
			t.Errorf("the serve log does not set GOMAXPROCS on %d CPUs:\n%s", runtime.NumCPU(), srv.log())
		}
		return
	}
	procs, _ := strconv.Atoi(m[1])
	cpus, _ := strconv.Atoi(m[2])
	if cpus < 2 {
		t.Errorf("the serve log sets GOMAXPROCS for cpus=%d, want it only for 2 or more", cpus)
	}
	if procs != max(1, cpus/2) {
		t.Errorf("the serve log sets gomaxprocs=%d for cpus=%d, want %d", procs, cpus, max(1, cpus/2))
	}
}
