# Two commands on a fresh clone: `make run` serves the site, `make test` checks it.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install migrate demo screenshots

run: migrate
	@$(PY) manage.py shell --verbosity 0 --command \
		'from accounts.models import Staff; Staff.objects.exists() or print("\nNo accounts yet. Create the first administrator with:\n\n    $(PY) manage.py createsuperuser\n")'
	$(PY) manage.py runserver $(HOST):$(PORT)

# One command to look around: demo staff and groups, and a manager whose login is printed.
demo: migrate
	$(PY) manage.py seed_demo --staff 200 --groups 12 --manager
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(VENV)/bin/ruff check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest

# The README's pictures of the site, from demo data in a throwaway database, in Chromium.
screenshots: install
	$(PY) docs/screenshots/make_screenshots.py

install: $(VENV)/installed

migrate: install
	$(PY) manage.py migrate --noinput

# Reinstall only when requirements.txt changes.
$(VENV)/installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@
