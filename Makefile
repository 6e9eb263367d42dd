# Two commands on a fresh machine:  make run  |  make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Development default: Twilio's REST and media side is the loopback emulator.
export IVR_TWILIO_API_URL ?= http://127.0.0.1:8010
EMULATOR_PORT := 8010

.PHONY: run test lint typecheck install clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

# pa11y (HTML_CodeSniffer) for tests/functional/test_pa11y.py, pinned by package-lock.json.
# It drives Debian's Chromium: puppeteer never downloads a browser of its own.
node_modules/.installed: package.json package-lock.json
	PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund
	touch $@

# The infrastructure linters live in their own venv: checkov pins many libraries the app
# also uses, and neither side should hold the other back.
INFRA_VENV := .venv-infra
INFRA_BIN := $(INFRA_VENV)/bin

$(INFRA_VENV)/.installed: infra/requirements-lint.txt
	$(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_BIN)/pip install -q --upgrade pip
	$(INFRA_BIN)/pip install -q -r infra/requirements-lint.txt
	touch $@

## run: set up, migrate and serve the hotline on the embedded default (SQLite, local store)
run: $(VENV)/.installed
	$(BIN)/ivr db upgrade
	$(BIN)/ivr keys init
	$(BIN)/ivr users ensure-admin
	$(BIN)/ivr flows validate
	@if [ "$$IVR_TWILIO_API_URL" = "http://127.0.0.1:$(EMULATOR_PORT)" ]; then \
	  $(BIN)/ivr twilio-emulator --port $(EMULATOR_PORT) & emulator=$$!; \
	  trap 'kill $$emulator 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/ivr serve --with-worker; \
	else \
	  $(BIN)/ivr serve --with-worker; \
	fi

## test: set up, then lint, type-check and run every test (SQLite and PostgreSQL)
# Two workers, a test file each at a time: the browser and server tests spend most of
# their time waiting, so two share this 2-core machine well (every test has its own ports,
# folders and PostgreSQL schema).
test: $(VENV)/.installed-test node_modules/.installed lint typecheck infra-lint
	$(BIN)/pytest -n 2 --dist loadfile

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

## infra-lint: cfn-lint and checkov over infra/, checkov and hadolint over the Dockerfile
# --skip-download: checkov would otherwise ask Prisma Cloud for guideline links.
.PHONY: infra-lint
infra-lint: $(INFRA_VENV)/.installed
	$(INFRA_BIN)/cfn-lint infra/*.yaml
	$(INFRA_BIN)/checkov -d infra --framework cloudformation --quiet --compact --skip-download
	$(INFRA_BIN)/checkov -f Dockerfile --framework dockerfile --quiet --compact --skip-download
	$(INFRA_BIN)/hadolint Dockerfile

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache node_modules
