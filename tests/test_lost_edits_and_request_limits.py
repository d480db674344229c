"""No lost edits, and requests that break, with real non-superuser accounts."""

import datetime
import io
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
def test_nul_bytes_in_posts_never_give_a_server_error(staff_bj, project):
    client = Client(raise_request_exception=False)
    anonymous = Client(raise_request_exception=False)
    for data in ({"username": "a\x00b", "password": "x"}, {"username": "staff_bj", "password": "\x00"}):
        response = anonymous.post("/admin/login/", data)
        assert response.status_code < 500, data
    client.force_login(staff_bj)
    handle = io.BytesIO(b"a,b\r\n1,2\r\n")
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


def open_with_twenty_payments(client, project):
    """The project's change form as opened with 20 payments: its data, the inline's prefix, the last row's
    index and the oldest payment shown."""
    Disbursement.objects.bulk_create(
        Disbursement(
            project=project,
            date=datetime.date(2022, 1, 1) + datetime.timedelta(days=n),
            amount=10,
            reference=f"V{n}",
        )
        for n in range(20)
    )
    data = form_data(client.get(change_url(project)).content.decode(), "project_form")
    prefix = inline_prefix(data)
    last = int(data[f"{prefix}-INITIAL_FORMS"]) - 1
    return data, prefix, last, Disbursement.objects.get(pk=data[f"{prefix}-{last}-id"])


def inline_prefix(data):
    return next(k[: -len("-0-amount")] for k in data if k.endswith("-0-amount"))


@pytest.mark.django_db
def test_editing_an_inline_row_someone_deleted_is_refused_not_recreated(staff_bj, project):
    paid = Disbursement.objects.create(
        project=project, date=datetime.date(2022, 5, 1), amount=1000, reference="V1"
    )
    alice = client_for(staff_bj)
    data = form_data(alice.get(change_url(project)).content.decode(), "project_form")
    paid.delete()
    prefix = inline_prefix(data)
    data[f"{prefix}-0-amount"] = "0.2"
    response = alice.post(change_url(project), data)
    assert Disbursement.objects.filter(project=project).count() == 0
    assert response.status_code == 200, "the user's edit is lost without a word"


@pytest.mark.django_db
def test_an_edit_to_the_oldest_shown_row_is_not_lost_when_a_newer_payment_arrives(staff_bj, project):
    alice = client_for(staff_bj)
    data, prefix, last, oldest = open_with_twenty_payments(alice, project)
    # Someone records a newer payment meanwhile: the inline's latest 20 no longer include `oldest`.
    Disbursement.objects.create(project=project, date=datetime.date(2023, 1, 1), amount=10, reference="NEW")
    data[f"{prefix}-{last}-amount"] = "0.5"
    response = alice.post(change_url(project), data)
    oldest.refresh_from_db()
    assert Disbursement.objects.filter(project=project).count() == 21
    assert response.status_code == 302
    assert oldest.amount == Decimal("5000.00"), "the edit was dropped without a word"


@pytest.mark.django_db
def test_a_stale_facility_output_inline_row_is_refused(staff_bj, project):
    from projects.models import FacilityOutput, FacilityType

    output = FacilityOutput.objects.create(
        project=project, facility_type=FacilityType.objects.get(code="F01"), quantity=1
    )
    alice = client_for(staff_bj)
    data = form_data(alice.get(change_url(project)).content.decode(), "project_form")
    FacilityOutput.objects.get(pk=output.pk).save()
    FacilityOutput.objects.filter(pk=output.pk).update(quantity=7)
    key = next(k for k in data if k.endswith("-0-quantity"))
    data[key] = "3"
    response = alice.post(change_url(project), data)
    assert response.status_code == 200
    output.refresh_from_db()
    assert output.quantity == 7


@pytest.mark.django_db
def test_a_stale_bulk_delete_is_refused(national, project):
    alice = client_for(national)
    changelist = "/admin/projects/project/"
    page = alice.post(changelist, {"action": "delete_selected", "_selected_action": [project.pk]})
    assert page.status_code == 200
    data = form_data(page.content.decode())
    assert any(k.startswith("_version_") for k in data), data
    Project.objects.get(pk=project.pk).save()
    data.update({"post": "yes", "action": "delete_selected", "_selected_action": str(project.pk)})
    alice.post(changelist, data)
    assert Project.objects.filter(pk=project.pk).exists()


@pytest.mark.django_db
def test_a_stale_agreement_change_form_is_refused(staff_bj, project):
    from agreements.models import Agreement

    agreement = project.agreement
    url = f"/admin/agreements/agreement/{agreement.pk}/change/"
    alice, bob = client_for(staff_bj), client_for(staff_bj)
    a = form_data(alice.get(url).content.decode(), "agreement_form")
    b = form_data(bob.get(url).content.decode(), "agreement_form")
    a["title"] = "甲的标题"
    assert alice.post(url, a).status_code == 302
    b["notes"] = "乙的备注"
    assert bob.post(url, b).status_code == 200
    assert Agreement.objects.get(pk=agreement.pk).title == "甲的标题"


@pytest.mark.django_db
def test_a_stale_row_that_left_the_latest_shown_is_still_refused(staff_bj, project):
    alice = client_for(staff_bj)
    data, prefix, last, oldest = open_with_twenty_payments(alice, project)
    Disbursement.objects.create(project=project, date=datetime.date(2023, 1, 1), amount=10, reference="NEW")
    bob = client_for(staff_bj)
    url = f"/admin/projects/disbursement/{oldest.pk}/change/"
    theirs = form_data(bob.get(url).content.decode(), "disbursement_form")
    theirs["amount"] = "0.7"
    assert bob.post(url, theirs).status_code == 302
    data[f"{prefix}-{last}-amount"] = "0.5"
    assert alice.post(change_url(project), data).status_code == 200
    oldest.refresh_from_db()
    assert oldest.amount == Decimal("7000.00")


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["change_status", "delete_selected"])
def test_a_bulk_action_never_offers_a_confirmation_too_big_to_post(national, project, action):
    """Every row of a confirmation page posts its id and its version: past DATA_UPLOAD_MAX_NUMBER_FIELDS the
    confirm would be a bare "Bad Request (400)". Up to the limit the confirm goes through; past it the
    action is refused up front with a message saying what to do."""
    from aidtracker.versioning_admin import confirmable_rows

    limit = confirmable_rows()
    Project.objects.bulk_create(
        Project(
            code=f"BJ-1-{n:04}",
            name=f"项目{n}",
            agreement=project.agreement,
            category=project.category,
            recipient=project.recipient,
            budget=1,
            status="planned",
        )
        for n in range(2, limit + 2)
    )
    client = client_for(national)
    changelist = "/admin/projects/project/"
    selected = list(Project.objects.values_list("pk", flat=True))
    refused = client.post(
        changelist, {"action": action, "_selected_action": selected, "select_across": "1", "index": "0"}
    )
    assert refused.status_code == 302
    assert [m.level_tag for m in refused.wsgi_request._messages] == ["error"]
    assert Project.objects.count() == limit + 1
    selected = selected[:limit]
    page = client.post(changelist, {"action": action, "_selected_action": selected, "index": "0"})
    assert page.status_code == 200
    data = form_data(page.content.decode())
    data["_selected_action"] = [str(pk) for pk in selected]
    data["value"] = "cancelled"
    response = client.post(changelist, data)
    assert response.status_code == 302
    if action == "change_status":
        assert Project.objects.filter(status="cancelled").count() == limit
    else:
        assert Project.objects.count() == 1
