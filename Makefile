# Accord: every entry point. `make demo` runs the main job, `make test` the whole suite;
# both install what they need first (idempotent, fast when nothing changed).
SHELL := /bin/bash
SOLC_VERSION := 0.8.30
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PYTHON ?= python3

export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export ACCORD_ROOT := $(CURDIR)

DASHBOARD_JS := accord/dashboard/static/app.js

.PHONY: setup compile browser demo test test-all lint bench matrix clean

setup: $(VENV)/.installed node_modules/.installed .solcx/solc-v$(SOLC_VERSION) $(DASHBOARD_JS)

$(VENV)/.installed: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11+"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "error: Node.js and npm are needed for solc-js and anvil; install them (apt-get install nodejs npm) and rerun"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# py-solc-x finds compilers as $SOLCX_BINARY_PATH/solc-v<version>: ours is the solc-js wrapper.
.solcx/solc-v$(SOLC_VERSION): tools/solc tools/solc.js node_modules/.installed
	@mkdir -p .solcx
	@ln -sf ../tools/solc $@
	@$@ --version | grep -q "Version: $(SOLC_VERSION)" || { echo "error: npm solc is not $(SOLC_VERSION); run 'npm ci'"; exit 1; }

# The dashboard's page script: cytoscape + dagre from npm, bundled once so the page loads
# nothing from the internet (app.js and app.css; built here, not committed).
$(DASHBOARD_JS): accord/dashboard/web/main.js accord/dashboard/web/style.css node_modules/.installed
	esbuild accord/dashboard/web/main.js --bundle --minify --target=es2020 --log-level=warning --outfile=$@

# ape-solidity copies every OpenZeppelin source (500+ files) into contracts/.cache while it
# compiles; ape 0.8 lists at most 500 files under contracts/, so a cache left behind hides
# our own sources (mocks/, libraries/) from `project`. The compiled manifest keeps all it needs.
# Quiet unless V=1 (`make demo V=1` lists every file compiled); errors always show.
compile: setup
	@ape compile $(if $(V),,-v WARNING)
	@rm -rf contracts/.cache

demo: compile
	@accord demo

# The dashboard's end-to-end test drives Debian's Chromium (no browser download: playwright-core
# is pointed at /usr/bin/chromium).
browser:
	@command -v chromium >/dev/null || { echo "installing Debian's chromium for the dashboard's browser test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  ( $$SUDO apt-get install -y -q chromium || { $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; } ) >/dev/null \
	  || { echo "error: chromium is needed by tests/dashboard; install it (apt-get install chromium) and rerun"; exit 1; }; }

test: compile browser
	@pytest -q -n 2 --dist loadscope --no-loadscope-reorder -m "not slow"

test-all: compile browser
	@pytest -q -n 2 --dist loadscope --no-loadscope-reorder

lint: setup
	ruff check accord tests scripts bench
	mypy
	slither . --config-file slither.config.json

# The negative-test matrix (docs/negative-matrix.md) from the ABIs, the tests' covers markers
# and docs/negative-matrix.yaml; offline, runs no test.
matrix: compile
	@python -m accord.testing.negmatrix

bench: compile
	@bench/peers/setup.sh
	@python -m bench

clean:
	rm -rf .build .accord contracts/.cache out cache accord/dashboard/static
