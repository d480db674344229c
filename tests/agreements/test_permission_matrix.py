"""The permission matrix (in the manner of NetBox's view tests): every persona × every admin entry point ×
{read, create, change, delete, import, export}, on the rows of 北京 and of 湖北.

Each cell asserts the status code, and where the request must be refused, that the database is unchanged.
An object outside the user's scope must get exactly the answer an id that does not exist gets.
"""

import pytest
from django.test import Client
from django.urls import reverse

from tests.agreements import access_data
from tests.agreements.access_data import (
    MISSING_PK,
    MODELS,
    NEW_CODE,
    admin_url,
    change_form_data,
    new_object_data,
    optional_admin_url,
    snapshot,
)

# Fixtures shared with the other access tests.
rows = access_data.rows
national_staff = access_data.national_staff
fast_password_hasher = access_data.fast_password_hasher

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous", "staff_bj", "staff_hb", "recipient_ks", "manager", "national", "national_staff"]
EVERYTHING = {"bj", "hb", "sh"}
SEES = {
    "staff_bj": {"bj"},
    "staff_hb": {"hb"},
    "recipient_ks": {"sh"},
    "manager": EVERYTHING,
    "national": EVERYTHING,
    "national_staff": EVERYTHING,
}
DATA = set(MODELS)
PERMS = {
    "staff_bj": {
        "view": DATA,
        "add": DATA,
        "change": DATA,
        "delete": {"disbursement", "facilityoutput"},
        "import": DATA,
        "export": DATA,
    },
    "recipient_ks": {"view": DATA},
    "manager": {"view": DATA, "export": DATA},
    "national": {action: DATA for action in ("view", "add", "change", "delete", "import", "export")},
}
PERMS["staff_hb"] = PERMS["staff_bj"]
PERMS["national_staff"] = PERMS["national"]


def may(persona, action, model_name):
    return model_name in PERMS[persona].get(action, set())


@pytest.fixture
def as_persona(request, rows):
    """A client logged in as the persona (a real account of its role group), and the persona's name."""

    def login(persona):
        client = Client()
        if persona != "anonymous":
            client.force_login(request.getfixturevalue(persona))
        return client

    return login


def assert_login_redirect(response):
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def assert_same_as_missing(client, response, url_of_missing, method="get", data=None):
    """The answer for an object out of scope is the answer for an id that does not exist."""
    missing = getattr(client, method)(url_of_missing, data or {})
    assert response.status_code == missing.status_code
    if missing.status_code == 302:
        assert response.url == missing.url == reverse("admin:index")


def models_and_targets(targets):
    return [(m, t) for m in MODELS for t in targets]


# ---- read: changelist, change page, history page, historical-record page ----


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("model_name", list(MODELS))
def test_changelist_lists_exactly_the_rows_in_scope(as_persona, rows, persona, model_name):
    client = as_persona(persona)
    response = client.get(admin_url(model_name, "changelist"))
    if persona == "anonymous":
        return assert_login_redirect(response)
    assert response.status_code == 200
    shown = {obj.pk for obj in response.context["cl"].result_list}
    expected = {rows[key][model_name].pk for key in SEES[persona]}
    assert shown == expected
    body = response.content.decode()
    for key in EVERYTHING - SEES[persona]:
        assert f"{key.upper()}-2021-01" not in body
        assert f"{key.upper()}-P-001" not in body


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("model_name,target", models_and_targets(["bj", "hb", "sh"]))
def test_read_change_page_and_history(as_persona, rows, persona, model_name, target):
    client = as_persona(persona)
    obj = rows[target][model_name]
    version = obj.history.latest().history_id
    urls = [
        (admin_url(model_name, "change", obj.pk), admin_url(model_name, "change", MISSING_PK)),
        (admin_url(model_name, "history", obj.pk), admin_url(model_name, "history", MISSING_PK)),
        (
            admin_url(model_name, "simple_history", obj.pk, version),
            admin_url(model_name, "simple_history", MISSING_PK, version),
        ),
    ]
    for url, missing_url in urls:
        response = client.get(url)
        if persona == "anonymous":
            assert_login_redirect(response)
        elif target in SEES[persona]:
            assert response.status_code == 200, url
        else:
            assert response.status_code == 302, url
            assert_same_as_missing(client, response, missing_url)


