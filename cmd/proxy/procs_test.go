package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
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
	}
	for _, tt := range tests {
		procs, changed := serverProcs(tt.env, tt.goDefault)
		if procs != tt.wantProcs || changed != tt.wantChanged {
			t.Errorf("serverProcs(%q, %d) = %d, %v; want %d, %v", tt.env, tt.goDefault, procs, changed, tt.wantProcs, tt.wantChanged)
		}
	}
}

// TestServeLogsItsProcs checks that `jitgate serve` applies serverProcs
// and logs the value, unless this test's environment sets GOMAXPROCS or
// Go uses one CPU.
func TestServeLogsItsProcs(t *testing.T) {
	srv := startServer(t, servertest.WriteConfig(t, t.TempDir(), servertest.Options{}))
	srv.stop()
	cpus := runtime.GOMAXPROCS(0)
	line := fmt.Sprintf("gomaxprocs=%d cpus=%d", max(1, cpus/2), cpus)
	if os.Getenv("GOMAXPROCS") != "" || cpus == 1 {
		if strings.Contains(srv.log(), "gomaxprocs=") {
			t.Errorf("the serve log changes GOMAXPROCS although the environment sets it or Go uses one CPU:\n%s", srv.log())
		}
		return
	}
	if !strings.Contains(srv.log(), line) {
		t.Errorf("the serve log lacks %q:\n%s", line, srv.log())
	}
}
