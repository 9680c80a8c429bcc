# podigest: `make demo` (set up + run the demo), `make test` (set up + lint + tests).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: setup system-deps demo test lint ui dbt-prepare bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "podigest needs Python 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/podigest prepare
	touch $@

# espeak-ng synthesises the speech the transcription tests feed to Whisper; chromium and chromium-driver
# run the web archive's browser tests (headless, driven by Selenium with this driver: nothing is downloaded).
system-deps:
	@command -v espeak-ng >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng sox >/dev/null; }
	@{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

demo: setup
	$(BIN)/podigest demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

test: system-deps setup lint
	$(BIN)/pytest -q -n 2 --durations=15

ui: setup
# Two xdist workers (this project's CI has two cores); the slowest 15 tests are listed at the end.
	$(BIN)/podigest ui

bench: setup
	$(BIN)/python bench/transcribe.py --long-minutes 180
	$(BIN)/python bench/insights_eval.py --split all

clean:
	rm -rf $(VENV) dbt/target dbt/logs
