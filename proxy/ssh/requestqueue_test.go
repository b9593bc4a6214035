package sshproxy

import (
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestRequestQueueOrderAndWorkerExit(t *testing.T) {
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	handled := make(chan string, 10)
	q := newRequestQueue(3, func(req *ssh.Request) {
		started <- struct{}{}
		<-release
		handled <- req.Type
	})

	// The worker takes the first request and blocks on it, so three more
	// fill the queue and a fifth is rejected.
	if !q.push(&ssh.Request{Type: "0"}) {
		t.Fatal("push to an empty queue = false")
	}
	<-started
	for i := 1; i < 5; i++ {
		if ok, want := q.push(&ssh.Request{Type: strconv.Itoa(i)}), i < 4; ok != want {
			t.Errorf("push %d = %v, want %v", i, ok, want)
		}
	}

	close(release)
	var got []string
	for len(got) < 4 {
		select {
		case typ := <-handled:
			got = append(got, typ)
		case <-time.After(5 * time.Second):
			t.Fatalf("handled %v, then nothing for 5s", got)
		}
	}
	for i, typ := range got {
		if typ != strconv.Itoa(i) {
			t.Fatalf("handled %v, want the order of push", got)
		}
	}

	deadline := time.Now().Add(5 * time.Second)
	for {
		q.mu.Lock()
		running := q.running
		q.mu.Unlock()
		if !running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker still runs 5s after the queue emptied")
		}
		time.Sleep(time.Millisecond)
	}

	if !q.push(&ssh.Request{Type: "again"}) {
		t.Fatal("push after the worker ended = false, want a new worker")
	}
	select {
	case typ := <-handled:
		if typ != "again" {
			t.Errorf("handled %q, want again", typ)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a request pushed after the worker ended was not handled")
	}
}
