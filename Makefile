# make build: example sites into _site/   make test: the whole test suite   make serve: dev server
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# axe-core for the browser tests' accessibility checks, pinned in package.json / package-lock.json.
AXE := node_modules/axe-core/axe.min.js

.PHONY: build test serve clean

# editable_mode=compat: a .pth line with the project folder. The default mode's import
# finder costs every Python start about 25 ms, a tenth of a rebuild with nothing to do.
$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[payments,test]' \
		--config-settings editable_mode=compat
	touch $(STAMP)

# Installed only when missing. No npm is an error, not a quiet skip of the axe checks.
$(AXE):
	@command -v npm >/dev/null 2>&1 || { echo "make: npm not found: the browser tests need axe-core from npm (package.json); install Node.js and npm, then run make test again" >&2; exit 1; }
	npm ci --no-audit --no-fund

build: $(STAMP)
	$(PY) build.py build --sites sites --out _site

test: $(STAMP) $(AXE)
	$(PY) -m pytest $(PYTEST_ARGS)

serve: $(STAMP)
	$(PY) build.py serve

clean:
	rm -rf _site .pytest_cache
