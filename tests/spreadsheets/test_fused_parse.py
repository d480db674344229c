"""A sheet calamine reads is parsed from its raw rows (SheetImporter._parse_raw: each distinct raw cell of a
column converted and parsed once); the parsed rows, the errors and the rows kept for the preview are those of
the rows as read, by calamine or by our reader (the reference)."""

from datetime import date, datetime

import pytest

from projects.importers import ProjectImporter
from spreadsheets import importer as importer_module
from spreadsheets import reading
from spreadsheets.calamine_rows import CalamineRows, converted, raw_memorable
from spreadsheets.importer import ImportContext, SheetImporter
from spreadsheets.reading import open_file
from tests.spreadsheets.helpers import PROJECT_HEADERS, workbook

STYLES = '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="22"/></cellXfs>'
COLUMNS = "ABCDEFGHIJ"


def text(ref, value):
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'


def row(n, cells, columns=COLUMNS):
    """A row of cells (None for none) under the header's columns: a str is a text, a number a number, a
    ("date", serial) a date cell, ("datetime", serial) a date-time cell, a bool a boolean, raw XML as
    ("xml", body) — the cell's reference put in."""
    out = []
    for column, value in zip(columns, cells, strict=False):
        ref = f"{column}{n}"
        if value is None:
            continue
        if isinstance(value, bool):
            out.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
        elif isinstance(value, str):
            out.append(text(ref, value))
        elif isinstance(value, tuple) and value[0] == "xml":
            out.append(f'<c r="{ref}"{value[1]}</c>')
        elif isinstance(value, tuple):
            out.append(f'<c r="{ref}" s="{1 if value[0] == "date" else 2}"><v>{value[1]}</v></c>')
        else:
            out.append(f'<c r="{ref}"><v>{value}</v></c>')
    return f'<row r="{n}">{"".join(out)}</row>'


def awkward_rows(columns=COLUMNS):
    good = ["P-1", "项目", "BJ-1", "A01", "653200", "实施中", 12.5, 100, ("date", 44805), ("date", 44900)]
    rows = [
        good,
        [" P-2\t", "  名称\u3000 ", "BJ-1 ", "A01", "653200", "实施中", 3, 7.0, "2022/3/1", ("date", 44900)],
        ["P-3", "", "BJ-1", "A01", "653200", "in_progress", 2.25, 1, ("datetime", 44805.5), "2022-12-31"],
        ["   ", "", " \t", None, None, None, None, None, None, None],  # blank: no row, no error
        ["P-4", "项目", "BJ-1", "A01", "653200", "实施中", 1, True, ("date", 44805), ("date", 44900)],
        ["P-5", "项目", "BJ-1", "A01", "653200", "实施中", 0, False, ("date", 44805), ("date", 44900)],
        ["P-6", "项目", "BJ-1", "A01", "653200", "未知", "abc", 1.5, "not a date", ("date", 44900)],
        ["P-7", ("xml", "><f>1+1</f>"), "BJ-1", "A01", "653200", "实施中", 12.5, 100, None, None],
        ["P-8", "项目", ("xml", ' t="e"><v>#N/A</v>'), "A01", "653200", "实施中", 12.5, 100, None, None],
        [None, None, None, None, None, None, None, None, None, None],
        [None, "只有名称", None, None, None, None, None, None, None, None],  # errors: required cells
        ["P-9", "项目", "BJ-1", "A01", "653200", "实施中", 1.0, 1, ("date", 44805), ("date", 44900)],
        ["P-10", "项目", "BJ-1", "A01", "653200", "实施中", 12.5, 0.0, ("date", 44805), ("date", 44900)],
    ]
    rows += [
        [
            f"P-{n}",
            f" 项目{n % 3} ",
            "BJ-1",
            "A01",
            "653200",
            "实施中",
            n / 4,
            n % 3,
            ("date", 44805 + n % 5),
            None,
        ]
        for n in range(11, 40)
    ]
    rows.append(["P-7", "项目", "BJ-1", "A01", "653200", "实施中", 12.5, 100, None, None])  # a repeated key
    return [row(n, cells, columns) for n, cells in enumerate(rows, start=2)]


def parsed(data, fast=True, keep=3, raw_rows=True):
    """(parsed rows, errors, kept rows, whether the raw rows were parsed) of the projects sheet, read by
    calamine (parsed from its raw rows, or from its rows as read) or by our reader."""
    reading.FAST_XLSX = fast
    try:
        raw = open_file(data, "p.xlsx")[0]
        if not raw_rows:
            raw.fuse = None
        importer = ProjectImporter(ImportContext())
        fused = []
        original = importer._parse_raw
        importer._parse_raw = lambda *args, **kwargs: fused.append(1) or original(*args, **kwargs)
        rows = [(number, tuple(values)) for number, values in importer.parse_rows(raw, keep=keep)]
    finally:
        reading.FAST_XLSX = True
    errors = [error.as_dict() for error in importer.errors]
    return repr(rows), errors, repr(raw.kept), bool(fused)


