package main

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/jitgate/jitgate/internal/testenv"
)

// TestMain lets watchSockets start the test binary as its socket reader,
// as it starts the harness's own binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == socketWatchSubcommand {
		exitOn(socketWatchMain())
		return
	}
	os.Exit(m.Run())
}

// TestWatchSocketsInChildProcess watches one connection pair through the
// reader process: an upstream connection to a "target" listener and a
// client connection to a "proxy" listener. After the end, the proxy side
// sends a byte to the client and then both far sides close. Each time the
// reader returns must fall after that, and within the wait.
func TestWatchSocketsInChildProcess(t *testing.T) {
	upstream, targetSide := testenv.TCPPair(t)
	client, proxySide := testenv.TCPPair(t)
	target := targetSide.LocalAddr().(*net.TCPAddr).Port
	proxy := proxySide.LocalAddr().(*net.TCPAddr).Port
	conns := []*heldConn{{
		upstreamPort: upstream.LocalAddr().(*net.TCPAddr).Port,
		clientPort:   client.LocalAddr().(*net.TCPAddr).Port,
		net:          client,
	}}
	// The reader must read once before the end, to count the bytes the
	// client had then. A test binary built with -race takes a while to
	// start, so the end leaves it time.
	end := time.Now().Add(1500 * time.Millisecond)
	cut := end.Add(50 * time.Millisecond)
	go func() {
		time.Sleep(time.Until(cut))
		proxySide.Write([]byte{1})
		targetSide.Close()
		proxySide.Close()
	}()

	ctx, cancel := context.WithTimeout(context.Background(), closeWait+30*time.Second)
	defer cancel()
	times, err := watchSockets(ctx, "127.0.0.1", target, proxy, conns, end)
	if err != nil {
		t.Fatal(err)
	}
	c := conns[0]
	for _, side := range []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"upstream close", times.upstream[c.upstreamPort], !times.upstream[c.upstreamPort].IsZero()},
		{"client close", times.client[c.clientPort], !times.client[c.clientPort].IsZero()},
		{"bytes reached", times.reached[c.clientPort], !times.reached[c.clientPort].IsZero()},
	} {
		if !side.ok {
			t.Errorf("%s: no time returned", side.name)
			continue
		}
		if side.at.Before(cut) {
			t.Errorf("%s at %v, before the cut at %v", side.name, side.at.Sub(end), cut.Sub(end))
		}
		if side.at.After(cut.Add(5 * time.Second)) {
			t.Errorf("%s at %v after the end, long after the cut", side.name, side.at.Sub(end))
		}
	}
}
