# podigest: `make demo` (set up + run the demo), `make test` (set up + lint + tests).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: setup system-deps demo test lint ui dbt-prepare bench train service-deps scale-test bench-scale clean

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

# Two xdist workers (this project's CI has two cores), each module on one of them so its module-scoped
# fixtures are built once (conftest.py orders the longest first); the slowest 15 tests are listed at the end.
test: system-deps setup lint
	$(BIN)/pytest -q -n 2 --dist loadfile --durations=15

ui: setup
	$(BIN)/podigest ui

bench: setup
	$(BIN)/python bench/transcribe.py --long-minutes 180
	$(BIN)/python bench/insights_eval.py --split all

# Refit the shipped sponsor-read and insightfulness weights (podigest_dagster/core/insights/models/) from
# training/manifest.json and the real-podcast corpus (../shared/real-podcasts or $PODIGEST_REAL_PODCASTS),
# and print their held-out figures. CI does not train: the weights are committed.
train: setup
	$(BIN)/python -m training.train

# PostgreSQL and Redis for the scale tests, installed with apt when missing (a Debian cluster the install
# starts is stopped again: the tests start their own servers on 127.0.0.1 as an unprivileged user).
service-deps: setup
	$(BIN)/python -c 'from podigest_dagster_tests.support.services import ensure_service_packages as e; e(install=True)'

# Past one machine, for real: DuckLake on a PostgreSQL catalog, Dagster on PostgreSQL, two Celery workers on
# Redis, one of them SIGKILLed mid-episode; prints one `scale:` line. Not part of `make test` (minutes).
scale-test: system-deps setup service-deps
	$(BIN)/pytest -q -m scale podigest_dagster_tests/warehouse/test_ducklake.py podigest_dagster_tests/scale

# The same day on 1 and on 2 Celery workers, each limited to one CPU thread: wall times and their ratio.
bench-scale: system-deps setup service-deps
	$(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) dbt/target dbt/logs
