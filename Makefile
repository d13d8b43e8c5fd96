# Two entry points for a fresh machine: `make demo` and `make test`. Both create .venv with pip first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test install clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# the package (its cv2 is OpenCV's contrib build), the got10k / vot-toolkit integrations and the test tools
	$(PY) -m pip install -q -e '.[all,dev]'
	# got10k and vot-toolkit pull in opencv-python, which overwrites the contrib build's cv2/ folder: the repair
	# command that `globaltrack trackers` names, then a check that the contrib trackers are there
	$(PY) -m pip uninstall -q -y opencv-python opencv-python-headless
	$(PY) -m pip install -q --force-reinstall --no-deps opencv-contrib-python-headless
	$(VENV)/bin/globaltrack trackers --check-opencv
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/globaltrack demo

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) results reports
