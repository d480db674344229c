"""Imports stream: the file's rows are read, validated, staged and written a chunk at a time, so memory is one
chunk's whatever the file's size — and a bad row in a late chunk still leaves nothing written."""

import pytest

from projects.importers import DisbursementImporter, ProjectImporter
from projects.models import Disbursement, Project
from spreadsheets import importer as engine
from spreadsheets.reading import open_file
from spreadsheets.services import confirm_import, import_file, load_staged, preview_import
from tests.conftest import make_agreement
from tests.spreadsheets.helpers import PROJECT_HEADERS, both_xlsx_readers, csv_bytes, project_row, xlsx

pytestmark = pytest.mark.usefixtures(both_xlsx_readers.__name__)

CHUNK = 7


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of CHUNK rows, and a record of the size of every chunk validated."""
    sizes = []
    original = engine.SheetImporter.validate_chunk

    def recording(self, rows, resolved=None):
        sizes.append(len(rows))
        return original(self, rows, resolved)

    monkeypatch.setattr("spreadsheets.services.ROWS_PER_CHUNK", CHUNK)
    monkeypatch.setattr(engine.SheetImporter, "validate_chunk", recording)
    return sizes


@pytest.fixture
def agreement(db):
    return make_agreement("BJ-1", province="110000", recipient="653200")


def projects_file(count, **bad):
    rows = [project_row(f"P-{n:03d}", **(bad if n == count - 1 else {})) for n in range(count)]
    return xlsx({"项目": [PROJECT_HEADERS, *rows]})


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_reader_hands_out_rows_as_they_are_read_not_all_at_once(fmt):
    rows = [PROJECT_HEADERS, *(project_row(f"P-{n}") for n in range(5))]
    data = xlsx({"项目": rows}) if fmt == "xlsx" else csv_bytes(rows)
    [sheet] = open_file(data, f"p.{fmt}")
    assert sheet.header == PROJECT_HEADERS
    assert not isinstance(sheet.rows, list)
    assert next(iter(sheet.rows))[1][0] == "P-0"
    assert [values[0] for _number, values in sheet.rows] == ["P-1", "P-2", "P-3", "P-4"]


def test_a_preview_and_its_confirm_validate_a_chunk_at_a_time(agreement, national, small_chunks):
    record = preview_import(projects_file(30), "p.xlsx", national, target="projects.project")
    assert record.outcome == "previewed" and record.counts["项目"]["new"] == 30
    assert small_chunks == [7, 7, 7, 7, 2]
    small_chunks.clear()
    record, outcome = confirm_import(record, national)
    assert record.outcome == "imported" and outcome.written
    assert small_chunks == [7, 7, 7, 7, 2]
    assert Project.objects.count() == 30


def test_a_bad_row_in_the_last_chunk_leaves_nothing_written_by_earlier_chunks(
    agreement, national, small_chunks
):
    outcome = import_file(projects_file(30, 项目类别="X99"), "p.xlsx", national, importers=[ProjectImporter])
    assert [(e.row, e.column) for e in outcome.errors] == [(31, "项目类别")]
    assert not outcome.written
    assert Project.objects.count() == 0
    assert Project.history.count() == 0


def test_a_key_repeated_in_a_later_chunk_is_a_duplicate(agreement, national, small_chunks):
    rows = [project_row(f"P-{n:03d}") for n in range(20)] + [project_row("P-002")]
    outcome = import_file(xlsx({"项目": [PROJECT_HEADERS, *rows]}), "p.xlsx", national)
    [error] = outcome.errors
    assert error.row == 22 and "第 4 行" in error.message
    assert Project.objects.count() == 0


def test_counts_and_changes_add_up_over_chunks(agreement, national, small_chunks):
    assert import_file(projects_file(20), "p.xlsx", national).written
    rows = [project_row(f"P-{n:03d}", 项目名称="新名称" if n % 2 else f"项目P-{n:03d}") for n in range(25)]
    record = preview_import(
        xlsx({"项目": [PROJECT_HEADERS, *rows]}), "p.xlsx", national, target="projects.project"
    )
    counts = record.counts["项目"]
    assert (counts["new"], counts["updated"], counts["unchanged"]) == (5, 10, 10)
    assert counts["columns"]["项目名称"] == 10
    shown = [entry for entry in record.preview if entry["action"] == "updated"]
    assert len(shown) == 10 and all(entry["changes"] for entry in shown)


def test_a_workbooks_later_sheet_names_records_an_earlier_sheets_chunks_added(
    agreement, national, small_chunks
):
    projects = [project_row(f"P-{n:03d}") for n in range(15)]
    payments = [[f"P-{n:03d}", "2022-04-15", 1, f"PZ-{n}"] for n in range(15)]
    book = xlsx(
        {
            "资金拨付": [["项目编号", "拨付日期", "拨付金额（万元）", "凭证号"], *payments],
            "项目": [PROJECT_HEADERS, *projects],
        }
    )
    record = preview_import(book, "w.xlsx", national, importers=[ProjectImporter, DisbursementImporter])
    assert record.outcome == "previewed", record.errors
    sheets, _versions = load_staged(bytes(record.staged))
    assert [cls for cls, _rows in sheets] == [ProjectImporter, DisbursementImporter]
    record, outcome = confirm_import(record, national)
    assert outcome.written
    assert Disbursement.objects.count() == 15 and Project.objects.count() == 15


def test_preview_memory_grows_by_far_less_than_the_rows_it_reads(agreement, national, monkeypatch):
    """Four times the rows costs a few bytes a row more (the keys seen, the compressed staging), not the rows
    themselves: measured with chunks of 1,000 rows, a 16,000-row preview peaks within 6 MB of a 4,000-row one
    (holding the rows, as imports did before, it took 18 MB more)."""
    import tracemalloc

    monkeypatch.setattr("spreadsheets.services.ROWS_PER_CHUNK", 1000)
    peaks = {}
    for count in (4000, 16000):
        data = xlsx({"项目": [PROJECT_HEADERS, *(project_row(f"M-{n:06d}") for n in range(count))]})
        tracemalloc.start()
        try:
            record = preview_import(data, "p.xlsx", national, target="projects.project")
            peaks[count] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert record.outcome == "previewed" and record.counts["项目"]["new"] == count
    assert peaks[16000] - peaks[4000] < 6_000_000, peaks


def test_a_workbook_written_in_chunks_keeps_the_dashboard_figures_exact(agreement, national, small_chunks):
    from projects.models import ProjectRollup
    from projects.rollups import rollup_differences

    projects = [project_row(f"P-{n:03d}", 项目状态="实施中" if n % 3 else "已完成") for n in range(20)]
    payments = [["P-001", "2022-04-15", 20, "PZ-1"], ["P-019", "2022-05-15", 5, "PZ-2"]]
    sheets = {
        "项目": [PROJECT_HEADERS, *projects],
        "资金拨付": [["项目编号", "拨付日期", "拨付金额（万元）", "凭证号"], *payments],
    }
    record = preview_import(xlsx(sheets), "p.xlsx", national)
    record, outcome = confirm_import(record, national)
    assert outcome.written and Project.objects.count() == 20 and Disbursement.objects.count() == 2
    assert sorted(Project.history.values_list("code", flat=True)) == [f"P-{n:03d}" for n in range(20)]
    assert rollup_differences() == []
    # Every project moved to another status: their rollup rows under the old status fall to nothing.
    moved = [project_row(f"P-{n:03d}", 项目状态="计划中") for n in range(20)]
    outcome = import_file(xlsx({"项目": [PROJECT_HEADERS, *moved]}), "p.xlsx", national)
    assert outcome.written and outcome.totals()["updated"] == 20
    assert rollup_differences() == []
    assert set(ProjectRollup.objects.values_list("status", flat=True)) == {"planned"}
