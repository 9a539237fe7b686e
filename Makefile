# One entry point for users and CI. `make ask` and `make test` work on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
Q ?= which methods prune tokens without fine-tuning?
BEFORE ?= 17dd392# the commit `make bench` pairs this checkout against (before evidence units)

.PHONY: setup setup-gpu setup-ui setup-all setup-browser ask ui bench-ui bench-scale chroma-server ingest stats test test-unit bench eval calibrate clean-index

setup: $(VENV)/.installed

# The CPU build of torch is installed first and pinned: an unpinned torch pulls a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	HF_HUB_OFFLINE=1 $(PY) -m rag.embed.onnx_bert  # ingest's default encoder (ONNX int8), exported once
	touch $@

# A CUDA build of torch in place of the CPU one, for `rag ingest --device cuda` (fp16 on the GPU).
# Needs Linux x86_64 and an NVIDIA driver (nvidia-smi); downloads several GB (torch + nvidia-* wheels)
# from PyPI, whose default torch==2.13.0 wheel is the CUDA build. `make setup` does not undo it.
setup-gpu: $(VENV)/.installed
	@command -v nvidia-smi >/dev/null || echo "warning: nvidia-smi not found: without an NVIDIA driver torch will see no GPU"
	$(PY) -m pip uninstall --quiet -y torch
	$(PY) -m pip install --quiet --index-url https://pypi.org/simple torch==2.13.0
	$(PY) -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'GPU visible:', torch.cuda.is_available())"

# The Gradio chat only (seconds; no LLM build).
setup-ui: $(VENV)/.installed-ui

$(VENV)/.installed-ui: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test,ui]'
	touch $@

# LLM backends (local, gguf:, ollama:, openai:) and the Gradio UI.
# The first build of llama-cpp-python takes ~10 min on 2 cores; pip caches it afterwards.
setup-all: $(VENV)/.installed-all

$(VENV)/.installed-all: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test,llm,ui]'
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
# Installing it takes root (apt-get); another user is told so, and `make test` skips those tests.
setup-browser:
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver; \
	else echo "note: Chromium is not installed and installing it needs root (apt-get): the browser tests" \
	  "will be skipped, the rest runs. \`sudo make setup-browser\` installs it."; fi

ask: setup
	$(VENV)/bin/ask "$(Q)"

ingest: setup
	$(VENV)/bin/rag ingest

stats: setup
	$(VENV)/bin/rag stats

# As root (CI) the browser tests must run; as another user they are skipped when Chromium is missing.
test: setup-all setup-browser
	$(PY) -m pytest -q -rs $(if $(filter 0,$(shell id -u)),--require-browser)

test-unit: setup
	$(PY) -m pytest -q -m "not integration"

bench: setup
	$(PY) bench/bench_backbone.py
	$(PY) bench/bench_paired.py --before $(BEFORE)

bench-scale: setup
	$(PY) bench/bench_scale.py --sizes 300,100000 --server

# A Chroma server on 127.0.0.1:8000 with its data in ./chroma-data (Ctrl+C stops it).
chroma-server: setup
	$(PY) -m vectorstore.server chroma-data 8000

bench-ui: setup-ui
	$(PY) bench/bench_ui.py --n 20

# The chat on http://127.0.0.1:7860 (ARGS="--port 8000 --auth ann:s3cret" to change).
ui: setup-ui
	$(VENV)/bin/rag ui $(ARGS)

eval: setup
	$(VENV)/bin/rag eval --qa evals/qa/dev.jsonl --baselines

# Thresholds are chosen on the calibration split and a second corpus, never on the dev set.
calibrate: setup
	$(VENV)/bin/rag ingest --quiet
	$(VENV)/bin/rag ingest --quiet --corpus evals/corpora/second/papers.jsonl --index-dir /tmp/paper-qa-second-corpus
	$(PY) evals/calibrate_evidence.py index=evals/qa/calib.jsonl,evals/qa/calib2.jsonl /tmp/paper-qa-second-corpus=evals/corpora/second/qa.jsonl
	$(PY) evals/calibrate_support.py evals/qa/dev.jsonl
	$(PY) evals/calibrate_set.py index evals/qa/calib_chains.jsonl

clean-index:
	rm -rf index index.rebuild index.old
