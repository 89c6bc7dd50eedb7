# make run   — create .venv if needed, install initlab, run configs/he_circles.yaml
# make test  — install if needed, run the whole test suite (what .ci/run calls)
# make bench — the training benchmark (batched engine vs the notebook-style loop)
# make bench-gpu — on a machine with an NVIDIA GPU: CuPy, the GPU tests and every GPU benchmark

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install run test bench bench-gpu lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,plot]'
	$(BIN)/python -m initlab.engine.fused
	touch $@

run: install
	$(BIN)/initlab run configs/he_circles.yaml

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/initlab bench-train

# One call for a GPU machine: the devices, the whole suite (GPU tests included), bench-train on
# he_circles at E = 1 … 10 000 and on the article's big network (FP32 and TF32), bench-rng on the
# card, and the 1000-seed compare as a whole process.
bench-gpu: install
	$(BIN)/python -m pip install --quiet -e '.[gpu]'
	$(BIN)/initlab devices
	$(BIN)/python -m pytest -q
	$(BIN)/initlab bench-train he_circles --device gpu --experiments 1,100,1000,10000 --iterations 2000 --repeat 2
	$(BIN)/initlab bench-train he_circles --device cpu --experiments 1,100 --iterations 2000 --repeat 2
	$(BIN)/initlab bench-train neanderthal_big --device gpu --repeat 2
	$(BIN)/initlab bench-train neanderthal_big --device gpu --repeat 2 --tf32
	$(BIN)/initlab bench-rng --device gpu
	/usr/bin/time -f '%e s wall, %M kB peak: compare --seeds 1000 --device gpu' \
	    $(BIN)/initlab compare --inits zeros,random,he --seeds 1000 --device gpu --quiet --out gpu-compare

lint: install
	$(BIN)/ruff check initlab tests

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
