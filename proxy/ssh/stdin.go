package sshproxy

import (
	"bytes"
	"context"
	"errors"
	"sync"

	"golang.org/x/crypto/ssh"
)

// stdinMode is the handling of the bytes the person types on a session
// channel.
type stdinMode int

const (
	stdinBuffer stdinMode = iota // before the session starts: keys are kept for the target
	stdinHold                    // waiting for a decision: Ctrl-C stops the wait, other keys are dropped
	stdinPrompt                  // reading an answer for a prompt
	stdinRelay                   // copying to the target
)

// maxTypeahead bounds the keys kept between the decision and the start of
// the session; more are dropped.
const maxTypeahead = 64 << 10

var errPromptAborted = errors.New("the prompt was cancelled with Ctrl-C or Ctrl-D")

// promptResult is the answer to a prompt.
type promptResult struct {
	line string
	err  error
}

// stdinPump is the one goroutine that reads a session channel's stdin. For
// a terminal it starts with the run request, so the person can answer
// prompts and stop a hold with Ctrl-C. Without a terminal it starts when
// the session starts on the target, and SSH flow control holds the
// client's input until then. It runs until the client sends EOF or closes the
// channel. Keys typed while a decision is pending are dropped, so nothing
// typed before approval runs on the target. Keys typed after it are kept
// and sent when the session starts.
type stdinPump struct {
	s         *sessionChannel
	interrupt chan struct{}
	stopHold  sync.Once
	// deliverMu orders deliveries and the flush of kept keys, so kept
	// keys reach the target before later ones.
	deliverMu sync.Mutex

	// mu guards the fields below.
	mu      sync.Mutex
	mode    stdinMode
	running bool
	eof     bool
	up      ssh.Channel
	editor  lineEditor
	answer  chan promptResult // set while a prompt waits
	// afterPrompt is the mode to return to when the prompt is answered.
	afterPrompt stdinMode
	typeahead   []byte
	droppedKeys bool // the typeahead bound was reached and logged
}

func newStdinPump(s *sessionChannel) *stdinPump {
	return &stdinPump{s: s, interrupt: make(chan struct{})}
}

// start reads the terminal before the session starts, keeping the keys.
func (p *stdinPump) start() {
	p.ensureRunning()
}

// setWaiting switches between waiting for a decision, when keys are
// dropped and Ctrl-C stops the wait, and keeping keys for the target.
// Keys kept before the wait began were typed before any approval, so the
// switch drops them too, and a Ctrl-C among them stops the wait.
func (p *stdinPump) setWaiting(waiting bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case waiting && p.mode == stdinBuffer:
		p.mode = stdinHold
		if p.dropTypeahead() {
			p.stopHold.Do(func() { close(p.interrupt) })
		}
	case !waiting && p.mode == stdinHold:
		p.mode = stdinBuffer
	}
}

// dropTypeahead drops the kept keys and reports whether they contained a
// Ctrl-C. The caller must hold mu.
func (p *stdinPump) dropTypeahead() (interrupted bool) {
	interrupted = bytes.IndexByte(p.typeahead, keyInterrupt) >= 0
	p.typeahead = nil
	return interrupted
}

// relay sends the kept keys and all further input to up, and sends EOF
// there at once when the client already sent it.
func (p *stdinPump) relay(up ssh.Channel) {
	p.deliverMu.Lock()
	p.mu.Lock()
	p.mode, p.up = stdinRelay, up
	eof, kept := p.eof, p.typeahead
	p.typeahead = nil
	p.mu.Unlock()
	if len(kept) > 0 {
		p.s.rec.input(kept)
		_, _ = up.Write(kept)
	}
	p.deliverMu.Unlock()
	if eof {
		_ = up.CloseWrite()
		return
	}
	p.ensureRunning()
}

// prompt writes question and returns the line the person types.
func (p *stdinPump) prompt(ctx context.Context, question string) (string, error) {
	answer := make(chan promptResult, 1)
	p.mu.Lock()
	// Keys kept before the prompt appeared are not its answer, so they
	// are dropped, and a Ctrl-C among them cancels the prompt.
	interrupted := p.dropTypeahead()
	if p.eof || interrupted {
		p.mu.Unlock()
		return "", errPromptAborted
	}
	p.afterPrompt = p.mode
	p.mode, p.editor, p.answer = stdinPrompt, lineEditor{}, answer
	p.mu.Unlock()
	p.ensureRunning()
	p.s.writeStderr([]byte(question))

	var res promptResult
	select {
	case res = <-answer:
	case <-ctx.Done():
		res.err = context.Cause(ctx)
	}
	p.mu.Lock()
	if p.mode == stdinPrompt {
		p.mode, p.answer = p.afterPrompt, nil
	}
	p.mu.Unlock()
	return res.line, res.err
}

func (p *stdinPump) ensureRunning() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running || p.eof {
		return
	}
	p.running = true
	go p.run()
}

// run reads until EOF or the channel closes.
func (p *stdinPump) run() {
	_ = pump(p.s.ch, func(data []byte) error {
		p.s.c.touch()
		p.deliver(data)
		return nil
	})
	p.closeInput()
}

// deliver hands typed bytes to whatever the current mode does with them.
func (p *stdinPump) deliver(data []byte) {
	p.deliverMu.Lock()
	defer p.deliverMu.Unlock()
	p.mu.Lock()
	mode, up := p.mode, p.up
	if mode == stdinBuffer {
		switch {
		case len(p.typeahead)+len(data) <= maxTypeahead:
			p.typeahead = append(p.typeahead, data...)
		case !p.droppedKeys:
			p.droppedKeys = true
			p.s.log.Info("keys typed before the session started were dropped", "max", maxTypeahead)
		}
	}
	p.mu.Unlock()
	switch mode {
	case stdinRelay:
		// A failed write means the target closed the channel, or that
		// Terminate closed the connection to it. The session ends through
		// the channel close, so the bytes are dropped, and only what the
		// target took is recorded.
		n, _ := up.Write(data)
		p.s.rec.input(data[:n])
	case stdinPrompt:
		p.edit(data)
	case stdinHold:
		for _, b := range data {
			if b == keyInterrupt {
				p.stopHold.Do(func() { close(p.interrupt) })
			}
		}
	}
}

// edit feeds a prompt's line editor and answers the prompt when the line
// ends.
func (p *stdinPump) edit(data []byte) {
	p.mu.Lock()
	answer := p.answer
	if answer == nil {
		p.mu.Unlock()
		return
	}
	echo, result := p.editor.feed(data)
	line := p.editor.text()
	if result != editMore {
		p.mode, p.answer = p.afterPrompt, nil
	}
	p.mu.Unlock()
	p.s.writeStderr(echo)
	switch result {
	case editDone:
		answer <- promptResult{line: line}
	case editAbort:
		answer <- promptResult{err: errPromptAborted}
	}
}

// closeInput handles the client's EOF: EOF goes to the target when
// relaying, and an open prompt is cancelled.
func (p *stdinPump) closeInput() {
	// deliverMu keeps EOF behind the kept keys that relay may be writing.
	p.deliverMu.Lock()
	defer p.deliverMu.Unlock()
	p.mu.Lock()
	p.eof, p.running = true, false
	mode, up, answer := p.mode, p.up, p.answer
	p.answer = nil
	p.mu.Unlock()
	switch {
	case mode == stdinRelay:
		_ = up.CloseWrite()
	case answer != nil:
		answer <- promptResult{err: errPromptAborted}
	}
}