# ---- create: a POST naming a province, agreement or project ----


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("model_name,target", models_and_targets(["bj", "hb"]))
def test_create_naming_a_parent(as_persona, rows, persona, model_name, target):
    client = as_persona(persona)
    before = snapshot()
    response = client.post(admin_url(model_name, "add"), new_object_data(model_name, rows[target]))
    created = MODELS[model_name].objects.filter(**NEW_CODE[model_name]).exists()
    if persona == "anonymous":
        assert_login_redirect(response)
    elif not may(persona, "add", model_name):
        assert response.status_code == 403
    elif target in SEES[persona]:
        assert response.status_code == 302, response.context and response.context["adminform"].form.errors
        assert created
        return
    else:
        # Naming another province's agreement or project is a form error, not a save.
        assert response.status_code == 200
        assert response.context["adminform"].form.errors
    assert not created
    assert snapshot() == before


# ---- change: the change form and the historical-record form (revert) ----


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("model_name,target", models_and_targets(["bj", "hb"]))
@pytest.mark.parametrize("entry", ["change", "simple_history"])
def test_change(as_persona, rows, national, persona, model_name, target, entry):
    obj = rows[target][model_name]
    data = change_form_data(national, model_name, obj)
    field = {
        "agreement": "title",
        "project": "name",
        "disbursement": "reference",
        "facilityoutput": "quantity",
    }[model_name]
    data[field] = "9" if field == "quantity" else "CHANGED"
    client = as_persona(persona)
    before = snapshot()
    args = [obj.pk] + ([obj.history.latest().history_id] if entry == "simple_history" else [])
    response = client.post(admin_url(model_name, entry, *args), data)
    if persona == "anonymous":
        assert_login_redirect(response)
    elif target not in SEES[persona] and (entry == "simple_history" or may(persona, "change", model_name)):
        missing_args = [MISSING_PK] + args[1:]
        assert_same_as_missing(client, response, admin_url(model_name, entry, *missing_args), "post", data)
        assert response.status_code == 302
    elif not may(persona, "change", model_name):
        assert response.status_code == 403
    else:
        assert response.status_code == 302, response.context and response.context["adminform"].form.errors
        assert str(getattr(type(obj).objects.get(pk=obj.pk), field)) == data[field]
        return
    assert snapshot() == before


# ---- delete: the delete page and the bulk action ----


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("model_name,target", models_and_targets(["bj", "hb"]))
def test_delete(as_persona, rows, persona, model_name, target):
    obj = rows[target][model_name]
    model = type(obj)
    client = as_persona(persona)
    before = snapshot()
    response = client.post(admin_url(model_name, "delete", obj.pk), {"post": "yes"})
    if persona == "anonymous":
        assert_login_redirect(response)
    elif not may(persona, "delete", model_name):
        assert response.status_code == 403
    elif target not in SEES[persona]:
        assert_same_as_missing(
            client, response, admin_url(model_name, "delete", MISSING_PK), "post", {"post": "yes"}
        )
    elif model_name == "agreement":
        # An agreement with projects is protected: the page says so and nothing is deleted.
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert not model.objects.filter(pk=obj.pk).exists()
        return
    assert snapshot() == before


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("model_name", ["disbursement", "facilityoutput"])
def test_bulk_delete_touches_only_rows_in_scope(as_persona, rows, persona, model_name):
    client = as_persona(persona)
    before = snapshot()
    selected = [rows[key][model_name].pk for key in ("bj", "hb")]
    response = client.post(
        admin_url(model_name, "changelist"),
        {"action": "delete_selected", "_selected_action": selected, "post": "yes"},
    )
    if persona == "anonymous":
        return assert_login_redirect(response)
    remaining = set(MODELS[model_name].objects.values_list("pk", flat=True))
    if not may(persona, "delete", model_name):
        # The action is not offered: Django answers with the changelist and a message, deleting nothing.
        assert response.status_code in (200, 302, 403)
        assert snapshot() == before
        return
    deleted = {rows[key][model_name].pk for key in SEES[persona] if key in ("bj", "hb")}
    assert remaining == {rows[key][model_name].pk for key in EVERYTHING} - deleted


# ---- import and export: their own permissions ----


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("model_name", list(MODELS))
@pytest.mark.parametrize("action", ["import", "export"])
def test_import_and_export_need_their_permission(as_persona, rows, persona, model_name, action):
    url = optional_admin_url(model_name, action, *(["xlsx"] if action == "export" else []))
    if url is None:
        pytest.skip(f"no admin {action} view for {model_name} yet")
    client = as_persona(persona)
    before = snapshot()
    response = client.get(url)
    if persona == "anonymous":
        assert_login_redirect(response)
    elif may(persona, action, model_name):
        assert response.status_code == 200
    else:
        assert response.status_code == 403
    assert snapshot() == before
