"""Import templates offer the user's own codes only: the codes sheet and the drop-down on 项目编号 list the
projects of the user's scope, and no example shows a record of another province."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.conftest import make_agreement, make_project

pytestmark = pytest.mark.django_db

PROJECT_SHEETS = {
    "projects_disbursement": "资金拨付",
    "projects_facilityoutput": "建设成果",
    "projects_progressreport": "进展报告",
}
ALL_TEMPLATES = ["agreements_agreement", "projects_project", *PROJECT_SHEETS]


@pytest.fixture
def two_provinces(db):
    bj = make_agreement("BJ-2022-07", province="110000", recipient="653200")
    hb = make_agreement("HB-2021-01", province="420000", recipient="652700")
    return make_project("BJ-2022-07-123", bj), make_project("HB-2021-01-001", hb)


def template(client, user, model):
    client.force_login(user)
    response = client.get(reverse(f"admin:{model}_template"))
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.content))


def cells(sheet):
    return [str(value) for row in sheet.iter_rows(values_only=True) for value in row if value is not None]


@pytest.mark.parametrize("model", PROJECT_SHEETS)
def test_the_project_code_column_has_a_drop_down_of_the_users_own_projects(
    client, staff_hb, two_provinces, model
):
    book = template(client, staff_hb, model)
    codes = book["代码"]
    assert codes["A1"].value == "项目编号"
    assert [c.value for c in codes["A"][1:] if c.value] == ["HB-2021-01-001"]
    data = book[PROJECT_SHEETS[model]]
    [project_list] = [v for v in data.data_validations.dataValidation if str(v.sqref).startswith("A2:")]
    assert project_list.type == "list" and project_list.formula1 == "'代码'!$A$2:$A$2"


def test_a_national_template_lists_a_bounded_number_of_codes_in_few_queries(
    client, national, two_provinces, monkeypatch, django_assert_max_num_queries
):
    from projects import importers

    make_project("HB-2021-01-002", two_provinces[1].agreement)
    monkeypatch.setattr(importers, "TEMPLATE_CODES", 2)
    client.force_login(national)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:projects_disbursement_template"))
    book = load_workbook(io.BytesIO(response.content))
    assert [c.value for c in book["代码"]["A"][1:] if c.value] == ["BJ-2022-07-123", "HB-2021-01-001"]


@pytest.mark.parametrize("model", ALL_TEMPLATES)
def test_no_template_shows_another_provinces_code(client, staff_hb, two_provinces, model):
    book = template(client, staff_hb, model)
    everything = [text for sheet in book.worksheets for text in cells(sheet)]
    assert not [
        text
        for text in everything
        if "BJ-2022" in text or "110000" in text or ("北京" in text and "惯例" not in text)
    ]
    example = book["说明"][2]
    assert example[0].value  # the example row is still there


@pytest.mark.parametrize("model", ALL_TEMPLATES)
def test_a_user_with_no_records_gets_a_fictitious_example(client, staff_hb, model):
    make_project("BJ-2022-07-123", make_agreement("BJ-2022-07", province="110000", recipient="653200"))
    book = template(client, staff_hb, model)
    everything = [text for sheet in book.worksheets for text in cells(sheet)]
    assert not [text for text in everything if "BJ-2022" in text or "110000" in text]
    if model != "agreements_agreement":
        assert book["说明"]["A2"].value.startswith("XX-")
