"""`remind_reports`: one mail a day to each author with reports missing, in draft or returned."""

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from agreements import services as account_services
from agreements.models import Province
from projects.models import ProgressReport, ReportReminder
from tests.conftest import PASSWORD, make_agreement, make_project

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 30)  # the reporting quarter is 2026 Q3


@pytest.fixture(autouse=True)
def locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture
def projects(db, staff_bj, staff_hb, national):
    staff_bj.email = "bj@example.org"
    staff_bj.save()
    bj = make_agreement("BJ-M", province="110000", recipient="653200")
    missing = make_project("BJ-M-001", bj)
    returned = make_project("BJ-M-002", bj)
    done = make_project("BJ-M-003", bj)
    ProgressReport.objects.create(
        project=returned,
        year=2026,
        quarter=3,
        status="returned",
        review_note="请补充照片",
        author=staff_bj,
    )
    ProgressReport.objects.create(project=done, year=2026, quarter=3, status="approved", author=staff_bj)
    hb = make_agreement("HB-M", province="420000", recipient="652700")
    make_project("HB-M-001", hb)  # staff_hb has no e-mail address
    return {"missing": missing, "returned": returned}


def run(*args):
    out = StringIO()
    call_command("remind_reports", "--date", DAY.isoformat(), *args, stdout=out)
    return out.getvalue()


def test_it_mails_each_author_what_is_missing_or_returned_in_chinese(projects, staff_bj):
    output = run()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["bj@example.org"]
    assert "2026年第3季度" in message.subject
    assert "BJ-M-001" in message.body and "未填报" in message.body
    assert "BJ-M-002" in message.body and "请补充照片" in message.body
    report = ProgressReport.objects.get(project=projects["returned"])
    assert f"http://localhost:8000/admin/projects/progressreport/{report.pk}/change/" in message.body
    assert "您好" in message.body and "待办" in message.body
    assert "BJ-M-003" not in message.body  # approved: nothing to do
    assert "bj@example.org" in output
    row = ReportReminder.objects.get()
    assert (row.user, row.day, row.year, row.quarter) == (staff_bj, DAY, 2026, 3)
    assert (row.missing, row.returned) == (1, 1)


def test_a_second_run_the_same_day_sends_nothing(projects):
    run()
    output = run()
    assert len(mail.outbox) == 1
    assert ReportReminder.objects.count() == 1
    assert "staff_bj" in output  # listed as already reminded
    call_command("remind_reports", "--date", "2026-12-01", stdout=StringIO())
    assert len(mail.outbox) == 2  # the next day it reminds again


def test_users_without_an_email_address_are_listed(projects):
    output = run()
    assert "staff_hb" in output
    assert all("staff_hb" not in m.body for m in mail.outbox)


def test_inactive_users_readers_and_users_with_nothing_waiting_get_no_mail(projects, staff_bj, manager):
    manager.email = "manager@example.org"
    manager.save()
    done = account_services.create_staff_user(
        username="staff_tj",
        password=PASSWORD,
        role=account_services.ROLE_PROVINCE,
        province=Province.objects.get(code="120000"),
    )
    done.email = "tj@example.org"
    done.save()
    staff_bj.is_active = False
    staff_bj.save()
    run()
    assert mail.outbox == []


def test_dry_run_sends_and_logs_nothing(projects):
    output = run("--dry-run")
    assert mail.outbox == [] and not ReportReminder.objects.exists()
    assert "bj@example.org" in output


def _mail_settings(**env):
    """The e-mail settings a fresh process reads from `env` (the settings module is not reloaded here)."""
    import json
    import os
    import subprocess
    import sys

    from django.conf import settings

    environment = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
    environment.update(env)
    code = (
        "import json, aidtracker.settings as s; print(json.dumps([s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT,"
        " s.EMAIL_USE_TLS]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=environment, cwd=settings.BASE_DIR, capture_output=True, text=True
    )
    return json.loads(out.stdout)


def test_the_console_backend_is_the_default_and_smtp_comes_from_the_environment():
    backend, host, _port, _tls = _mail_settings()
    assert backend.endswith("console.EmailBackend") and host == ""
    backend, host, port, tls = _mail_settings(
        EMAIL_HOST="smtp.example.org", EMAIL_PORT="587", EMAIL_USE_TLS="1"
    )
    assert backend.endswith("smtp.EmailBackend")
    assert (host, port, tls) == ("smtp.example.org", 587, True)
