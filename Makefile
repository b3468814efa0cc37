# Greenroom: `make run` starts a demo portal, `make test` runs the whole suite.
# Both set everything up first (virtualenv in .venv, pinned dependencies, migrations, demo data).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test lint worker beat web bench clean vendor

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

## setup: virtualenv, dependencies, migrations and the demo catalog (safe to run again)
setup: $(STAMP)
	$(BIN)/python manage.py migrate --no-input -v 0
	GREENROOM_TASKS_INLINE=true $(BIN)/python manage.py catalog refresh --wait > /dev/null
	$(BIN)/python manage.py demo_content

## run: the portal with the demo catalog on the embedded default (SQLite, no Redis, one process)
run: setup
	DEBUG=$${DEBUG:-true} GREENROOM_GUEST_SIGNIN=$${GREENROOM_GUEST_SIGNIN:-true} \
	  $(BIN)/python manage.py runserver $(HOST):$(PORT)

## test: the whole test suite (against DATABASE_URL / CELERY_BROKER_URL when set)
test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python manage.py makemigrations --check --dry-run -v 1

## The production shape, one process each (see README and docker-compose.yml).
web: setup
	$(BIN)/gunicorn portal.wsgi --workers 2 --bind $(HOST):$(PORT)
worker: setup
	$(BIN)/celery -A portal worker -Q ingest-priority,ingest,default-priority,default --concurrency 2 --loglevel INFO
beat: setup
	$(BIN)/celery -A portal beat --loglevel INFO --schedule data/celerybeat-schedule

bench: setup
	$(BIN)/python bench/catalog_ingest.py $(BENCH_ARGS)

## vendor: refresh the front-end files under static/vendor from the npm registry (committed;
## the portal itself never needs npm or a CDN)
vendor:
	cd static/vendor && npm ci --no-audit --no-fund --ignore-scripts
	cp static/vendor/node_modules/bootstrap/dist/css/bootstrap.min.css \
	   static/vendor/node_modules/bootstrap/dist/js/bootstrap.bundle.min.js \
	   static/vendor/node_modules/bootstrap/LICENSE static/vendor/bootstrap/

clean:
	rm -rf $(VENV) data
