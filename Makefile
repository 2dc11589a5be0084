# Fupin Shop: `make run` serves the demo shop, `make test` runs everything on SQLite and PostgreSQL.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
export FLASK_APP := wsgi
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: install run test lint test-sqlite test-postgres browser translations bench bench-tools clean

install: $(VENV)/.installed translations

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Compiled catalogues are build output: made from the committed .po files.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d shop/translations -D messages --statistics 2>&1 | tail -n 1

STRIPE_EMULATOR_PORT ?= 8420

# Without real Stripe keys (STRIPE_SECRET_KEY), payments go to the local Stripe emulator (localstripe),
# started here and stopped with the shop; its webhooks are signed with a demo secret and posted to the shop.
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	$(BIN)/flask certification tick
	@if [ -n "$$STRIPE_SECRET_KEY" ]; then \
		exec $(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - wsgi:app; \
	fi; \
	mkdir -p instance; \
	$(BIN)/localstripe --port $(STRIPE_EMULATOR_PORT) --from-scratch > instance/localstripe.log 2>&1 & \
	emulator=$$!; trap 'kill $$emulator 2>/dev/null' EXIT INT TERM; \
	for _ in $$(seq 1 50); do curl -sf -o /dev/null http://127.0.0.1:$(STRIPE_EMULATOR_PORT)/js.stripe.com/v3/ && break; sleep 0.2; done; \
	curl -sf -X POST http://127.0.0.1:$(STRIPE_EMULATOR_PORT)/_config/webhooks/fupin \
		-d url=http://$(HOST):$(PORT)/api/v1/payments/stripe/webhook -d secret=whsec_fupin_demo; \
	echo "Payments: local Stripe emulator on http://127.0.0.1:$(STRIPE_EMULATOR_PORT) (test card 4242 4242 4242 4242)"; \
	STRIPE_API_BASE=http://127.0.0.1:$(STRIPE_EMULATOR_PORT) STRIPE_WEBHOOK_SECRET=whsec_fupin_demo \
		$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - wsgi:app

lint: install
	$(BIN)/ruff check .

# Debian's Chromium (with CJK fonts) for the browser tests; never a browser downloaded by a tool.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto.*cjk"; then \
		echo "Installing Debian's chromium and fonts-noto-cjk for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

test-sqlite: install browser
	$(BIN)/pytest -q

test-postgres: install browser
	@if [ "$$SKIP_POSTGRES" = "1" ]; then echo "SKIP_POSTGRES=1: the PostgreSQL run is skipped on purpose."; exit 0; fi; \
	if ! $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(TEST_DATABASE_URL)'.replace('+psycopg',''), connect_timeout=3).close()" 2>/dev/null; then \
		echo "PostgreSQL is not reachable at $(TEST_DATABASE_URL): start it, or set SKIP_POSTGRES=1 on purpose."; exit 1; fi; \
	TEST_DATABASE_URL='$(TEST_DATABASE_URL)' $(BIN)/pytest -q

test: lint test-sqlite test-postgres

# The load generator of the catalogue benchmark: Debian's wrk. (pgbench, the database's own ceiling, comes with
# the PostgreSQL server package the benchmarks run against.)
bench-tools:
	@if ! command -v wrk >/dev/null; then \
		echo "Installing Debian's wrk for the benchmarks"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	fi

bench: install bench-tools
	$(BIN)/python bench/catalog.py
	$(BIN)/python bench/checkout.py
	$(BIN)/python bench/settlement.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
