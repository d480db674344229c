"""No lost edits: two province staff open the same record; the one who saves second, based on the older
version, is refused — in the change form, in an inline row, in a bulk action and on a delete page — with
nothing written, the other person's changes shown field by field and their own input kept."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from agreements import services
from agreements.models import Agreement, Province
from aidtracker.versioning import StaleVersionError, save_versioned
from projects.models import Disbursement, FacilityOutput, FacilityType, Project
from tests.conftest import PASSWORD, make_agreement, make_project
from tests.forms_html import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_bj2(db):
    return services.create_staff_user(
        username="staff_bj2",
        password=PASSWORD,
        role=services.ROLE_PROVINCE,
        province=Province.objects.get(code="110000"),
    )


@pytest.fixture
def project(db):
    agreement = make_agreement("BJ-2021-01")
    project = make_project("BJ-2021-01-001", agreement, budget="100000.00")
    Disbursement.objects.create(project=project, date=datetime.date(2022, 4, 1), amount=5000, reference="R1")
    Disbursement.objects.create(project=project, date=datetime.date(2022, 5, 1), amount=7000, reference="R2")
    FacilityOutput.objects.create(project=project, facility_type=FacilityType.objects.get(code="F01"))
    return project


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def change_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def open_form(client, obj):
    """What the user's browser holds after opening the change page of `obj`."""
    response = client.get(change_url(obj))
    assert response.status_code == 200
    return form_data(response, f"{obj._meta.model_name}_form")


def inline_prefix(data, reference):
    """The form prefix of the disbursement row whose voucher number is `reference`."""
    for key, value in data.items():
        if key.startswith("disbursements-") and key.endswith("-reference") and value == reference:
            return key[: -len("reference")]
    raise AssertionError(reference)


def test_the_change_form_carries_the_version_it_was_opened_with(staff_bj, project):
    data = open_form(client_for(staff_bj), project)
    assert data["version"] == "1"
    assert data[inline_prefix(data, "R1") + "version"] == "1"


def test_a_save_based_on_an_older_version_is_refused_and_shows_the_other_persons_changes(
    staff_bj, staff_bj2, project
):
    a, b = client_for(staff_bj), client_for(staff_bj2)
    seen_by_a, seen_by_b = open_form(a, project), open_form(b, project)

    response = a.post(change_url(project), {**seen_by_a, "name": "新名称"})
    assert response.status_code == 302

    response = b.post(change_url(project), {**seen_by_b, "budget": "20"})
    assert response.status_code == 200
    project.refresh_from_db()
    assert (project.name, project.budget, project.version) == ("新名称", Decimal("100000.00"), 2)

    page = response.content.decode()
    assert "保存未完成" in page and "staff_bj" in page
    conflict = response.context["version_conflicts"][0]
    assert [(c.label, c.old, c.new) for c in conflict.changes] == [
        ("项目名称", "项目 BJ-2021-01-001", "新名称")
    ]
    assert 'id="version-conflicts"' in page and "项目 BJ-2021-01-001" in page
    # B's input is kept; the field B left alone now shows A's value, and the version moved on.
    again = form_data(response, "project_form")
    assert (again["budget"], again["name"], again["version"]) == ("20", "新名称", "2")

    response = b.post(change_url(project), again)
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.budget, project.version) == ("新名称", Decimal("200000.00"), 3)
    history = list(project.history.order_by("history_date").values_list("version", "history_user__username"))
    assert history == [(1, None), (2, "staff_bj"), (3, "staff_bj2")]


def test_a_field_both_changed_keeps_the_users_input_and_says_so(staff_bj, staff_bj2, project):
    a, b = client_for(staff_bj), client_for(staff_bj2)
    seen_by_a, seen_by_b = open_form(a, project), open_form(b, project)
    assert a.post(change_url(project), {**seen_by_a, "name": "甲的名称"}).status_code == 302

    response = b.post(change_url(project), {**seen_by_b, "name": "乙的名称"})
    assert response.status_code == 200
    assert form_data(response, "project_form")["name"] == "乙的名称"
    assert "您也修改了此项" in response.content.decode()
    assert Project.objects.get(pk=project.pk).name == "甲的名称"


