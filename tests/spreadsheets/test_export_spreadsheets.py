"""Exports are formula-safe and lossless: an export imported back changes nothing."""

import io
import zipfile
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from projects.importers import ProjectImporter
from projects.models import Project
from spreadsheets.services import import_file
from tests.conftest import make_agreement, make_project

# Every prefix a spreadsheet would act on, a leading tab and CR included: all come back unchanged.
DANGEROUS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.fixture
def projects(db):
    agreement = make_agreement("=BJ-1", province="110000", recipient="653200")
    made = []
    for index, name in enumerate(DANGEROUS):
        project = make_project(f"P-{index}", agreement, budget="123456.78")
        Project.objects.filter(pk=project.pk).update(name=name)
        made.append(project)
    return made


def export(client, user, fmt, query=""):
    client.force_login(user)
    response = client.get(reverse("admin:projects_project_export", args=[fmt]) + query)
    assert response.status_code == 200
    return response.content


@pytest.mark.django_db
def test_xlsx_export_writes_formula_like_text_as_quoted_text_and_amounts_as_numbers(
    client, national, projects
):
    data = export(client, national, "xlsx")
    book = load_workbook(io.BytesIO(data))
    sheet = book["项目"]
    for row in sheet.iter_rows(min_row=2):
        name, agreement, amount = row[1], row[2], row[6]
        assert name.data_type == "s" and name.value in DANGEROUS
        assert name.quotePrefix, "Excel shows it as text, never runs it"
        assert agreement.data_type == "s" and agreement.value == "=BJ-1"
        assert amount.data_type == "n" and Decimal(str(amount.value)) == Decimal("12.345678")
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml


@pytest.mark.django_db
def test_csv_export_prefixes_formula_like_text_and_import_strips_it(client, national, projects):
    data = export(client, national, "csv")
    text = data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+1+1" in text and "'-2+3" in text and "'@SUM" in text
    assert ",12.345678," in text


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_export_imported_back_changes_nothing(client, national, projects, fmt):
    data = export(client, national, fmt)
    history = Project.history.count()
    outcome = import_file(data, f"export.{fmt}", national, importers=[ProjectImporter])
    assert outcome.errors == []
    assert outcome.counts["项目"] == {"new": 0, "updated": 0, "unchanged": len(DANGEROUS), "errors": 0}
    assert Project.history.count() == history
    assert sorted(Project.objects.values_list("name", flat=True)) == sorted(DANGEROUS)


@pytest.mark.django_db
def test_export_keeps_to_the_users_scope(client, staff_hb, projects):
    rows = load_workbook(io.BytesIO(export(client, staff_hb, "xlsx")))["项目"].max_row
    assert rows == 1


@pytest.mark.django_db
def test_the_libraries_export_command_is_formula_safe(projects, capsysbinary):
    call_command("export", "XLSX", "projects.resources.ProjectResource")
    data = capsysbinary.readouterr().out
    sheet = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in sheet[1]][:3] == ["项目编号", "项目名称", "协议编号"]
    assert all(row[1].data_type == "s" for row in sheet.iter_rows(min_row=2))
    call_command("export", "CSV", "projects.resources.ProjectResource")
    assert "'=HYPERLINK" in capsysbinary.readouterr().out.decode("utf-8-sig")
