package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/jitgate/jitgate/store"
)

// ErrBroken is wrapped by the error Verify returns for a broken chain.
var ErrBroken = errors.New("audit chain broken")

// Reasons a link is broken, as Break.Reason states them.
const (
	reasonContent = "stored hash does not match its content"
	reasonPrev    = "previous hash does not match the hash of event %d"
	reasonGenesis = "previous hash is not the genesis hash"
	reasonMissing = "event %d is missing"
	reasonGap     = "events %d to %d are missing"
)

// VerifyReport is the result of Verify.
type VerifyReport struct {
	// Events is the number of events checked and found intact, in seq order
	// from 1.
	Events int64
	// Head is the hash of the last intact event, or GenesisHash for an
	// empty log. Storing it elsewhere lets a later Verify detect deleted
	// events at the end, which the chain alone cannot show.
	Head string
	// Broken is the first broken link, or nil.
	Broken *Break
}

// Break describes the first event at which the chain fails.
type Break struct {
	Seq    int64
	Type   string
	Reason string
}

// errStopWalk ends the walk over the events at the first break.
var errStopWalk = errors.New("stop at the first break")

// Verify walks the chain from seq 1 and checks every link: the seq follows
// the previous one, the stored hash matches the event's content, and
// PrevHash matches the previous event's hash. It stops at the first broken
// link, which it reports in the VerifyReport and in an error that wraps
// ErrBroken and names the event. Times may go backwards, as wall clocks do,
// and are not checked.
func Verify(ctx context.Context, r store.Reader) (*VerifyReport, error) {
	report := &VerifyReport{Head: GenesisHash}
	var prevSeq int64
	err := r.Events(ctx, store.EventFilter{}, func(e *store.Event) error {
		if reason := checkLink(e, prevSeq, report.Head); reason != "" {
			report.Broken = &Break{Seq: e.Seq, Type: e.Type, Reason: reason}
			return errStopWalk
		}
		report.Events++
		report.Head = e.Hash
		prevSeq = e.Seq
		return nil
	})
	switch {
	case errors.Is(err, errStopWalk):
		b := report.Broken
		return report, fmt.Errorf("%w at event %d (%s): %s", ErrBroken, b.Seq, b.Type, b.Reason)
	case err != nil:
		return nil, fmt.Errorf("audit: verify: %w", err)
	}
	return report, nil
}

// checkLink returns why e does not follow the event with prevSeq and
// prevHash, or "" when it does. A gap is checked first because after one
// the other checks compare against the wrong event.
func checkLink(e *store.Event, prevSeq int64, prevHash string) string {
	switch missing := e.Seq - prevSeq - 1; {
	case missing == 1:
		return fmt.Sprintf(reasonMissing, prevSeq+1)
	case missing > 1:
		return fmt.Sprintf(reasonGap, prevSeq+1, e.Seq-1)
	}

	hash, err := EventHash(e)
	if err != nil {
		return "cannot hash its content: " + err.Error()
	}
	if hash != e.Hash {
		return reasonContent
	}
	if e.PrevHash != prevHash {
		if prevSeq == 0 {
			return reasonGenesis
		}
		return fmt.Sprintf(reasonPrev, prevSeq)
	}
	return ""
}
