"""The holes a plain `get_queryset` filter leaves, each closed: autocomplete, raw-id popups, list-filter
choices, search, foreign keys on forms and inlines, and history — with real non-superuser accounts."""

import pytest
from django.test import Client
from django.urls import reverse

from agreements.access import in_scope, scope_queryset
from agreements.models import Agreement, Province, SecurityEvent
from projects.models import Disbursement, Project
from tests.agreements import access_data
from tests.agreements.access_data import admin_url, change_form_data, snapshot

pytestmark = pytest.mark.django_db

rows = access_data.rows
national_staff = access_data.national_staff
fast_password_hasher = access_data.fast_password_hasher


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def autocomplete(client, app_label, model_name, field_name, term=""):
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": term},
    )
    return response


@pytest.mark.parametrize(
    "source,field,target_model",
    [
        (("projects", "project"), "agreement", Agreement),
        (("projects", "disbursement"), "project", Project),
        (("projects", "facilityoutput"), "project", Project),
    ],
)
@pytest.mark.parametrize(
    "persona,visible", [("staff_bj", {"bj"}), ("staff_hb", {"hb"}), ("national_staff", {"bj", "hb", "sh"})]
)
def test_autocomplete_offers_only_rows_in_scope(request, rows, source, field, target_model, persona, visible):
    client = logged_in(request.getfixturevalue(persona))
    response = autocomplete(client, *source, field)
    assert response.status_code == 200
    ids = {int(item["id"]) for item in response.json()["results"]}
    key = "agreement" if target_model is Agreement else "project"
    assert ids == {rows[p][key].pk for p in visible}


def test_autocomplete_search_does_not_find_other_provinces(staff_bj, rows):
    response = autocomplete(logged_in(staff_bj), "projects", "project", "agreement", term="HB")
    assert response.json()["results"] == []


def test_autocomplete_is_refused_to_anonymous(rows):
    assert autocomplete(Client(), "projects", "project", "agreement").status_code == 302


@pytest.mark.parametrize("model_name", ["agreement", "project"])
def test_raw_id_popup_lists_only_rows_in_scope(staff_bj, rows, model_name):
    response = logged_in(staff_bj).get(
        admin_url(model_name, "changelist"), {"_popup": "1", "_to_field": "id"}
    )
    assert response.status_code == 200
    assert {obj.pk for obj in response.context["cl"].result_list} == {rows["bj"][model_name].pk}
    assert "HB-" not in response.content.decode()


def test_list_filter_offers_only_the_own_province(staff_bj, rows):
    response = logged_in(staff_bj).get(admin_url("project", "changelist"))
    body = response.content.decode()
    assert "?province=110000" in body
    assert "?province=420000" not in body


def test_filtering_for_another_province_shows_nothing(staff_bj, rows):
    response = logged_in(staff_bj).get(admin_url("project", "changelist"), {"province": "420000"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


@pytest.mark.parametrize("term", ["HB", "HB-P-001", "HB-2021-01"])
def test_search_finds_nothing_of_another_province(staff_bj, rows, term):
    response = logged_in(staff_bj).get(admin_url("project", "changelist"), {"q": term})
    assert list(response.context["cl"].result_list) == []


def test_moving_an_own_project_under_another_provinces_agreement_is_a_form_error(national, staff_bj, rows):
    project = rows["bj"]["project"]
    data = change_form_data(national, "project", project)
    data["agreement"] = str(rows["hb"]["agreement"].pk)
    before = snapshot()
    response = logged_in(staff_bj).post(admin_url("project", "change", project.pk), data)
    assert response.status_code == 200
    assert "agreement" in response.context["adminform"].form.errors
    assert snapshot() == before


def test_moving_an_own_agreement_to_another_province_is_a_form_error(national, staff_bj, rows):
    agreement = rows["bj"]["agreement"]
    data = change_form_data(national, "agreement", agreement)
    data["province"] = str(Province.objects.get(code="420000").pk)
    before = snapshot()
    response = logged_in(staff_bj).post(admin_url("agreement", "change", agreement.pk), data)
    assert response.status_code == 200
    assert "province" in response.context["adminform"].form.errors
    assert snapshot() == before


def test_an_inline_row_naming_another_provinces_disbursement_changes_nothing(national, staff_bj, rows):
    project = rows["bj"]["project"]
    data = change_form_data(national, "project", project)
    # Point the inline's existing row at 湖北's disbursement.
    data["disbursements-0-id"] = str(rows["hb"]["disbursement"].pk)
    data["disbursements-0-reference"] = "HIJACKED"
    before = snapshot()
    response = logged_in(staff_bj).post(admin_url("project", "change", project.pk), data)
    # Django drops an inline row whose id is not among the project's own rows.
    assert response.status_code in (200, 302)
    assert not Disbursement.objects.filter(reference="HIJACKED").exists()
    after = snapshot()
    assert after["disbursement"] == before["disbursement"]
    assert after["disbursement_history"] == before["disbursement_history"]


def test_inline_rows_are_scoped(staff_bj, rows):
    response = logged_in(staff_bj).get(admin_url("project", "change", rows["bj"]["project"].pk))
    for inline in response.context["inline_admin_formsets"]:
        assert type(inline.opts).__name__.startswith("Scoped")


def test_history_of_a_deleted_row_of_another_province_stays_hidden(staff_bj, staff_hb, rows):
    disbursement = rows["hb"]["disbursement"]
    pk = disbursement.pk
    logged_in(staff_hb).post(admin_url("disbursement", "delete", pk), {"post": "yes"})
    assert not Disbursement.objects.filter(pk=pk).exists()
    response = logged_in(staff_bj).get(admin_url("disbursement", "history", pk))
    assert response.status_code == 302
    assert response.url == reverse("admin:index")


def test_recipient_staff_see_their_subtree_only(recipient_ks, rows):
    for name, model in access_data.MODELS.items():
        visible = set(scope_queryset(recipient_ks, model.objects.all()).values_list("pk", flat=True))
        assert visible == {rows["sh"][name].pk}


def test_in_scope_answers_for_objects(staff_bj, manager, rows):
    assert in_scope(staff_bj, rows["bj"]["project"])
    assert not in_scope(staff_bj, rows["hb"]["project"])
    assert in_scope(manager, rows["hb"]["project"])
    assert in_scope(staff_bj, None)


def test_a_hubei_attempt_by_beijing_staff_leaves_only_a_log_line(national, staff_bj, rows):
    """The "done when" of issue 5: every entry point refuses, nothing changes, the log has the attempts."""
    client = logged_in(staff_bj)
    before = snapshot()
    for name in access_data.MODELS:
        obj = rows["hb"][name]
        data = change_form_data(national, name, obj)
        version = obj.history.latest().history_id
        client.get(admin_url(name, "change", obj.pk))
        client.post(admin_url(name, "change", obj.pk), data)
        client.post(admin_url(name, "delete", obj.pk), {"post": "yes"})
        client.get(admin_url(name, "history", obj.pk))
        client.post(admin_url(name, "simple_history", obj.pk, version), data)
    assert snapshot() == before
    logged = SecurityEvent.objects.filter(user=staff_bj)
    assert logged.filter(kind=SecurityEvent.Kind.OUT_OF_SCOPE).count() >= 4 * 4
    assert all(event.object for event in logged.filter(kind=SecurityEvent.Kind.OUT_OF_SCOPE))
