"""The 进展报告 sheet: drafts in, drafts and returned reports updated, submitted and approved reports never
changed by a file, closed quarters refused with the quarter named; template and export like other sheets."""

import io

import pytest
from django.core.management import call_command
from django.utils import translation
from openpyxl import load_workbook

from projects.models import ClosedPeriod, ProgressReport
from projects.resources import ProgressReportResource
from spreadsheets.services import import_file
from tests.conftest import make_agreement, make_project
from tests.spreadsheets.helpers import xlsx

pytestmark = pytest.mark.django_db

HEADER = ["项目编号", "年度", "季度", "完成进度（%）", "进展情况"]


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def projects(db):
    bj = make_agreement("BJ-S", province="110000", recipient="653200")
    hb = make_agreement("HB-S", province="420000", recipient="652700")
    return {
        "bj": make_project("BJ-S-001", bj),
        "bj2": make_project("BJ-S-002", bj),
        "hb": make_project("HB-S-001", hb),
    }


def sheet(*rows, header=HEADER, title="进展报告"):
    return xlsx({title: [header, *rows]})


def run(data, user, dry_run=False):
    return import_file(data, "reports.xlsx", user, dry_run=dry_run)


def messages(outcome):
    return [(e.row, e.column, e.message) for e in outcome.errors]


def test_a_row_adds_a_draft_written_by_the_importing_user(projects, staff_bj):
    outcome = run(sheet(["BJ-S-001", 2026, 3, 40, "主体工程完工。"]), staff_bj)
    assert outcome.ok, messages(outcome)
    report = ProgressReport.objects.get()
    assert (report.project, report.year, report.quarter) == (projects["bj"], 2026, 3)
    assert (report.percent_complete, report.narrative, report.status) == (40, "主体工程完工。", "draft")
    assert report.author == staff_bj
    assert report.history.first().history_user == staff_bj
    # The same file again changes nothing.
    again = run(sheet(["BJ-S-001", 2026, 3, 40, "主体工程完工。"]), staff_bj)
    assert again.ok and again.totals()["unchanged"] == 1


def test_english_headers_and_sheet_name_are_accepted(projects, staff_bj):
    header = ["project", "year", "quarter", "percent_complete", "narrative"]
    outcome = run(sheet(["BJ-S-001", 2026, 3, 40, ""], header=header, title="Progress reports"), staff_bj)
    assert outcome.ok, messages(outcome)


def test_drafts_and_returned_reports_are_updated_and_returned_ones_stay_returned(projects, staff_bj):
    draft = ProgressReport.objects.create(project=projects["bj"], year=2026, quarter=3, percent_complete=10)
    returned = ProgressReport.objects.create(
        project=projects["bj2"],
        year=2026,
        quarter=3,
        percent_complete=10,
        status="returned",
        review_note="补照片",
    )
    outcome = run(sheet(["BJ-S-001", 2026, 3, 30, "新进展"], ["BJ-S-002", 2026, 3, 35, "已补充"]), staff_bj)
    assert outcome.ok, messages(outcome)
    draft.refresh_from_db()
    returned.refresh_from_db()
    assert (draft.percent_complete, draft.status, draft.version) == (30, "draft", 2)
    assert (returned.percent_complete, returned.narrative, returned.status) == (35, "已补充", "returned")


@pytest.mark.parametrize("state", ["submitted", "approved"])
def test_submitted_and_approved_reports_are_never_changed_by_a_file(projects, staff_bj, state):
    report = ProgressReport.objects.create(
        project=projects["bj"], year=2026, quarter=3, percent_complete=50, narrative="原文", status=state
    )
    identical = run(sheet(["BJ-S-001", 2026, 3, 50, "原文"]), staff_bj)
    assert identical.ok and identical.totals()["unchanged"] == 1
    changed = run(sheet(["BJ-S-001", 2026, 3, 60, "原文"]), staff_bj)
    assert not changed.ok
    [(row, column, message)] = messages(changed)
    assert row == 2 and column == "完成进度（%）"
    assert report.get_status_display() in message
    report.refresh_from_db()
    assert (report.percent_complete, report.version) == (50, 1)


