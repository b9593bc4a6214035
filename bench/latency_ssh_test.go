package main

import "testing"

func TestUpstreamPortFromSSHConnection(t *testing.T) {
	tests := []struct {
		value   string
		want    int
		wantErr bool
	}{
		{value: "127.0.0.1 54321 127.0.0.1 22\n", want: 54321},
		{value: "::1 40000 ::1 2222", want: 40000},
		{value: "\n", wantErr: true},
		{value: "127.0.0.1 54321 127.0.0.1", wantErr: true},
		{value: "127.0.0.1 port 127.0.0.1 22", wantErr: true},
		{value: "127.0.0.1 0 127.0.0.1 22", wantErr: true},
		{value: "127.0.0.1 65536 127.0.0.1 22", wantErr: true},
	}
	for _, tt := range tests {
		got, err := upstreamPort(tt.value)
		if tt.wantErr {
			if err == nil {
				t.Errorf("upstreamPort(%q) = %d, want an error", tt.value, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("upstreamPort(%q) = %d, %v; want %d", tt.value, got, err, tt.want)
		}
	}
}
