# vanban: `make demo` runs the pipeline on the bundled sample scan; `make test` runs the tests.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
SYSTEM_PACKAGES := tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng poppler-utils fonts-liberation2 fonts-freefont-ttf fonts-dejavu-core ghostscript chromium
SAMPLE ?= examples/kh-sample.pdf
# torch is pinned to 2.13.0: the machines carry its CPU wheel (pip's find-links), so no CUDA
# packages are pulled. Elsewhere, set TORCH_PIP_ARGS="--index-url <a CPU wheel index>".
TORCH_PIP_ARGS ?=

.PHONY: demo test system venv lint clean models

demo: venv
	$(VENV)/bin/vanban process $(SAMPLE) -o out/

test: venv
	$(PY) -m pytest -q

# Rebuild models/ from ../shared/corpus (about 4 h on 2 cores); data and work files in
# $VANBAN_DATA (default ./work_data). MODELS_ARGS passes options, e.g. "--dry-run" or "--from-step lm".
MODELS_ARGS ?=
models: venv
	$(PY) scripts/build_models.py $(MODELS_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

# System packages from Debian, installed only when one is missing.
system:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_PIP_ARGS) "torch==2.13.0"
	$(PY) -m pip install -q -e ".[test,ray,ocr-trueocr]"
	touch $@

venv: system $(VENV)/.installed

clean:
	rm -rf out/ .pytest_cache .ruff_cache
