# Two commands on a fresh clone: `make chat` (install, then talk to maeum) and `make test`.
# torch 2.13.0 is installed first so pip never pulls a multi-GB CUDA build on a CPU machine;
# GPU users can install their own CUDA torch into .venv before running make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0

.PHONY: chat test lint install

$(BIN)/maeum: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(BIN)/maeum

install: $(BIN)/maeum

chat: $(BIN)/maeum
	$(BIN)/maeum chat

lint: $(BIN)/maeum
	$(BIN)/ruff check .
	$(BIN)/mypy engine

test: lint
	$(BIN)/python -m pytest -q -p no:cacheprovider