@pytest.mark.parametrize("model_name", ["agreement", "project", "disbursement", "facilityoutput"])
def test_every_versioned_change_form_refuses_a_stale_save(staff_bj, staff_bj2, project, model_name):
    obj = {
        "agreement": project.agreement,
        "project": project,
        "disbursement": project.disbursements.get(reference="R1"),
        "facilityoutput": project.outputs.get(),
    }[model_name]
    field, first, second = {
        "agreement": ("notes", "甲", "乙"),
        "project": ("contact", "甲", "乙"),
        "disbursement": ("reference", "R1-甲", "R1-乙"),
        "facilityoutput": ("quantity", "3", "4"),
    }[model_name]
    a, b = client_for(staff_bj), client_for(staff_bj2)
    seen_by_a, seen_by_b = open_form(a, obj), open_form(b, obj)
    assert a.post(change_url(obj), {**seen_by_a, field: first}).status_code == 302
    response = b.post(change_url(obj), {**seen_by_b, field: second})
    assert response.status_code == 200
    assert response.context["version_conflicts"][0].users == ["staff_bj"]
    obj.refresh_from_db()
    assert (str(getattr(obj, field)), obj.version) == (first, 2)


def test_a_stale_inline_row_refuses_the_whole_save_naming_the_row(staff_bj, staff_bj2, project):
    a, b = client_for(staff_bj), client_for(staff_bj2)
    seen_by_b = open_form(b, project)
    r1 = project.disbursements.get(reference="R1")
    seen_by_a = open_form(a, r1)
    assert a.post(change_url(r1), {**seen_by_a, "amount": "0.9"}).status_code == 302

    row = inline_prefix(seen_by_b, "R1")
    response = b.post(change_url(project), {**seen_by_b, "name": "乙的名称", row + "reference": "R1-乙"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "资金拨付 BJ-2021-01-001 R1" in page
    project.refresh_from_db()
    r1.refresh_from_db()
    assert (project.name, project.version) == ("项目 BJ-2021-01-001", 1)
    assert (r1.reference, r1.amount, r1.version) == ("R1", Decimal("9000.00"), 2)
    conflict = response.context["version_conflicts"][0]
    assert [(c.label, c.old, c.new) for c in conflict.changes] == [("金额（元）", "5,000.00", "9,000.00")]


def test_deleting_an_inline_row_someone_changed_since_is_refused(staff_bj, staff_bj2, project):
    a, b = client_for(staff_bj), client_for(staff_bj2)
    seen_by_b = open_form(b, project)
    r2 = project.disbursements.get(reference="R2")
    assert a.post(change_url(r2), {**open_form(a, r2), "amount": "1"}).status_code == 302

    response = b.post(change_url(project), {**seen_by_b, inline_prefix(seen_by_b, "R2") + "DELETE": "on"})
    assert response.status_code == 200
    assert "资金拨付 BJ-2021-01-001 R2" in response.content.decode()
    assert project.disbursements.filter(reference="R2").exists()


def test_inline_saves_and_admin_saves_raise_the_version_by_exactly_one(staff_bj, project):
    client = client_for(staff_bj)
    data = open_form(client, project)
    row = inline_prefix(data, "R1")
    assert client.post(change_url(project), {**data, row + "amount": "0.6"}).status_code == 302
    versions = dict(project.disbursements.values_list("reference", "version"))
    assert versions == {"R1": 2, "R2": 1}
    assert Project.objects.get(pk=project.pk).version == 2
    # A save that changes nothing is still a save (the history records it): the version moves on by one.
    assert client.post(change_url(project), open_form(client, project)).status_code == 302
    assert Project.objects.get(pk=project.pk).version == 3


def test_a_stale_instance_saved_in_code_is_refused_and_nothing_is_written(project):
    other = Project.objects.get(pk=project.pk)
    other.name = "先保存"
    other.save()
    project.budget = Decimal("1")
    with pytest.raises(StaleVersionError) as refused:
        project.save()
    assert "BJ-2021-01-001" in str(refused.value)
    stored = Project.objects.get(pk=project.pk)
    assert (stored.name, stored.budget, stored.version, project.version) == (
        "先保存",
        Decimal("100000.00"),
        2,
        1,
    )


def test_a_service_saving_on_the_version_its_caller_saw_is_refused_once_it_moved_on(project):
    row = Project.objects.get(pk=project.pk)
    row.status = "completed"
    save_versioned(row, 1)
    row.status = "cancelled"
    with pytest.raises(StaleVersionError):
        save_versioned(Project.objects.get(pk=project.pk), 1)
    assert Project.objects.get(pk=project.pk).status == "completed"


# -- bulk actions -------------------------------------------------------------------------------------


def changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_a_bulk_status_change_goes_through_a_page_listing_the_rows_with_their_versions(staff_bj, project):
    second = make_project("BJ-2021-01-002", project.agreement)
    client = client_for(staff_bj)
    response = client.post(
        changelist(Project), {"action": "change_status", "_selected_action": [project.pk, second.pk]}
    )
    assert response.status_code == 200
    page = form_data(response)
    assert page[f"_version_{project.pk}"] == "1" and page[f"_version_{second.pk}"] == "1"
    assert "BJ-2021-01-002" in response.content.decode() and "实施中" in response.content.decode()
    assert Project.objects.filter(status="completed").count() == 0  # nothing written by opening the page

    response = client.post(changelist(Project), {**page, "value": "completed"})
    assert response.status_code == 302
    assert list(Project.objects.order_by("pk").values_list("status", "version")) == [("completed", 2)] * 2
    assert project.history.latest().history_user == staff_bj


def test_confirming_a_bulk_action_with_a_stale_version_refuses_the_whole_action(staff_bj, staff_bj2, project):
    second = make_project("BJ-2021-01-002", project.agreement)
    a, b = client_for(staff_bj), client_for(staff_bj2)
    response = b.post(
        changelist(Project), {"action": "change_status", "_selected_action": [project.pk, second.pk]}
    )
    page = form_data(response)
    assert a.post(change_url(second), {**open_form(a, second), "name": "甲改过"}).status_code == 302

    response = b.post(changelist(Project), {**page, "value": "cancelled"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "未执行" in text and "BJ-2021-01-002" in text
    assert set(Project.objects.values_list("status", flat=True)) == {"in_progress"}
    # The page is shown again with the rows as they are now; confirming it applies the change.
    again = form_data(response)
    assert again[f"_version_{second.pk}"] == "2" and again["value"] == "cancelled"
    assert b.post(changelist(Project), again).status_code == 302
    assert set(Project.objects.values_list("status", flat=True)) == {"cancelled"}


def test_an_agreement_status_change_refuses_a_stale_row(staff_bj, staff_bj2, project):
    agreement = project.agreement
    a, b = client_for(staff_bj), client_for(staff_bj2)
    page = form_data(
        b.post(changelist(Agreement), {"action": "change_status", "_selected_action": [agreement.pk]})
    )
    assert a.post(change_url(agreement), {**open_form(a, agreement), "notes": "甲"}).status_code == 302
    response = b.post(changelist(Agreement), {**page, "value": "completed"})
    assert response.status_code == 200
    assert Agreement.objects.get(pk=agreement.pk).status == "signed"


def test_a_bulk_action_never_names_rows_outside_the_users_scope(staff_hb, project):
    client = client_for(staff_hb)
    response = client.post(
        changelist(Project),
        {
            "action": "change_status",
            "_selected_action": [project.pk],
            f"_version_{project.pk}": "0",
            "post": "yes",
            "value": "cancelled",
        },
    )
    assert "BJ-2021-01-001" not in response.content.decode()
    assert Project.objects.get(pk=project.pk).status == "in_progress"


def test_delete_selected_refuses_rows_changed_since_its_page_was_opened(
    staff_bj, staff_bj2, national, project
):
    r1 = project.disbursements.get(reference="R1")
    a, b = client_for(staff_bj), client_for(staff_bj2)
    response = b.post(changelist(Disbursement), {"action": "delete_selected", "_selected_action": [r1.pk]})
    page = form_data(response)
    assert page[f"_version_{r1.pk}"] == "1"
    assert a.post(change_url(r1), {**open_form(a, r1), "amount": "2"}).status_code == 302

    response = b.post(changelist(Disbursement), page)
    assert response.status_code == 200
    assert "R1" in response.content.decode()
    assert Disbursement.objects.filter(pk=r1.pk).exists()
    # Confirmed again, from the page as it is now, the row goes.
    assert b.post(changelist(Disbursement), form_data(response)).status_code == 302
    assert not Disbursement.objects.filter(pk=r1.pk).exists()


def test_the_delete_page_refuses_a_record_changed_since_it_was_opened(staff_bj, staff_bj2, project):
    r1 = project.disbursements.get(reference="R1")
    a, b = client_for(staff_bj), client_for(staff_bj2)
    delete_url = reverse("admin:projects_disbursement_delete", args=[r1.pk])
    page = form_data(b.get(delete_url))
    assert page["version"] == "1"
    assert a.post(change_url(r1), {**open_form(a, r1), "amount": "2"}).status_code == 302

    response = b.post(delete_url, page, follow=True)
    assert "金额（元）" in response.content.decode() and "staff_bj" in response.content.decode()
    assert Disbursement.objects.filter(pk=r1.pk).exists()
    assert b.post(delete_url, form_data(response)).status_code == 302
    assert not Disbursement.objects.filter(pk=r1.pk).exists()


def test_a_revert_from_the_history_is_guarded_by_the_version_stored_when_opened(staff_bj, project):
    client = client_for(staff_bj)
    assert client.post(change_url(project), {**open_form(client, project), "name": "改过"}).status_code == 302
    first = project.history.earliest()
    url = reverse("admin:projects_project_simple_history", args=[project.pk, first.history_id])
    response = client.get(url)
    data = form_data(response, "historicalproject_form")
    assert (data["name"], data["version"]) == ("项目 BJ-2021-01-001", "2")
    assert client.post(url, data).status_code == 302
    project.refresh_from_db()
    assert (project.name, project.version) == ("项目 BJ-2021-01-001", 3)


def test_the_history_page_does_not_list_the_version_as_a_changed_field(staff_bj, project):
    client = client_for(staff_bj)
    assert client.post(change_url(project), {**open_form(client, project), "name": "改过"}).status_code == 302
    response = client.get(reverse("admin:projects_project_history", args=[project.pk]))
    records = response.context["page_obj"].object_list
    assert [c["field"] for r in records for c in getattr(r, "history_delta_changes", [])] == ["项目名称"]


def test_a_read_only_page_shows_no_version(manager, project):
    response = client_for(manager).get(change_url(project))
    assert response.status_code == 200
    assert "version" not in form_data(response, "project_form")


def test_an_action_posting_ids_or_versions_that_are_not_numbers_is_no_server_error(staff_bj, project):
    response = client_for(staff_bj).post(
        changelist(Project),
        {
            "action": "change_status",
            "_selected_action": [str(project.pk), "abc"],
            f"_version_{project.pk}": "²",
            "_version_abc": "1",
            "post": "yes",
            "value": "cancelled",
        },
    )
    assert response.status_code in (200, 302)
