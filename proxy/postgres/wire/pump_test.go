package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/iotest"
)

// recordingSink collects relayed bytes and checks that every write that
// claims a boundary ends at one.
type recordingSink struct {
	buf        bytes.Buffer
	boundaries map[int]bool // offsets where messages end
	t          *testing.T
	writes     int
}

func (s *recordingSink) WriteFrames(b []byte, atBoundary bool) error {
	s.buf.Write(b)
	s.writes++
	if atBoundary && s.boundaries != nil && !s.boundaries[s.buf.Len()] {
		s.t.Errorf("write %d claims a boundary at offset %d, which is inside a message", s.writes, s.buf.Len())
	}
	return nil
}

type inspected struct {
	typ   byte
	body  []byte
	whole bool
}

func frame(typ byte, body []byte) []byte {
	out := []byte{typ}
	out = binary.BigEndian.AppendUint32(out, uint32(len(body)+4))
	return append(out, body...)
}

// randomStream returns frontend messages of random types and sizes, some
// far larger than the pump buffer, and the offsets where each ends.
func randomStream(rng *rand.Rand, count int) ([]byte, []inspected, map[int]bool) {
	types := []byte{MsgQuery, MsgParse, MsgBind, MsgExecute, MsgSync, MsgCopyData, MsgDescribe}
	var stream []byte
	var msgs []inspected
	ends := map[int]bool{0: true}
	for range count {
		typ := types[rng.IntN(len(types))]
		size := rng.IntN(300)
		switch rng.IntN(10) {
		case 0:
			size = 20000 + rng.IntN(100000)
		case 1:
			size = 4000 + rng.IntN(5000)
		}
		if typ == MsgExecute || typ == MsgSync || typ == MsgDescribe {
			size = min(size, 200)
		}
		body := make([]byte, size)
		for i := range body {
			body[i] = byte(rng.IntN(256))
		}
		stream = append(stream, frame(typ, body)...)
		ends[len(stream)] = true
		msgs = append(msgs, inspected{typ: typ, body: body, whole: true})
	}
	return stream, msgs, ends
}

func TestPumpRelaysUnchanged(t *testing.T) {
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole reads", func(r io.Reader) io.Reader { return r }},
		{"one byte reads", iotest.OneByteReader},
		{"half reads", iotest.HalfReader},
		{"data with EOF", iotest.DataErrReader},
	}
	for _, bufSize := range []int{4 << 10, 16 << 10, DefaultBufferSize} {
		for _, rd := range readers {
			t.Run(rd.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(bufSize), 7))
				stream, msgs, ends := randomStream(rng, 300)
				inspectLimit := 8 << 10
				rules := FrontendRules(inspectLimit)
				sink := &recordingSink{boundaries: ends, t: t}
				var seen []inspected
				inspect := func(typ byte, body []byte, whole bool) {
					seen = append(seen, inspected{typ, bytes.Clone(body), whole})
				}
				err := NewPump(rd.wrap(bytes.NewReader(stream)), sink, rules, inspect, bufSize).Run()
				if !errors.Is(err, io.EOF) {
					t.Fatalf("Run = %v, want io.EOF", err)
				}
				if !bytes.Equal(sink.buf.Bytes(), stream) {
					t.Fatalf("relayed %d bytes that differ from the %d sent", sink.buf.Len(), len(stream))
				}
				if len(seen) != len(msgs) {
					t.Fatalf("inspected %d messages, want %d", len(seen), len(msgs))
				}
				for i, m := range msgs {
					s := seen[i]
					if s.typ != m.typ {
						t.Fatalf("message %d: type %q, want %q", i, s.typ, m.typ)
					}
					limit := rules.Inspect[m.typ]
					fitsBuffer := len(m.body)+5 <= bufSize
					switch {
					case s.whole && !bytes.Equal(s.body, m.body):
						t.Fatalf("message %d: whole body differs", i)
					case !s.whole && (fitsBuffer || len(m.body) <= limit):
						t.Fatalf("message %d of %d bytes (limit %d) not inspected whole", i, len(m.body), limit)
					case !s.whole && !bytes.Equal(s.body, m.body[:min(limit, len(m.body))]):
						t.Fatalf("message %d: inspected prefix of %d bytes, want the first %d", i, len(s.body), min(limit, len(m.body)))
					}
				}
			})
		}
	}
}

func TestPumpBatchesSmallMessages(t *testing.T) {
	var stream []byte
	for range 1000 {
		stream = append(stream, frame(MsgSync, nil)...)
	}
	sink := &recordingSink{t: t}
	err := NewPump(bytes.NewReader(stream), sink, FrontendRules(1024), nil, DefaultBufferSize).Run()
	if !errors.Is(err, io.EOF) {
		t.Fatalf("Run = %v", err)
	}
	// The first read fills the idle buffer, and the rest arrives in one
	// read into the full-size buffer.
	if sink.writes != 2 {
		t.Errorf("5,000 bytes of Sync messages took %d writes, want 2", sink.writes)
	}
}

