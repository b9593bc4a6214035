package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"testing"
)

func startupBytes(major, minor uint16, params ...string) []byte {
	s := &Startup{Major: major, Minor: minor}
	for i := 0; i+1 < len(params); i += 2 {
		s.Params = append(s.Params, Param{params[i], params[i+1]})
	}
	return AppendStartupPacket(nil, &Packet{Kind: KindStartup, Startup: s})
}

// rawPacket builds a packet with the given length word and body.
func rawPacket(length uint32, body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, length), body...)
}

func TestReadPacketValid(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		kind   PacketKind
		major  uint16
		minor  uint16
		params []Param
		cancel *Cancel
	}{
		{
			name: "startup 3.0", in: startupBytes(3, 0, "user", "alice", "database", "app"),
			kind: KindStartup, major: 3, params: []Param{{"user", "alice"}, {"database", "app"}},
		},
		{
			// The bytes of the B20 repro: 00 00 00 21 00 03 00 00 user alice database app.
			name: "startup from the documented repro",
			in: []byte{0, 0, 0, 0x21, 0, 3, 0, 0, 'u', 's', 'e', 'r', 0, 'a', 'l', 'i', 'c', 'e', 0,
				'd', 'a', 't', 'a', 'b', 'a', 's', 'e', 0, 'a', 'p', 'p', 0, 0},
			kind: KindStartup, major: 3, params: []Param{{"user", "alice"}, {"database", "app"}},
		},
		{
			name: "startup 3.2 with protocol option", in: startupBytes(3, 2, "user", "bob", "_pq_.probe", "1"),
			kind: KindStartup, major: 3, minor: 2, params: []Param{{"user", "bob"}, {"_pq_.probe", "1"}},
		},
		{name: "startup without parameters", in: startupBytes(3, 0), kind: KindStartup, major: 3},
		{name: "empty value", in: startupBytes(3, 0, "options", ""), kind: KindStartup, major: 3, params: []Param{{"options", ""}}},
		{name: "ssl request", in: []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}, kind: KindSSLRequest},
		{name: "gssenc request", in: []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30}, kind: KindGSSENCRequest},
		{
			name: "cancel request 3.0", in: []byte{0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 7, 1, 2, 3, 4},
			kind: KindCancelRequest, cancel: &Cancel{ProcessID: 7, SecretKey: []byte{1, 2, 3, 4}},
		},
		{
			name: "cancel request with 32-byte key",
			in:   AppendStartupPacket(nil, &Packet{Kind: KindCancelRequest, Cancel: &Cancel{ProcessID: 9, SecretKey: bytes.Repeat([]byte{5}, 32)}}),
			kind: KindCancelRequest, cancel: &Cancel{ProcessID: 9, SecretKey: bytes.Repeat([]byte{5}, 32)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ReadPacket(bytes.NewReader(tt.in))
			if err != nil {
				t.Fatalf("ReadPacket: %v", err)
			}
			if p.Kind != tt.kind {
				t.Fatalf("kind = %d, want %d", p.Kind, tt.kind)
			}
			if tt.kind == KindStartup {
				if p.Startup.Major != tt.major || p.Startup.Minor != tt.minor {
					t.Errorf("version = %d.%d, want %d.%d", p.Startup.Major, p.Startup.Minor, tt.major, tt.minor)
				}
				if !slices.Equal(p.Startup.Params, tt.params) {
					t.Errorf("params = %v, want %v", p.Startup.Params, tt.params)
				}
			}
			if tt.cancel != nil {
				if p.Cancel.ProcessID != tt.cancel.ProcessID {
					t.Errorf("process id = %d, want %d", p.Cancel.ProcessID, tt.cancel.ProcessID)
				}
				if !bytes.Equal(p.Cancel.SecretKey, tt.cancel.SecretKey) {
					t.Errorf("secret = %x, want %x", p.Cancel.SecretKey, tt.cancel.SecretKey)
				}
			}
		})
	}
}

