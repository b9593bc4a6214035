package main

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPinTreeReachesChildren pins a shell and the sleep it started, and
// checks the CPU list the kernel reports for the sleep.
func TestPinTreeReachesChildren(t *testing.T) {
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		t.Fatal(err)
	}
	first := -1
	for cpu := range 1024 {
		if all.IsSet(cpu) {
			first = cpu
			break
		}
	}
	cmd := exec.Command("sh", "-c", "sleep 30 & wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	var sleepPID int
	deadline := time.Now().Add(5 * time.Second)
	for sleepPID == 0 && time.Now().Before(deadline) {
		if kids := childPIDs(cmd.Process.Pid); len(kids) > 0 {
			sleepPID = kids[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	if sleepPID == 0 {
		t.Fatal("childPIDs found no child of the shell within 5s")
	}
	t.Cleanup(func() { unix.Kill(sleepPID, unix.SIGKILL) })

	var firstOnly unix.CPUSet
	firstOnly.Set(first)
	if err := pinTree(cmd.Process.Pid, &firstOnly); err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile("/proc/" + strconv.Itoa(sleepPID) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	want := "Cpus_allowed_list:\t" + strconv.Itoa(first) + "\n"
	if !strings.Contains(string(status), want) {
		t.Errorf("the child's status has no line %q after pinTree", strings.TrimSpace(want))
	}
}
