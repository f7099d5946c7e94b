# Two commands: `make run` (set up and run the platform) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install run test browser sandbox lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# The admin and wizard are tested in a real browser: Debian's chromium.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "The browser tests need chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

# User code runs in bubblewrap sandboxes (DESIGN §6). Without it the platform
# still runs, with a weaker isolation that it announces at start.
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's bubblewrap: the sandbox user code runs in"; \
	    (apt-get install -y -qq bubblewrap >/dev/null 2>&1 || \
	     (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null)) \
	    || echo "Could not install bubblewrap: user code will run with the weaker fallback isolation." >&2; \
	  else echo "bubblewrap is missing (sudo apt-get install bubblewrap): user code will run with the weaker fallback isolation." >&2; fi; }

run: install sandbox
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_admin
	$(PY) -m config.runner

test: install sandbox browser
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy apps config coderunner

bench: install
	$(PY) bench/records_upsert.py

clean:
	rm -rf $(VENV) var
