# `make lesson` runs the whole series; `make test` runs the tests.
# Both create the virtual environment .venv/ on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LESSONS := 0_1D.py 1_2D.py 2_TensorFlow.py 3_image.py 4_digit.py 5_cnn.py 6_layer.py

.PHONY: lesson test bench bench-quick bench-lessons clean

lesson: $(VENV)/.lesson-installed
	@for script in $(LESSONS); do \
		echo; echo "================ $$script ================"; \
		$(BIN)/python $$script || exit 1; \
	done

test: $(VENV)/.test-installed
	$(BIN)/python -m pytest

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

clean:
	rm -rf $(VENV)
