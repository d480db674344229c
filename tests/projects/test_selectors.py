"""Dashboard figures (DESIGN section 4) from the selectors, on a data set worked out by hand."""

import datetime
import itertools
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from agreements.models import Province, RecipientUnit
from projects import selectors
from projects.models import Category
from projects.selectors import SummaryFilters
from tests.conftest import SAMPLES
from tests.projects import dashboard_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(db):
    return dashboard_data.build()


def row(rows, code):
    return next(r for r in rows if r["code"] == code)


def test_totals_are_exact_with_several_disbursements_and_outputs(data):
    result = selectors.summary()
    totals = result["totals"]
    assert totals["agreements"] == 3
    assert totals["pledged"] == Decimal("6000000.50")
    assert totals["projects"] == 3
    assert totals["budget"] == Decimal("600000.10")
    assert totals["disbursed"] == Decimal("335000.56")
    assert totals["completed"] == 1
    assert totals["beneficiaries"] == 37
    facilities = {r["code"]: r["quantity"] for r in result["facilities"]}
    assert facilities["F04"] == 2 and facilities["F03"] == 1 and facilities["F01"] == 3


def test_it_lists_every_province_category_and_facility_type_in_code_order(data):
    result = selectors.summary()
    assert [r["code"] for r in result["by_province"]] == sorted(
        Province.objects.values_list("code", flat=True)
    )
    assert len(result["by_province"]) == 19
    assert [r["code"] for r in result["by_category"]] == ["A", "B", "C", "D", "Z"]
    assert len(result["facilities"]) == 9
    beijing = row(result["by_province"], "110000")
    assert (beijing["agreements"], beijing["pledged"], beijing["projects"]) == (2, Decimal("4000000.50"), 2)
    assert (beijing["budget"], beijing["disbursed"]) == (Decimal("300000.10"), Decimal("235000.55"))
    assert row(result["by_province"], "310000")["projects"] == 0
    category_a = row(result["by_category"], "A")
    assert (category_a["projects"], category_a["budget"], category_a["disbursed"]) == (
        2,
        Decimal("400000.10"),
        Decimal("135000.56"),
    )
    assert row(result["by_category"], "C")["projects"] == 0  # its only project is cancelled


def test_status_replaces_the_live_rule(data):
    totals = selectors.summary(SummaryFilters(status="cancelled"))["totals"]
    assert (totals["projects"], totals["budget"], totals["disbursed"]) == (
        1,
        Decimal("50000.00"),
        Decimal("1000.00"),
    )
    assert totals["agreements"] == 3  # status narrows projects only


def test_top_level_category_includes_its_sub_categories(data):
    top = selectors.summary(SummaryFilters(category=Category.objects.get(code="A")))["totals"]
    sub = selectors.summary(SummaryFilters(category=Category.objects.get(code="A05")))["totals"]
    assert top["projects"] == 2 and sub["projects"] == 1
    assert sub["budget"] == Decimal("300000.00")


def test_recipient_narrows_agreements_and_projects_by_subtree(data):
    totals = selectors.summary(SummaryFilters(recipient=RecipientUnit.objects.get(code="653200")))["totals"]
    assert (totals["agreements"], totals["pledged"]) == (1, Decimal("3000000.00"))
    assert (totals["projects"], totals["budget"]) == (1, Decimal("100000.10"))


def test_as_of_counts_only_disbursements_up_to_that_date(data):
    totals = selectors.summary(SummaryFilters(as_of=datetime.date(2022, 6, 30)))["totals"]
    assert totals["disbursed"] == Decimal("330000.00")
    assert totals["budget"] == Decimal("600000.10")


def test_start_year_narrows_projects(data):
    totals = selectors.summary(SummaryFilters(start_year=2021))["totals"]
    assert (totals["projects"], totals["completed"]) == (1, 1)


def test_rollup_figures_equal_the_live_aggregate_for_every_filter_combination(data):
    provinces = [None, Province.objects.get(code="110000")]
    categories = [None, Category.objects.get(code="A"), Category.objects.get(code="B01")]
    recipients = [None, RecipientUnit.objects.get(code="653200")]
    statuses = [None, "completed", "cancelled"]
    years = [None, 2022]
    for province, category, recipient, status, year in itertools.product(
        provinces, categories, recipients, statuses, years
    ):
        filters = SummaryFilters(province, category, recipient, status, year)
        assert selectors.summary(filters) == selectors.summary(filters, from_base=True), filters
        for by in ("agreement", "recipient", "start_year", "subcategory"):
            assert selectors.project_figures(filters, by) == selectors.project_figures(
                filters, by, from_base=True
            )
        assert selectors.disbursed_by_quarter(filters) == selectors.disbursed_by_quarter(
            filters, from_base=True
        )


def test_disbursements_by_quarter(data):
    quarters = selectors.disbursed_by_quarter(SummaryFilters(province=Province.objects.get(code="110000")))
    assert [(q["label"], q["amount"]) for q in quarters] == [
        ("2021Q3", Decimal("150000.00")),
        ("2021Q4", Decimal("50000.00")),
        ("2022Q1", Decimal("10000.00")),
        ("2022Q2", Decimal("20000.00")),
        ("2022Q4", Decimal("5000.55")),
    ]


def test_by_recipient_sums_each_unit_with_the_units_below_it(data):
    rows = selectors.by_recipient(SummaryFilters(province=Province.objects.get(code="110000")))
    assert [(r["code"], r["projects"]) for r in rows] == [("653201", 1), ("BT14", 1)]


def test_json_encoding_follows_the_contract(data):
    encoded = selectors.summary_as_json(selectors.summary(SummaryFilters(start_year=2022)))
    assert encoded["filters"] == {
        "province": None,
        "category": None,
        "recipient": None,
        "status": None,
        "start_year": 2022,
        "as_of": None,
    }
    assert set(encoded["totals"]) == {
        "agreements",
        "pledged",
        "projects",
        "budget",
        "disbursed",
        "completed",
        "beneficiaries",
    }
    assert encoded["totals"]["budget"] == "400000.10"
    assert set(encoded["by_province"][0]) == {"code", "name", *encoded["totals"]}
    assert set(encoded["by_category"][0]) == {
        "code",
        "name",
        "projects",
        "budget",
        "disbursed",
        "completed",
        "beneficiaries",
    }
    assert set(encoded["facilities"][0]) == {"code", "name", "quantity"}


def test_sample_workbook_gives_the_expected_figures(db, national):
    """The shared samples imported with import_workbook answer every case of expected.json."""
    call_command("import_workbook", str(SAMPLES / "workbook.xlsx"), user="national")
    expected = json.loads((SAMPLES / "expected.json").read_text())
    from projects.filters import SummaryFilterSet
    from projects.models import Project

    for case in expected["cases"]:
        filterset = SummaryFilterSet(case["filters"], queryset=Project.objects.all())
        assert filterset.is_valid(), filterset.form.errors
        for from_base in (False, True):
            got = selectors.summary_as_json(
                selectors.summary(filterset.summary_filters(), from_base=from_base)
            )
            assert got["totals"] == case["totals"], case["filters"]
            for key in ("by_province", "by_category", "facilities"):
                trimmed = [{k: r[k] for k in want} for r, want in zip(got[key], case[key], strict=True)]
                assert trimmed == case[key], (case["filters"], key)
