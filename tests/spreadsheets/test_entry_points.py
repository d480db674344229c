"""Every entry point goes through one service that reads, checks, writes and records; concurrent writers
get a clear answer and a failed record, never a traceback; imports cost the same queries at any size."""

import io
import sys
import threading

import pytest
import tablib
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from projects.models import Project
from projects.resources import ProjectResource
from spreadsheets.importer import SheetImporter
from spreadsheets.models import ImportRecord
from spreadsheets.services import confirm_import, import_file, preview_import
from tests.conftest import make_agreement, make_project
from tests.spreadsheets.helpers import AGREEMENT_HEADERS, PROJECT_HEADERS, csv_bytes, project_row, xlsx


@pytest.fixture
def bj_agreement(db):
    return make_agreement("BJ-1", province="110000", recipient="653200")


class _Stdin:
    def __init__(self, data):
        self.buffer = io.BytesIO(data)

    def read(self):  # the library's text read would end here
        raise AssertionError("standard input is read as bytes")


def _no_prompt(*_args):
    raise AssertionError("reading standard input never prompts")


@pytest.mark.django_db
def test_the_library_command_reads_standard_input_never_prompts_and_records_it(bj_agreement, monkeypatch):
    data = csv_bytes([PROJECT_HEADERS, project_row("P-1"), project_row("P-2")], "gb18030")
    monkeypatch.setattr(sys, "stdin", _Stdin(data))
    monkeypatch.setattr("builtins.input", _no_prompt)
    printed = io.StringIO()
    call_command("import", "projects.resources.ProjectResource", "-", "--format", "CSV", stderr=printed)
    assert "新增 2" in printed.getvalue()
    record = ImportRecord.objects.get()
    assert (record.file_name, record.outcome, record.source) == ("<stdin>", "imported", "command")
    assert record.counts["项目"]["new"] == 2 and len(record.sha256) == 64


@pytest.mark.django_db
def test_a_bad_file_on_standard_input_is_recorded_as_refused(bj_agreement, monkeypatch):
    monkeypatch.setattr(
        sys, "stdin", _Stdin(csv_bytes([PROJECT_HEADERS, project_row("P-1", 项目状态="进行")]))
    )
    monkeypatch.setattr("builtins.input", _no_prompt)
    with pytest.raises(SystemExit) as exit_info:
        call_command("import", "projects.resources.ProjectResource", "-", stderr=io.StringIO())
    assert exit_info.value.code == 1
    record = ImportRecord.objects.get()
    assert (record.file_name, record.outcome) == ("<stdin>", "rejected") and record.errors


@pytest.mark.django_db
def test_an_empty_standard_input_is_recorded_as_refused(monkeypatch):
    monkeypatch.setattr(sys, "stdin", _Stdin(b""))
    with pytest.raises(CommandError):
        call_command("import", "projects.resources.ProjectResource", "-")
    assert ImportRecord.objects.get().outcome == "rejected"


@pytest.mark.django_db
def test_a_resources_import_data_is_recorded(bj_agreement):
    dataset = tablib.Dataset(project_row("P-1"), headers=PROJECT_HEADERS)
    result = ProjectResource().import_data(dataset)
    assert not result.has_errors()
    record = ImportRecord.objects.get()
    assert record.outcome == "imported" and record.counts["项目"]["new"] == 1


def _write_together(monkeypatch, parties=2):
    """Make concurrent imports validate first and then write at the same moment."""
    barrier = threading.Barrier(parties, timeout=20)
    original = SheetImporter.write

    def write(self):
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        return original(self)

    monkeypatch.setattr(SheetImporter, "write", write)


def _in_threads(*functions):
    results = [None] * len(functions)

    def run(index, function):
        try:
            results[index] = function()
        except BaseException as exc:  # noqa: BLE001 — reported to the test
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_confirms_of_the_same_new_rows_at_once_one_writes_the_other_fails_cleanly(
    national, monkeypatch, is_postgres
):
    if not is_postgres:
        pytest.skip("concurrent writers need PostgreSQL")
    make_agreement("BJ-1", province="110000", recipient="653200")
    data = xlsx({"项目": [PROJECT_HEADERS, project_row("P-1"), project_row("P-2")]})
    first = preview_import(data, "a.xlsx", national, target="projects.project")
    second = preview_import(data, "b.xlsx", national, target="projects.project")
    _write_together(monkeypatch)
    results = _in_threads(lambda: confirm_import(first, national), lambda: confirm_import(second, national))
    assert not any(isinstance(r, BaseException) for r in results), results
    outcomes = sorted(ImportRecord.objects.values_list("outcome", flat=True))
    assert outcomes == ["failed", "imported"]
    failed = ImportRecord.objects.get(outcome="failed")
    assert failed.message and failed.finished_at and not failed.staged
    assert Project.objects.count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_import_workbook_runs_at_once_one_exits_1_with_a_message(monkeypatch, tmp_path, is_postgres):
    if not is_postgres:
        pytest.skip("concurrent writers need PostgreSQL")
    make_agreement("BJ-1", province="110000", recipient="653200")
    path = tmp_path / "book.xlsx"
    path.write_bytes(xlsx({"项目": [PROJECT_HEADERS, project_row("P-1")]}))
    _write_together(monkeypatch)
    out = [io.StringIO(), io.StringIO()]
    results = _in_threads(
        *(
            lambda i=i: call_command("import_workbook", str(path), stdout=out[i], stderr=out[i])
            for i in range(2)
        )
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1 and isinstance(failures[0], CommandError), results
    assert "Traceback" not in str(failures[0]) and str(failures[0])
    assert sorted(ImportRecord.objects.values_list("outcome", flat=True)) == ["failed", "imported"]


@pytest.mark.django_db
def test_pointing_existing_rows_at_an_agreement_the_workbook_adds_costs_the_same_queries_at_any_size(
    bj_agreement, national
):
    counts = {}
    for size in (5, 40):
        codes = [f"P-{size}-{n}" for n in range(size)]
        for code in codes:
            make_project(code, bj_agreement)
        agreement = f"BJ-NEW-{size}"
        book = xlsx(
            {
                "协议": [
                    AGREEMENT_HEADERS,
                    [agreement, "新协议", "110000", None, "653200", "2021-03-01", None, None, 100, "已签订"],
                ],
                "项目": [PROJECT_HEADERS, *(project_row(code, agreement=agreement) for code in codes)],
            }
        )
        with CaptureQueriesContext(connection) as queries:
            outcome = import_file(book, "book.xlsx", national)
        assert outcome.errors == [] and outcome.totals()["updated"] == size
        assert Project.objects.filter(agreement__code=agreement).count() == size
        counts[size] = len(queries)
    assert counts[5] == counts[40], counts
