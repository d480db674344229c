"""Requests that used to break: a project with hundreds of disbursements, and NUL bytes in parameters."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from projects.models import Disbursement
from tests.conftest import make_agreement, make_project

pytestmark = pytest.mark.django_db


def _change_form_data(response):
    """The change form as the browser would post it back unchanged: main form, inline forms, management."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    for form in forms:
        for field in form:
            value = field.value()
            if value is None or value is False:
                continue
            data[field.html_name] = value.isoformat() if isinstance(value, datetime.date) else str(value)
    return data


def test_a_project_with_300_disbursements_shows_the_latest_20_and_still_saves(client, national):
    client.force_login(national)
    project = make_project("P-MANY", make_agreement("BJ-1"), budget="9000000.00")
    Disbursement.objects.bulk_create(
        Disbursement(
            project=project,
            date=datetime.date(2021, 1, 1) + datetime.timedelta(days=i),
            amount=Decimal("100.00"),
            reference=f"V{i:03}",
        )
        for i in range(300)
    )
    url = reverse("admin:projects_project_change", args=[project.pk])
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    shown = re.findall(r'name="disbursements-\d+-reference"[^>]*value="(V\d+)"', html)
    assert shown == [f"V{i:03}" for i in range(299, 279, -1)]  # the latest 20, newest first
    assert f"/admin/projects/disbursement/?project__id__exact={project.pk}" in html
    assert "300" in html

    data = _change_form_data(response)
    data["name"] = "改名后的项目"
    data["disbursements-0-amount"] = "0.05"  # 万元: the latest instalment becomes 500 yuan
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    project.refresh_from_db()
    assert project.name == "改名后的项目"
    assert project.disbursements.count() == 300
    assert project.disbursements.get(reference="V299").amount == Decimal("500.00")
    assert project.disbursements.get(reference="V000").amount == Decimal("100.00")

    listing = client.get(
        reverse("admin:projects_disbursement_changelist"), {"project__id__exact": project.pk}
    )
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 300


def _admin_urls(project, agreement):
    """Every admin page that takes a parameter, with a NUL byte in each parameter in turn."""
    urls = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        urls += [f"{base}%00/change/", f"{base}%00/history/", f"{base}%00/delete/", f"{base}%00/"]
        names = ["q", "o", "p", "_to_field", "_popup", "e", "province", "category", "recipient", "status"]
        names += ["start_year", "live", "counted", "agreement_status", "paired", "date__year", "date__month"]
        names += ["agreement__id__exact", "project__id__exact", "facility_type__id__exact", "signed_on__gte"]
        urls += [f"{base}?{name}=%00" for name in names]
        urls += [f"{base}?%00=1", f"{base}?q=ab%00cd"]
        if hasattr(model_admin, "get_urls"):
            urls += [f"{base}export/?format=%00", f"{base}import/?%00=x"]
    autocomplete = "/admin/autocomplete/"
    fields = {"term": "x", "app_label": "projects", "model_name": "project", "field_name": "agreement"}
    for name in fields:
        urls.append(
            f"{autocomplete}?" + "&".join(f"{k}={'%00' if k == name else v}" for k, v in fields.items())
        )
    urls += [f"/admin/projects/project/{project.pk}/change/?_changelist_filters=province%3D%00"]
    urls += [f"/admin/agreements/agreement/{agreement.pk}/change/?_to_field=%00"]
    return urls


DASHBOARD_PARAMETERS = ["province", "category", "recipient", "status", "start_year", "as_of", "format"]


def _dashboard_urls():
    pages = ["/dashboard/", "/dashboard/provinces/110000/", "/dashboard/categories/A/"]
    pages += ["/dashboard/summary.json", "/dashboard/summary.xlsx"]
    urls = ["/dashboard/provinces/%00/", "/dashboard/categories/%00/", "/dashboard/provinces/11%000/"]
    urls += ["/dashboard/categories/A%00/", "/%00/", "/dashboard/%00"]
    for page in pages:
        urls += [f"{page}?{name}=%00" for name in DASHBOARD_PARAMETERS]
        urls += [f"{page}?%00=1", f"{page}?province=110000%00"]
    return urls


def test_a_nul_byte_in_any_parameter_is_answered_400_or_404_never_500(national):
    """As in production (DEBUG off): an exception would be a 500 page, not an error in the test."""
    agreement = make_agreement("BJ-1")
    project = make_project("P-1", agreement)
    client = Client(raise_request_exception=False)
    client.force_login(national)
    failures = []
    for url in _dashboard_urls() + _admin_urls(project, agreement):
        status = client.get(url).status_code
        if status not in (400, 404):
            failures.append((url, status))
    assert failures == []
    assert client.get("/dashboard/provinces/110000/").status_code == 200  # the same client, without NUL


def test_a_nul_byte_in_a_posted_form_is_refused_without_a_500(national):
    client = Client(raise_request_exception=False)
    client.force_login(national)
    response = client.post(
        reverse("admin:projects_project_changelist"),
        "action=delete_selected&_selected_action=%00",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("province=%00", "province"),
        ("as_of=2022-01-01%00", "as_of"),
        ("start_year=2022&recipient=65%0032", "recipient"),
    ],
)
def test_summary_json_answers_a_nul_byte_in_json_keyed_by_the_parameter(national, query, parameter):
    client = Client(raise_request_exception=False)
    client.force_login(national)
    response = client.get(f"/dashboard/summary.json?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.json()["errors"]) == [parameter]
    assert response.json()["errors"][parameter] == ["该值含有 NUL 空字节，不允许。"]
    page = client.get(f"/dashboard/?{query}")  # the pages keep their HTML 400
    assert page.status_code == 400 and not page["Content-Type"].startswith("application/json")
