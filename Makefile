# `make lesson` runs the whole series; `make test` runs the tests.
# Both create the virtual environment .venv/ on first use.
# `make notebooks` regenerates notebooks/ from the lessons and README.md;
# `make jupyter` installs JupyterLab into .venv/ and opens the notebooks in it.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LESSONS := $(sort $(wildcard [0-9]_*.py))

.PHONY: lesson test notebooks jupyter bench bench-quick bench-lessons clean

lesson: $(VENV)/.lesson-installed
	@for script in $(LESSONS); do \
		echo; echo "================ $$script ================"; \
		$(BIN)/python $$script || exit 1; \
	done

test: $(VENV)/.test-installed
	$(BIN)/python -m pytest

notebooks: $(VENV)/.test-installed
	$(BIN)/python make_notebooks.py

# The server's root is the repository, so that the notebooks' pictures (../figures/) show.
jupyter: $(VENV)/.notebook-installed
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks/0_1D.ipynb

# The benchmarks time the machine they run on: run them when nothing else is busy.
# bench (a few minutes) prints the convolution timings and redraws figures/bench_*.png;
# bench-lessons (about two minutes) times every lesson against `import tensorflow, keras`.
bench: $(VENV)/.lesson-installed
	$(BIN)/python benchmarks/bench_convolution.py

bench-quick: $(VENV)/.lesson-installed
	$(BIN)/python benchmarks/bench_convolution.py --quick

bench-lessons: $(VENV)/.lesson-installed
	$(BIN)/python benchmarks/bench_lessons.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.lesson-installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $@ $(VENV)/.lesson-installed

$(VENV)/.notebook-installed: requirements.txt requirements-notebook.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-notebook.txt
	touch $@ $(VENV)/.lesson-installed

clean:
	rm -rf $(VENV)
