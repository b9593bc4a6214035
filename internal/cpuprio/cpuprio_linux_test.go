package cpuprio

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

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

// policies returns the scheduling policy of every thread of the process.
func policies(t *testing.T) map[int]int {
	t.Helper()
	got := policiesOrNil()
	if got == nil {
		t.Fatal("could not list the threads of the process")
	}
	return got
}

// policiesOrNil is policies for the child, which has no testing.T.
func policiesOrNil() map[int]int {
	tids, err := threads()
	if err != nil {
		return nil
	}
	got := map[int]int{}
	for _, tid := range tids {
		if p, err := policyOf(tid); err == nil {
			got[tid] = p
		}
	}
	return got
}

// waitLowered waits until every thread is back at the normal policy.
func waitLowered(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		raised := 0
		for _, p := range policies(t) {
			if p != schedOther {
				raised++
			}
		}
		if raised == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d threads still at a real-time policy %v after the burst should have ended", raised, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// holdThreads starts n goroutines that each keep a thread of their own
// until the test ends, so Go has to start threads.
func holdThreads(t *testing.T, n int) {
	release := make(chan struct{})
	started := make(chan struct{}, n)
	for range n {
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			started <- struct{}{}
			<-release
		}()
	}
	for range n {
		<-started
	}
	t.Cleanup(func() { close(release) })
}

// beginOrSkip calls Begin and, when the process may not raise its
// priority, checks that nothing changed and skips the test.
func beginOrSkip(t *testing.T) func() {
	t.Helper()
	release, err := Begin()
	if err == nil {
		t.Cleanup(release)
		return release
	}
	if hasCapSysNice(t) {
		t.Fatalf("Begin with CAP_SYS_NICE: %v", err)
	}
	checkAll(t, schedOther, "after a Begin that failed")
	t.Skipf("running at the normal priority: %v", err)
	return nil
}

// checkAll fails unless every thread has policy want.
func checkAll(t *testing.T, want int, when string) {
	t.Helper()
	for tid, p := range policies(t) {
		if p != want {
			t.Fatalf("thread %d has policy %d %s, want %d", tid, p, when, want)
		}
	}
}

func TestBeginRaisesEveryThreadUntilReleased(t *testing.T) {
	waitLowered(t, MaxBurst+2*time.Second) // after an earlier test's burst
	holdThreads(t, 2)
	before := len(policies(t))

	release := beginOrSkip(t)
	// Threads that Go starts during the burst, here for goroutines that
	// each keep one, inherit the priority.
	holdThreads(t, before)
	if got := len(policies(t)); got <= before {
		t.Fatalf("%d threads after holding %d more, want more than %d", got, before, before)
	}
	checkAll(t, schedFIFO, "during the burst")
	release()
	checkAll(t, schedOther, "after the only claim was released")
}

func TestBurstLastsUntilTheLastClaim(t *testing.T) {
	waitLowered(t, MaxBurst+2*time.Second)
	first := beginOrSkip(t)
	second := beginOrSkip(t)
	first()
	checkAll(t, schedFIFO, "with one of two claims released")
	first() // a second call releases nothing more
	checkAll(t, schedFIFO, "after the first claim was released twice")
	second()
	checkAll(t, schedOther, "after both claims were released")
}

func TestBurstEndsAfterMaxBurst(t *testing.T) {
	waitLowered(t, MaxBurst+2*time.Second)
	stale := beginOrSkip(t)
	checkAll(t, schedFIFO, "during the burst")
	waitLowered(t, MaxBurst+3*time.Second)

	// The claim of the burst that MaxBurst ended does not end the next.
	next := beginOrSkip(t)
	stale()
	checkAll(t, schedFIFO, "after a claim of the earlier burst was released")
	next()
	checkAll(t, schedOther, "after the next burst's claim was released")
}

// TestStaleBurstTimerKeepsLaterBurst checks that the MaxBurst timer of a
// burst that its claims ended does not end the next burst.
func TestStaleBurstTimerKeepsLaterBurst(t *testing.T) {
	waitLowered(t, MaxBurst+2*time.Second)
	first := beginOrSkip(t)
	burst.Lock()
	firstGen := burst.gen
	burst.Unlock()
	first()

	next := beginOrSkip(t)
	endBurst(firstGen) // as the first burst's timer does when it fires
	checkAll(t, schedFIFO, "after the earlier burst's timer ran")
	next()
	checkAll(t, schedOther, "after the next burst's claim was released")
}

