"""Every admin page renders in Chinese for the national office, with a query count that does not grow
with the number of rows."""

import datetime

import pytest
from django.urls import reverse

from projects.models import Disbursement, FacilityOutput, FacilityType
from tests.conftest import make_agreement, make_project

pytestmark = pytest.mark.django_db

MODELS = [
    ("agreements", "province"),
    ("agreements", "recipientunit"),
    ("agreements", "pairing"),
    ("agreements", "agreement"),
    ("projects", "category"),
    ("projects", "facilitytype"),
    ("projects", "project"),
    ("projects", "disbursement"),
    ("projects", "facilityoutput"),
]


def _fill(count, offset=0):
    agreement = make_agreement(f"BJ-{offset}", pledged="5000000")
    kinds = list(FacilityType.objects.all()[:3])
    for i in range(count):
        project = make_project(f"P-{offset}-{i}", agreement, budget="200000")
        for n in range(3):
            Disbursement.objects.create(
                project=project, date=datetime.date(2022, 1 + n, 1), amount=1000, reference=f"R{n}"
            )
        for kind in kinds:
            FacilityOutput.objects.create(project=project, facility_type=kind, quantity=2)
    return agreement


def _count_queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize("app,model", MODELS)
def test_changelist_query_count_does_not_grow_with_rows(client, national, app, model):
    client.force_login(national)
    url = reverse(f"admin:{app}_{model}_changelist")
    _fill(2, offset=1)
    small = _count_queries(client, url)
    _fill(20, offset=2)
    large = _count_queries(client, url)
    assert large <= small


@pytest.mark.parametrize("app,model", MODELS)
def test_add_and_change_pages_render_in_chinese(client, national, app, model):
    client.force_login(national)
    agreement = _fill(1)
    response = client.get(reverse(f"admin:{app}_{model}_add"))
    assert response.status_code == 200
    assert "增加" in response.content.decode()
    from django.apps import apps

    obj = apps.get_model(app, model).objects.first()
    if obj is None:
        obj = agreement
    response = client.get(reverse(f"admin:{app}_{model}_change", args=[obj.pk]))
    assert response.status_code == 200
    assert "保存" in response.content.decode()


def test_project_list_shows_amounts_in_wan_and_execution_rate(client, national):
    client.force_login(national)
    agreement = make_agreement("BJ-1")
    project = make_project("P-1", agreement, budget="200000.00")
    Disbursement.objects.create(project=project, date=datetime.date(2022, 1, 1), amount=50000, reference="R1")
    Disbursement.objects.create(project=project, date=datetime.date(2022, 2, 1), amount=30000, reference="R2")
    FacilityOutput.objects.create(
        project=project, facility_type=FacilityType.objects.get(code="F01"), quantity=3
    )
    body = client.get(reverse("admin:projects_project_changelist")).content.decode()
    assert "20.00<" in body  # budget in 万元, as every screen shows money
    assert "8.00<" in body  # disbursed, not inflated by the outputs join
    assert "40.0%" in body


def test_changelists_accept_the_dashboard_parameters(client, national):
    client.force_login(national)
    bj = make_agreement("BJ-1")
    hb = make_agreement("HB-1", province="420000", recipient="652700")
    make_project("P-1", bj, category="B01", start_date=datetime.date(2022, 3, 1))
    make_project("P-2", bj, category="B02", status="cancelled")
    make_project("P-3", bj, category="A01")
    make_project("P-4", hb, category="B01")
    url = reverse("admin:projects_project_changelist")
    response = client.get(url, {"province": "110000", "category": "B", "live": "1", "start_year": "2022"})
    assert response.status_code == 200
    assert [p.code for p in response.context["cl"].result_list] == ["P-1"]
    response = client.get(url, {"recipient": "653200", "status": "cancelled"})
    assert [p.code for p in response.context["cl"].result_list] == ["P-2"]


def test_amounts_are_entered_in_wan_and_stored_in_yuan(client, national):
    client.force_login(national)
    agreement = make_agreement("BJ-1")
    from agreements.models import RecipientUnit
    from projects.models import Category, Project

    response = client.post(
        reverse("admin:projects_project_add"),
        {
            "code": "P-NEW",
            "name": "新项目",
            "agreement": agreement.pk,
            "category": Category.objects.get(code="A02").pk,
            "recipient": RecipientUnit.objects.get(code="653201").pk,
            "status": "planned",
            "budget": "12.345678",
            "beneficiaries": "0",
            "disbursements-TOTAL_FORMS": "0",
            "disbursements-INITIAL_FORMS": "0",
            "outputs-TOTAL_FORMS": "0",
            "outputs-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    project = Project.objects.get(code="P-NEW")
    assert str(project.budget) == "123456.78"
    assert project.history.first().history_user == national


def test_history_shows_who_changed_which_field(client, national):
    client.force_login(national)
    agreement = make_agreement("BJ-1")
    project = make_project("P-1", agreement, budget="100000.00")
    project.budget = 150000
    project._history_user = national
    project.save()
    body = client.get(reverse("admin:projects_project_history", args=[project.pk])).content.decode()
    assert "national" in body
    assert "150000" in body and "100000" in body


CHANGELISTS = ["agreements_agreement", "projects_project", "projects_disbursement", "projects_facilityoutput"]


@pytest.mark.parametrize("name", CHANGELISTS)
@pytest.mark.parametrize(
    "query, field",
    [
        ({"live": "maybe"}, "live"),
        ({"province": "999999"}, "province"),
        ({"category": "QQ"}, "category"),
        ({"recipient": "000000"}, "recipient"),
        ({"status": "foo"}, "status"),
        ({"start_year": "abc"}, "start_year"),
    ],
)
def test_changelists_answer_a_bad_dashboard_parameter_with_400(client, manager, name, query, field):
    make_project("P-1", make_agreement("BJ-1"))
    client.force_login(manager)
    response = client.get(reverse(f"admin:{name}_changelist"), query)
    assert response.status_code == 400
    from projects.filters import errors_by_label

    label = next(iter(errors_by_label({field: []})))  # the page names the filter by its Chinese label
    assert f"<strong>{label}</strong>" in response.content.decode()


def test_agreement_changelist_accepts_the_project_parameters_without_applying_them(client, manager):
    make_agreement("BJ-1")
    make_agreement("BJ-2", status="draft")
    make_agreement("HB-1", province="420000", recipient="652700")
    client.force_login(manager)
    url = reverse("admin:agreements_agreement_changelist")
    query = {"province": "110000", "category": "B", "live": "1", "start_year": "2022", "status": "cancelled"}
    response = client.get(url, query)
    assert response.status_code == 200
    assert sorted(a.code for a in response.context["cl"].result_list) == ["BJ-1", "BJ-2"]
    response = client.get(url, {"province": "110000", "counted": "1"})
    assert [a.code for a in response.context["cl"].result_list] == ["BJ-1"]
    response = client.get(url, {"agreement_status": "draft"})
    assert [a.code for a in response.context["cl"].result_list] == ["BJ-2"]
