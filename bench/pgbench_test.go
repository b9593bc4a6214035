package main

import (
	"strings"
	"testing"
	"time"
)

// pgbenchOutput is the summary pgbench 15.18 printed for `pgbench -n -S
// -T 2 -c 8 -j 2` on loopback.
const pgbenchOutput = `pgbench (15.18 (Debian 15.18-0+deb12u1))
transaction type: <builtin: select only>
scaling factor: 1
query mode: simple
number of clients: 8
number of threads: 2
maximum number of tries: 1
duration: 2 s
number of transactions actually processed: 80545
number of failed transactions: 0 (0.000%)
latency average = 0.198 ms
initial connection time = 6.154 ms
tps = 40273.408436 (without initial connection time)
`

func TestParsePgbench(t *testing.T) {
	r, err := parsePgbench(pgbenchOutput)
	if err != nil {
		t.Fatal(err)
	}
	if r.tps != 40273.408436 {
		t.Errorf("tps = %v, want 40273.408436", r.tps)
	}
	if r.transactions != 80545 {
		t.Errorf("transactions = %d, want 80545", r.transactions)
	}
}

func TestParsePgbenchRejects(t *testing.T) {
	tests := []struct {
		name, output, wantErr string
	}{
		{"no tps line", strings.Replace(pgbenchOutput, "tps = ", "rate = ", 1), `no "tps = " line`},
		{"no transaction count", strings.Replace(pgbenchOutput, "actually processed", "processed", 1), "no transaction count"},
		{"failed transactions", strings.Replace(pgbenchOutput, "failed transactions: 0", "failed transactions: 3", 1), "3 failed transactions"},
		{"zero transactions", strings.Replace(pgbenchOutput, "processed: 80545", "processed: 0", 1), "no transaction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parsePgbench(tt.output)
			if err == nil {
				t.Fatal("parsePgbench returned no error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestPgbenchSpecArgs(t *testing.T) {
	tests := []struct {
		spec pgbenchSpec
		name string
		args string
	}{
		{pgbenchSpec{clients: 1, selectOnly: true}, "pgbench -S -c 1", "-n -T 10 -c 1 -j 1 -S"},
		{pgbenchSpec{clients: 32, selectOnly: true}, "pgbench -S -c 32", "-n -T 10 -c 32 -j 2 -S"},
		{pgbenchSpec{clients: 8}, "pgbench -c 8 (TPC-B-like)", "-n -T 10 -c 8 -j 2"},
		{pgbenchSpec{clients: 8, selectOnly: true, reconnect: true}, "pgbench -C -S -c 8", "-n -T 10 -c 8 -j 2 -S -C"},
		{pgbenchSpec{clients: 8, selectOnly: true, tls: true}, "pgbench -S -c 8 over TLS", "-n -T 10 -c 8 -j 2 -S"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.spec.name(); got != tt.name {
				t.Errorf("name = %q, want %q", got, tt.name)
			}
			args := strings.Join(tt.spec.args(10*time.Second, pgPath{port: 6432, user: "u", database: "d"}), " ")
			if want := tt.args + " -h 127.0.0.1 -p 6432 -U u d"; args != want {
				t.Errorf("args = %q, want %q", args, want)
			}
		})
	}
}
