# Two entry points for a fresh machine: `make demo` and `make test`. Both create .venv with pip first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test install clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	# got10k and vot-toolkit pull in opencv-python, whose cv2 lacks the contrib trackers (KCF, CSRT, TLD, ...).
	# Two cv2 distributions overwrite each other, so remove every one and install only the contrib build, then prove it.
	$(PY) -m pip uninstall -q -y opencv-python opencv-python-headless opencv-contrib-python opencv-contrib-python-headless
	$(PY) -m pip install -q --no-deps opencv-contrib-python-headless
	$(PY) -c "import cv2; cv2.TrackerKCF_create(); cv2.legacy.TrackerTLD_create(); print('cv2', cv2.__version__, 'with contrib trackers')"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/globaltrack demo

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) results reports
