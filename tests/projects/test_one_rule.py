"""Each rule lives in one place: the filters, the live rule, the per-agreement figures, the scope of links."""

import datetime
import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import reverse

from agreements.models import Agreement
from projects import selectors
from projects.admin import AgreementAdmin
from projects.models import Project
from projects.selectors import SummaryFilters
from tests.conftest import make_project
from tests.projects import dashboard_data

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data(db):
    return dashboard_data.build()


def test_the_agreement_admin_is_registered_once_with_the_project_figures():
    assert type(admin.site._registry[Agreement]) is AgreementAdmin
    source = "\n".join(p.read_text() for p in (ROOT / "agreements").glob("admin*.py"))
    assert not re.search(r"from projects|import projects|get_model|\"projects[.\"]|'projects[.']", source)


def test_the_agreement_list_and_the_province_page_show_the_same_agreement_figures(client, national, data):
    client.force_login(national)
    listed = {
        a.code: (a._projects, a._budget_cents, a._disbursed_cents)
        for a in client.get(reverse("admin:agreements_agreement_changelist")).context["cl"].result_list
    }
    beijing = SummaryFilters(province=data["bj1"].province)
    for row in selectors.province_dashboard(beijing, national)["agreement_rows"]:
        assert listed[row["code"]] == (row["projects"], row["budget"] * 100, row["disbursed"] * 100)
    assert listed["BJ-1"] == (1, 10000010, 3500055)  # P3 is cancelled: not counted


@pytest.mark.parametrize(
    "query",
    [
        "category=A",
        "category=B01",
        "status=cancelled",
        "start_year=2021",
        "recipient=653200",
        "province=420000",
    ],
)
def test_changelists_select_exactly_the_rows_the_dashboard_counts(client, national, data, query):
    client.force_login(national)
    name, value = query.split("=")
    live = "" if name == "status" else "&live=1"  # as the drill-down links write it
    response = client.get(reverse("admin:projects_project_changelist") + f"?{query}{live}")
    listed = {p.code for p in response.context["cl"].result_list}
    filterset_value = {
        "category": lambda: data["p1"].category.__class__.objects.get(code=value),
        "recipient": lambda: data["p1"].recipient.__class__.objects.get(code=value),
        "province": lambda: data["hb"].province.__class__.objects.get(code=value),
    }.get(name, lambda: int(value) if name == "start_year" else value)()
    selected = selectors.filter_projects(Project.objects.all(), SummaryFilters(**{name: filterset_value}))
    assert listed == set(selected.values_list("code", flat=True))


def test_the_start_years_offered_are_those_in_the_data(client, national, data):
    make_project("P-2031", data["bj1"], start_date=datetime.date(2031, 1, 1))
    client.force_login(national)
    html = client.get(reverse("admin:projects_project_changelist")).content.decode()
    assert "start_year=2031" in html and "start_year=2026" not in html
