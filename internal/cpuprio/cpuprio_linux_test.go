package cpuprio

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// policy returns the scheduling policy of the calling thread.
func policy(t *testing.T) int {
	p, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETSCHEDULER, 0, 0, 0)
	if errno != 0 {
		t.Fatalf("sched_getscheduler: %v", errno)
	}
	return int(p)
}

// hasCapSysNice reports whether the test process has CAP_SYS_NICE, bit 23
// of the effective set in /proc/self/status.
func hasCapSysNice(t *testing.T) bool {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return caps&(1<<23) != 0
		}
	}
	t.Fatal("no CapEff line in /proc/self/status")
	return false
}

func TestRunRaisesOnlyItsOwnThread(t *testing.T) {
	var inside, tid int
	err := Run(func() {
		inside = policy(t)
		tid = syscall.Gettid()
	})
	if hasCapSysNice(t) && err != nil {
		t.Fatalf("Run with CAP_SYS_NICE: %v", err)
	}

	want := schedFIFO
	if err != nil {
		want = 0
		t.Logf("running at the normal priority: %v", err)
	}
	if inside != want {
		t.Fatalf("policy inside Run = %d, want %d (err %v)", inside, want, err)
	}
	if got := policy(t); got != 0 {
		t.Fatalf("policy of the caller's thread = %d after Run, want 0", got)
	}

	// The thread that ran f must be back at the normal policy, or gone,
	// by the time Run returns, because Go may run other goroutines on it.
	stat, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/stat", tid))
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	// The fields after the command's closing parenthesis start at the 3rd,
	// and the policy is the 41st.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if got := fields[41-3]; got != "0" {
		t.Fatalf("thread %d that ran f has policy %s after Run, want 0", tid, got)
	}
}

func TestRunCallsFOnce(t *testing.T) {
	calls := 0
	Run(func() { calls++ })
	if calls != 1 {
		t.Fatalf("f ran %d times, want 1", calls)
	}
}

// childEnv makes the test binary act as an unprivileged process in
// TestMain's child mode.
const childEnv = "JITGATE_CPUPRIO_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

// child drops root for the user nobody (65534) and prints what Check
// returns.
func child() int {
	if err := syscall.Setgid(65534); err != nil {
		fmt.Println("setgid:", err)
		return 2
	}
	if err := syscall.Setuid(65534); err != nil {
		fmt.Println("setuid:", err)
		return 2
	}
	if err := Check(); err != nil {
		fmt.Println("error:", err)
		return 0
	}
	fmt.Println("raised")
	return 0
}

func TestCheckWithoutPrivilege(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to start a child as the user nobody")
	}
	var limit syscall.Rlimit
	const rlimitRTPrio = 14
	if err := syscall.Getrlimit(rlimitRTPrio, &limit); err != nil {
		t.Fatal(err)
	}
	if limit.Cur != 0 {
		t.Skipf("RLIMIT_RTPRIO is %d, so nobody may raise its priority", limit.Cur)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	want := "error: real-time priority not permitted (SCHED_FIFO 1 needs CAP_SYS_NICE or an RLIMIT_RTPRIO of at least 1, and a cgroup that allows real-time threads): operation not permitted"
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("child printed %q, want %q", got, want)
	}
}
