package sshmsg

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestParsePtyRequest(t *testing.T) {
	valid := PtyRequest{Term: "xterm-256color", Columns: 132, Rows: 43, WidthPixels: 1, HeightPixels: 2, Modes: "\x2a\x00\x00\x00\x01\x00"}
	tests := []struct {
		name    string
		payload []byte
		want    PtyRequest
		wantErr bool
	}{
		{name: "round trip", payload: valid.Marshal(), want: valid},
		{name: "huge sizes", payload: PtyRequest{Term: "vt100", Columns: 65535, Rows: 65535}.Marshal(), want: PtyRequest{Term: "vt100", Columns: 65535, Rows: 65535}},
		{name: "empty payload", payload: nil, wantErr: true},
		{name: "truncated", payload: valid.Marshal()[:10], wantErr: true},
		{name: "trailing bytes", payload: append(valid.Marshal(), 0), wantErr: true},
		{name: "long TERM", payload: PtyRequest{Term: strings.Repeat("x", MaxTermLen+1)}.Marshal(), wantErr: true},
		{name: "long modes", payload: PtyRequest{Term: "xterm", Modes: strings.Repeat("\x01", MaxModesLen+1)}.Marshal(), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePtyRequest(tt.payload)
			if tt.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("ParsePtyRequest error = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePtyRequest: %v", err)
			}
			if got != tt.want {
				t.Errorf("ParsePtyRequest = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     Env
		wantErr bool
	}{
		{name: "plain", env: Env{Name: "LANG", Value: "C.UTF-8"}},
		{name: "empty value", env: Env{Name: "JITGATE_TICKET", Value: ""}},
		{name: "empty name", env: Env{Name: "", Value: "x"}, wantErr: true},
		{name: "long name", env: Env{Name: strings.Repeat("N", MaxEnvNameLen+1)}, wantErr: true},
		{name: "long value", env: Env{Name: "X", Value: strings.Repeat("v", MaxEnvValueLen+1)}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEnv(tt.env.Marshal())
			if tt.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("ParseEnv error = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEnv: %v", err)
			}
			if got != tt.env {
				t.Errorf("ParseEnv = %+v, want %+v", got, tt.env)
			}
		})
	}
}

func TestParseExitSignal(t *testing.T) {
	in := ExitSignal{Signal: "KILL", CoreDumped: true, Message: "killed", Language: "en"}
	got, err := ParseExitSignal(ssh.Marshal(&in))
	if err != nil {
		t.Fatalf("ParseExitSignal: %v", err)
	}
	if got != in {
		t.Errorf("ParseExitSignal = %+v, want %+v", got, in)
	}
	if _, err := ParseExitSignal([]byte{0, 0, 0, 4, 'K', 'I'}); !errors.Is(err, ErrMalformed) {
		t.Errorf("truncated exit-signal: error = %v, want ErrMalformed", err)
	}
}

func TestParseExitStatus(t *testing.T) {
	got, err := ParseExitStatus(ExitStatus{Status: 255}.Marshal())
	if err != nil || got.Status != 255 {
		t.Fatalf("ParseExitStatus = %+v, %v; want status 255", got, err)
	}
	if _, err := ParseExitStatus([]byte{0, 0, 1}); !errors.Is(err, ErrMalformed) {
		t.Errorf("short exit-status: error = %v, want ErrMalformed", err)
	}
}

func TestParseForwarding(t *testing.T) {
	tests := []struct {
		name    string
		parse   func() error
		wantErr bool
	}{
		{name: "direct-tcpip", parse: func() error {
			_, err := ParseTCPIPChannel(TCPIPChannel{Host: "127.0.0.1", Port: 8000, OriginHost: "::1", OriginPort: 5555}.Marshal())
			return err
		}},
		{name: "direct-tcpip port too big", wantErr: true, parse: func() error {
			_, err := ParseTCPIPChannel(TCPIPChannel{Host: "h", Port: 70000}.Marshal())
			return err
		}},
		{name: "direct-tcpip long host", wantErr: true, parse: func() error {
			_, err := ParseTCPIPChannel(TCPIPChannel{Host: strings.Repeat("h", MaxHostLen+1), Port: 1}.Marshal())
			return err
		}},
		{name: "tcpip-forward port 0", parse: func() error {
			_, err := ParseTCPIPForward(ssh.Marshal(&TCPIPForward{BindHost: "localhost", BindPort: 0}))
			return err
		}},
		{name: "tcpip-forward reply", parse: func() error {
			r, err := ParseTCPIPForwardReply(ssh.Marshal(&TCPIPForwardReply{Port: 40000}))
			if err == nil && r.Port != 40000 {
				return errors.New("wrong port")
			}
			return err
		}},
		{name: "streamlocal channel", parse: func() error {
			_, err := ParseStreamLocalChannel(ssh.Marshal(&StreamLocalChannel{SocketPath: "/run/x.sock"}))
			return err
		}},
		{name: "streamlocal empty path", wantErr: true, parse: func() error {
			_, err := ParseStreamLocalChannel(ssh.Marshal(&StreamLocalChannel{}))
			return err
		}},
		{name: "streamlocal-forward", parse: func() error {
			_, err := ParseStreamLocalForward(ssh.Marshal(&StreamLocalForward{SocketPath: "/tmp/s"}))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.parse()
			if tt.wantErr && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error = %v, want ErrMalformed", err)
			}
			if !tt.wantErr && err != nil {
				t.Fatalf("error = %v, want none", err)
			}
		})
	}
}

// FuzzParse feeds arbitrary payloads to every parser: none may panic, and
// a payload that parses must encode back to the same bytes where the type
// has an encoder.
func FuzzParse(f *testing.F) {
	f.Add(PtyRequest{Term: "xterm", Columns: 80, Rows: 24, Modes: "\x00"}.Marshal())
	f.Add(Env{Name: "LANG", Value: "C"}.Marshal())
	f.Add(WindowChange{Columns: 1, Rows: 2}.Marshal())
	f.Add(TCPIPChannel{Host: "127.0.0.1", Port: 22}.Marshal())
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, payload []byte) {
		if r, err := ParsePtyRequest(payload); err == nil && string(r.Marshal()) != string(payload) {
			t.Errorf("pty-req does not round-trip: %x", payload)
		}
		if e, err := ParseEnv(payload); err == nil && string(e.Marshal()) != string(payload) {
			t.Errorf("env does not round-trip: %x", payload)
		}
		if w, err := ParseWindowChange(payload); err == nil && string(w.Marshal()) != string(payload) {
			t.Errorf("window-change does not round-trip: %x", payload)
		}
		if c, err := ParseTCPIPChannel(payload); err == nil && string(c.Marshal()) != string(payload) {
			t.Errorf("direct-tcpip does not round-trip: %x", payload)
		}
		_, _ = ParseExec(payload)
		_, _ = ParseSubsystem(payload)
		_, _ = ParseSignal(payload)
		_, _ = ParseBreak(payload)
		_, _ = ParseExitStatus(payload)
		_, _ = ParseExitSignal(payload)
		_, _ = ParseX11Request(payload)
		_, _ = ParseTCPIPForward(payload)
		_, _ = ParseTCPIPForwardReply(payload)
		_, _ = ParseStreamLocalChannel(payload)
		_, _ = ParseStreamLocalForward(payload)
	})
}
