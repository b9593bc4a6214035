package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// profileSeconds is the CPU profile length for workloads whose run time
// is not set by -duration.
const profileSeconds = 5

// withProfile wraps w so that the first jitgate run of the workload is
// CPU-profiled through the profiled server's /debug/pprof/profile. The
// profile is written to dir as <workload>.pprof.
func (h *harness) withProfile(w workload, dir string) workload {
	// The memory workloads restart jitgate, so they get heap profiles
	// from heapProfiler instead.
	if !h.o.pprof || w.group == groupMemory {
		return w
	}
	seconds := profileSeconds
	if w.group == groupPG {
		seconds = int(h.o.duration.Seconds())
	}
	run := w.run
	done := false
	w.run = func(ctx context.Context, path string) (measurement, error) {
		if path != pathJitgate || done || h.jg.pprofPort == 0 {
			return run(ctx, path)
		}
		done = true
		saved := make(chan error, 2)
		file := filepath.Join(dir, slug(w.name)+".pprof")
		allocs := filepath.Join(dir, slug(w.name)+".allocs.pprof")
		go func() { saved <- fetchProfile(ctx, h.jg.pprofPort, "profile", seconds, file) }()
		go func() { saved <- fetchProfile(ctx, h.jg.pprofPort, "allocs", seconds, allocs) }()
		m, err := run(ctx, path)
		for range 2 {
			if perr := <-saved; perr != nil {
				h.log.Warn("profile not saved", "workload", w.name, "err", perr)
			}
		}
		h.log.Info("CPU and allocation profiles saved", "workload", w.name, "cpu", file, "allocs", allocs)
		return m, err
	}
	return w
}

// fetchProfile saves the named profile of the profiled jitgate over the
// next seconds to file: "profile" for CPU time, or "allocs" for the
// allocations made in that time.
func fetchProfile(ctx context.Context, port int, name string, seconds int, file string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(seconds)*time.Second+time.Minute)
	defer cancel()
	return fetchURL(ctx, fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/%s?seconds=%d", port, name, seconds), file)
}

// fetchURL saves the body of GET url to file. ctx bounds the call.
func fetchURL(ctx context.Context, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("save %s: %w", file, err)
	}
	return f.Close()
}

// slug turns a workload name into a file name: lower case letters,
// digits and dashes.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// collectedHeapRounds is the number of forced collections before the live
// statistics are saved. Each one can halve a stack that uses under a
// quarter of its size (shrinkstack in runtime/stack.go).
const collectedHeapRounds = 4

// heapProfiler returns a function that saves what the profiled jitgate
// holds, or nil when path is not jitgate or -pprof is off. Only the first
// call of the run saves, into the profile folder:
//   - <name>.heap.pprof: the heap profile as the workload left it;
//   - <name>.heap.txt: the same as text, ending in the runtime's memory
//     statistics (HeapInuse and Stack are most of the RSS);
//   - <name>.goroutines.txt: the goroutines, counted by stack;
//   - <name>.live.heap.pprof and <name>.live.txt: the heap profile and the
//     statistics after collectedHeapRounds forced collections, so
//     HeapAlloc plus Stack there is what the process still needs, without
//     the collector's headroom.
func (h *harness) heapProfiler(ctx context.Context, path, name string) func() {
	if !h.o.pprof || path != pathJitgate || h.jg.pprofPort == 0 || h.heapSaved[name] {
		return nil
	}
	return func() {
		h.heapSaved[name] = true
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		type fetch struct{ query, file string }
		fetches := []fetch{
			{"heap", name + ".heap.pprof"},
			{"heap?debug=1", name + ".heap.txt"},
			{"goroutine?debug=1", name + ".goroutines.txt"},
		}
		for range collectedHeapRounds {
			fetches = append(fetches, fetch{"heap?gc=1", name + ".live.heap.pprof"})
		}
		fetches = append(fetches, fetch{"heap?debug=1", name + ".live.txt"})
		for _, f := range fetches {
			file := filepath.Join(h.profileDir, f.file)
			url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/%s", h.jg.pprofPort, f.query)
			if err := fetchURL(ctx, url, file); err != nil {
				h.log.Warn("saving a profile failed; the later ones are skipped", "file", file, "err", err)
				return
			}
		}
		h.log.Info("heap profiles saved", "dir", h.profileDir, "name", name)
	}
}
