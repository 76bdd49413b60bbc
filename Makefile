# plumbline — build, test, benchmark, demo. Only Go is needed; tools the
# targets use are installed into ./bin by the targets themselves.

GO       ?= go
BIN      := $(CURDIR)/bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/plumbline/plumbline/agent/scan.Version=$(VERSION) -X main.version=$(VERSION)
STATICCHECK_VERSION := v0.8.2

.PHONY: all build test lint bench demo demo-serve golden clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/plumbline-agent ./agent/cmd/plumbline-agent
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/plumbline ./server/cmd/plumbline

# test: formatting, vet, staticcheck, then every test with the race detector.
test: lint
	$(GO) test -race -count=1 ./...

$(BIN)/staticcheck:
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: $(BIN)/staticcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(BIN)/staticcheck ./...

# bench: prints figures; nothing here fails on timing.
#   checks/agent: scan time per host; server/store, server/natsd: storage and
#   NATS primitives; server/ingest: ingest throughput (reports of 150 results
#   into SQLite) and publish-to-flagged latency at 500 reports/s;
#   server/cmd/plumbline: the agent daemon's idle memory.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./checks/... ./agent/...
	$(GO) test -run '^$$' -bench . -count=1 ./server/store ./server/natsd
	$(GO) test -run '^$$' -bench 'Ingest' -benchtime 5000x -count=1 ./server/ingest
	$(GO) test -run '^$$' -bench 'PublishToFlagged' -benchtime 5000x -count=1 ./server/ingest
	$(GO) test -run '^$$' -bench 'AgentIdleRSS' -benchtime 1x -count=1 ./server/cmd/plumbline

# demo: a server (embedded NATS + SQLite in ./demo) and a real agent daemon
# scanning this host; prints what the server flagged and where to look.
# Run it twice to see drift; demo-serve keeps both running until Ctrl-C.
demo: build
	@$(BIN)/plumbline demo --data demo

demo-serve: build
	@$(BIN)/plumbline demo --data demo --serve

# golden: regenerate the end-to-end golden files after an intended change.
golden:
	$(GO) test ./agent/cmd/plumbline-agent -run TestGolden -update

clean:
	rm -rf $(BIN) demo
