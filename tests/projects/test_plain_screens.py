"""Nothing raw on screen: no `None`, no row of dashes, no URL parameter names, no stray separators."""

import datetime
import re

import pytest
from django.urls import reverse

from tests.conftest import make_agreement, make_project
from tests.forms import form_data
from tests.projects import dashboard_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(db):
    return dashboard_data.build()


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


def _text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("model", ["agreement", "project"])
def test_history_pages_show_a_dash_for_empty_values(client, staff_bj, model):
    client.force_login(staff_bj)
    agreement = make_agreement("BJ-1")
    record = agreement if model == "agreement" else make_project("BJ-1-001", agreement)
    app = record._meta.app_label
    change = reverse(f"admin:{app}_{model}_change", args=[record.pk])
    form_id = f"{model}_form"
    data = form_data(client.get(change).content.decode(), form_id)
    data["ends_on" if model == "agreement" else "end_date"] = "2023-12-31"
    data["status"] = "completed"
    assert client.post(change, data).status_code == 302
    html = client.get(reverse(f"admin:{app}_{model}_history", args=[record.pk])).content.decode()
    text = _text(html)
    assert "None" not in text
    assert "—" in text  # no change reason, no user for the record made in code, the end date before
    assert "已完成" in text  # a status change shows the label, not `completed`


def test_dashboard_filter_selects_offer_all_by_name(as_manager, data):
    html = as_manager.get("/dashboard/").content.decode()
    assert "---------" not in html
    options = re.findall(r'<option value=""[^>]*>([^<]*)</option>', html)
    assert options and set(options) == {"全部"}


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard/?recipient=653100",
        "/dashboard/provinces/110000/?recipient=653100",
        "/dashboard/categories/B/?recipient=653100",
    ],
)
def test_every_page_offers_every_recipient_unit_by_name_in_tree_order(as_manager, data, url):
    from agreements.models import RecipientUnit

    html = as_manager.get(url).content.decode()
    select = re.search(r'<select name="recipient"[^>]*>(.*?)</select>', html, re.S).group(1)
    options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select)
    units = RecipientUnit.objects.order_by("path")
    assert [(code, label) for code, _selected, label in options] == [("", "全部")] + [
        (unit.code, str(unit)) for unit in units
    ]
    assert [code for code, selected, _label in options if selected] == ["653100"]


def test_the_filter_form_shows_a_renamed_unit_and_the_values_given_at_the_next_request(as_manager, data):
    """The form's HTML is kept per language, query and reference rows (filter_fields): a change to any of
    them is a new form."""
    from agreements.models import RecipientUnit

    def recipient_select(url, **headers):
        html = as_manager.get(url, headers=headers).content.decode()
        return re.search(r'<select name="recipient"[^>]*>(.*?)</select>', html, re.S).group(1)

    before = recipient_select("/dashboard/")
    assert '<option value="653100">喀什地区</option>' in before
    assert recipient_select("/dashboard/") == before
    RecipientUnit.objects.filter(code="653100").update(name="喀什地区（新）")
    after = recipient_select("/dashboard/")
    assert '<option value="653100">喀什地区（新）</option>' in after
    assert '<option value="653100" selected>喀什地区（新）</option>' in recipient_select(
        "/dashboard/?recipient=653100"
    )
    assert '<option value="" selected>All</option>' in recipient_select("/dashboard/", accept_language="en")


@pytest.mark.parametrize(
    "query, label, parameter",
    [
        ("province=999999", "援助省市", "province"),
        ("start_year=twenty", "开始年份", "start_year"),
        ("as_of=2022-13-01", "截至日期", "as_of"),
    ],
)
def test_a_bad_filter_names_the_field_by_its_label_on_pages_and_by_its_parameter_in_json(
    as_manager, data, query, label, parameter
):
    page = as_manager.get(f"/dashboard/?{query}")
    assert page.status_code == 400
    errors = re.search(r'<ul class="errors">(.*?)</ul>', page.content.decode(), re.S).group(1)
    assert f"<strong>{label}</strong>" in errors and parameter not in errors
    assert parameter in as_manager.get(f"/dashboard/summary.json?{query}").json()["errors"]
    changelist = as_manager.get(f"/admin/projects/project/?{query}")
    if parameter != "as_of":  # the changelists take the dashboard's other parameters
        assert changelist.status_code == 400
        errors = re.search(r'id="filter-errors">(.*?)</ul>', changelist.content.decode(), re.S).group(1)
        assert f"<strong>{label}</strong>" in errors and parameter not in errors


def test_the_filter_summary_has_no_stray_separator(as_manager, data):
    text = _text(as_manager.get("/dashboard/provinces/110000/").content.decode())
    assert "; ·" not in text and ";  ·" not in text
    assert re.search(r"援助省市 北京市 · 生成日期", text)
    text = _text(
        as_manager.get("/dashboard/?province=110000&status=in_progress&start_year=2022").content.decode()
    )
    assert "援助省市 北京市; 状态 实施中; 开始年份 2022 · 生成日期" in text


def test_summary_json_echoes_as_of_when_applied(as_manager, data):
    body = as_manager.get("/dashboard/summary.json?as_of=2022-06-30&start_year=2022").json()
    assert body["filters"] == {
        "province": None,
        "category": None,
        "recipient": None,
        "status": None,
        "start_year": 2022,
        "as_of": "2022-06-30",
    }
    assert as_manager.get("/dashboard/summary.json").json()["filters"]["as_of"] is None
    assert datetime.date.fromisoformat(body["filters"]["as_of"])
