# make run   — create .venv if needed, install initlab, run configs/he_circles.yaml
# make test  — install if needed, run the whole test suite (what .ci/run calls)
# make bench — the training benchmark (batched engine vs the notebook-style loop)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install run test bench lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,plot]'
	touch $@

run: install
	$(BIN)/initlab run configs/he_circles.yaml

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/initlab bench-train

lint: install
	$(BIN)/ruff check initlab tests

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