func TestRunRaisesOnlyItsOwnThread(t *testing.T) {
	waitLowered(t, MaxBurst+2*time.Second)
	var inside, tid int
	var others []int
	err := Run(func() {
		inside, _ = policyOf(0)
		tid = syscall.Gettid()
		for other, p := range policies(t) {
			if other != tid && p != schedOther {
				others = append(others, other)
			}
		}
	})
	if hasCapSysNice(t) && err != nil {
		t.Fatalf("Run with CAP_SYS_NICE: %v", err)
	}

	want := schedFIFO
	if err != nil {
		want = schedOther
		t.Logf("running at the normal priority: %v", err)
	}
	if inside != want {
		t.Fatalf("policy inside Run = %d, want %d (err %v)", inside, want, err)
	}
	if len(others) > 0 {
		t.Errorf("threads %v besides Run's own were raised while f ran", others)
	}
	// The thread that ran f must be back at the normal policy, or gone,
	// by the time Run returns, because Go may run other goroutines on it.
	if p, err := policyOf(tid); err == nil && p != schedOther {
		t.Fatalf("thread %d that ran f has policy %d after Run, want 0", tid, p)
	}
}

func TestRunCallsFOnce(t *testing.T) {
	calls := 0
	Run(func() { calls++ })
	if calls != 1 {
		t.Fatalf("f ran %d times, want 1", calls)
	}
}

// childEnv makes the test binary act as a child process in TestMain:
// unprivileged with childUnprivileged, or one that gets SIGXCPU with
// childSIGXCPU.
const (
	childEnv          = "JITGATE_CPUPRIO_CHILD"
	childUnprivileged = "unprivileged"
	childSIGXCPU      = "sigxcpu"
)

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case childUnprivileged:
		os.Exit(child())
	case childSIGXCPU:
		os.Exit(childGetsSIGXCPU())
	}
	os.Exit(m.Run())
}

// childGetsSIGXCPU starts a burst, sends itself SIGXCPU as the kernel
// does at the soft RLIMIT_RTTIME, and prints what Begin then returns,
// which threads are still raised, and the log.
func childGetsSIGXCPU() int {
	var log strings.Builder
	StopOnTimeLimit(slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})))
	release, err := Begin()
	if err != nil {
		fmt.Println("begin:", err)
		return 2
	}
	defer release()
	if err := syscall.Kill(os.Getpid(), syscall.SIGXCPU); err != nil {
		fmt.Println("kill:", err)
		return 2
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := Begin()
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		if time.Now().After(deadline) {
			fmt.Println("Begin still raised the priority 5s after SIGXCPU")
			return 0
		}
		time.Sleep(10 * time.Millisecond)
	}
	for tid, p := range policiesOrNil() {
		if p != schedOther {
			fmt.Printf("thread %d has policy %d\n", tid, p)
		}
	}
	fmt.Print(log.String())
	return 0
}

func TestSIGXCPUStopsBursts(t *testing.T) {
	if !hasCapSysNice(t) {
		t.Skip("needs CAP_SYS_NICE to raise the priority before SIGXCPU")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+childSIGXCPU)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	want := "error: real-time priority stopped after SIGXCPU: a thread reached the soft RLIMIT_RTTIME\n" +
		`level=ERROR msg="a thread reached the soft real-time CPU limit (RLIMIT_RTTIME), so window-end cuts run at the normal CPU priority until jitgate restarts; raise the soft limit of LimitRTTIME, or report this as a bug"`
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("child printed\n%s\nwant\n%s", got, want)
	}
}

// child drops root for the user nobody (65534) and prints what Check
// and Begin return.
func child() int {
	if err := syscall.Setgid(65534); err != nil {
		fmt.Println("setgid:", err)
		return 2
	}
	if err := syscall.Setuid(65534); err != nil {
		fmt.Println("setuid:", err)
		return 2
	}
	begin := func() error {
		release, err := Begin()
		release()
		return err
	}
	for _, try := range []func() error{Check, begin} {
		if err := try(); err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println("raised")
	}
	for tid, p := range policiesOrNil() {
		if p != schedOther {
			fmt.Printf("thread %d has policy %d\n", tid, p)
		}
	}
	return 0
}

func TestCheckAndBeginWithoutPrivilege(t *testing.T) {
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
	cmd.Env = append(os.Environ(), childEnv+"="+childUnprivileged)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	// Check and Begin, each refused, and no thread left raised.
	rejected := "error: real-time priority not permitted (SCHED_FIFO 1 needs CAP_SYS_NICE or an RLIMIT_RTPRIO of at least 1, and a cgroup that allows real-time threads): operation not permitted"
	want := rejected + "\n" + rejected
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("child printed %q, want %q", got, want)
	}
}
