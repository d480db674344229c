"""The admin import flow with real accounts: upload → preview → confirm, errors, error report, scope."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from projects.models import Project
from spreadsheets.models import ImportRecord
from tests.conftest import make_agreement, make_project
from tests.spreadsheets.helpers import PROJECT_HEADERS, project_row, read_xlsx, xlsx


def login(client, user):
    client.force_login(user)
    return client


def upload(client, data, name="projects.xlsx", model="project"):
    url = reverse(f"admin:projects_{model}_import")
    response = client.post(url, {"import_file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


@pytest.fixture
def bj_agreement(db):
    return make_agreement("BJ-1", province="110000", recipient="653200")


@pytest.mark.django_db
def test_province_staff_preview_then_confirm_writes_rows_recorded_as_them(client, staff_bj, bj_agreement):
    login(client, staff_bj)
    data = xlsx(
        {"项目": [PROJECT_HEADERS, project_row("P-1"), project_row("P-2", **{"援助金额（万元）": "1,234.5"})]}
    )
    preview_url = upload(client, data)
    page = client.get(preview_url)
    assert page.status_code == 200
    assert Project.objects.count() == 0, "the preview writes nothing"
    record = ImportRecord.objects.get()
    assert record.outcome == ImportRecord.Outcome.PREVIEWED
    assert record.counts["项目"] == {"new": 2, "updated": 0, "unchanged": 0, "errors": 0}
    assert record.user == staff_bj and len(record.sha256) == 64
    assert "P-2" in page.content.decode()

    response = client.post(preview_url, {"confirm": "1"})
    assert response.status_code == 302
    assert Project.objects.get(code="P-2").budget == Decimal("12345000.00")
    history = Project.history.filter(code="P-1").get()
    assert history.history_user == staff_bj
    record.refresh_from_db()
    assert record.outcome == ImportRecord.Outcome.IMPORTED and record.staged is None


@pytest.mark.django_db
def test_errors_are_listed_and_downloadable_and_nothing_is_written(client, staff_bj, bj_agreement):
    login(client, staff_bj)
    rows = [PROJECT_HEADERS, project_row("P-1"), project_row("P-2", 项目状态="进行", 开始日期="2022-13-01")]
    preview_url = upload(client, xlsx({"项目": rows}))
    page = client.get(preview_url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "confirm-import" not in page
    assert "进行" in page and "2022-13-01" in page
    record = ImportRecord.objects.get()
    assert record.outcome == ImportRecord.Outcome.REJECTED
    assert {(e["row"], e["column"]) for e in record.errors} == {(3, "项目状态"), (3, "开始日期")}
    assert client.post(preview_url, {"confirm": "1"}).status_code == 302
    assert Project.objects.count() == 0

    report = client.get(reverse("admin:projects_project_import_errors", args=[record.pk]))
    assert report.status_code == 200
    sheet = read_xlsx(report.content)["项目"]
    assert sheet[0][-1] == "错误"
    assert sheet[1][-1] in (None, "")
    assert "项目状态" in sheet[2][-1] and "开始日期" in sheet[2][-1]


@pytest.mark.django_db
def test_another_provinces_agreement_or_code_is_an_error_that_reveals_nothing(client, staff_bj, bj_agreement):
    hubei = make_agreement("HB-1", province="420000", recipient="652700")
    make_project("HB-P-1", hubei)
    login(client, staff_bj)
    rows = [
        PROJECT_HEADERS,
        project_row("P-1", agreement="HB-1"),
        project_row("P-2", agreement="NO-SUCH"),
        project_row("HB-P-1"),
    ]
    upload(client, xlsx({"项目": rows}))
    errors = {e["row"]: e for e in ImportRecord.objects.get().errors}
    assert errors[2]["message"] == errors[3]["message"], "another province's agreement looks like none"
    assert errors[4]["column"] == "项目编号"
    assert "420000" not in errors[4]["message"] and "湖北" not in errors[4]["message"]
    assert Project.objects.get(code="HB-P-1").agreement == hubei


@pytest.mark.django_db
def test_a_province_staff_member_cannot_see_someone_elses_import(client, staff_bj, staff_hb, bj_agreement):
    login(client, staff_bj)
    preview_url = upload(client, xlsx({"项目": [PROJECT_HEADERS, project_row("P-1")]}))
    client.logout()
    login(client, staff_hb)
    assert client.get(preview_url).status_code == 404
    assert client.post(preview_url, {"confirm": "1"}).status_code == 404
    assert Project.objects.count() == 0


@pytest.mark.django_db
def test_a_bad_file_gets_a_clear_message(client, staff_bj):
    login(client, staff_bj)
    preview_url = upload(client, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, name="old.xls")
    page = client.get(preview_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ".xlsx" in page
    assert ImportRecord.objects.get().outcome == ImportRecord.Outcome.REJECTED


@pytest.mark.django_db
def test_a_manager_may_export_but_not_import(client, manager):
    login(client, manager)
    assert client.get(reverse("admin:projects_project_import")).status_code == 403
    assert client.get(reverse("admin:projects_project_export", args=["xlsx"])).status_code == 200


@pytest.mark.django_db
def test_the_export_is_the_filtered_changelist_in_scope(client, staff_bj, bj_agreement):
    make_project("P-A", bj_agreement, status="completed")
    make_project("P-B", bj_agreement, status="planned")
    make_project("HB-P", make_agreement("HB-1", province="420000", recipient="652700"))
    login(client, staff_bj)
    url = reverse("admin:projects_project_export", args=["xlsx"])
    rows = read_xlsx(client.get(url).content)["项目"]
    assert rows[0] == PROJECT_HEADERS
    assert sorted(r[0] for r in rows[1:]) == ["P-A", "P-B"]
    filtered = read_xlsx(client.get(url + "?status=completed").content)["项目"]
    assert [r[0] for r in filtered[1:]] == ["P-A"]
    assert filtered[1][5] == "已完成" and filtered[1][6] == 10


@pytest.mark.django_db
def test_the_template_has_headers_an_example_drop_downs_and_a_codes_sheet(client, staff_bj, bj_agreement):
    login(client, staff_bj)
    response = client.get(reverse("admin:projects_project_template"))
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["项目"]
    assert [c.value for c in sheet[1]] == PROJECT_HEADERS
    assert sheet.max_row == 1, "the data sheet holds no example"
    assert [c.value for c in book["说明"][1]] == PROJECT_HEADERS and book["说明"]["A2"].value
    ranges = {str(v.sqref).split(":")[0][0] for v in sheet.data_validations.dataValidation}
    assert {"C", "D", "E", "F"} <= ranges  # agreement, category, recipient, status
    codes = [c.value for c in book["代码"]["A"]] + [c.value for c in book["代码"]["D"]]
    assert "BJ-1" in codes and "A01" in codes


@pytest.mark.django_db
def test_the_import_records_are_listed_in_the_admin(client, staff_bj, national, bj_agreement):
    login(client, staff_bj)
    upload(client, xlsx({"项目": [PROJECT_HEADERS, project_row("P-1")]}), name="我的项目.xlsx")
    page = client.get(reverse("admin:spreadsheets_importrecord_changelist")).content.decode()
    assert "我的项目.xlsx" in page
