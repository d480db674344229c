"""First cut of the access rules: each role sees its rows in the admin changelists."""

import datetime

import pytest
from django.urls import reverse

from agreements.access import scope_queryset
from projects.models import Disbursement, FacilityOutput, FacilityType, Project
from tests.conftest import make_agreement, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_provinces(db):
    bj = make_agreement("BJ-1")
    hb = make_agreement("HB-1", province="420000", recipient="652700")
    ks = make_agreement("SH-1", province="310000", recipient="653100")
    rows = {}
    for agreement, unit in ((bj, "653201"), (hb, "652700"), (ks, "653125")):
        project = make_project(f"{agreement.code}-P", agreement, recipient=unit)
        Disbursement.objects.create(project=project, date=datetime.date(2022, 1, 1), amount=10, reference="R")
        FacilityOutput.objects.create(project=project, facility_type=FacilityType.objects.get(code="F01"))
        rows[agreement.code] = project
    return rows


CHANGELISTS = ["agreements_agreement", "projects_project", "projects_disbursement", "projects_facilityoutput"]


@pytest.mark.parametrize("name", CHANGELISTS)
def test_province_staff_see_only_their_province(client, staff_bj, two_provinces, name):
    client.force_login(staff_bj)
    response = client.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert len(rows) == 1
    assert "BJ-1" in str(rows[0]) or "BJ-1" in str(getattr(rows[0], "project", ""))


@pytest.mark.parametrize("name", CHANGELISTS)
def test_manager_sees_everything(client, manager, two_provinces, name):
    client.force_login(manager)
    response = client.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 3


def test_manager_can_change_nothing(client, manager, two_provinces):
    client.force_login(manager)
    project = two_provinces["BJ-1"]
    response = client.post(reverse("admin:projects_project_change", args=[project.pk]), {"name": "改名"})
    assert response.status_code == 403
    assert Project.objects.get(pk=project.pk).name == project.name
    assert client.get(reverse("admin:projects_project_add")).status_code == 403


def test_recipient_staff_see_their_subtree(recipient_ks, two_provinces):
    codes = list(scope_queryset(recipient_ks, Project.objects.all()).values_list("code", flat=True))
    assert codes == ["SH-1-P"]


def test_another_provinces_project_is_answered_as_missing(client, staff_bj, two_provinces):
    client.force_login(staff_bj)
    response = client.get(reverse("admin:projects_project_change", args=[two_provinces["HB-1"].pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_a_national_office_account_cannot_make_itself_superuser(client, national, two_provinces):
    from django.contrib.auth import get_user_model

    from agreements import services

    office = services.create_staff_user(username="office2", password="x" * 12, role=services.ROLE_NATIONAL)
    client.force_login(office)
    url = reverse("admin:auth_user_change", args=[office.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="is_superuser"' not in page.content.decode()
    client.post(
        url,
        {
            "username": "office2",
            "is_superuser": "on",
            "is_active": "on",
            "is_staff": "on",
            "staff_profile-TOTAL_FORMS": "0",
            "staff_profile-INITIAL_FORMS": "0",
        },
    )
    assert not get_user_model().objects.get(pk=office.pk).is_superuser


def test_national_office_accounts_read_the_security_log_and_province_staff_do_not(client, staff_bj):
    from agreements import services

    office = services.create_staff_user(username="office3", password="x" * 12, role=services.ROLE_NATIONAL)
    url = reverse("admin:agreements_securityevent_changelist")
    client.force_login(office)
    assert client.get(url).status_code == 200
    client.force_login(staff_bj)
    assert client.get(url).status_code == 403


def test_a_manager_posting_a_bulk_delete_is_refused_and_nothing_changes(client, manager, two_provinces):
    client.force_login(manager)
    project = two_provinces["BJ-1"]
    response = client.post(
        reverse("admin:projects_project_changelist"),
        {"action": "delete_selected", "_selected_action": [project.pk], "post": "yes"},
    )
    assert response.status_code == 403
    assert Project.objects.filter(pk=project.pk).exists()
