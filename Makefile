# jitgate build, test and demo targets. `make test` is what CI runs.

GO          ?= go
BIN         := bin/jitgate
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck
TEST_FLAGS  ?= -timeout 15m
FUZZTIME    ?= 10s

.PHONY: build test test-race fuzz lint demo bench bench-smoke clean

build:
	$(GO) build -o $(BIN) ./cmd/proxy

# The whole suite: unit and integration tests against real PostgreSQL,
# sshd, OpenSSH clients and Chromium, then a short run of each fuzzer.
# The Postgres front door's tests run a second time with TLS on neither
# leg, where the relay reads plain sockets through their RawConn. Tests of
# the TLS negotiation skip themselves there.
test: build
	$(GO) test $(TEST_FLAGS) ./...
	JITGATE_TEST_PG_PLAIN_LEGS=1 $(GO) test $(TEST_FLAGS) ./proxy/postgres/
	$(MAKE) fuzz

# Each fuzz target runs for FUZZTIME on its committed corpus.
fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

test-race:
	$(GO) test -race $(TEST_FLAGS) ./...

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint: $(STATICCHECK)
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted; run gofmt -w on them"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

# Starts jitgate with local PostgreSQL and sshd targets and prints what to type.
demo: build
	$(BIN) demo $(DEMO_FLAGS)

# jitgate against a direct connection, pgbouncer and a minimal SSH relay,
# about 25 minutes on 2 cores; writes bench/results/ and the results
# section of docs/benchmarks.md. BENCH_FLAGS takes the options listed there.
bench: build
	$(GO) run ./bench $(BENCH_FLAGS)

# Every benchmark path once with small sizes, about a minute; exits 1 when
# a path fails to run.
bench-smoke: build
	$(GO) run ./bench -smoke

clean:
	rm -rf bin
