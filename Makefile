# The README's two commands: `make demo` and `make test`. Each installs what it needs.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# Xvfb + Mesa: the tests draw the board on a virtual screen; Mosquitto: the real broker the
# tests start; mtdev: Kivy's touch input library; systemd: systemd-analyze verifies the units;
# openssl: the site CA for the broker's TLS; fonts: the board's fallback fonts for names in
# other scripts (deploy/provision.sh installs the same on a screen); postgresql: the gateway
# tests run on both stores against a PostgreSQL 15 they start themselves; chromium and
# chromium-driver: the admin page's browser tests drive Debian's headless chromium.
APT_PACKAGES := xvfb xauth libgl1 libgl1-mesa-dri libegl1 libmtdev1 mosquitto mosquitto-clients systemd \
	openssl fonts-noto-core fonts-noto-cjk fonts-symbola fonts-dejavu-core postgresql \
	chromium chromium-driver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test system venv lint bench screenshot clean

demo: system venv
	$(VENV)/bin/kds-device demo

test: system venv lint
	$(VENV)/bin/pytest

lint: venv
	@if grep -rInE --exclude-dir=.venv --exclude-dir=.git '^(<<<<<<< |>>>>>>> )' .; then \
	  echo "merge conflict markers left in the lines above"; exit 1; fi
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

system:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $@

# Each benchmark prints its figures; the last line of each is one JSON object.
bench: system venv
	$(PY) bench/board.py
	$(PY) bench/gateway_ingest.py
	$(PY) bench/gateway_ingest.py --store postgresql
	$(PY) bench/chain.py
	$(PY) bench/latency.py
	$(PY) bench/soak.py

# The README's pictures: the offline demo (fixed seed) at the panel's and two bigger sizes.
screenshot: system venv
	for size in 800x480 1280x800 1920x1080; do \
	  xvfb-run -a -s "-screen 0 1920x1080x24" $(VENV)/bin/kds-device demo --offline-demo \
	    --seed 7 --size $$size --screenshot docs/board-$$size.png --screenshot-after 3 || exit 1; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
