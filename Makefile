# Two commands on a fresh clone: `make run` serves the site, `make test` checks it.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve test loadtest install migrate demo screenshots

run: migrate
	@$(PY) manage.py shell --verbosity 0 --command \
		'from accounts.models import Staff; Staff.objects.exists() or print("\nNo accounts yet. Create the first administrator with:\n\n    $(PY) manage.py createsuperuser\n")'
	$(PY) manage.py runserver $(HOST):$(PORT)

# Production settings on this machine: gunicorn, DEBUG off, hashed and compressed
# static files. Over plain HTTP unless DJANGO_INSECURE_HTTP=0 (behind a TLS proxy);
# without DJANGO_SECRET_KEY, a key kept in .secret_key (created once); without
# DJANGO_EMAIL_HOST, emails printed to the console.
WEB_CONCURRENCY ?= 2
serve: export DJANGO_DEBUG = 0
serve: export DJANGO_INSECURE_HTTP ?= 1
serve: export DJANGO_ALLOWED_HOSTS ?= $(HOST),localhost
serve: export DJANGO_EMAIL_BACKEND ?= $(if $(DJANGO_EMAIL_HOST),smtp,console)
serve: install
	@if [ "$$DJANGO_EMAIL_BACKEND" = console ]; then echo "Emails, reset links included, are printed to this console, for trials on one machine: set DJANGO_EMAIL_HOST for real use."; fi
	export DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$($(PY) -m schoolstaff.secret_key)}" && \
	$(PY) manage.py collectstatic --noinput --verbosity 0 && \
	$(PY) manage.py migrate --noinput && \
	exec $(VENV)/bin/gunicorn schoolstaff.wsgi:application \
		--workers $(WEB_CONCURRENCY) --bind $(HOST):$(PORT) --graceful-timeout 10

# One command to look around: demo staff and groups, and a manager whose login is printed
# (without the audit trail's log line for each demo member, which would bury it), in a
# database of its own, so that `make run`'s db.sqlite3 gets no demo accounts. No second
# factor is asked of anyone, so that a newcomer can look around at once.
DEMO_DATABASE_URL ?= sqlite:///$(CURDIR)/demo.sqlite3
demo: export DATABASE_URL = $(DEMO_DATABASE_URL)
demo: export DJANGO_TWO_FACTOR_REQUIRED = none
demo: install
	@echo "The demo uses a database of its own, $(DEMO_DATABASE_URL): make run's is left as it is."
	@echo "No second factor is asked in this demo (DJANGO_TWO_FACTOR_REQUIRED=none): make run and make serve ask administrators for one."
	$(PY) manage.py migrate --noinput
	DJANGO_LOG_LEVEL=WARNING $(PY) manage.py seed_demo --staff 200 --groups 12 --manager
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(VENV)/bin/ruff check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest

# The README's pictures of the site, from demo data in a throwaway database, in Chromium.
screenshots: install
	$(PY) docs/screenshots/make_screenshots.py

# Fault-and-load test of `make serve` on SQLite and PostgreSQL (docs/reliability.md);
# not part of `make test`. LOAD_SECONDS, LOAD_CLIENTS and LOAD_SCENARIOS shorten it.
loadtest: install
	$(PY) tests/load/run.py

install: $(VENV)/installed

migrate: install
	$(PY) manage.py migrate --noinput

# Reinstall only when requirements.txt changes.
$(VENV)/installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@
