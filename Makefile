# Vestigo. On a fresh Debian machine with Go: `make demo` and `make test`.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/vestigo
GOFILES_DIRS := cmd internal bench

.PHONY: build web web-check test tools fmt-check vet bench bench-10m bench-cluster bench-trace bench-serve bench-eth demo fuzz clean

build:
	$(GO) build -o $(BIN) ./cmd/vestigo

# The web workspace: web/src bundled by esbuild into internal/web/dist, which
# the binary embeds (committed, so that go build needs no Node.js).
web:
	scripts/tools.sh web
	cd web && node build.mjs

# The committed bundle is the build of the sources, the message catalogues
# agree, no code parses HTML from strings; the JavaScript unit tests.
web-check:
	cd web && node build.mjs --check
	cd web && node --test test/

# Real components the tests run against (btcd, PostgreSQL, Chromium, the web
# packages), installed at pinned versions.
tools:
	scripts/tools.sh

fmt-check:
	@out=$$(gofmt -l $(GOFILES_DIRS)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	cd bench/btcdpeer && $(GO) vet ./...

# Everything: formatting, vet, the web bundle, unit, golden, fuzz-corpus and
# integration tests (a real btcd regtest node, PostgreSQL and headless
# Chromium are started by the tests themselves).
test: tools fmt-check vet web-check
	$(GO) test -count=1 -timeout 15m ./...
	cd bench/btcdpeer && $(GO) test -count=1 -timeout 5m ./...

# Import speed, memory, size and scan rate against btcd's own indexes,
# clustering against scipy/igraph/networkx, tracing against networkx/igraph,
# and the team server under load, on a generated chain of ~1M transactions
# (BENCH_TXS=10000000 for 10M).
bench: build
	scripts/bench.sh
	scripts/bench-cluster.sh
	scripts/bench-trace.sh
	scripts/bench-serve.sh
	scripts/bench-eth.sh

bench-10m: build
	BENCH_TXS=10000000 scripts/bench.sh
	BENCH_TXS=10000000 scripts/bench-cluster.sh

# Clustering against scipy, igraph and networkx on the same edge list.
bench-cluster: build
	scripts/bench-cluster.sh

# History lookups, traces and taint propagation against networkx and igraph.
bench-trace: build
	scripts/bench-trace.sh

# The Ethereum import from a geth --dev node filled with a generated chain
# (BENCH_ETH_TXS, default 100,000) against fetching it alone.
bench-eth: build
	scripts/bench-eth.sh

# vestigo serve over loopback: query latencies and a 50-client load run.
bench-serve: build
	scripts/bench-serve.sh

# Generates the ransomware scenario, imports it and prints what to explore.
demo: build
	scripts/demo.sh

# Runs each fuzz target for FUZZTIME (default 30s).
FUZZTIME ?= 30s
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

clean:
	rm -rf bin demo .bench