func TestReadPacketMalformed(t *testing.T) {
	valid := startupBytes(3, 0, "user", "alice")
	tests := []struct {
		name string
		in   []byte
		code string // SQLSTATE of the *ProtocolError; empty for a plain read error
		want error  // for plain read errors
	}{
		{name: "empty", in: nil, want: io.EOF},
		{name: "truncated length word", in: []byte{0, 0}, code: CodeProtocolViolation},
		{name: "length zero", in: rawPacket(0, nil), code: CodeProtocolViolation},
		{name: "length below minimum", in: rawPacket(7, []byte{0, 3, 0}), code: CodeProtocolViolation},
		{name: "length over limit", in: rawPacket(10005, nil), code: CodeProtocolViolation},
		{name: "length 0xffffffff", in: rawPacket(0xffffffff, nil), code: CodeProtocolViolation},
		{
			// A TLS ClientHello read as a startup packet: 16 03 01 02 is a
			// length of 369,295,618 bytes.
			name: "tls record header as length", in: []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc},
			code: CodeProtocolViolation,
		},
		{name: "truncated body", in: valid[:len(valid)-3], code: CodeProtocolViolation},
		{name: "protocol 2.0", in: rawPacket(8, []byte{0, 2, 0, 0}), code: CodeFeatureNotSupported},
		{name: "protocol 4.0", in: startupBytes(4, 0, "user", "alice"), code: CodeFeatureNotSupported},
		{name: "protocol 1234.5681", in: rawPacket(8, []byte{0x04, 0xd2, 0x16, 0x31}), code: CodeFeatureNotSupported},
		{name: "no terminator", in: rawPacket(8, []byte{0, 3, 0, 0}), code: CodeProtocolViolation},
		{name: "name without NUL", in: rawPacket(12, []byte{0, 3, 0, 0, 'u', 's', 'e', 'r'}), code: CodeProtocolViolation},
		{name: "name without value", in: rawPacket(14, []byte{0, 3, 0, 0, 'u', 's', 'e', 'r', 0, 0}), code: CodeProtocolViolation},
		{name: "bytes after terminator", in: rawPacket(14, []byte{0, 3, 0, 0, 'u', 0, 'v', 0, 0, 'x'}), code: CodeProtocolViolation},
		{name: "ssl request too long", in: rawPacket(12, []byte{0x04, 0xd2, 0x16, 0x2f, 0, 0, 0, 0}), code: CodeProtocolViolation},
		{name: "gssenc request too long", in: rawPacket(9, []byte{0x04, 0xd2, 0x16, 0x30, 0}), code: CodeProtocolViolation},
		{name: "cancel too short", in: rawPacket(12, []byte{0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 1}), code: CodeProtocolViolation},
		{name: "cancel key too long", in: rawPacket(12+257, append([]byte{0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 1}, make([]byte, 257)...)), code: CodeProtocolViolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadPacket(bytes.NewReader(tt.in))
			if err == nil {
				t.Fatal("ReadPacket succeeded, want an error")
			}
			if tt.code == "" {
				if !errors.Is(err, tt.want) {
					t.Fatalf("error = %v, want %v", err, tt.want)
				}
				return
			}
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error = %T %v, want *ProtocolError", err, err)
			}
			if pe.Code != tt.code {
				t.Errorf("code = %s, want %s (message %q)", pe.Code, tt.code, pe.Msg)
			}
		})
	}
}

func TestStartupGetAndOptions(t *testing.T) {
	s := &Startup{Params: []Param{{"user", "a"}, {"_pq_.x", "1"}, {"user", "b"}, {"_pq_.y", "2"}}}
	if v, _ := s.Get("user"); v != "b" {
		t.Errorf("Get(user) = %q, want the last value b", v)
	}
	if _, ok := s.Get("database"); ok {
		t.Error("Get(database) found a value that was not sent")
	}
	if got := s.ProtocolOptions(); !slices.Equal(got, []string{"_pq_.x", "_pq_.y"}) {
		t.Errorf("ProtocolOptions = %v", got)
	}
}

func TestReadMessageBounds(t *testing.T) {
	msg := func(typ byte, length uint32, body []byte) []byte {
		return append(append([]byte{typ}, binary.BigEndian.AppendUint32(nil, length)...), body...)
	}
	tests := []struct {
		name    string
		in      []byte
		wantErr bool
		pw      string
	}{
		{name: "password", in: msg('p', 4+6, []byte("token\x00")), pw: "token"},
		{name: "length below 4", in: msg('p', 3, nil), wantErr: true},
		{name: "length over limit", in: msg('p', MaxPasswordLen+5, nil), wantErr: true},
		{name: "truncated", in: msg('p', 20, []byte("abc")), wantErr: true},
		{name: "not NUL-terminated", in: msg('p', 7, []byte("abc")), wantErr: true},
		{name: "NUL inside", in: msg('p', 8, []byte("a\x00c\x00")), wantErr: true},
		{name: "wrong type", in: msg('Q', 6, []byte("x\x00")), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, body, err := ReadMessage(bytes.NewReader(tt.in), MaxPasswordLen)
			if err == nil {
				var pw string
				pw, err = PasswordFromMessage(typ, body)
				if err == nil && pw != tt.pw {
					t.Errorf("password = %q, want %q", pw, tt.pw)
				}
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			var pe *ProtocolError
			if err != nil && !errors.As(err, &pe) {
				t.Errorf("error %T is not a *ProtocolError", err)
			}
		})
	}
}
