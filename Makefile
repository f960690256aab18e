# Kitshare: `make run` serves the app with demo data on SQLite, with its scheduler; `make test` runs every test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
INSTALLED := $(VENV)/.installed
PORT ?= 5000
export KITSHARE_ENV ?= development

.PHONY: run test check install serve bench bench-quick clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

# The web server and the scheduler (mail, reminders, no-shows, imports) together; Ctrl-C stops both.
run: $(INSTALLED)
	$(FLASK) init-db
	$(FLASK) seed-demo --credentials-file instance/demo-sign-ins.txt
	@cat instance/demo-sign-ins.txt
	@echo "Kitshare is at http://127.0.0.1:$(PORT); e-mails land in instance/mail as .eml files (Ctrl-C stops it)."
	$(FLASK) serve --host 127.0.0.1 --port $(PORT)

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
# In CI (CI set) a missing PostgreSQL is a failure, not a skip.
test: check
	KITSHARE_TEST_DB=sqlite $(BIN)/python -m pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "=== The same suite on PostgreSQL ($$TEST_DATABASE_URL) ==="; \
		KITSHARE_TEST_DB=postgresql $(BIN)/python -m pytest; \
	elif [ -n "$$CI" ]; then \
		echo "CI is set but TEST_DATABASE_URL is not: the PostgreSQL pass cannot run." >&2; exit 1; \
	else \
		echo "TEST_DATABASE_URL is not set: the PostgreSQL pass was not run."; \
	fi

# Before the suite: lint and format (ruff), the packages' layers (import-linter, pyproject.toml),
# and types over the foundations and the services (mypy).
check: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The benchmark (bench/README.md): a synthetic university on PostgreSQL (BENCH_DATABASE_URL,
# default postgresql://postgres@127.0.0.1:5432/kitshare_bench) and SQLite, measured against the
# database's own floor. Results go to bench/results/. bench-quick is a small run of about a minute.
bench: $(INSTALLED)
	$(BIN)/python -m bench

bench-quick: $(INSTALLED)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) .pytest_cache
