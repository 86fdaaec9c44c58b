# jiesu: `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install vendor demo test lint unit bench serve clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP) vendor

# Browser libraries from npm (web/package-lock.json), copied next to the app's own static files;
# nothing is fetched from a CDN at run time (the API's Swagger page included). No package's
# install script runs: only files are copied (swagger-ui-dist's would send usage analytics).
VENDOR := src/jiesu/web/static/vendor
SWAGGER := web/node_modules/swagger-ui-dist
vendor: $(VENDOR)/.stamp

$(VENDOR)/.stamp: web/package-lock.json
	cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp web/node_modules/htmx.org/dist/htmx.min.js web/node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	cp $(SWAGGER)/swagger-ui-bundle.js $(SWAGGER)/swagger-ui.css $(VENDOR)/
	touch $@

demo: install
	$(BIN)/jiesu demo

serve: install
	$(BIN)/jiesu serve

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q -p no:cacheprovider

unit: install
	$(BIN)/pytest -q tests/unit

# The HTTP load bench drives registrations with wrk (Debian's package).
bench: install
	command -v wrk >/dev/null || (apt-get install -y wrk || (apt-get update && apt-get install -y wrk))
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) jiesu.db jiesu.db-wal jiesu.db-shm