def test_a_refused_change_to_a_submitted_report_names_each_column_that_would_change(projects, staff_bj):
    ProgressReport.objects.create(
        project=projects["bj"],
        year=2026,
        quarter=3,
        percent_complete=64,
        narrative="原文",
        status="submitted",
    )
    narrative = "主体工程已完工，正在进行内部装修，预计下季度交付使用。" * 5
    changed = run(sheet(["BJ-S-001", 2026, 3, 64, narrative]), staff_bj)
    assert not changed.ok
    [error] = changed.errors
    assert (error.row, error.column) == (2, "进展情况")
    assert error.value.startswith("主体工程已完工") and len(error.value) < len(narrative)
    both = run(sheet(["BJ-S-001", 2026, 3, 70, "新"]), staff_bj)
    assert [(e.column, e.value) for e in both.errors] == [("完成进度（%）", "70"), ("进展情况", "新")]


def test_a_closed_quarter_is_refused_with_a_row_error_naming_it(projects, staff_bj, national):
    ClosedPeriod.objects.create(year=2022, quarter=1, closed_by=national)
    outcome = run(sheet(["BJ-S-001", 2026, 3, 20, ""], ["BJ-S-002", 2022, 1, 20, ""]), staff_bj)
    assert [(row, column) for row, column, _m in messages(outcome)] == [(3, "季度")]
    assert "2022年第1季度" in messages(outcome)[0][2]
    assert not ProgressReport.objects.exists()  # one bad row fails the whole file
    # The national office (allowed to write closed quarters) can.
    assert run(sheet(["BJ-S-002", 2022, 1, 20, ""]), national).ok


def test_another_provinces_project_and_bad_values_are_row_errors(projects, staff_bj):
    outcome = run(
        sheet(["HB-S-001", 2026, 3, 20, ""], ["BJ-S-001", 2026, 5, 20, ""], ["BJ-S-002", 2026, 3, 120, ""]),
        staff_bj,
    )
    assert [(row, column) for row, column, _m in messages(outcome)] == [
        (2, "项目编号"),
        (3, "季度"),
        (4, "完成进度（%）"),
    ]
    assert not ProgressReport.objects.exists()


def test_a_workbook_imports_reports_after_the_projects_it_adds(projects, national):
    data = xlsx(
        {
            "进展报告": [HEADER, ["BJ-S-009", 2026, 3, 5, "刚启动"]],
            "项目": [
                [
                    "项目编号",
                    "项目名称",
                    "协议编号",
                    "项目类别",
                    "受援单位",
                    "项目状态",
                    "援助金额（万元）",
                    "受益人次",
                    "开始日期",
                    "结束日期",
                ],
                ["BJ-S-009", "新项目", "BJ-S", "A01", "653200", "实施中", 10, 0, "2026-01-01", None],
            ],
        }
    )
    outcome = run(data, national)
    assert outcome.ok, messages(outcome)
    assert ProgressReport.objects.get().project.code == "BJ-S-009"


def test_export_writes_the_sheet_that_imports_back_unchanged(projects, staff_bj):
    ProgressReport.objects.create(
        project=projects["bj"], year=2026, quarter=2, percent_complete=25, narrative="=SUM"
    )
    ProgressReport.objects.create(project=projects["hb"], year=2026, quarter=2, percent_complete=5)
    dataset = ProgressReportResource(user=staff_bj).export()
    assert list(dataset.headers) == HEADER
    assert [list(row) for row in dataset] == [["BJ-S-001", 2026, 2, 25, "=SUM"]]  # only the user's scope
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    call_command("export", "XLSX", "projects.resources.ProgressReportResource", stdout=out)
    out.flush()
    workbook = load_workbook(io.BytesIO(out.buffer.getvalue()))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER and len(rows) == 3
    assert run(out.buffer.getvalue(), None).totals()["unchanged"] == 2


def test_the_admin_offers_import_export_and_a_template(client, projects, staff_bj):
    client.force_login(staff_bj)
    page = client.get("/admin/projects/progressreport/").content.decode()
    assert "/admin/projects/progressreport/import/" in page
    template = client.get("/admin/projects/progressreport/template.xlsx")
    assert template.status_code == 200
    workbook = load_workbook(io.BytesIO(template.content))
    assert [c.value for c in workbook["进展报告"][1]] == HEADER
