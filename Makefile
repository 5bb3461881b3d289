# Two commands on a fresh machine (Python 3.11 + pip):
#   make demo   - environment, install, synthetic data, train, test, table
#   make test   - environment, install, pytest
PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.fcam_mm-installed
LOCK := requirements/constraints.txt
PYTEST_ARGS ?=

.PHONY: install demo test clean-demo

$(STAMP): requirements/runtime.txt requirements/tests.txt \
		requirements/constraints.txt setup.py Makefile
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	# Every version from the lock file (constraints.txt): setup.py and
	# requirements/*.txt state ranges, the lock makes two installs equal.
	# setuptools < 81 still ships pkg_resources, which openmim imports.
	$(VPY) -m pip install -q -c $(LOCK) --upgrade setuptools wheel
	# torch first: the pinned releases install from local disk.
	$(VPY) -m pip install -q -c $(LOCK) torch torchvision
	$(VPY) -m pip install -q -c $(LOCK) -r requirements/runtime.txt \
		-r requirements/tests.txt mmcv-lite
	# openmim for the `mim download` test, without its cloud-storage SDKs
	# (openxlab pins setuptools 60 and requests 2.28); what `mim download`
	# imports is in requirements/tests.txt.
	$(VPY) -m pip install -q -c $(LOCK) --no-deps openmim
	$(VPY) -m pip install -q --no-build-isolation --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VPY) tools/run_demo.py

test: $(STAMP)
	$(VPY) -m pytest tests $(PYTEST_ARGS)

clean-demo:
	rm -rf data/synthetic work_dirs/demo
