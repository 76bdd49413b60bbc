# plumbline — build, test, benchmark, demo. Only Go is needed; tools the
# targets use are installed into ./bin by the targets themselves.

GO       ?= go
BIN      := $(CURDIR)/bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/plumbline/plumbline/agent/scan.Version=$(VERSION)
STATICCHECK_VERSION := v0.8.2

.PHONY: all build test lint bench demo golden clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/plumbline-agent ./agent/cmd/plumbline-agent

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
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./checks/... ./agent/...

# demo: scan this host with the baseline for its distribution and show what
# was flagged. Exit status 2 (something failed) is the expected outcome on a
# host that has not been hardened, so the demo does not treat it as an error.
demo: build
	@mkdir -p demo
	@$(BIN)/plumbline-agent scan; code=$$?; \
	$(BIN)/plumbline-agent scan --format json -o demo/report.json >/dev/null 2>&1; \
	$(BIN)/plumbline-agent scan --format junit -o demo/report.junit.xml >/dev/null 2>&1; \
	$(BIN)/plumbline-agent scan --format ocsf -o demo/report.ocsf.json >/dev/null 2>&1; \
	echo; echo "Full results: demo/report.json (JSON), demo/report.junit.xml (JUnit), demo/report.ocsf.json (OCSF 2003)"; \
	echo "Explain a check: $(BIN)/plumbline-agent checks describe <CHECK>"; \
	echo "Scan exit status $$code (0 all pass, 2 something failed, 1 something could not be decided)"; \
	[ $$code -le 2 ]

# golden: regenerate the end-to-end golden files after an intended change.
golden:
	$(GO) test ./agent/cmd/plumbline-agent -run TestGolden -update

clean:
	rm -rf $(BIN) demo
