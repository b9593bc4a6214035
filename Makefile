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
test: build
	$(GO) test $(TEST_FLAGS) ./...
	$(MAKE) fuzz

# Each fuzz target runs for FUZZTIME on its committed corpus.
fuzz:
	@grep -rl --include='*_test.go' '^func Fuzz' . | while read -r f; do \
		dir=$$(dirname "$$f"); \
		for fn in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$$f" | sed 's/^func //'); do \
			echo "fuzz $$dir $$fn"; \
			$(GO) test -run='^$$' -fuzz="^$$fn$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s "./$$dir" || exit 1; \
		done; \
	done

test-race:
	$(GO) test -race $(TEST_FLAGS) ./...

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint: $(STATICCHECK)
	$(GO) vet ./...
	$(STATICCHECK) ./...

# Starts jitgate with local PostgreSQL and sshd targets and prints what to type.
demo: build
	$(BIN) demo $(DEMO_FLAGS)

bench: build
	$(GO) run ./bench $(BENCH_FLAGS)

bench-smoke: build
	$(GO) run ./bench -smoke

clean:
	rm -rf bin