def header(columns):
    return (
        '<row r="1">'
        + "".join(text(f"{c}1", h) for c, h in zip(columns, PROJECT_HEADERS, strict=True))
        + "</row>"
    )


def check(data, keep=3):
    """The same rows, errors and kept rows parsed from calamine's raw rows as from its rows as read; the same
    rows and errors as from our reader's (whose kept rows may differ: it reads "7.0" as a float)."""
    fused = parsed(data, keep=keep)
    as_read = parsed(data, keep=keep, raw_rows=False)
    ours = parsed(data, fast=False, keep=keep)
    assert fused[3] and not as_read[3] and not ours[3]
    assert fused[:3] == as_read[:3]
    assert fused[:2] == ours[:2]
    return fused


@pytest.mark.parametrize("keep", [0, 3, 100])
def test_awkward_cells_parse_alike_from_calamines_raw_rows(keep):
    data = workbook([("项目", header(COLUMNS) + "".join(awkward_rows()))], styles=STYLES)
    rows, errors, kept, _fused = check(data, keep)
    assert kept.count("datetime") >= min(keep, 3)  # the kept rows hold the values as read
    assert any(error["row"] == 12 for error in errors)  # the row with a name only
    assert not any(error["row"] in (5, 11) for error in errors)  # the blank rows


def test_a_header_whose_columns_are_not_contiguous_parses_alike():
    columns = "BCDFGHJKLN"
    data = workbook([("项目", header(columns) + "".join(awkward_rows(columns)))], styles=STYLES)
    check(data)
    columns = "CDEFGHIJKL"  # contiguous, past calamine's first column (A holds a value)
    rows = awkward_rows(columns)
    rows[0] = rows[0].replace('<row r="2">', '<row r="2"><c r="A2"><v>5</v></c>')
    check(workbook([("项目", header(columns) + "".join(rows))], styles=STYLES))


def test_columns_past_their_memo_limit_parse_alike(monkeypatch):
    monkeypatch.setattr(importer_module, "MEMO_LIMIT", 2)
    check(workbook([("项目", header(COLUMNS) + "".join(awkward_rows()))], styles=STYLES))


def test_formulas_without_a_value_past_calamines_range_parse_alike():
    rows = "".join(awkward_rows()[:3]) + '<row r="60"><c r="A60"><f>1+1</f></c></row>'
    rows_fused, errors, _kept, _fused = check(workbook([("项目", header(COLUMNS) + rows)], styles=STYLES), 0)
    assert any(error["row"] == 60 for error in errors)


def test_a_sheet_that_reads_its_cells_its_own_way_is_not_parsed_raw(monkeypatch):
    called = []

    def parse_cell(self, column, value):
        called.append(value)
        return SheetImporter.parse_cell(self, column, value)

    monkeypatch.setattr(ProjectImporter, "parse_cell", parse_cell)
    data = workbook([("项目", header(COLUMNS) + "".join(awkward_rows()))], styles=STYLES)
    fused = parsed(data)
    assert not fused[3] and fused[:2] == parsed(data, fast=False)[:2]
    assert called.count("P-7") == 4  # twice a parse (both readers): nothing remembered


def test_the_row_limit_holds_when_the_rows_are_parsed_raw(settings):
    from spreadsheets.cells import SpreadsheetError

    settings.AIDTRACKER_IMPORT_MAX_ROWS = 5
    data = workbook([("项目", header(COLUMNS) + "".join(awkward_rows()))], styles=STYLES)
    for fast in (True, False):
        with pytest.raises(SpreadsheetError, match="5"):
            parsed(data, fast=fast)


def test_raw_cells_convert_as_our_reader_gives_them_and_only_unambiguous_ones_are_remembered():
    assert converted(" a\t") == "a" and converted("\u3000 ") is None and converted("") is None
    assert converted(3.0) == 3 and converted(3.0).__class__ is int and converted(2.5) == 2.5
    assert converted(2.0**53).__class__ is float and converted(-(2.0**53)).__class__ is float
    assert converted(date(2022, 9, 1)) == datetime(2022, 9, 1) and converted(True) is True
    assert all(map(raw_memorable, ["", " x", 2.5, 7.0, 7, date(2022, 1, 1), datetime(2022, 1, 1, 5)]))
    assert not any(map(raw_memorable, [True, False, 1.0, 0.0, -0.0, 1, 0, float("nan"), None]))
    assert CalamineRows.__iter__  # the iterated rows are those `values` gives (tests above)
