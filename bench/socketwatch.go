package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// socketWatchSubcommand runs the reader of the kernel's TCP table for the
// window-end workloads in a process of its own (see watchSockets).
const socketWatchSubcommand = "jitgate-bench-watch-sockets"

// watchSpec is the request to the reader process: the ports to watch and
// the grant's end. The harness sends it as JSON on the process's stdin.
type watchSpec struct {
	TargetPort int // the target's port: PostgreSQL's or sshd's
	ProxyPort  int // jitgate's port that the clients connect to
	IPv6       bool
	Conns      []watchedConn
	End        time.Time // the grant's end
}

// watchedConn names the two sockets of one held connection by port.
type watchedConn struct {
	Upstream int // jitgate's port of the upstream connection
	Client   int // the client socket's local port
}

// watchReply is the reader process's reply on its stdout, as JSON.
type watchReply struct {
	Upstream, Client, Reached map[int]time.Time
	Error                     string
}

// watchSockets reads the kernel's TCP table from just before end until
// every socket of conns has left ESTABLISHED on both legs, and returns
// when each did (see watchPorts). The reader runs as a child process with
// every thread at real-time priority, where the harness may raise it.
//
// In the harness's own process, a reader on a raised thread still needed
// one of Go's Ps. When Go preempted it, as it does any goroutine that runs
// for 10 ms, it got one back only from a thread at the normal priority,
// and those waited behind the processes that exit at the window end. One
// SSH run read the table 21 times in 338 ms, with a gap of 149 ms. The
// child has nothing else to run and no thread at the normal priority.
func watchSockets(ctx context.Context, targetHost string, targetPort, proxyPort int, conns []*heldConn, end time.Time) (closeTimes, error) {
	spec := watchSpec{TargetPort: targetPort, ProxyPort: proxyPort, IPv6: mayUseIPv6(targetHost, conns), End: end}
	for _, c := range conns {
		spec.Conns = append(spec.Conns, watchedConn{Upstream: c.upstreamPort, Client: c.clientPort})
	}
	input, err := json.Marshal(spec)
	if err != nil {
		return closeTimes{}, err
	}

	self, err := os.Executable()
	if err != nil {
		return closeTimes{}, fmt.Errorf("find the harness's own binary for the socket reader: %w", err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, self, socketWatchSubcommand)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(input), &stdout, &stderr
	runErr := cmd.Run()

	var reply watchReply
	if err := json.Unmarshal(stdout.Bytes(), &reply); err != nil {
		return closeTimes{}, fmt.Errorf("socket reader (exit: %v) wrote a reply that is not JSON, %q: %w; stderr: %s", runErr, stdout.Bytes(), err, bytes.TrimSpace(stderr.Bytes()))
	}
	if reply.Error != "" {
		return closeTimes{}, errors.New(reply.Error)
	}
	if runErr != nil {
		return closeTimes{}, fmt.Errorf("socket reader: %w; stderr: %s", runErr, bytes.TrimSpace(stderr.Bytes()))
	}

	t := closeTimes{upstream: reply.Upstream, client: reply.Client, reached: reply.Reached}
	for _, m := range []*map[int]time.Time{&t.upstream, &t.client, &t.reached} {
		if *m == nil {
			*m = map[int]time.Time{}
		}
	}
	return t, nil
}

// socketWatchMain is the reader process: it reads a watchSpec from
// stdin, watches, and writes a watchReply to stdout.
func socketWatchMain() error {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	var spec watchSpec
	if err := json.Unmarshal(input, &spec); err != nil {
		return fmt.Errorf("read the watch spec from stdin: %w", err)
	}
	time.Sleep(time.Until(spec.End.Add(-100 * time.Millisecond)))
	// The backends or sshd sessions that jitgate's cuts wake take both
	// cores while they exit, and a reader that waited behind them would
	// note each close late. A thread that Go starts later inherits the
	// priority. A reading of the IPv4 table took about 1 ms here before it
	// also requested each socket's tcp_info, so with the pause the reader
	// takes about a third of one core.
	if err := raiseAllThreads(); err != nil {
		fmt.Fprintln(os.Stderr, "the socket reader runs at the default priority:", err)
	}
	t, err := watchPorts(spec)
	reply := watchReply{Upstream: t.upstream, Client: t.client, Reached: t.reached}
	if err != nil {
		reply.Error = err.Error()
	}
	return json.NewEncoder(os.Stdout).Encode(reply)
}

// raiseAllThreads moves every thread of the process to SCHED_FIFO at
// priority 1, the priority of jitgate's window-end pass, or failing that
// to nice readerNice. Both need CAP_SYS_NICE; the first also works with
// an RLIMIT_RTPRIO of 1. Threads started later inherit the setting.
func raiseAllThreads() error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	var errs []error
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		param := struct{ priority int32 }{1}
		const schedFIFO = 1
		if _, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, uintptr(tid), schedFIFO, uintptr(unsafe.Pointer(&param))); errno == 0 {
			continue
		}
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, readerNice); err != nil {
			errs = append(errs, fmt.Errorf("thread %d: %w", tid, err))
		}
	}
	return errors.Join(errs...)
}

