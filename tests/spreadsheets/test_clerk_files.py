"""Files a province clerk would send: values that must never import wrong without a word, and the traps of
templates, updates, dates and limits."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from agreements.models import Agreement
from projects.importers import ProjectImporter
from projects.models import Disbursement, FacilityOutput, ProgressReport, Project
from spreadsheets.models import ImportRecord
from spreadsheets.services import import_file
from spreadsheets.writing import write_csv, write_xlsx
from tests.conftest import make_agreement, make_project
from tests.spreadsheets.helpers import PROJECT_HEADERS, both_xlsx_readers, project_row, workbook, xlsx

pytestmark = pytest.mark.usefixtures(both_xlsx_readers.__name__)

HEADER = "".join(
    f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(PROJECT_HEADERS)
)


def inline(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def project_cells(n, *, budget, name=None):
    """Row n of a 项目 sheet written by hand; `budget` and `name` are raw <c> elements (or None)."""
    cells = [
        inline(f"A{n}", f"P-{n}"),
        name if name is not None else inline(f"B{n}", "书屋"),
        inline(f"C{n}", "BJ-1"),
        inline(f"D{n}", "A01"),
        inline(f"E{n}", "653200"),
        inline(f"F{n}", "实施中"),
        budget,
    ]
    return f'<row r="{n}">{"".join(c for c in cells if c)}</row>'


@pytest.fixture
def bj_agreement(db):
    return make_agreement("BJ-1", province="110000", recipient="653200")


def named(project, name):
    Project.objects.filter(pk=project.pk).update(name=name)
    project.refresh_from_db()
    return project


def errors_of(outcome):
    return [(e.row, e.column, e.message) for e in outcome.errors]


# -- values that must not import wrong -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("formula", ["<f>1+1</f>", "<f>1+1</f><v/>", '<f t="shared" si="0"/>'])
def test_a_formula_without_its_result_is_a_row_error_telling_to_save_in_excel(bj_agreement, formula):
    rows = project_cells(2, budget=f'<c r="G2">{formula}</c>') + project_cells(
        3, budget=inline("G3", "5"), name=f'<c r="B3">{formula}</c>'
    )
    with translation.override("en"):
        outcome = import_file(workbook([("项目", f'<row r="1">{HEADER}</row>{rows}')]), "p.xlsx")
    found = {(row, column): message for row, column, message in errors_of(outcome)}
    assert set(found) == {(2, "援助金额（万元）"), (3, "项目名称")}
    assert all("Excel" in message for message in found.values())
    assert not Project.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["NaN", "nan", "INF", "-Infinity", "1E+400", "abc"])
def test_a_number_cell_holding_nan_or_infinity_is_a_row_error_against_its_column(bj_agreement, text):
    rows = project_cells(2, budget=f'<c r="G2"><v>{text}</v></c>') + project_cells(
        3, budget=inline("G3", "5")
    )
    outcome = import_file(workbook([("项目", f'<row r="1">{HEADER}</row>{rows}')]), "p.xlsx")
    assert [(row, column) for row, column, _m in errors_of(outcome)] == [(2, "援助金额（万元）")]


FORMULA_LIKE = [
    "=1+1",
    "+86 10",
    "-",
    "-5%",
    "@SUM(A1)",
    "\tTab",
    "\rCR",
    "'=already quoted",
    "''=x",
    "'plain",
    "'",
]


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_every_formula_like_name_survives_a_round_trip(bj_agreement, fmt):
    for index, name in enumerate(FORMULA_LIKE):
        named(make_project(f"P-{index}", bj_agreement), name)
    importer = ProjectImporter
    rows = list(importer(_context()).export_rows(Project.objects.all()))
    data = (
        write_csv(importer.headers(), rows)
        if fmt == "csv"
        else write_xlsx([("项目", importer.headers(), rows)])
    )
    outcome = import_file(data, f"p.{fmt}", importers=[ProjectImporter])
    assert errors_of(outcome) == []
    assert outcome.totals()["unchanged"] == len(FORMULA_LIKE)
    assert sorted(Project.objects.values_list("name", flat=True)) == sorted(FORMULA_LIKE)


def _context():
    from spreadsheets.importer import ImportContext

    return ImportContext(None)


# -- traps for a clerk -----------------------------------------------------------------------------


ADMIN_MODELS = [
    "agreements_agreement",
    "projects_project",
    "projects_disbursement",
    "projects_facilityoutput",
    "projects_progressreport",
]


@pytest.mark.django_db
@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_importing_a_template_as_downloaded_writes_nothing(client, national, model):
    agreement = make_agreement("BJ-2021-01", province="110000", recipient="653200")
    project = named(make_project("BJ-2021-01-001", agreement), "原名")
    client.force_login(national)
    template = client.get(reverse(f"admin:{model}_template")).content
    response = client.post(
        reverse(f"admin:{model}_import"), {"import_file": SimpleUploadedFile("模板.xlsx", template)}
    )
    assert response.status_code == 302
    record = ImportRecord.objects.get()
    assert record.outcome == ImportRecord.Outcome.REJECTED and not record.staged
    project.refresh_from_db()
    agreement.refresh_from_db()
    assert (project.name, agreement.title) == ("原名", "协议 BJ-2021-01")
    assert Project.objects.count() == 1 and Agreement.objects.count() == 1
    assert not Disbursement.objects.exists() and not FacilityOutput.objects.exists()
    assert not ProgressReport.objects.exists()


@pytest.mark.django_db
def test_the_preview_shows_each_updated_rows_changes_and_how_many_rows_change_each_column(
    client, national, bj_agreement
):
    named(make_project("P-1", bj_agreement, budget="125000.00"), "旧名")
    named(make_project("P-2", bj_agreement, budget="125000.00"), "项目P-2")
    client.force_login(national)
    data = xlsx(
        {
            "项目": [
                PROJECT_HEADERS,
                project_row("P-1", 项目名称="新名", **{"援助金额（万元）": 20, "项目状态": "已完成"}),
                project_row("P-2", **{"援助金额（万元）": 12.5, "开始日期": "2022-03-01"}),
            ]
        }
    )
    response = client.post(
        reverse("admin:projects_project_import"), {"import_file": SimpleUploadedFile("p.xlsx", data)}
    )
    page = client.get(response["Location"]).content.decode()
    record = ImportRecord.objects.get()
    changes = {row["row"]: row.get("changes") for row in record.preview}
    assert {(c["column"], c["old"], c["new"]) for c in changes[2]} >= {
        ("项目名称", "旧名", "新名"),
        ("援助金额（万元）", "12.5", "20"),
        ("项目状态", "实施中", "已完成"),
    }
    assert record.counts["项目"]["columns"]["项目名称"] == 1
    assert record.counts["项目"]["columns"]["援助金额（万元）"] == 1
    assert "旧名" in page and "新名" in page and "12.5" in page
    assert "stale-guard" in page


@pytest.mark.django_db
def test_excel_dates_show_in_the_preview_as_dates(client, national, bj_agreement):
    from datetime import datetime

    client.force_login(national)
    data = xlsx({"项目": [PROJECT_HEADERS, project_row("P-1", 开始日期=datetime(2022, 4, 1))]})
    response = client.post(
        reverse("admin:projects_project_import"), {"import_file": SimpleUploadedFile("p.xlsx", data)}
    )
    page = client.get(response["Location"]).content.decode()
    assert "2022-04-01" in page and "2022-04-01 00:00:00" not in page


@pytest.mark.django_db
def test_the_size_limit_under_one_mb_is_stated_in_a_unit_that_fits(client, national, settings):
    settings.AIDTRACKER_IMPORT_MAX_BYTES = 500_000
    client.force_login(national)
    with translation.override("en"):
        page = client.get(reverse("admin:projects_project_import")).content.decode()
        big = SimpleUploadedFile("p.csv", b"x" * 600_000)
        refused = client.post(reverse("admin:projects_project_import"), {"import_file": big}).content.decode()
    assert "0 MB" not in page and "488.3" in page
    assert "0 MB" not in refused and "488.3" in refused


@pytest.mark.django_db
def test_an_imported_amount_is_exact(bj_agreement):
    outcome = import_file(
        xlsx({"项目": [PROJECT_HEADERS, project_row("P-1", **{"援助金额（万元）": 0.000001})]}), "p.xlsx"
    )
    assert errors_of(outcome) == []
    assert Project.objects.get().budget == Decimal("0.01")


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["12345678901234567890123", "123456789012345678901234567.5", "9" * 40])
def test_an_amount_past_what_decimals_can_hold_is_a_row_error_not_a_crash(bj_agreement, amount):
    rows = [project_row("P-1", **{"援助金额（万元）": amount}), project_row("P-2")]
    with translation.override("zh-hans"):
        outcome = import_file(xlsx({"项目": [PROJECT_HEADERS, *rows]}), "p.xlsx")
    assert [(row, column, message) for row, column, message in errors_of(outcome)] == [
        (2, "援助金额（万元）", "金额过大。")
    ]
    assert not Project.objects.exists()
