# apptconfirm. `make help` lists the targets. CI runs `make test` unchanged.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO            ?= go
BIN           := bin/apptconfirm
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS       := -X main.version=$(VERSION)
GOLANGCI_LINT_VERSION := v2.15.0
GOFUMPT_VERSION       := v0.12.0
TOOLS         := $(CURDIR)/bin/tools
CHROMIUM      ?= /usr/bin/chromium
AXE_CORE_VERSION := 4.14.1
AXE           := $(TOOLS)/axe/node_modules/axe-core/axe.min.js

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-12s %s\n", $$1, $$2}'

.PHONY: build
build: ## build bin/apptconfirm
	@echo "building bin/apptconfirm (the first build compiles SQLite's C code: about a minute)"
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/apptconfirm

.PHONY: run
run: build ## build and start on http://localhost:8080 (SQLite, simulator, demo clinic)
	./$(BIN) demo --config config.yaml

.PHONY: deps
deps: ## install what the tests need (Go modules, Chromium and axe-core for the browser tests)
	$(GO) mod download
	@if [ ! -f "$(AXE)" ]; then \
		echo "installing axe-core $(AXE_CORE_VERSION) from the npm registry for the accessibility test"; \
		if ! command -v npm >/dev/null; then \
			echo "installing npm (Debian's nodejs and npm) to fetch axe-core"; \
			if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
			$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm >/dev/null; \
		fi; \
		npm install --no-save --no-audit --no-fund --silent --prefix $(TOOLS)/axe axe-core@$(AXE_CORE_VERSION); \
	fi
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "installing chromium for the browser tests"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

.PHONY: test
test: deps ## run the whole test suite (race detector, SQLite and PostgreSQL)
	@if [ -z "$$APPTCONFIRM_TEST_POSTGRES_DSN" ] && ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then \
		echo "!!! PostgreSQL is not reachable at 127.0.0.1:5432: the PostgreSQL tests will be SKIPPED !!!"; \
		echo "!!! (set APPTCONFIRM_TEST_POSTGRES_DSN to use another server; CI fails instead of skipping) !!!"; \
	fi
	APPTCONFIRM_TEST_CHROMIUM=$(CHROMIUM) APPTCONFIRM_TEST_AXE=$(AXE) $(GO) test -race -count=1 -timeout 40m ./...

.PHONY: test-short
test-short: ## quick tests without the race detector
	$(GO) test -count=1 -short ./...

.PHONY: screenshots
screenshots: deps ## write docs/screenshots/*.png: every page at 390 and 1366 px, on the demo clinic
	mkdir -p docs/screenshots
	APPTCONFIRM_SCREENSHOTS=$(CURDIR)/docs/screenshots APPTCONFIRM_TEST_CHROMIUM=$(CHROMIUM) APPTCONFIRM_TEST_AXE=$(AXE) \
		$(GO) test -count=1 -run '^TestBrowser(EveryPage|Analytics)$$' ./app/web/

.PHONY: fuzz
fuzz: ## run each fuzz target for 20 seconds
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$pkg || exit 1; \
		done; \
	done

.PHONY: bench
bench: ## run the benchmarks (see BENCHMARKS.md)
	$(GO) test -run '^$$' -bench . -benchmem ./...

# bench-http: BENCH_OLD=<git ref> also builds that commit and runs it alternately with this
# tree; BENCH_PG=1 (or BENCH_PG_DSN=postgres://...) adds PostgreSQL; BENCH_ARGS passes more
# flags to cmd/benchhttp (-conns 1,8,64 -duration 10s -sustained -rate 5000 -for 60s ...).
BENCH_OLD    ?=
BENCH_PG     ?=
BENCH_PG_DSN ?=
BENCH_ARGS   ?=

.PHONY: bench-http
bench-http: build ## real server vs bare gin under wrk: req/s, ratio, p99, apply lag (BENCHMARKS.md)
	@if ! command -v wrk >/dev/null; then \
		echo "installing wrk (Debian's) for the HTTP benchmark"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; \
	fi
	$(GO) build -o bin/benchhttp ./cmd/benchhttp
	@bins="new=$(BIN)"; \
	if [ -n "$(BENCH_OLD)" ]; then \
		echo "building $(BENCH_OLD) into bin/bench-old"; \
		rm -rf bin/bench-old && mkdir -p bin/bench-old/src && \
		git archive "$(BENCH_OLD)" | tar -x -C bin/bench-old/src && \
		(cd bin/bench-old/src && $(GO) build -o ../apptconfirm ./cmd/apptconfirm) || exit 1; \
		bins="old=bin/bench-old/apptconfirm,$$bins"; \
	fi; \
	dbs=sqlite; if [ -n "$(BENCH_PG)$(BENCH_PG_DSN)" ]; then dbs=sqlite,postgres; fi; \
	./bin/benchhttp -bin "$$bins" -db $$dbs $(if $(BENCH_PG_DSN),-pg-dsn '$(BENCH_PG_DSN)') $(BENCH_ARGS)

$(TOOLS)/golangci-lint:
	GOBIN=$(TOOLS) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

$(TOOLS)/gofumpt:
	GOBIN=$(TOOLS) $(GO) install mvdan.cc/gofumpt@$(GOFUMPT_VERSION)

.PHONY: lint
lint: $(TOOLS)/golangci-lint fmt-check ## go vet, golangci-lint, gofumpt check
	$(GO) vet ./...
	$(TOOLS)/golangci-lint run ./...

.PHONY: fmt
fmt: $(TOOLS)/gofumpt ## format the code with gofumpt
	$(TOOLS)/gofumpt -w $$(git ls-files '*.go')

.PHONY: fmt-check
fmt-check: $(TOOLS)/gofumpt ## fail when gofmt or gofumpt would change a file
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	@out=$$($(TOOLS)/gofumpt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofumpt: $$out"; exit 1; fi

.PHONY: tidy-check
tidy-check: ## fail when go.mod or go.sum are not tidy
	$(GO) mod tidy -diff

.PHONY: clean
clean: ## remove build output
	rm -rf bin
