# d2l-course: `make demo` and `make test` are all a newcomer needs (each creates .venv).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TMPHOME := $(CURDIR)/$(VENV)/.home
# Keep Jupyter, IPython and matplotlib state out of the user's home; pip keeps its own config.
export JUPYTER_CONFIG_DIR := $(TMPHOME)/jupyter
export JUPYTER_DATA_DIR := $(TMPHOME)/jupyter-data
export IPYTHONDIR := $(TMPHOME)/ipython
export MPLCONFIGDIR := $(TMPHOME)/matplotlib
export MPLBACKEND := Agg
export OMP_NUM_THREADS := 1
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
WORKERS ?= 2

.PHONY: venv test lint release check-release course demo bench gpu-check messages clean

$(STAMP): pyproject.toml
	@echo "Setting up $(VENV): torch, torchvision, JupyterLab, nbgrader and the test tools"
	@echo "(about 5.5 GB with torch's CUDA build, 2-5 minutes; see README 'Installing')."
	test -x $(PY) || python3 -m venv $(VENV)
	set -o pipefail; $(PY) -m pip install --disable-pip-version-check --progress-bar off \
	  -e '.[dev]' 2>&1 | { grep -v -e "^WARNING: Location" -e "^Requirement already" || true; }
	mkdir -p $(JUPYTER_CONFIG_DIR) $(JUPYTER_DATA_DIR) $(IPYTHONDIR) $(MPLCONFIGDIR)
	touch $@

venv: $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check .

release: $(STAMP)
	$(PY) -m grader build

check-release: $(STAMP)
	$(PY) -m grader check-release

# After changing a message marked _("..."): update the catalogues, then translate what it lists.
messages: $(STAMP)
	$(PY) -m grader.messages

test: $(STAMP) lint
	$(PY) -m pytest -n $(WORKERS) --dist loadgroup -q tests

# A term's set-up: make course ROSTER=roster.csv [CHAPTERS="ch02 ch03"]
course: $(STAMP)
	$(PY) -m grader setup-course --roster $(ROSTER) $(if $(CHAPTERS),--chapters $(CHAPTERS))

demo: $(STAMP)
	$(PY) -m grader.demo

bench: $(STAMP)
	$(PY) -m grader.bench

# On a machine with CUDA: every chapter graded on the GPU, and the bench's CPU-versus-CUDA rows.
gpu-check: $(STAMP)
	$(PY) -m grader.gpu_check

clean:
	rm -rf demo bench/out course/submitted course/autograded course/feedback course/gradebook.db
