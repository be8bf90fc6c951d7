# The two commands of the quick start: `make demo` and `make test`. Everything else is a step.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup installs demo test lint bench

# uv (from PyPI: its binary ships in the wheel) installs the same pinned packages as pip, in
# 21-38 s where pip took 52-70 s on 2 cores (fresh clone, empty caches, machine shared).
# --compile-bytecode writes the .pyc files pip writes, so no command compiles site-packages on
# its first run (nor on every run, in a shell that sets PYTHONDONTWRITEBYTECODE).
UV_VERSION := 0.13.8

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

NPM_STAMP := node_modules/.installed-stamp

# NHS.UK frontend (served as built) and axe-core (accessibility tests), pinned by package-lock.json.
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

# Both installs at once: a fresh clone waits on the longer only (npm is mostly network).
setup:
	@$(MAKE) --no-print-directory -j2 installs

installs: $(STAMP) $(NPM_STAMP)
	@:

# ruff, then the import contracts of pyproject.toml (the house's layers, booking_api's
# context order, engines free of web and database, pages through the service layer).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Two test processes (pytest-xdist): the suite is ~6,200 tests, about 9 minutes on 2 cores
# this way and over 25 minutes in one process.
TEST_WORKERS ?= 2

test: setup lint
	$(BIN)/pytest -n $(TEST_WORKERS)

# Micro-benchmarks of the hot paths (cdip_bench/micro) timed by pytest-benchmark, saved under
# .benchmarks/ and compared with the last saved run (or run BENCH_BASELINE=NNNN): a median more
# than BENCH_SLOWER slower fails. The first run (nothing saved yet) only saves a baseline.
BENCH_SLOWER ?= 30%
BENCH_BASELINE ?=
BENCH_COMPARE = --benchmark-compare$(if $(BENCH_BASELINE),=$(BENCH_BASELINE)) \
	--benchmark-compare-fail=median:$(BENCH_SLOWER)

bench: setup
	$(BIN)/pytest cdip_bench/micro -p no:cacheprovider --benchmark-enable --benchmark-only \
		--benchmark-autosave --benchmark-min-rounds=10 $(if $(wildcard .benchmarks/*/*.json),$(BENCH_COMPARE)) \
		--benchmark-sort=name --benchmark-columns=min,median,iqr,max,rounds

DEMO_HOST ?= 127.0.0.1
DEMO_PORT ?= 8000
DEMO_HISTORY_SCALE ?= 0.25
# The optimiser's seconds per week planned (six weeks: a minute of the demo's run).
DEMO_DIARY_SECONDS ?= 10

# Migrate, check the network files, load them with the demo patients (idempotent), import a
# trust's demand history (synthetic, a quarter of the network's volume, ending last week, so
# the demo stays short), build the coming six weeks of diaries from its forecast and the
# waiting list, re-evaluate the requests by the rules (as the server does each
# day: some demo requests wait for an eGFR or a safety questionnaire), list demo references
# that have free times, then serve with the fake SMS provider and mail catcher.
demo: setup
	$(BIN)/cdip db upgrade
	$(BIN)/cdip network check
	$(BIN)/cdip seed
	rm -rf var/demo-history
	$(BIN)/cdip history generate --weeks 56 --scale $(DEMO_HISTORY_SCALE) --ending-last-week --out var/demo-history
	$(BIN)/cdip history import var/demo-history
	$(BIN)/cdip diary build --weeks 6 --time-limit $(DEMO_DIARY_SECONDS)
	$(BIN)/cdip rules sweep
	@echo ""
	$(BIN)/cdip demo references
	@echo "Health:   http://$(DEMO_HOST):$(DEMO_PORT)/health"
	@echo "API docs: http://$(DEMO_HOST):$(DEMO_PORT)/docs"
	@echo "Patient portal: http://$(DEMO_HOST):$(DEMO_PORT)/"
	@echo "Sign in with one of the demo booking references above and its date of birth."
	@echo "Staff console: http://$(DEMO_HOST):$(DEMO_PORT)/staff (demo.clerk, demo.vetting, demo.manager or demo.admin; password imaging-network-demo)"
	@echo "What was sent (texts and emails): http://$(DEMO_HOST):$(DEMO_PORT)/demo/messages"
	CDIP_PUBLIC_BASE_URL=http://$(DEMO_HOST):$(DEMO_PORT) $(BIN)/cdip serve --host $(DEMO_HOST) --port $(DEMO_PORT) --fake-providers
