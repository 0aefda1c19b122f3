# The two commands of the README: `make run` and `make test`. Everything else they need is
# installed here, into .venv/ and node_modules/, and Debian's Chromium through apt when missing.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-calendar lint format bench venv browser pdf-libs clean

run: $(STAMP)
	$(PY) -m vodokanal.devservices run

test: $(STAMP) node_modules/.installed browser pdf-libs lint
	$(PY) -m vodokanal.devservices exec -- $(PY) -m pytest $(PYTEST_ARGS)

# The whole suite once per day of the calendar (vodokanal/devservices.py: CALENDAR_DAYS), the
# portal's clock set to it in every process; `VODOKANAL_TODAY=2027-01-14 make test` runs one day.
test-calendar: $(STAMP) node_modules/.installed browser pdf-libs lint
	$(PY) -m vodokanal.devservices calendar -- $(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP) pdf-libs
	$(PY) -m vodokanal.devservices exec -- $(PY) manage.py bench $(BENCH_ARGS)

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON))"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium for the browser tests (never `playwright install`), and Debian's
# docker-compose to validate docker-compose.yml without a Docker engine.
browser:
	@command -v chromium >/dev/null && command -v docker-compose >/dev/null || { \
	  echo "Installing Debian's chromium, chromium-driver and docker-compose"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium chromium-driver docker-compose >/dev/null; }

# HarfBuzz's subsetter: WeasyPrint subsets the fonts of every PDF with it in a few
# milliseconds (its fallback, fontTools, takes tens). Optional: without it PDFs are the same,
# only slower to write.
pdf-libs:
	@ldconfig -p | grep -q libharfbuzz-subset.so.0 || { \
	  echo "Installing Debian's libharfbuzz-subset0"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    libharfbuzz-subset0 >/dev/null || echo "libharfbuzz-subset0 not installed: PDFs are written more slowly"; }

clean:
	rm -rf var/ .venv/ node_modules/
