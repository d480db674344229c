"""Long work in bounded memory and with its progress shown: exports read in keyset chunks, staged rows
streamed, the workbook command's progress on a terminal only."""

import io
import tempfile
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from projects.importers import DisbursementImporter, ProjectImporter
from projects.models import Disbursement, Project
from spreadsheets.importer import ImportContext, keyset
from spreadsheets.services import load_staged, preview_import
from tests.conftest import make_agreement, make_project
from tests.spreadsheets.helpers import PROJECT_HEADERS, project_row, xlsx


@pytest.fixture
def agreement(db):
    return make_agreement("BJ-1", province="110000", recipient="653200")


@pytest.mark.django_db
def test_keyset_chunks_read_every_row_once_in_order(agreement):
    for n in (5, 1, 4, 2, 3):
        project = make_project(f"P-{n}", agreement)
        for reference in ("B", "A"):
            Disbursement.objects.create(
                project=project, date=date(2022, 1, n), amount=Decimal(1), reference=reference
            )
    codes = [code for (code,) in keyset(Project.objects.all(), ["code"], ["code"], chunk=2)]
    assert codes == ["P-1", "P-2", "P-3", "P-4", "P-5"]
    order = ["project__code", "date", "reference"]
    rows = list(keyset(Disbursement.objects.all(), order, ["project__code", "reference"], chunk=3))
    assert rows == [(f"P-{n}", r) for n in range(1, 6) for r in ("A", "B")]


@pytest.mark.django_db
def test_exports_read_no_more_than_a_chunk_at_a_time(agreement, django_assert_max_num_queries):
    for n in range(12):
        make_project(f"P-{n:02d}", agreement)
    importer = ProjectImporter(ImportContext(None))
    from spreadsheets import importer as engine

    original = engine.keyset
    seen = []

    def small(queryset, order, fields, chunk=5000, **options):
        seen.append(chunk)
        return original(queryset, order, fields, chunk=5, **options)

    engine_rows = None
    try:
        import projects.importers as module

        module.keyset = small
        engine_rows = list(importer.export_rows(Project.objects.all()))
    finally:
        module.keyset = original
    assert [row[0] for row in engine_rows] == [f"P-{n:02d}" for n in range(12)] and seen
    assert list(DisbursementImporter(ImportContext(None)).export_rows(Disbursement.objects.all())) == []


@pytest.mark.django_db
def test_staged_rows_survive_the_stream_to_the_database_and_back(agreement, national):
    rows = [PROJECT_HEADERS, *(project_row(f"P-{n:04d}", 项目名称="职工书屋" * 10) for n in range(3000))]
    record = preview_import(xlsx({"项目": rows}), "p.xlsx", national, target="projects.project")
    assert record.outcome == "previewed"
    sheets, versions = load_staged(bytes(record.staged))
    [(cls, staged)] = sheets
    assert cls is ProjectImporter and len(staged) == 3000 and versions == {}
    number, key, values = staged[-1]
    assert staged[0][0] == 2 and (number, key) == (3001, "P-2999")
    # What the preview resolved the row to: a dict of field values, or on PostgreSQL the row ready to COPY.
    assert "职工书屋" * 10 in (values if isinstance(values, str) else values["name"])


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.django_db
@pytest.mark.parametrize("terminal", [True, False])
def test_import_workbook_shows_progress_per_sheet_on_a_terminal_only(agreement, terminal):
    err = _Terminal() if terminal else io.StringIO()
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
        handle.write(xlsx({"项目": [PROJECT_HEADERS, project_row("P-1")]}))
        handle.flush()
        call_command("import_workbook", handle.name, stdout=io.StringIO(), stderr=err)
    printed = err.getvalue()
    assert ("项目" in printed) is terminal
