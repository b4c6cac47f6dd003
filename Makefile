# Scrutiny: `make run` installs, builds the index from corpus/ and serves the chat page;
# `make test` installs and runs every test. Both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCALE_STAMP := $(VENV)/.installed-scale
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-scale browser ocr index run serve test test-fast eval fit bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch is pinned to the CPU build in pyproject.toml; an unpinned torch would pull a CUDA build.
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Milvus and Ray (the `scale` extra): the tests and the benchmark cover both backends and the Ray ingest.
$(SCALE_STAMP): $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,scale]'
	touch $(SCALE_STAMP)

install-scale: $(SCALE_STAMP)

# The browser tests drive Debian's Chromium; install it when it is missing (CI runs as root).
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		echo "Installing chromium and chromium-driver"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

# Scanned papers are read by Debian's Tesseract with its English data; install them when missing.
ocr:
	@if ! tesseract --list-langs 2>/dev/null | grep -qx eng; then \
		echo "Installing tesseract-ocr and tesseract-ocr-eng"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq tesseract-ocr tesseract-ocr-eng >/dev/null; \
	fi

index: install
	$(BIN)/scrutiny ingest corpus

run: index
	$(BIN)/scrutiny serve --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/scrutiny serve --host $(HOST) --port $(PORT)

test: install-scale browser ocr
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not browser"

eval: index
	$(BIN)/scrutiny eval --gold corpus/gold/ --mode all

# Refit the answer model on the dev split (writes index/answer_model.json) and report the ablation on test.
fit: index
	$(BIN)/scrutiny fit --gold corpus/gold/dev.jsonl --test corpus/gold/test.jsonl --ablation

bench: install-scale browser
	$(BIN)/python -m bench.run

clean:
	rm -rf var bench/results/latest.* .pytest_cache
