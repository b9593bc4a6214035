package main

import (
	"errors"
	"io"
	"log/slog"
	"sync"

	"golang.org/x/crypto/ssh"
)

// relayChannel opens the same channel upstream and copies data, extended
// data (stderr) and channel requests both ways, per RFC 4254 section 5.
//
// The client's channel gets EOF once upstream's stdout and stderr are
// drained, and is closed once upstream has closed its channel and every
// upstream request (exit-status among them) has been passed on.
func relayChannel(newCh ssh.NewChannel, upstream ssh.Conn, log *slog.Logger) {
	uch, ureqs, err := upstream.OpenChannel(newCh.ChannelType(), newCh.ExtraData())
	if err != nil {
		var openErr *ssh.OpenChannelError
		if errors.As(err, &openErr) {
			_ = newCh.Reject(openErr.Reason, openErr.Message)
		} else {
			_ = newCh.Reject(ssh.ConnectionFailed, err.Error())
		}
		return
	}
	cch, creqs, err := newCh.Accept()
	if err != nil {
		log.Info("accepting a client channel failed", "type", newCh.ChannelType(), "err", err)
		uch.Close()
		return
	}

	var output sync.WaitGroup
	output.Go(func() { _, _ = io.Copy(cch, uch) })
	output.Go(func() { _, _ = io.Copy(cch.Stderr(), uch.Stderr()) })
	outputDone := make(chan struct{})
	go func() {
		output.Wait()
		_ = cch.CloseWrite()
		close(outputDone)
	}()
	go func() {
		_, _ = io.Copy(uch, cch)
		_ = uch.CloseWrite()
	}()

	// Client requests go upstream until the client closes its channel.
	clientDone := make(chan struct{})
	go func() {
		forwardChannelRequests(creqs, uch)
		uch.Close()
		close(clientDone)
	}()

	forwardChannelRequests(ureqs, cch)
	<-outputDone
	cch.Close()
	<-clientDone
}

// forwardChannelRequests sends each request on to the other side's
// channel and relays the reply when one is wanted.
func forwardChannelRequests(reqs <-chan *ssh.Request, to ssh.Channel) {
	for req := range reqs {
		ok, err := to.SendRequest(req.Type, req.WantReply, req.Payload)
		if err != nil {
			ok = false
		}
		if req.WantReply {
			_ = req.Reply(ok, nil)
		}
	}
}
