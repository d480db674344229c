"""The reporting quarter, the due rule, and the task list each user sees on the admin index."""

import datetime

import pytest
from django.urls import reverse

from projects import reporting
from tests.conftest import make_agreement, make_project
from tests.projects import reports_data
from tests.projects.reports_data import logged_in, make_report

pytestmark = pytest.mark.django_db
national_staff = reports_data.national_staff
bj_project = reports_data.bj_project
hb_project = reports_data.hb_project


@pytest.mark.parametrize(
    "day,expected",
    [
        ("2026-03-31", (2026, 1)),
        ("2026-04-01", (2026, 1)),
        ("2026-06-30", (2026, 2)),
        ("2026-11-30", (2026, 3)),
        ("2026-12-31", (2026, 4)),
        ("2027-01-01", (2026, 4)),
    ],
)
def test_the_reporting_quarter_is_the_last_one_ended(day, expected):
    assert reporting.reporting_quarter(as_of=datetime.date.fromisoformat(day)) == expected


def test_today_is_taken_in_asia_shanghai(monkeypatch):
    # 2026-03-31 17:00 UTC is already 1 April in Shanghai; 16:00 UTC is still 31 March (the quarter's last day).
    instant = datetime.datetime(2026, 3, 31, 16, 30, tzinfo=datetime.UTC)
    monkeypatch.setattr(reporting.timezone, "now", lambda: instant)
    assert reporting.today() == datetime.date(2026, 4, 1)


def test_the_due_rule(db):
    agreement = make_agreement("BJ-2021-09")
    last = datetime.date(2026, 9, 30)
    due = {
        make_project("A", agreement, status="in_progress", start_date=None).code,
        make_project("B", agreement, status="in_progress", start_date=last).code,
        make_project(
            "C",
            agreement,
            status="in_progress",
            start_date=datetime.date(2020, 1, 1),
            end_date=datetime.date(2021, 1, 1),
        ).code,
        make_project(
            "D",
            agreement,
            status="completed",
            start_date=datetime.date(2026, 1, 1),
            end_date=datetime.date(2026, 8, 1),
        ).code,
    }
    make_project("E", agreement, status="in_progress", start_date=datetime.date(2026, 10, 1))
    make_project("F", agreement, status="completed", end_date=datetime.date(2026, 6, 30))
    make_project("G", agreement, status="planned")
    make_project("H", agreement, status="cancelled")
    found = reporting.projects_due(year=2026, quarter=3)
    assert {p.code for p in found} == due
    assert {p.reporting_status for p in found} == {"missing"}


def test_an_author_sees_missing_draft_and_returned_reports_of_their_projects(
    staff_bj, bj_project, hb_project, monkeypatch
):
    monkeypatch.setattr(reporting, "today", lambda: datetime.date(2026, 11, 30))
    second = make_project("BJ-2021-01-002", bj_project.agreement)
    third = make_project("BJ-2021-01-003", bj_project.agreement)
    make_report(second, staff_bj, status="draft")
    make_report(third, staff_bj, status="approved")
    make_report(bj_project, staff_bj, status="returned", year=2026, quarter=2, review_note="补充照片")
    page = logged_in(staff_bj).get(reverse("admin:index")).content.decode()
    assert "2026" in page
    assert "BJ-2021-01-001" in page and "BJ-2021-01-002" in page
    assert "BJ-2021-01-003" not in page.split('id="tasks-due"')[1].split("</ul>")[0]
    assert "补充照片" in page
    assert "HB-2021-01-001" not in page


def test_a_reviewer_sees_the_count_of_submitted_reports(national_staff, staff_bj, bj_project):
    make_report(bj_project, staff_bj, status="submitted")
    make_report(bj_project, staff_bj, status="submitted", quarter=2)
    page = logged_in(national_staff).get(reverse("admin:index")).content.decode()
    section = page.split('id="tasks-review"')[1].split("</p>")[0]
    assert "?status=submitted" in section and "2" in section
