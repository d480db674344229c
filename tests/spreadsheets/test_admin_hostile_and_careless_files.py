"""Hostile and careless files through the admin, as a province clerk would send them."""

import io
import re
from decimal import Decimal

import pytest
from django.test import Client

from projects.models import Project
from spreadsheets.models import ImportRecord
from tests.conftest import make_agreement, make_project
from tests.spreadsheets.helpers import PROJECT_HEADERS, csv_bytes, project_row, workbook, xlsx

IMPORT = "/admin/projects/project/import/"


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def upload(client, data, name):
    return client.post(IMPORT, {"import_file": _named(data, name)})


def _named(data, name):
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def last_record():
    return ImportRecord.objects.order_by("-pk").first()


def inline(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def header_xml(headers, row=1):
    letters = "ABCDEFGHIJ"
    return (
        f'<row r="{row}">'
        + "".join(inline(f"{letters[i]}{row}", h) for i, h in enumerate(headers))
        + "</row>"
    )


# A project row's text cells A2:F2, the amount and what follows left to each test.
FIRST_CELLS = "".join(
    inline(f"{letter}2", text)
    for letter, text in zip("ABCDEF", ["BJ-1-001", "名称", "BJ-1", "A01", "653200", "实施中"], strict=True)
)


@pytest.fixture
def bj(staff_bj):
    agreement = make_agreement("BJ-1")
    return agreement


@pytest.mark.django_db
def test_header_with_spaces_full_width_and_english_aliases_imports(staff_bj, bj):
    headers = [
        " 项目编号 ",
        "项目名称\u3000",
        "协议编号 [agreement]",
        "项目类别",
        "受援单位",
        "项目状态",
        "援助金额(万元)",
        "受益人次",
        "开始日期",
        "结束日期",
    ]
    data = xlsx({"项目": [headers, project_row("BJ-1-001", **{"援助金额（万元）": "1,234.5"})]})
    client = client_for(staff_bj)
    response = upload(client, data, "p.xlsx")
    assert response.status_code in (302, 303)
    record = last_record()
    assert record.outcome == ImportRecord.Outcome.PREVIEWED, (record.message, record.errors)
    response = client.post(response["Location"], {"confirm": "1"})
    assert response.status_code in (302, 303)
    project = Project.objects.get(code="BJ-1-001")
    assert project.budget == Decimal("12345000.00")


@pytest.mark.django_db
def test_1904_dates_and_iso_and_chinese_dates_import_as_the_same_day(staff_bj, bj):
    styles = '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs>'
    row = (
        '<row r="2">'
        + FIRST_CELLS
        + '<c r="G2"><v>10</v></c><c r="H2"><v>5</v></c>'
        # 2022-03-01 in the 1904 date system is serial 43159.
        + '<c r="I2" s="1"><v>43159</v></c>'
        + inline("J2", "2022年12月31日")
        + "</row>"
    )
    data = workbook([("项目", header_xml(PROJECT_HEADERS) + row)], styles=styles, date1904=True)
    client = client_for(staff_bj)
    response = upload(client, data, "p.xlsx")
    record = last_record()
    assert record.outcome == ImportRecord.Outcome.PREVIEWED, (record.message, record.errors)
    client.post(response["Location"], {"confirm": "1"})
    project = Project.objects.get(code="BJ-1-001")
    assert str(project.start_date) == "2022-03-01"
    assert str(project.end_date) == "2022-12-31"


@pytest.mark.django_db
def test_gbk_csv_with_crlf_and_trailing_empty_rows(staff_bj, bj):
    rows = [PROJECT_HEADERS, project_row("BJ-1-001", **{"项目名称": "和田市职工书屋"}), [""] * 10, [""] * 10]
    data = csv_bytes(rows, encoding="gbk")
    client = client_for(staff_bj)
    response = upload(client, data, "项目.csv")
    record = last_record()
    assert record.outcome == ImportRecord.Outcome.PREVIEWED, (record.message, record.errors)
    client.post(response["Location"], {"confirm": "1"})
    assert Project.objects.get(code="BJ-1-001").name == "和田市职工书屋"


@pytest.mark.django_db
def test_long_unknown_headers_are_excerpted_in_the_message(staff_bj, bj):
    headers = PROJECT_HEADERS + ["未知列" * 1500 + str(i) for i in range(50)]
    data = xlsx({"项目": [headers, project_row("BJ-1-001") + ["x"] * 50]})
    client = client_for(staff_bj)
    response = upload(client, data, "p.xlsx")
    record = last_record()
    assert record.outcome == ImportRecord.Outcome.REJECTED
    assert len(record.message) < 10_000, len(record.message)
    page = client.get(response["Location"])
    assert len(page.content) < 200_000


@pytest.mark.django_db
def test_a_long_sheet_name_is_excerpted_in_the_message(staff_bj, bj):
    name = "表" * 50_000
    data = workbook([(name, header_xml(["项目编号", "什么"]))])
    client = client_for(staff_bj)
    upload(client, data, "p.xlsx")
    record = last_record()
    assert record.outcome == ImportRecord.Outcome.REJECTED
    assert len(record.message) < 2_000, len(record.message)


@pytest.mark.django_db
def test_two_sheets_for_one_table_are_not_silently_half_imported(staff_bj, bj):
    data = xlsx(
        {
            "项目": [PROJECT_HEADERS, project_row("BJ-1-001")],
            "Projects": [PROJECT_HEADERS, project_row("BJ-1-002")],
        }
    )
    client = client_for(staff_bj)
    response = upload(client, data, "p.xlsx")
    assert response.status_code in (302, 303)
    record = last_record()
    # Never "1 new" with the second sheet left unread without a word.
    assert record.outcome == ImportRecord.Outcome.REJECTED
    assert "Projects" in record.message and "工作表" in record.message
    assert not Project.objects.exists()


@pytest.mark.django_db
def test_the_same_key_twice_in_a_file_is_not_silently_last_wins(staff_bj, bj):
    data = xlsx(
        {
            "项目": [
                PROJECT_HEADERS,
                project_row("BJ-1-001", **{"项目名称": "第一"}),
                project_row("BJ-1-001", **{"项目名称": "第二"}),
            ]
        }
    )
    client = client_for(staff_bj)
    upload(client, data, "p.xlsx")
    record = last_record()
    assert record.outcome == ImportRecord.Outcome.REJECTED
    assert any(error["row"] == 3 for error in record.errors), record.errors


@pytest.mark.django_db
@pytest.mark.parametrize(
    "column,value",
    [
        ("援助金额（万元）", "0.0000001"),
        ("援助金额（万元）", "-5"),
        ("援助金额（万元）", "1e3"),
        ("援助金额（万元）", "10万"),
        ("援助金额（万元）", "99999999999"),
        ("受益人次", "1.5"),
        ("受益人次", "-1"),
        ("受益人次", "99999999999999"),
        ("开始日期", "2022-02-30"),
        ("开始日期", "0000-01-01"),
        ("开始日期", "2022-13-01"),
        ("开始日期", "99999"),
        ("项目状态", "进行中吧"),
        ("受援单位", "650000x"),
        ("项目编号", "x" * 51),
    ],
)
def test_bad_values_are_row_errors_never_silent(staff_bj, bj, column, value):
    data = xlsx({"项目": [PROJECT_HEADERS, project_row("BJ-1-001", **{column: value})]})
    client = client_for(staff_bj)
    response = upload(client, data, "p.xlsx")
    record = last_record()
    if record.outcome == ImportRecord.Outcome.PREVIEWED:
        client.post(response["Location"], {"confirm": "1"})
        project = Project.objects.get()
        pytest.fail(f"accepted {value!r} as {project.budget}, {project.beneficiaries}, {project.start_date}")
    assert record.outcome == ImportRecord.Outcome.REJECTED, record.message
    assert [(e["row"], e["column"]) for e in record.errors] == [(2, column)], record.errors
    assert re.search(r"[\u4e00-\u9fff]", record.errors[0]["message"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "column,value,field,expected",
    [
        ("受援单位", 653200, "recipient__code", "653200"),
        ("受援单位", 653200.0, "recipient__code", "653200"),
        ("项目类别", "职工书屋", "category__code", "A02"),
        ("项目状态", "In Progress", "status", "in_progress"),
        ("项目状态", "已完成\u3000", "status", "completed"),
        ("开始日期", "2022/8/19", "start_date", "2022-08-19"),
        ("开始日期", "2022年8月19日", "start_date", "2022-08-19"),
        ("援助金额（万元）", "1,234.567891", "budget", "12345678.91"),
        ("援助金额（万元）", 0.000001, "budget", "0.01"),
        ("援助金额（万元）", 0.1, "budget", "1000.00"),
    ],
)
def test_clerk_values_import_as_meant(staff_bj, bj, column, value, field, expected):
    data = xlsx({"项目": [PROJECT_HEADERS, project_row("BJ-1-001", **{column: value})]})
    client = client_for(staff_bj)
    response = upload(client, data, "p.xlsx")
    record = last_record()
    assert record.outcome == ImportRecord.Outcome.PREVIEWED, record.errors
    client.post(response["Location"], {"confirm": "1"})
    assert str(Project.objects.values_list(field, flat=True).get()) == expected


@pytest.mark.django_db
def test_the_preview_shows_updates_old_to_new_with_dates_as_dates(staff_bj, bj):
    import datetime

    make_project("BJ-1-001", bj, budget="100000.00")
    data = xlsx(
        {
            "项目": [
                PROJECT_HEADERS,
                project_row(
                    "BJ-1-001",
                    **{
                        "项目名称": "项目 BJ-1-001",
                        "援助金额（万元）": 12.5,
                        "开始日期": datetime.datetime(2022, 4, 1),
                        "结束日期": None,
                        "受益人次": None,
                    },
                ),
            ]
        }
    )
    client = client_for(staff_bj)
    response = upload(client, data, "p.xlsx")
    page = client.get(response["Location"]).content.decode()
    assert "00:00:00" not in page
    assert "2022-04-01" in page and "2022-03-01" in page
    assert "12.5" in page and "12.500000" not in page
    assert re.search(r"10\b", page)


@pytest.mark.django_db
def test_error_report_of_a_hostile_file_opens_and_escapes(staff_bj, bj):
    from openpyxl import load_workbook

    row = (
        '<row r="2">'
        + inline("A2", "=cmd|' /C calc'!A0")
        + inline("B2", "名称")
        + '<c r="C2"><f>1+1</f></c>'
        + '<c r="G2"><v>NaN</v></c>'
        + "</row>"
    )
    data = workbook([("项目", header_xml(PROJECT_HEADERS) + row)])
    client = client_for(staff_bj)
    response = upload(client, data, "p.xlsx")
    report = client.get(response["Location"] + "errors.xlsx")
    assert report.status_code == 200
    book = load_workbook(io.BytesIO(report.content))
    sheet = book.worksheets[0]
    assert sheet["A2"].value == "=cmd|' /C calc'!A0"
    assert sheet["A2"].data_type == "s" and sheet["A2"].quotePrefix
    assert sheet.cell(1, sheet.max_column).value == "错误"
    assert "援助金额（万元）" in sheet.cell(2, sheet.max_column).value


@pytest.mark.django_db
def test_a_csv_cell_past_the_csv_modules_limit_is_told_in_chinese(staff_bj, bj):
    rows = [PROJECT_HEADERS, project_row("BJ-1-001"), project_row("BJ-1-002", **{"项目名称": "长" * 200_000})]
    client = client_for(staff_bj)
    upload(client, csv_bytes(rows), "p.csv")
    record = last_record()
    assert record.outcome == ImportRecord.Outcome.REJECTED
    assert "3" in record.message
    assert not re.search(r"[A-Za-z]{4,}", record.message), record.message


@pytest.mark.django_db
def test_a_negative_shared_string_index_is_a_damaged_file_not_the_last_string(staff_bj, bj):
    shared = "<si><t>BJ-1-001</t></si><si><t>项目 BJ-1-001</t></si>"
    row = '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>-1</v></c></row>'
    data = workbook([("项目", header_xml(PROJECT_HEADERS) + row)], shared=shared)
    client = client_for(staff_bj)
    upload(client, data, "p.xlsx")
    record = last_record()
    assert record.outcome == ImportRecord.Outcome.REJECTED
    assert record.message and not record.errors


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changelist",
    [
        "/admin/agreements/agreement/",
        "/admin/projects/project/",
        "/admin/projects/disbursement/",
        "/admin/projects/facilityoutput/",
        "/admin/projects/progressreport/",
    ],
)
@pytest.mark.parametrize("who", ["staff_bj", "national"])
def test_every_template_imported_as_downloaded_writes_nothing(request, bj, changelist, who, tmp_path):
    from django.core.management import call_command

    from projects.models import Disbursement, FacilityOutput, ProgressReport

    make_project("BJ-2021-01-001", bj)
    user = request.getfixturevalue(who)
    client = client_for(user)
    template = client.get(changelist + "template.xlsx")
    assert template.status_code == 200

    def state():
        return [
            list(model.objects.order_by("pk").values())
            for model in (Project, Disbursement, FacilityOutput, ProgressReport)
        ]

    before = state()
    response = client.post(changelist + "import/", {"import_file": _named(template.content, "模板.xlsx")})
    assert response.status_code in (302, 303)
    if last_record().outcome == ImportRecord.Outcome.PREVIEWED:
        client.post(response["Location"], {"confirm": "1"})
    path = tmp_path / "模板.xlsx"
    path.write_bytes(template.content)
    try:
        call_command(
            "import_workbook", str(path), "--user", user.username, stdout=io.StringIO(), stderr=io.StringIO()
        )
    except Exception:  # noqa: BLE001 — refusing the template is fine; writing is not
        pass
    assert state() == before


@pytest.mark.django_db
def test_another_users_preview_is_a_404_and_cannot_be_confirmed(staff_bj, staff_hb, bj):
    data = xlsx({"项目": [PROJECT_HEADERS, project_row("BJ-1-001")]})
    response = upload(client_for(staff_bj), data, "p.xlsx")
    other = client_for(staff_hb)
    assert other.get(response["Location"]).status_code == 404
    assert other.post(response["Location"], {"confirm": "1"}).status_code == 404
    assert other.get(response["Location"] + "errors.xlsx").status_code == 404
    assert not Project.objects.exists()


@pytest.mark.django_db
def test_import_workbook_as_staff_refuses_a_closed_quarter_naming_it(staff_bj, bj, tmp_path):
    import datetime

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from projects.models import ClosedPeriod

    make_project("BJ-1-001", bj)
    ClosedPeriod.objects.create(year=2022, quarter=1)
    data = xlsx(
        {
            "资金拨付": [
                ["项目编号", "拨付日期", "拨付金额（万元）", "凭证号"],
                ["BJ-1-001", datetime.datetime(2022, 2, 3), 1, "V1"],
            ]
        }
    )
    path = tmp_path / "d.xlsx"
    path.write_bytes(data)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_workbook", str(path), "--user", "staff_bj", stdout=io.StringIO(), stderr=err)
    assert "2022年第1季度" in err.getvalue()
