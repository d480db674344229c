"""Each rule lives in one place: the filters, the live rule, the per-agreement figures, the scope of links."""

import datetime
import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import reverse

from agreements.access import within
from agreements.models import Agreement, Province, RecipientUnit
from projects import selectors
from projects.admin import AgreementAdmin
from projects.admin_filters import DashboardListFilter
from projects.models import Disbursement, ProgressReport, Project
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


@pytest.mark.parametrize(
    "query",
    ["province=110000", "province=420000", "recipient=653200", "recipient=650000", "recipient=653201"],
)
@pytest.mark.parametrize(
    "name, model",
    [
        ("agreements_agreement", Agreement),
        ("projects_project", Project),
        ("projects_disbursement", Disbursement),
        ("projects_progressreport", ProgressReport),
    ],
)
def test_every_changelist_applies_the_province_and_recipient_rule_of_the_dashboard_and_the_scope(
    client, national, data, query, name, model
):
    """The province and recipient changelist filters are the dashboard's (parsed by its FilterSet, applied by
    its rule): the rows they list are those `within` the place, the rule a user's scope applies too."""
    for project in Project.objects.all():
        ProgressReport.objects.create(
            project=project, year=2026, quarter=1, percent_complete=10, status="draft"
        )
    client.force_login(national)
    response = client.get(reverse(f"admin:{name}_changelist") + f"?{query}")
    assert response.status_code == 200
    listed = {row.pk for row in response.context["cl"].result_list}
    if query == "province=110000":
        assert listed
    key, code = query.split("=")
    place = Province.objects.get(code=code) if key == "province" else RecipientUnit.objects.get(code=code)
    assert listed == set(within(model.objects.all(), **{key: place}).values_list("pk", flat=True))
    for list_filter in response.context["cl"].filter_specs:
        if getattr(list_filter, "parameter_name", None) in ("province", "recipient"):
            assert isinstance(list_filter, DashboardListFilter)


def test_a_bad_province_or_recipient_on_a_changelist_is_the_dashboards_error(client, national, data):
    client.force_login(national)
    for name in ("agreements_agreement", "projects_project"):
        assert client.get(reverse(f"admin:{name}_changelist") + "?province=999999").status_code == 400
        assert client.get(reverse(f"admin:{name}_changelist") + "?recipient=nowhere").status_code == 400
    # The progress report list keeps its own `status`; a bad place there lists nothing.
    response = client.get(reverse("admin:projects_progressreport_changelist") + "?province=999999")
    assert response.status_code == 200 and not response.context["cl"].result_list
