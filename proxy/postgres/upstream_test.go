package postgres

import (
	"maps"
	"net"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/jitgate/jitgate/proxy/postgres/wire"
)

func sameMap(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func TestParamSetsShareEqualSets(t *testing.T) {
	var s paramSets
	first := s.share("db-1", map[string]string{"TimeZone": "UTC", "server_version": "15.18"})
	again := s.share("db-1", map[string]string{"TimeZone": "UTC", "server_version": "15.18"})
	if !sameMap(first, again) {
		t.Error("an equal set of the same target was not shared")
	}
	other := s.share("db-2", map[string]string{"TimeZone": "UTC", "server_version": "15.18"})
	if sameMap(first, other) {
		t.Error("the set of another target was shared")
	}
	changed := s.share("db-1", map[string]string{"TimeZone": "Europe/Paris", "server_version": "15.18"})
	if sameMap(first, changed) {
		t.Error("a different set of the same target came back as the first set")
	}
	if changed["TimeZone"] != "Europe/Paris" {
		t.Errorf("TimeZone of the different set = %q, want Europe/Paris", changed["TimeZone"])
	}
}

// TestResetLeavesSharedSetAlone checks that a ParameterStatus during the
// reset changes the connection's own copy, not the shared set.
func TestResetLeavesSharedSetAlone(t *testing.T) {
	shared := map[string]string{"application_name": "psql", "TimeZone": "UTC"}
	want := maps.Clone(shared)
	proxySide, serverSide := net.Pipe()
	defer proxySide.Close()
	go func() {
		defer serverSide.Close()
		buf := make([]byte, len(discardAll))
		if _, err := serverSide.Read(buf); err != nil {
			return
		}
		var out []byte
		out = wire.AppendMessage(out, &pgproto3.CommandComplete{CommandTag: []byte("DISCARD ALL")})
		out = wire.AppendMessage(out, &pgproto3.ParameterStatus{Name: "application_name", Value: ""})
		out = wire.AppendMessage(out, &pgproto3.ReadyForQuery{TxStatus: 'I'})
		serverSide.Write(out)
	}()
	up := &upstream{conn: proxySide, params: shared}
	if err := reset(up); err != nil {
		t.Fatal(err)
	}
	if up.params["application_name"] != "" {
		t.Errorf("application_name after the reset = %q, want empty", up.params["application_name"])
	}
	if !maps.Equal(shared, want) {
		t.Errorf("the shared set changed to %v", shared)
	}
}
