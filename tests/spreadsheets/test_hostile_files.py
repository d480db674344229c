"""Files an attacker would send to any user who may import: tiny workbooks that would cost gigabytes or
seconds of CPU, and long texts that would multiply into every error, preview and record."""

import json
import tempfile
import tracemalloc

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from spreadsheets.cells import SpreadsheetError
from spreadsheets.models import ImportRecord
from spreadsheets.reading import read_file
from spreadsheets.services import import_recorded, preview_import
from tests.spreadsheets.helpers import PROJECT_HEADERS, both_xlsx_readers, workbook

pytestmark = pytest.mark.usefixtures(both_xlsx_readers.__name__)

HEADER = "".join(
    f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(PROJECT_HEADERS)
)


def _peak_mb(function):
    tracemalloc.start()
    try:
        result = function()
    except Exception as exc:  # noqa: BLE001 — the exception is the result under test
        result = exc
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, peak / 1e6


def test_a_cell_past_the_last_column_is_a_clear_error_without_allocating_its_width():
    rows = "".join(f'<row r="{n}"><c r="AAAAAA{n}"><v>1</v></c></row>' for n in range(2, 10))
    data = workbook([("项目", f'<row r="1">{HEADER}</row>{rows}')])
    assert len(data) < 3000
    result, peak = _peak_mb(lambda: read_file(data, "p.xlsx"))
    assert isinstance(result, SpreadsheetError) and "XFD" in result.message
    assert peak < 20


def test_cells_far_to_the_right_of_the_header_are_never_materialised():
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>P-{n}</t></is></c><c r="XFD{n}"><v>1</v></c></row>'
        for n in range(2, 2000)
    )
    data = workbook([("项目", f'<row r="1">{HEADER}</row>{rows}')])
    result, peak = _peak_mb(lambda: read_file(data, "p.xlsx"))
    [sheet] = result
    assert all(len(values) == len(PROJECT_HEADERS) for _n, values in sheet.rows)
    assert peak < 40


@pytest.mark.django_db
def test_one_long_shared_string_in_many_cells_is_cut_short_everywhere(capsys):
    shared = "<si><t>" + "长" * 1_000_000 + "</t></si>"
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>P-{n}</t></is></c><c r="B{n}" t="s"><v>0</v></c></row>'
        for n in range(2, 52)
    )
    data = workbook([("项目", f'<row r="1">{HEADER}</row>{rows}')], shared=shared)
    assert len(data) < 20_000
    record, peak = _peak_mb(lambda: preview_import(data, "p.xlsx", None, source="command", target="workbook"))
    assert peak < 200
    assert record.outcome == ImportRecord.Outcome.REJECTED
    names = [e for e in record.errors if e["column"] == "项目名称"]
    assert len(names) == 50 and all(len(e["value"]) <= 100 for e in names)
    assert "200" in names[0]["message"]  # the name column's limit
    assert all(len(value) <= 100 for row in record.preview for value in row["values"])
    stored = json.dumps(record.errors, ensure_ascii=False) + json.dumps(record.preview, ensure_ascii=False)
    assert len(stored) < 60_000
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
        handle.write(data)
        handle.flush()
        with pytest.raises(CommandError):
            call_command("import_workbook", handle.name)
    printed = capsys.readouterr()
    assert len(printed.out) + len(printed.err) < 50_000


def test_a_zip_padded_past_what_the_row_limit_can_need_is_refused_before_parsing(settings):
    settings.AIDTRACKER_IMPORT_MAX_ROWS = 100
    padding = "<!--" + " " * 3_000_000 + "-->"
    data = workbook([("项目", f'<row r="1">{HEADER}</row>{padding}')])
    assert len(data) < 100_000
    with pytest.raises(SpreadsheetError, match="100"):
        read_file(data, "p.xlsx")


def test_a_full_sheet_at_the_row_limit_is_within_the_sheet_xml_bound(settings):
    settings.AIDTRACKER_IMPORT_MAX_ROWS = 100
    cells = "".join(
        f'<c r="{chr(65 + i)}{{n}}" t="inlineStr"><is><t>{"值" * 40}</t></is></c>' for i in range(10)
    )
    rows = "".join(f'<row r="{n}">{cells.format(n=n)}</row>' for n in range(2, 102))
    [sheet] = read_file(workbook([("项目", f'<row r="1">{HEADER}</row>{rows}')]), "p.xlsx")
    assert len(sheet.rows) == 100


@pytest.mark.django_db
def test_a_header_wider_than_any_sheet_is_refused():
    cells = "".join(f'<c t="inlineStr"><is><t>h{i}</t></is></c>' for i in range(1000))  # no references
    data = workbook([("项目", f"<row>{cells}</row>")])
    record, _outcome = import_recorded(data, "p.xlsx", None, target="workbook")
    assert record.outcome == ImportRecord.Outcome.REJECTED and "200" in record.message


@pytest.mark.django_db
def test_a_long_inline_text_in_a_column_without_a_length_limit_is_an_error_not_cut_silently():
    long_code = "B" * 50_000
    row = (
        f'<row r="2"><c r="A2" t="inlineStr"><is><t>P-1</t></is></c>'
        f'<c r="B2" t="inlineStr"><is><t>书屋</t></is></c><c r="C2" t="inlineStr"><is><t>{long_code}</t></is></c></row>'
    )
    data = workbook([("项目", f'<row r="1">{HEADER}</row>{row}')])
    record, _outcome = import_recorded(data, "p.xlsx", None, target="workbook")
    errors = {e["column"]: e for e in record.errors}
    assert "协议编号" in errors and len(errors["协议编号"]["value"]) <= 100
