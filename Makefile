# The two commands of the README:
#   make demo   set up .venv and run the sample job on the bundled CDNOW log
#   make test   set up .venv and run the whole test suite
# PostgreSQL and Spark tests run when CVM_TEST_POSTGRES_URL / CVM_TEST_SPARK=1 are set
# (as .ci/run does); otherwise they skip and say why.

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
CONSTRAINTS := requirements/constraints.txt
comma := ,
EXTRAS := dev$(if $(filter 1,$(CVM_TEST_SPARK)),$(comma)spark)
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

.PHONY: setup demo test docs lock clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "CVM needs Python 3.11 or newer: make PYTHON=python3.12 …"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[$(EXTRAS)]'
	touch $@

setup: $(STAMP)

demo: setup
	$(BIN)/cvm datasets export cdnow_sample cvm-demo/data --overwrite
	$(BIN)/cvm analyze cvm-demo/data/transactions.csv --holdout 1997-09-30 -o cvm-demo/results --overwrite

test: setup
	$(BIN)/python -m pytest

docs: setup
	$(BIN)/python -m cvm.cli.docgen docs

# Refresh the constraints file from a fresh environment with every extra.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet -e '.[dev,postgres,spark]'
	.venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^-e ' > $(CONSTRAINTS)
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) cvm-demo .pytest_cache
