# plumbline — build, test, benchmark, demo. Only Go is needed; tools the
# targets use are installed into ./bin by the targets themselves.

GO       ?= go
BIN      := $(CURDIR)/bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/plumbline/plumbline/agent/scan.Version=$(VERSION) -X main.version=$(VERSION)
STATICCHECK_VERSION := v0.8.2
PROTOC_GEN_GO_VERSION := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2

# PLUMBLINE_CACHE holds what the tests build once and reuse (the Debian 12
# root of rootfs-debian12). Never exported: the agent and the server refuse
# PLUMBLINE_* environment variables that name no setting, and the tests run
# both; for the same reason the test's variables are PLUMBLINETEST_*.
PLUMBLINE_CACHE ?= $(HOME)/.cache/plumbline
unexport PLUMBLINE_CACHE

.PHONY: all build plugins test lint bench demo demo-serve golden clean proto rootfs-debian12 coverage

all: build

FIRST_PARTY_PLUGINS := sudo password dlp diskcrypt

build: plugins
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/plumbline-agent ./agent/cmd/plumbline-agent
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/plumbline ./server/cmd/plumbline

# plugins: the first-party check families as standalone plugin binaries in
# bin/plugins, with their pins in bin/plugins/plugins.lock. The agent links
# the same families in; these let them run out of process:
#   plumbline-agent scan --plugin-dir bin/plugins
plugins:
	@mkdir -p $(BIN)/plugins && chmod 0755 $(BIN)/plugins
	for p in $(FIRST_PARTY_PLUGINS); do \
		$(GO) build -trimpath -ldflags '-s -w -X main.version=$(VERSION)' -o $(BIN)/plugins/$$p ./plugins/firstparty/$$p || exit 1; \
	done
	cd $(BIN)/plugins && sha256sum $(FIRST_PARTY_PLUGINS) > plugins.lock

# test: formatting, vet, staticcheck, the Debian 12 root, then every test
# with the race detector.
test: lint rootfs-debian12
	PLUMBLINETEST_DEBIAN12_ROOT='$(PLUMBLINE_CACHE)/debian12' \
	PLUMBLINETEST_DEBIAN12_UNAVAILABLE='$(PLUMBLINE_CACHE)/debian12.unavailable' \
		$(GO) test -race -count=1 ./...

# rootfs-debian12: a debootstrapped Debian 12 root in $(PLUMBLINE_CACHE)/debian12
# for the real-OS test of plumbline-agent (built once, a few minutes and about
# 200 MB; then a no-op until the build script changes). When it cannot be
# built here (archive unreachable, not root: the script exits 75), the reason
# goes to debian12.unavailable and the test skips with it; other failures fail.
rootfs-debian12:
	@mkdir -p '$(PLUMBLINE_CACHE)'
	@{ checks/cis/testdata/rootfs/build-debian12.sh '$(PLUMBLINE_CACHE)' 2>&1 1>&3; echo $$? >'$(PLUMBLINE_CACHE)/debian12.rc'; } 3>&1 | \
		tee '$(PLUMBLINE_CACHE)/debian12.stderr' >&2; \
	rc=$$(cat '$(PLUMBLINE_CACHE)/debian12.rc'); rm -f '$(PLUMBLINE_CACHE)/debian12.rc'; \
	case $$rc in \
	0) rm -f '$(PLUMBLINE_CACHE)/debian12.unavailable' '$(PLUMBLINE_CACHE)/debian12.stderr' ;; \
	75) tail -n 1 '$(PLUMBLINE_CACHE)/debian12.stderr' >'$(PLUMBLINE_CACHE)/debian12.unavailable'; \
		echo "rootfs-debian12: unavailable, the Debian 12 test will skip: $$(cat '$(PLUMBLINE_CACHE)/debian12.unavailable')" >&2 ;; \
	*) exit $$rc ;; \
	esac

# coverage: regenerates checks/COVERAGE.md (every CIS control of each
# benchmark: automated by which check, manual, or not covered) and the
# generated CIS part of each built-in baseline, from the control catalogues
# and the checks' CIS references. "make test" fails when they are stale.
coverage:
	$(GO) test -count=1 -run 'TestCoverageCurrent' ./checks/cis -update

# proto: regenerates plugins/pluginpb from the plugin contract. The generated
# code is committed, so only changing the .proto needs this; protoc comes from
# Debian's protobuf-compiler package, the Go generators are pinned.
proto: $(BIN)/protoc-gen-go $(BIN)/protoc-gen-go-grpc
	@command -v protoc >/dev/null || { command -v apt-get >/dev/null && apt-get install -y protobuf-compiler; } || { echo "protoc is needed: install Debian's protobuf-compiler"; exit 1; }
	PATH=$(BIN):$$PATH protoc -I plugins/proto \
		--go_out=plugins/pluginpb --go_opt=paths=source_relative --go_opt=Mplumbline/plugin/v1/plugin.proto=github.com/plumbline/plumbline/plugins/pluginpb \
		--go-grpc_out=plugins/pluginpb --go-grpc_opt=paths=source_relative --go-grpc_opt=Mplumbline/plugin/v1/plugin.proto=github.com/plumbline/plumbline/plugins/pluginpb \
		plumbline/plugin/v1/plugin.proto
	mv plugins/pluginpb/plumbline/plugin/v1/*.go plugins/pluginpb/ && rm -r plugins/pluginpb/plumbline

$(BIN)/protoc-gen-go:
	GOBIN=$(BIN) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)

$(BIN)/protoc-gen-go-grpc:
	GOBIN=$(BIN) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)

$(BIN)/staticcheck:
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: $(BIN)/staticcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(BIN)/staticcheck ./...

# bench: prints figures; nothing here fails on timing.
#   checks/agent: scan time per host; each distribution's whole built-in
#   baseline on the debootstrapped Debian 12 root (in-process, and the binary
#   with its peak RSS); server/store, server/natsd: storage and
#   NATS primitives; server/ingest: ingest throughput (reports of 150 results
#   into SQLite) and publish-to-flagged latency at 500 reports/s;
#   server/cmd/plumbline: the agent daemon's idle memory;
#   plugins/firstparty: per-plugin overhead (verify + launch + describe + run
#   + kill, and peak RSS) and the four families linked in vs as plugins.
bench: rootfs-debian12
	PLUMBLINETEST_DEBIAN12_ROOT='$(PLUMBLINE_CACHE)/debian12' \
		$(GO) test -run '^$$' -bench . -benchmem -count=1 ./checks/... ./agent/...
	$(GO) test -run '^$$' -bench . -count=1 ./server/store ./server/natsd
	$(GO) test -run '^$$' -bench 'Ingest' -benchtime 5000x -count=1 ./server/ingest
	$(GO) test -run '^$$' -bench 'PublishToFlagged' -benchtime 5000x -count=1 ./server/ingest
	$(GO) test -run '^$$' -bench . -benchtime 30x -count=1 ./plugins/firstparty
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
