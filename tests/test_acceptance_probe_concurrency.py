"""Acceptance probes for "no lost edits" and requests that break, with real non-superuser accounts."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client

from projects.models import Disbursement, Project
from tests.conftest import make_agreement, make_project
from tests.forms import form_data


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def change_url(project):
    return f"/admin/projects/project/{project.pk}/change/"


@pytest.fixture
def project(staff_bj):
    return make_project("BJ-1-001", make_agreement("BJ-1"))


@pytest.mark.django_db
def test_a_stale_change_form_is_refused_and_shows_the_other_change(staff_bj, project):
    alice, bob = client_for(staff_bj), client_for(staff_bj)
    a = form_data(alice.get(change_url(project)).content.decode(), "project_form")
    b = form_data(bob.get(change_url(project)).content.decode(), "project_form")
    a["name"] = "甲改的名字"
    assert alice.post(change_url(project), a).status_code == 302
    b["budget"] = "99"
    response = bob.post(change_url(project), b)
    assert response.status_code == 200
    page = response.content.decode()
    assert "甲改的名字" in page
    assert 'value="99"' in page
    project.refresh_from_db()
    assert project.name == "甲改的名字" and project.budget == Decimal("100000.00")


@pytest.mark.django_db
def test_a_stale_inline_row_refuses_the_whole_save(staff_bj, project):
    paid = Disbursement.objects.create(
        project=project, date=datetime.date(2022, 5, 1), amount=1000, reference="V1"
    )
    alice = client_for(staff_bj)
    data = form_data(alice.get(change_url(project)).content.decode(), "project_form")
    # Someone else changes the disbursement on its own page meanwhile.
    bob = client_for(staff_bj)
    url = f"/admin/projects/disbursement/{paid.pk}/change/"
    other = form_data(bob.get(url).content.decode(), "disbursement_form")
    other["amount"] = "0.5"
    assert bob.post(url, other).status_code == 302
    prefix = next(k[: -len("-0-amount")] for k in data if k.endswith("-0-amount"))
    data[f"{prefix}-0-amount"] = "0.2"
    data["name"] = "新名字"
    response = alice.post(change_url(project), data)
    assert response.status_code == 200
    paid.refresh_from_db()
    project.refresh_from_db()
    assert paid.amount == Decimal("5000.00")
    assert project.name != "新名字"


@pytest.mark.django_db
def test_a_stale_bulk_status_change_is_refused(staff_bj, project):
    alice = client_for(staff_bj)
    changelist = "/admin/projects/project/"
    page = alice.post(changelist, {"action": "change_status", "_selected_action": [project.pk]})
    assert page.status_code == 200
    data = form_data(page.content.decode())
    data.pop("cancel", None)
    assert any(k.startswith("_version_") for k in data), data
    Project.objects.get(pk=project.pk).save()  # someone saves it meanwhile (the version moves on)
    data.update(
        {"value": "cancelled", "post": "yes", "action": "change_status", "_selected_action": str(project.pk)}
    )
    alice.post(changelist, data)
    project.refresh_from_db()
    assert project.status == "in_progress"


@pytest.mark.django_db
def test_a_project_with_300_disbursements_saves_in_the_admin(staff_bj, project):
    Disbursement.objects.bulk_create(
        Disbursement(
            project=project,
            date=datetime.date(2022, 1, 1) + datetime.timedelta(days=n),
            amount=10,
            reference=f"V{n}",
        )
        for n in range(300)
    )
    client = client_for(staff_bj)
    page = client.get(change_url(project))
    assert page.status_code == 200
    data = form_data(page.content.decode(), "project_form")
    assert len(data) < 1000
    data["name"] = "三百笔"
    response = client.post(change_url(project), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Project.objects.get(pk=project.pk).name == "三百笔"
    assert Disbursement.objects.filter(project=project).count() == 300
    listing = client.get(f"/admin/projects/disbursement/?project__id__exact={project.pk}")
    assert listing.status_code == 200


NUL_PATHS = [
    "/dashboard/?province=%00",
    "/dashboard/?category=%00",
    "/dashboard/?recipient=%00",
    "/dashboard/?status=%00",
    "/dashboard/?start_year=%00",
    "/dashboard/?as_of=%00",
    "/dashboard/?format=%00",
    "/dashboard/?format=xlsx&province=%00",
    "/dashboard/summary.json?province=%00",
    "/dashboard/summary.json?as_of=2022-01-01%00",
    "/dashboard/summary.xlsx?recipient=65%0000",
    "/dashboard/provinces/%00/",
    "/dashboard/provinces/110000%00/",
    "/dashboard/provinces/110000/?category=%00",
    "/dashboard/provinces/110000/?format=xlsx&status=%00",
    "/dashboard/categories/%00/",
    "/dashboard/categories/A/?province=%00",
    "/dashboard/categories/A/?format=xlsx&start_year=20%0022",
    "/admin/projects/project/?q=%00",
    "/admin/projects/project/?province=%00",
    "/admin/projects/project/?category=%00",
    "/admin/projects/project/?recipient=%00",
    "/admin/projects/project/?status=%00",
    "/admin/projects/project/?start_year=%00",
    "/admin/projects/project/?as_of=%00",
    "/admin/projects/project/?live=%00",
    "/admin/projects/project/?o=%00",
    "/admin/projects/project/?p=%00",
    "/admin/projects/project/?agreement__id__exact=%00",
    "/admin/projects/project/?reporting=%00",
    "/admin/projects/project/?due=%00",
    "/admin/projects/project/%00/change/",
    "/admin/projects/project/%00/history/",
    "/admin/projects/project/%00/delete/",
    "/admin/projects/project/1/history/%00/",
    "/admin/projects/project/import/%00/",
    "/admin/projects/project/export/%00/",
    "/admin/projects/disbursement/?project__id__exact=%00",
    "/admin/projects/disbursement/?q=%00&as_of=%00",
    "/admin/projects/progressreport/?q=%00&status=%00",
    "/admin/projects/facilityoutput/?q=%00",
    "/admin/agreements/agreement/?q=%00&province=%00",
    "/admin/agreements/agreement/?province__code__exact=%00",
    "/admin/agreements/recipientunit/?q=%00",
    "/admin/spreadsheets/importrecord/?q=%00&target=%00&outcome=%00",
    "/admin/autocomplete/?term=%00&app_label=projects&model_name=project&field_name=agreement",
    "/admin/autocomplete/?term=a&app_label=%00&model_name=project&field_name=agreement",
    "/admin/autocomplete/?term=a&app_label=projects&model_name=project&field_name=%00",
    "/admin/autocomplete/?term=a&app_label=projects&model_name=project&field_name=agreement&page=%00",
    "/admin/projects/project/?_to_field=%00&_popup=1",
    "/admin/projects/project/add/?agreement=%00",
    "/admin/projects/disbursement/add/?project=%00",
    "/admin/login/?next=%00",
    "/admin/%00/",
    "/i18n/setlang/?next=%00",
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", NUL_PATHS)
@pytest.mark.parametrize("who", ["staff_bj", "manager", "national"])
def test_nul_bytes_never_give_a_server_error(request, project, who, path):
    client = Client(raise_request_exception=False)
    client.force_login(request.getfixturevalue(who))
    response = client.get(path)
    assert response.status_code < 500, (path, response.status_code)


@pytest.mark.django_db
def test_nul_bytes_in_posts_never_give_a_server_error(staff_bj, project):
    client = Client(raise_request_exception=False)
    anonymous = Client(raise_request_exception=False)
    for data in ({"username": "a\x00b", "password": "x"}, {"username": "staff_bj", "password": "\x00"}):
        response = anonymous.post("/admin/login/", data)
        assert response.status_code < 500, data
    client.force_login(staff_bj)
    handle = __import__("io").BytesIO(b"a,b\r\n1,2\r\n")
    handle.name = "p\x00.csv"
    response = client.post("/admin/projects/project/import/", {"import_file": handle})
    assert response.status_code < 500
    data = form_data(client.get(change_url(project)).content.decode(), "project_form")
    for key in list(data):
        if key in ("csrfmiddlewaretoken",):
            continue
        broken = {**data, key: "1\x00"}
        response = client.post(change_url(project), broken)
        assert response.status_code < 500, key
    changelist = "/admin/projects/project/"
    for posted in (
        {"action": "\x00", "_selected_action": [project.pk]},
        {"action": "change_status", "_selected_action": [project.pk], "index": "\x00"},
        {"action": "change_status", "_selected_action": [project.pk], "select_across": "\x00"},
        {
            "action": "change_status",
            "_selected_action": [project.pk],
            "post": "yes",
            "value": "\x00",
            f"_version_{project.pk}": "1",
        },
        {
            "action": "change_status",
            "_selected_action": [project.pk],
            "post": "yes",
            "value": "cancelled",
            f"_version_{project.pk}": "\x00",
        },
        {
            "action": "delete_selected",
            "_selected_action": [project.pk],
            "post": "yes",
            f"_version_{project.pk}": "\x00",
        },
    ):
        response = client.post(changelist, posted)
        assert response.status_code < 500, posted
    response = client.post(
        f"/admin/projects/project/{project.pk}/delete/", {"post": "yes", "version": "\x00"}
    )
    assert response.status_code < 500
