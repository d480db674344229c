# ruff: noqa: F811 (the `data` fixture is imported)
"""The report coverage on the dashboards comes from a rollup kept by database triggers: after every kind of
write (reports created, submitted, approved, returned, moved, deleted; projects started, completed,
cancelled, re-dated, moved, deleted) it equals the same block computed from the base tables."""

import datetime

import pytest
from django.core.management import call_command

from agreements.models import Province, RecipientUnit
from projects import report_coverage
from projects.models import Category, ProgressReport, Project, ReportCoverageRollup
from projects.rollups import rollup_differences
from projects.selectors import SummaryFilters
from tests.conftest import make_agreement
from tests.projects.test_report_coverage import data, report  # noqa: F401

pytestmark = pytest.mark.django_db

D = datetime.date
Q3, Q2, Q4 = D(2026, 11, 30), D(2026, 8, 15), D(2027, 1, 5)


def coverage_rows():
    return sorted(
        ReportCoverageRollup.objects.exclude(number=0).values_list(
            "agreement_id", "category_id", "recipient_id", "status", "start_year",
            "due_from", "due_to", "quarter", "state", "number",
        )
    )  # fmt: skip


def assert_coverage_exact():
    """The block from the rollup = the block from the base tables, under every filter; rollup = rebuild."""
    beijing = Province.objects.get(code="110000")
    filter_sets = [
        SummaryFilters(as_of=Q3),
        SummaryFilters(as_of=Q2),
        SummaryFilters(as_of=Q4),
        SummaryFilters(as_of=Q3, province=beijing),
        SummaryFilters(as_of=Q3, category=Category.objects.get(code="A")),
        SummaryFilters(as_of=Q3, category=Category.objects.get(code="B01")),
        SummaryFilters(as_of=Q3, recipient=RecipientUnit.objects.get(code="653200")),
        SummaryFilters(as_of=Q3, status="completed"),
        SummaryFilters(as_of=Q3, start_year=2025),
        SummaryFilters(as_of=Q3, live=None),
    ]
    for filters in filter_sets:
        assert report_coverage.reporting(filters) == report_coverage.reporting(filters, from_base=True), (
            filters
        )
    assert rollup_differences() == []
    kept = coverage_rows()
    call_command("rebuild_rollups", verbosity=0)
    assert coverage_rows() == kept


def beijing_row(as_of=Q3):
    block = report_coverage.reporting(SummaryFilters(as_of=as_of))
    return next(row for row in block["provinces"] if row["code"] == "110000")


def test_the_fixture_block_comes_from_the_rollup(data):
    assert_coverage_exact()
    row = beijing_row()
    assert (row["due"], row["approved"], row["missing"]) == (6, 2, 1)


def test_a_report_through_its_life(data):
    new = report(data["R-MIS"], "draft")
    assert_coverage_exact()
    assert (beijing_row()["draft"], beijing_row()["missing"]) == (2, 0)
    for state in ("submitted", "returned", "submitted", "approved"):
        ProgressReport.objects.filter(pk=new.pk).update(status=state)
        assert_coverage_exact()
    assert beijing_row()["approved"] == 3
    ProgressReport.objects.filter(pk=new.pk).update(quarter=4)  # moved to another quarter
    assert_coverage_exact()
    assert beijing_row()["missing"] == 1
    ProgressReport.objects.filter(pk=new.pk).update(project=data["R-PLN"], quarter=3)  # a project not due
    assert_coverage_exact()
    new.refresh_from_db()
    new.delete()
    assert_coverage_exact()
    ProgressReport.objects.bulk_create(
        [
            ProgressReport(project=p, year=2026, quarter=3, status="submitted")
            for p in (data["R-MIS"], data["H-MIS"])
        ]
    )
    assert_coverage_exact()
    ProgressReport.objects.filter(year=2026, quarter=3).delete()
    assert_coverage_exact()
    assert beijing_row()["missing"] == 6


def test_project_status_and_date_changes(data):
    Project.objects.filter(pk=data["R-PLN"].pk).update(status="in_progress")  # no start date: due at once
    assert_coverage_exact()
    assert beijing_row()["due"] == 7
    Project.objects.filter(pk=data["R-APP"].pk).update(status="completed", end_date=D(2026, 8, 1))
    assert_coverage_exact()
    assert beijing_row(as_of=Q4)["due"] == 6  # completed in Q3: not due in Q4; R-LATE is
    Project.objects.filter(pk=data["R-LATE"].pk).update(start_date=D(2026, 7, 1))
    Project.objects.filter(pk=data["R-END2"].pk).update(end_date=D(2026, 9, 1))
    assert_coverage_exact()
    Project.objects.filter(pk=data["R-SUB"].pk).update(status="cancelled")
    Project.objects.filter(pk=data["R-END3"].pk).update(end_date=None)
    assert_coverage_exact()
    Project.objects.filter(status="in_progress").update(status="completed", end_date=D(2026, 9, 30))
    assert_coverage_exact()


def test_project_moves_and_deletes(data):
    elsewhere = make_agreement("HB-R2", province="420000", recipient="652700")
    project = data["R-RET"]
    project.agreement = elsewhere
    project.category = Category.objects.get(code="B01")
    project.save()
    assert_coverage_exact()
    hubei = next(
        r for r in report_coverage.reporting(SummaryFilters(as_of=Q3))["provinces"] if r["code"] == "420000"
    )
    assert (hubei["due"], hubei["returned"]) == (2, 1)
    data["R-APP"].delete()  # with its reports
    assert_coverage_exact()
    Project.objects.filter(code__in=["R-SUB", "R-MIS"]).delete()
    assert_coverage_exact()
    assert beijing_row()["due"] == 2