func TestPumpReturnsToIdleBuffer(t *testing.T) {
	burst := bytes.Repeat(frame(MsgSync, nil), 2000) // 10,000 bytes
	small := frame(MsgQuery, []byte("select 1\x00"))
	rd := &scriptedReader{chunks: [][]byte{burst, small}}
	var sizes []int
	sink := sinkFunc(func(b []byte, _ bool) error { return nil })
	p := NewPump(rd, sink, FrontendRules(1024), nil, DefaultBufferSize)
	rd.before = func() { sizes = append(sizes, len(p.buf)) }
	if err := p.Run(); !errors.Is(err, io.EOF) {
		t.Fatalf("Run = %v", err)
	}
	// Reads: the burst's first 2 KiB into the idle buffer, its rest into
	// the pooled buffer, the short Query there too, and the final EOF
	// after the pump went back to the idle buffer.
	want := []int{IdleBufferSize, DefaultBufferSize, DefaultBufferSize, IdleBufferSize}
	if !slices.Equal(sizes, want) {
		t.Errorf("buffer sizes at each read = %v, want %v", sizes, want)
	}
	if len(p.buf) != IdleBufferSize || p.pooled != nil {
		t.Errorf("after Run the pump holds %d bytes (pooled %v), want the idle buffer only", len(p.buf), p.pooled != nil)
	}
}

// scriptedReader returns each chunk in reads as large as the caller's
// buffer, then io.EOF. before runs ahead of every read.
type scriptedReader struct {
	chunks [][]byte
	before func()
}

func (r *scriptedReader) Read(b []byte) (int, error) {
	if r.before != nil {
		r.before()
	}
	for len(r.chunks) > 0 && len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(b, r.chunks[0])
	r.chunks[0] = r.chunks[0][n:]
	return n, nil
}

type sinkFunc func(b []byte, atBoundary bool) error

func (f sinkFunc) WriteFrames(b []byte, atBoundary bool) error { return f(b, atBoundary) }

func TestPumpErrors(t *testing.T) {
	good := frame(MsgQuery, []byte("select 1\x00"))
	tests := []struct {
		name      string
		in        []byte
		rules     *Rules
		wantErr   func(error) bool
		relayed   int
		wantFrame string
	}{
		{
			name: "unknown frontend type", in: append(append([]byte{}, good...), frame('x', nil)...),
			rules: FrontendRules(1024), relayed: len(good), wantFrame: "unknown message type",
		},
		{
			name: "password message after startup", in: frame('p', []byte("x\x00")),
			rules: FrontendRules(1024), wantFrame: "unknown message type",
		},
		{
			name: "length below four", in: append(append([]byte{}, good...), 'S', 0, 0, 0, 3),
			rules: FrontendRules(1024), relayed: len(good), wantFrame: "below 4",
		},
		{
			name: "absurd length", in: []byte{'Q', 0xff, 0xff, 0xff, 0xff, 0},
			rules: FrontendRules(1024), wantFrame: "longer than the limit",
		},
		{
			name: "sync over small limit", in: []byte{'S', 0, 0, 0x27, 0x11},
			rules: FrontendRules(1024), wantFrame: "longer than the limit",
		},
		{
			name: "backend type from client", in: frame('Z', []byte{'I'}),
			rules: FrontendRules(1024), wantFrame: "unknown message type",
		},
		{
			name: "frontend type from server", in: frame('Q', []byte("x\x00")),
			rules: BackendRules(), wantFrame: "unknown message type",
		},
		{
			name: "truncated header", in: append(append([]byte{}, good...), 'Q', 0, 0),
			rules: FrontendRules(1024), relayed: len(good),
			wantErr: func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) },
		},
		{
			name: "truncated body", in: append(append([]byte{}, good...), frame(MsgQuery, []byte("select 2\x00"))[:8]...),
			rules: FrontendRules(1024), relayed: len(good),
			wantErr: func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) },
		},
		{
			name: "truncated streamed body", in: frame(MsgCopyData, make([]byte, 100000))[:50000],
			rules: FrontendRules(1024), relayed: 50000,
			wantErr: func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recordingSink{t: t}
			err := NewPump(bytes.NewReader(tt.in), sink, tt.rules, nil, 4<<10).Run()
			if tt.wantFrame != "" {
				var fe *FrameError
				if !errors.As(err, &fe) {
					t.Fatalf("Run = %v, want *FrameError", err)
				}
				if !bytes.Contains([]byte(fe.Reason), []byte(tt.wantFrame)) {
					t.Errorf("reason = %q, want it to contain %q", fe.Reason, tt.wantFrame)
				}
				if fe.Offset != int64(tt.relayed) {
					t.Errorf("offset = %d, want %d", fe.Offset, tt.relayed)
				}
			} else if !tt.wantErr(err) {
				t.Fatalf("Run = %v", err)
			}
			if sink.buf.Len() != tt.relayed {
				t.Errorf("relayed %d bytes before the error, want %d", sink.buf.Len(), tt.relayed)
			}
		})
	}
}

type failingSink struct{ err error }

func (s failingSink) WriteFrames([]byte, bool) error { return s.err }

func TestPumpWriteError(t *testing.T) {
	boom := errors.New("boom")
	err := NewPump(bytes.NewReader(frame(MsgSync, nil)), failingSink{boom}, FrontendRules(1024), nil, 0).Run()
	var we *WriteError
	if !errors.As(err, &we) || !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want a *WriteError wrapping boom", err)
	}
}
