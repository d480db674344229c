"""The report services the spreadsheet importer calls, the history they leave, and the report pages'
query counts."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects import services
from projects.models import ProgressReport
from tests.conftest import make_project
from tests.projects import reports_data
from tests.projects.reports_data import CHANGELIST_URL, logged_in, make_report

pytestmark = pytest.mark.django_db
national_staff = reports_data.national_staff
bj_project = reports_data.bj_project
hb_project = reports_data.hb_project


def imported(user, project, percent=50, narrative="进展"):
    return services.import_report(
        user=user, project=project, year=2026, quarter=3, percent_complete=percent, narrative=narrative
    )


def test_an_import_adds_a_draft_and_updates_it(staff_bj, bj_project):
    report, written = imported(staff_bj, bj_project)
    assert written and (report.status, report.author, report.version) == ("draft", staff_bj, 1)
    assert report.history.first().history_user == staff_bj  # recorded as the importing user
    _same, written = imported(staff_bj, bj_project)
    assert not written
    report, written = imported(staff_bj, bj_project, percent=60)
    assert written and report.percent_complete == 60 and report.version == 2


def test_an_import_keeps_a_returned_report_returned(staff_bj, bj_project):
    make_report(bj_project, staff_bj, status="returned", review_note="补充")
    report, written = imported(staff_bj, bj_project, percent=70)
    assert written and (report.status, report.percent_complete, report.review_note) == (
        "returned",
        70,
        "补充",
    )


@pytest.mark.parametrize("status", ["submitted", "approved"])
def test_an_import_never_changes_a_submitted_or_approved_report(staff_bj, bj_project, status):
    make_report(bj_project, staff_bj, status=status, percent_complete=30, narrative="进展顺利。")
    _report, written = imported(staff_bj, bj_project, percent=30, narrative="进展顺利。")
    assert not written
    with pytest.raises(ValidationError) as refused:
        imported(staff_bj, bj_project, percent=31, narrative="进展顺利。")
    assert refused.value.code == "read_only"
    assert ProgressReport.objects.get().percent_complete == 30


def test_an_import_names_no_project_outside_the_scope(staff_bj, hb_project):
    with pytest.raises(ValidationError) as refused:
        imported(staff_bj, hb_project)
    assert refused.value.code == "unknown_project"
    assert not ProgressReport.objects.exists()


def test_a_manager_cannot_write_reports(manager, bj_project):
    with pytest.raises(ValidationError):
        imported(manager, bj_project)


def test_every_transition_is_in_the_history(staff_bj, national_staff, bj_project):
    report = services.save_report(
        user=staff_bj, report=ProgressReport(project=bj_project, year=2026, quarter=3, percent_complete=10)
    )
    services.submit_report(user=staff_bj, report=report, expected_version=1)
    services.return_report(user=national_staff, report=report, note="再补充", expected_version=2)
    with pytest.raises(ValidationError) as stale:
        services.submit_report(user=staff_bj, report=report, expected_version=2)
    assert stale.value.code == "stale_version"
    services.submit_report(user=staff_bj, report=report, expected_version=3)
    services.approve_report(user=national_staff, report=report, expected_version=4)
    rows = list(report.history.order_by("history_date").values_list("status", "history_user__username"))
    assert rows == [
        ("draft", "staff_bj"),
        ("submitted", "staff_bj"),
        ("returned", "national_staff"),
        ("submitted", "staff_bj"),
        ("approved", "national_staff"),
    ]


def _fill(project, authors, count, start_year):
    for i in range(count):
        other = make_project(f"{project.code}-{start_year}-{i}", project.agreement)
        make_report(other, authors, status="submitted", year=start_year)


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_report_changelist_and_index_query_counts_do_not_grow_with_rows(national_staff, staff_bj, bj_project):
    client = logged_in(national_staff)
    author = logged_in(staff_bj)
    _fill(bj_project, staff_bj, 2, 2025)
    small = _queries(client, reverse(CHANGELIST_URL) + "?status=submitted")
    small_index = _queries(author, reverse("admin:index"))
    _fill(bj_project, staff_bj, 25, 2026)
    assert _queries(client, reverse(CHANGELIST_URL) + "?status=submitted") <= small
    assert _queries(author, reverse("admin:index")) <= small_index


def test_a_row_identical_to_a_report_of_a_closed_quarter_passes_a_changed_one_names_the_quarter(
    staff_bj, national_staff, bj_project
):
    from django.utils import translation

    stored = make_report(
        bj_project, staff_bj, year=2022, quarter=1, percent_complete=30, narrative="进展顺利。"
    )
    services.close_quarter(user=national_staff, year=2022, quarter=1)
    row = {"year": 2022, "quarter": 1, "percent_complete": 30, "narrative": "进展顺利。"}
    assert services.report_row_error(user=staff_bj, stored=stored, **row) is None
    with translation.override("zh-hans"):
        error = services.report_row_error(user=staff_bj, stored=stored, **{**row, "percent_complete": 31})
    assert error.code == "closed_quarter" and "2022年第1季度" in error.messages[0]
    assert (
        services.report_row_error(user=national_staff, stored=stored, **{**row, "percent_complete": 31})
        is None
    )