// watchPorts reads the kernel's TCP table every upstreamPollPause until
// every socket of spec.Conns has left ESTABLISHED on both legs. Each
// reading is one dump of the table, for both legs at once. The target's
// socket (the backend's, or sshd's) leaves it when jitgate's FIN reaches
// the target, and the client's when jitgate's FIN reaches the client or,
// for SSH, when the client closes. Each reading also counts the bytes
// each client socket has received, for closeTimes.reached. Reading the
// table rather than waiting for the harness's own readers keeps the
// Postgres client times free of the harness's scheduling. An SSH client's
// close is the harness's own, so its time includes that.
func watchPorts(spec watchSpec) (closeTimes, error) {
	table, err := openTCPTable(spec.IPv6, true)
	if err != nil {
		return closeTimes{}, err
	}
	defer table.close()

	end := spec.End
	t := closeTimes{upstream: map[int]time.Time{}, client: map[int]time.Time{}, reached: map[int]time.Time{}}
	upstreamOpen, clientOpen := map[int]bool{}, map[int]bool{}
	// received is each client socket's count in the current reading, and
	// before its count in the last reading that finished before the end.
	received, before := map[int]uint64{}, map[int]uint64{}
	deadline := end.Add(closeWait)

	for len(t.upstream) < len(spec.Conns) || len(t.client) < len(spec.Conns) {
		if time.Now().After(deadline) {
			return closeTimes{}, fmt.Errorf("%d upstream and %d client sockets still open %v after the window end",
				len(spec.Conns)-len(t.upstream), len(spec.Conns)-len(t.client), closeWait)
		}
		clear(upstreamOpen)
		clear(clientOpen)
		clear(received)
		err := table.scan(func(s tcpSocket) {
			switch {
			case s.local == spec.TargetPort:
				upstreamOpen[s.remote] = true
			case s.remote == spec.ProxyPort:
				clientOpen[s.local] = true
				if s.hasBytes {
					received[s.local] = s.bytesReceived
				}
			}
		})
		if err != nil {
			return closeTimes{}, err
		}

		now := time.Now()
		afterEnd := !now.Before(end)
		if !afterEnd {
			maps.Copy(before, received)
		}
		for _, c := range spec.Conns {
			if _, seen := t.upstream[c.Upstream]; !seen && !upstreamOpen[c.Upstream] {
				t.upstream[c.Upstream] = now
			}
			if _, seen := t.client[c.Client]; !seen && !clientOpen[c.Client] {
				t.client[c.Client] = now
			}
			n, counted := before[c.Client]
			if _, seen := t.reached[c.Client]; afterEnd && !seen && bytesArrived(n, counted, received[c.Client], clientOpen[c.Client]) {
				t.reached[c.Client] = now
			}
		}

		// The pause sleeps in the kernel, because a Go timer would wake
		// this thread only once another thread ran the timer.
		pause := syscall.NsecToTimespec(int64(upstreamPollPause))
		_, _, _ = syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&pause)), 0, 0)
	}
	return t, nil
}
