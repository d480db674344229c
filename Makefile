# The two commands of the README: `make run` (the demo) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1:8000

.PHONY: run test lint install

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

test: $(VENV)/.installed
	$(VENV)/bin/pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
