package postgres

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/proxy/postgres/wire"
)

func startupOf(params ...string) *wire.Startup {
	s := &wire.Startup{Major: 3}
	for i := 0; i+1 < len(params); i += 2 {
		s.Params = append(s.Params, wire.Param{Name: params[i], Value: params[i+1]})
	}
	return s
}

func TestParseStartup(t *testing.T) {
	tests := []struct {
		name    string
		in      *wire.Startup
		want    connRequest
		wantErr string
	}{
		{
			name: "target only",
			in:   startupOf("user", "alice", "database", "orders", "application_name", "psql"),
			want: connRequest{user: "alice", target: "orders", forward: map[string]string{"application_name": "psql"}},
		},
		{
			name: "database defaults to user",
			in:   startupOf("user", "orders"),
			want: connRequest{user: "orders", target: "orders", forward: map[string]string{}},
		},
		{
			name: "role and database in the name",
			in:   startupOf("user", "alice", "database", "orders/reporting@readonly"),
			want: connRequest{user: "alice", target: "orders", database: "reporting", role: "readonly", forward: map[string]string{}},
		},
		{
			name: "settings in options, rest forwarded",
			in: startupOf("user", "alice", "database", "orders",
				"options", `-c search_path=s1 -c jitgate.role=rw --jitgate.reason=fix\ job -cjitgate.ticket=INC-1 -c statement_timeout=5s`),
			want: connRequest{user: "alice", target: "orders", role: "rw", reason: "fix job", ticket: "INC-1",
				forward: map[string]string{"options": "-c search_path=s1 -c statement_timeout=5s"}},
		},
		{
			name: "settings as parameters",
			in: startupOf("user", "alice", "database", "orders", "jitgate.duration", "30m", "jitgate.break_glass", "on",
				"jitgate.trigger", "incident", "jitgate.contract", "c1", "_pq_.probe", "1"),
			want: connRequest{user: "alice", target: "orders", duration: 30 * time.Minute, breakGlass: true,
				trigger: "incident", contract: "c1", forward: map[string]string{}},
		},
		{
			name: "option value with escaped backslash and space",
			in:   startupOf("user", "a", "database", "o", "options", `-c application_name=a\\b\ c`),
			want: connRequest{user: "a", target: "o", forward: map[string]string{"options": `-c application_name=a\\b\ c`}},
		},
		{name: "no user", in: startupOf("database", "orders"), wantErr: "no PostgreSQL user name"},
		{name: "replication", in: startupOf("user", "a", "replication", "database"), wantErr: "replication connections are not allowed"},
		{name: "replication off", in: startupOf("user", "a", "database", "o", "replication", "false"), want: connRequest{user: "a", target: "o", forward: map[string]string{}}},
		{name: "empty role", in: startupOf("user", "a", "database", "o@"), wantErr: "empty role"},
		{name: "empty database", in: startupOf("user", "a", "database", "o/@r"), wantErr: "empty database"},
		{name: "conflicting role", in: startupOf("user", "a", "database", "o@r1", "jitgate.role", "r2"), wantErr: "conflicts"},
		{name: "bad duration", in: startupOf("user", "a", "jitgate.duration", "soon"), wantErr: "not a positive duration"},
		{name: "bad break_glass", in: startupOf("user", "a", "jitgate.break_glass", "maybe"), wantErr: "not on or off"},
		{name: "unknown setting", in: startupOf("user", "a", "options", "-c jitgate.nope=1"), wantErr: `unrecognized setting "jitgate.nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStartup(tt.in)
			if tt.wantErr != "" {
				var ce *clientError
				if !errors.As(err, &ce) || !strings.Contains(ce.msg, tt.wantErr) {
					t.Fatalf("error = %v, want a client error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got.forward, tt.want.forward) {
				t.Errorf("forward = %q, want %q", got.forward, tt.want.forward)
			}
			got.forward, tt.want.forward = nil, nil
			if fmt.Sprintf("%+v", *got) != fmt.Sprintf("%+v", tt.want) {
				t.Errorf("request = %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestSplitOptionsRoundTrip(t *testing.T) {
	for _, args := range [][]string{{"-c", "a=b c"}, {`x\y`, "", "-c", "tab\there"}, {"plain"}} {
		var escaped []string
		for _, a := range args {
			escaped = append(escaped, escapeOption(a))
		}
		got := splitOptions(strings.Join(escaped, " "))
		var want []string
		for _, a := range args {
			if a != "" { // an empty argument has no written form
				want = append(want, a)
			}
		}
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("round trip of %q gave %q", args, got)
		}
	}
}
