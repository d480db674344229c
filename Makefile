# The two commands of the README: `make run` (the demo) and `make test` (the whole suite).
# Operating it (docs/deploy.md): `make serve`, `make backup`, `make restore FILE=…` run from $(VENV)/bin and
# never install anything; VENV=/path/to/env names an existing environment.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1:8000

.PHONY: run test lint install serve backup restore need-venv reset-demo

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo --if-empty
	@echo ""
	@echo "aidtracker: http://$(HOST)/   (admin: http://$(HOST)/admin/)"
	@echo "演示账号 / demo logins — password: aidtracker-demo"
	@echo "  national      全国总工会 national office (superuser)"
	@echo "  manager       管理人员 manager (read-only)"
	@echo "  staff_bj      省市填报员 北京市 province staff"
	@echo "  staff_hb      省市填报员 湖北省 province staff"
	@echo "  recipient_ks  受援单位填报员 喀什地区 recipient staff"
	@echo ""
	$(PY) manage.py runserver $(HOST)

# Deletes every agreement and project (with their disbursements and outputs) and loads the demo again;
# refused, like load_demo, when DEBUG is off.
reset-demo: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo --reset

test: $(VENV)/.installed
	$(VENV)/bin/pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

# Production-style serving in the foreground. Two servers started at once on one checkout take turns
# through migrate and collectstatic (flock); migrate itself also holds a PostgreSQL advisory lock.
serve: need-venv
	flock $(CURDIR)/.serve.lock sh -c '$(PY) manage.py migrate --noinput && $(PY) manage.py collectstatic --noinput --verbosity 0'
	exec $(VENV)/bin/gunicorn --config $(CURDIR)/gunicorn.conf.py --chdir $(CURDIR) --bind $(HOST)

backup: need-venv
	$(PY) manage.py backup

restore: need-venv
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/aidtracker-YYYYMMDD-HHMMSS.dump"; exit 2; }
	$(PY) manage.py restore "$(FILE)"

need-venv:
	@test -x $(PY) || { echo "No environment at $(VENV): run 'make install' or pass VENV=/path/to/env."; exit 2; }
