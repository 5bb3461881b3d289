# Two commands on a fresh machine (Python 3.11 + pip):
#   make demo   - environment, install, synthetic data, train, test, table
#   make test   - environment, install, pytest
PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.fcam_mm-installed
PYTEST_ARGS ?=

.PHONY: install demo test clean-demo

$(STAMP): requirements/runtime.txt requirements/tests.txt setup.py Makefile
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	# setuptools < 81 still ships pkg_resources, which openmim imports.
	$(VPY) -m pip install -q --upgrade 'setuptools<81' wheel
	# torch first and pinned: these releases install from local disk.
	$(VPY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(VPY) -m pip install -q -r requirements/runtime.txt -r requirements/tests.txt
	# openmim for the `mim download` test, without its cloud-storage SDKs
	# (openxlab pins setuptools 60 and requests 2.28); what `mim download`
	# imports is in requirements/tests.txt.
	$(VPY) -m pip install -q --no-deps openmim==0.3.9
	$(VPY) -m pip install -q --no-build-isolation --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VPY) tools/run_demo.py

test: $(STAMP)
	$(VPY) -m pytest tests $(PYTEST_ARGS)

clean-demo:
	rm -rf data/synthetic work_dirs/demo
