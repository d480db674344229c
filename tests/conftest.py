"""Personas and small data builders shared by every test module.

Users are real accounts in their role groups with a StaffProfile, exactly as the national office would
create them — never only a superuser.
"""

import datetime
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connections

from agreements import services
from agreements.models import Agreement, Province, RecipientUnit

PASSWORD = "aidtracker-demo"

# A "replica" alias mirroring the primary's test database, for the read-replica tests (the dashboards use it
# only when DATABASE_REPLICA_URL is set, which those tests do). Added before the test databases are set up,
# so Django points it at the test database; a separate connection, so it sees only committed rows.
if "replica" not in connections.settings:
    connections.settings["replica"] = {**connections.settings["default"], "TEST": {"MIRROR": "default"}}
# The spreadsheets made outside the project (../shared/samples), vendored so every run uses them.
SAMPLES = Path(__file__).resolve().parent / "samples"


def _user(username, role, province=None, recipient=None, superuser=False):
    return services.create_staff_user(
        username=username,
        password=PASSWORD,
        role=role,
        province=Province.objects.get(code=province) if province else None,
        recipient=RecipientUnit.objects.get(code=recipient) if recipient else None,
        superuser=superuser,
    )


@pytest.fixture
def national(db):
    return _user("national", services.ROLE_NATIONAL, superuser=True)


@pytest.fixture
def manager(db):
    return _user("manager", services.ROLE_MANAGER)


@pytest.fixture
def staff_bj(db):
    return _user("staff_bj", services.ROLE_PROVINCE, province="110000")


@pytest.fixture
def staff_hb(db):
    return _user("staff_hb", services.ROLE_PROVINCE, province="420000")


@pytest.fixture
def recipient_ks(db):
    return _user("recipient_ks", services.ROLE_RECIPIENT, recipient="653100")


def make_agreement(
    code, province="110000", recipient="653200", pledged="1000000.00", status="signed", **extra
):
    return Agreement.objects.create(
        code=code,
        title=f"协议 {code}",
        province=Province.objects.get(code=province),
        recipient=RecipientUnit.objects.get(code=recipient),
        pledged=Decimal(pledged),
        status=status,
        signed_on=datetime.date(2021, 5, 1),
        **extra,
    )


def make_project(
    code, agreement, category="A01", recipient=None, budget="100000.00", status="in_progress", **extra
):
    from projects.models import Category, Project

    extra.setdefault("start_date", datetime.date(2022, 3, 1))
    return Project.objects.create(
        code=code,
        name=f"项目 {code}",
        agreement=agreement,
        category=Category.objects.get(code=category),
        recipient=RecipientUnit.objects.get(code=recipient) if recipient else agreement.recipient,
        budget=Decimal(budget),
        status=status,
        **extra,
    )


@pytest.fixture
def is_postgres():
    from django.db import connection

    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    """Browser tests use a live server, so their database is flushed after each of them: they run last,
    and each starts from the migrated reference data (provinces, units, categories, groups) restored."""
    browser = [item for item in items if item.get_closest_marker("browser")]
    for item in browser:
        item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True), append=False)
    items[:] = [item for item in items if not item.get_closest_marker("browser")] + browser


def pytest_report_header(config):
    return f"database: {os.environ.get('DATABASE_URL', 'sqlite (default)')}"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Accounts are created in almost every test; the production hasher is deliberately slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
