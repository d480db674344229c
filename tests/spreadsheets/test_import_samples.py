"""The sample files made outside the project import into an empty database and give the published figures.

tests/samples (a copy of ../shared/samples) holds four sheets, the same as one workbook, a
GB18030 CSV and a file whose last row is bad, with `expected.json` answering `summary.json` for several
filters.
"""

import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from agreements.models import Agreement, Province, RecipientUnit
from projects.models import Category, Disbursement, FacilityOutput, Project
from spreadsheets.models import ImportRecord
from spreadsheets.services import import_recorded
from tests.conftest import SAMPLES


def expected():
    return json.loads((SAMPLES / "expected.json").read_text())


def import_sample(name, user=None):
    data = (SAMPLES / name).read_bytes()
    record, outcome = import_recorded(data, name, user, target="workbook")
    assert outcome is not None, record.message
    assert outcome.errors == [], outcome.errors[:5]
    return outcome


def import_four_files():
    for name in ("agreements.xlsx", "projects.xlsx", "disbursements.xlsx", "outputs.xlsx"):
        import_sample(name)


def filters_of(case):
    from projects.selectors import SummaryFilters

    given = case["filters"]
    kwargs = {}
    if "province" in given:
        kwargs["province"] = Province.objects.get(code=given["province"])
    if "category" in given:
        kwargs["category"] = Category.objects.get(code=given["category"])
    if "recipient" in given:
        kwargs["recipient"] = RecipientUnit.objects.get(code=given["recipient"])
    if "status" in given:
        kwargs["status"] = given["status"]
    if "start_year" in given:
        kwargs["start_year"] = int(given["start_year"])
    return SummaryFilters(**kwargs)


AMOUNTS = {"pledged", "budget", "disbursed"}


def same(key, expected_value, actual):
    """Amounts exactly on PostgreSQL; SQLite stores decimals as floats, so compare to the cent there."""
    if key in AMOUNTS and connection.vendor == "sqlite":
        return Decimal(expected_value).quantize(Decimal("0.01")) == Decimal(str(actual)).quantize(
            Decimal("0.01")
        )
    return expected_value == actual


def assert_cases():
    from projects.selectors import summary, summary_as_json

    for case in expected()["cases"]:
        answer = summary_as_json(summary(filters_of(case)))
        for key, value in case["totals"].items():
            assert same(key, value, answer["totals"][key]), (
                case["filters"],
                key,
                value,
                answer["totals"][key],
            )
        for table in ("by_province", "by_category", "facilities"):
            rows = {row["code"]: row for row in answer[table]}
            for row in case[table]:
                got = rows[row["code"]]
                for key, value in row.items():
                    assert same(key, value, got[key]), (
                        case["filters"],
                        table,
                        row["code"],
                        key,
                        value,
                        got[key],
                    )


def assert_counts():
    counts = expected()["counts"]
    assert Agreement.objects.count() == counts["agreements"]
    assert Project.objects.count() == counts["projects"]
    assert Disbursement.objects.count() == counts["disbursements"]
    assert FacilityOutput.objects.count() == counts["outputs"]


@pytest.mark.django_db
def test_the_four_sample_files_give_the_expected_figures():
    import_four_files()
    assert_counts()
    assert_cases()


@pytest.mark.django_db
def test_the_sample_workbook_imports_with_the_command_and_gives_the_same_figures(capsys):
    call_command("import_workbook", str(SAMPLES / "workbook.xlsx"))
    out = capsys.readouterr().out
    assert "595" in out and "821" in out
    assert_counts()
    assert_cases()
    record = ImportRecord.objects.get()
    assert record.outcome == ImportRecord.Outcome.IMPORTED
    assert record.counts["项目"]["new"] == 595


@pytest.mark.django_db
def test_importing_the_gb18030_csv_after_the_others_changes_nothing():
    import_four_files()
    history_rows = Project.history.count()
    outcome = import_sample("projects_gb18030.csv")
    assert outcome.counts["项目"] == {"new": 0, "updated": 0, "unchanged": 595, "errors": 0}
    assert Project.history.count() == history_rows


@pytest.mark.django_db
def test_importing_the_workbook_twice_changes_nothing_the_second_time():
    import_sample("workbook.xlsx")
    history = (Agreement.history.count(), Project.history.count(), Disbursement.history.count())
    outcome = import_sample("workbook.xlsx")
    assert outcome.totals()["new"] == outcome.totals()["updated"] == 0
    assert (Agreement.history.count(), Project.history.count(), Disbursement.history.count()) == history


@pytest.mark.django_db
def test_a_bad_last_row_writes_nothing_and_names_that_row():
    import_four_files()
    before = Project.objects.count()
    data = (SAMPLES / "projects_bad_last_row.xlsx").read_bytes()
    record, outcome = import_recorded(data, "projects_bad_last_row.xlsx", None, target="projects.project")
    assert Project.objects.count() == before
    assert not Project.objects.filter(code__startswith="BAD-").exists()
    assert [(e.row, e.column, e.value) for e in outcome.errors] == [(401, "援助金额（万元）", "一百万")]
    assert record.outcome == ImportRecord.Outcome.REJECTED
