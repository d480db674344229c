"""The fast xlsx path: python-calamine reads a sheet only when our pre-scan of its XML finds nothing it would
read differently or expensively; then the rows are those our reader (the reference) gives. Every hostile or
odd case goes to our reader, before calamine ever opens the sheet."""

import io
import re
import subprocess
import sys
import zipfile
from datetime import datetime

import pytest

from spreadsheets import reading
from spreadsheets.cells import FORMULA_WITHOUT_VALUE
from spreadsheets.reading import open_file, read_file
from spreadsheets.xlsx_fast import LETTERS, FastBook, _greater_than
from tests.spreadsheets.helpers import PROJECT_HEADERS, project_row, workbook, xlsx

HEADER = "".join(
    f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(PROJECT_HEADERS)
)
STYLES = (
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy/m/d;@"/>'
    '<numFmt numFmtId="165" formatCode="[h]:mm:ss"/></numFmts>'
    '<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="165"/>'
    '<xf numFmtId="21"/></cellXfs>'
)


@pytest.fixture
def paths(monkeypatch):
    """The reader each sheet's rows went through: 'calamine' or 'expat', in the order they were read."""
    used = []
    original = FastBook.rows

    def recording(self, *args):
        rows = original(self, *args)
        used.append("expat" if rows is None else "calamine")
        return rows

    monkeypatch.setattr(FastBook, "rows", recording)
    return used


def both_readers(data, filename="p.xlsx"):
    """The sheets as (title, header, rows) read with calamine allowed, and with our reader only."""
    out = []
    for fast in (True, False):
        reading.FAST_XLSX = fast
        try:
            out.append([(s.title, s.header, s.rows) for s in read_file(data, filename)])
        finally:
            reading.FAST_XLSX = True
    return out


def sheet(rows_xml, **kwargs):
    return workbook([("项目", f'<row r="1">{HEADER}</row>{rows_xml}')], **kwargs)


def test_an_ordinary_workbook_is_read_by_calamine_with_the_same_rows(paths):
    rows = [
        project_row(f"P-{n}", **{"援助金额（万元）": n / 7, "开始日期": datetime(2022, 1, n + 1)})
        for n in range(30)
    ]
    rows[3][1] = "  全角\u3000"
    rows[4][7] = None
    data = xlsx({"项目": [PROJECT_HEADERS, *rows], "协议": [["协议编号"], ["BJ-1"]]})
    fast, ours = both_readers(data)
    assert paths == ["calamine", "calamine"]
    assert repr(fast) == repr(ours)
    assert fast[0][2][0][1][6] == 0  # 0/7: an int, as our reader gives a whole number
    assert fast[0][2][1][1][8] == datetime(2022, 1, 2)
    assert fast[0][2][3][1][1] == "全角"


def test_the_benchmark_file_reads_alike_through_calamine(paths):
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_import", "bench/import.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    fast, ours = both_readers(bench.make_xlsx(2000, "P"))
    assert paths[0] == "calamine" and repr(fast) == repr(ours)


def test_the_rows_stay_lazy_and_the_sheet_is_scanned_only_when_its_rows_are_wanted(paths):
    [raw] = open_file(xlsx({"项目": [PROJECT_HEADERS, *(project_row(f"P-{n}") for n in range(5))]}), "p.xlsx")
    assert paths == [] and raw.header == PROJECT_HEADERS and not isinstance(raw.rows, list)
    assert next(iter(raw.rows))[1][0] == "P-0"
    assert paths == ["calamine"]


def cells(n, *xml):
    return f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>P-{n}</t></is></c>{"".join(xml)}</row>'


def test_formulas_without_a_value_and_error_cells_are_read_by_calamine_and_given_as_ours(paths):
    rows = (
        cells(
            2, '<c r="B2"><f>1+1</f></c>', '<c r="G2"><f>1+1</f><v/></c>', '<c r="H2" t="str"><f>A1</f></c>'
        )
        + cells(3, '<c r="B3" t="e"><v>#N/A</v></c>', '<c r="G3" t="e"><f>1/0</f><v>#DIV/0!</v></c>')
        + cells(4, '<c r="B4" t="str"><f>A1</f><v></v></c>', '<c r="G4"><f>1+1</f><v>2</v></c>')
        + cells(
            5,
            '<c r="C5" t="s"><v>0</v></c>',
            '<c r="D5" t="b"><v>1</v></c>',
            '<c r="I5" s="1"><v>44805</v></c>',
        )
        + cells(6, '<c r="I6" s="1"><v>1.5</v></c>', '<c r="J6" s="4"><v>0.25</v></c>')
    )
    fast, ours = both_readers(sheet(rows, shared="<si><t>BJ-1</t></si>", styles=STYLES))
    assert paths[0] == "calamine" and repr(fast) == repr(ours)
    values = dict(fast[0][2])
    assert values[2][1] is FORMULA_WITHOUT_VALUE and values[2][6] is FORMULA_WITHOUT_VALUE
    assert values[2][7] is FORMULA_WITHOUT_VALUE
    assert values[3][1] == "#N/A" and values[3][6] == "#DIV/0!"
    assert values[4][1] is None and values[4][6] == 2
    assert values[5][2:4] == ["BJ-1", True] and values[5][8] == datetime(2022, 9, 1)


HOSTILE = {
    "a cell at the last column": cells(2, '<c r="XFD2"><v>1</v></c>'),
    "a cell past Z": cells(2, '<c r="AA2"><v>1</v></c>'),
    "a cell past the header below the last row": cells(
        2, '<c r="L2"><v>1</v></c>', '<c r="B150000"><v>1</v></c>'
    ),
    "a cell at the last row": cells(2) + '<row r="1048576"><c r="A1048576"><v>1</v></c></row>',
    "a cell naming another row": '<row r="2"><c r="A900000"><v>1</v></c></row>',
    "rows out of order": cells(3) + cells(2),
    "a repeated row": cells(2) + cells(2),
    "a cell without a reference": '<row r="2"><c t="inlineStr"><is><t>P-1</t></is></c></row>',
    "a row without a number": '<row><c r="A2" t="inlineStr"><is><t>P-1</t></is></c></row>',
    "a negative number": cells(2, '<c r="G2"><v>-5</v></c>'),
    "a number in exponent form": cells(2, '<c r="G2"><v>1E+20</v></c>'),
    "a huge number": cells(2, '<c r="I2" s="1"><v>99999999</v></c>'),
    "a number that is not one": cells(2, '<c r="G2"><v>NaN</v></c>'),
    "an ISO date cell": cells(2, '<c r="I2" t="d"><v>2022-01-02</v></c>'),
    "an odd boolean": cells(2, '<c r="D2" t="b"><v>2</v></c>'),
    "an escaped character": cells(2, '<c r="B2" t="inlineStr"><is><t>a_x000D_b</t></is></c>'),
    "a literal carriage return": cells(2, '<c r="B2" t="inlineStr"><is><t>a\rb</t></is></c>'),
    "a leading tab": cells(2, '<c r="B2" t="inlineStr"><is><t>\tTab</t></is></c>'),
    "rich text with spaces": cells(2, '<c r="B2" t="inlineStr"><is><r><t>A </t></r><r><t>B</t></r></is></c>'),
    "a long inline text": cells(2, '<c r="B2" t="inlineStr"><is><t>' + "长" * 2000 + "</t></is></c>"),
    "an inline-string cell with a value": cells(2, '<c r="B2" t="inlineStr"><v>5</v></c>'),
    "a duration": cells(2, '<c r="I2" s="3"><v>58538.433740034</v></c>'),
    "a formula in another shape": cells(2, '<c r="B2"><f>1+1</f><extLst/></c>'),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_each_hostile_or_odd_sheet_is_read_by_our_reader_as_before(paths, case):
    data = sheet(HOSTILE[case], styles=STYLES)
    fast, ours = both_readers(data) if case != "a cell at the last row" else (None, None)
    if case == "a cell at the last row":
        reading.read_file(data, "p.xlsx")
    else:
        assert repr(fast) == repr(ours)
    assert paths[0] == "expat"


@pytest.mark.parametrize(
    "shared",
    [
        "<si><t>" + "长" * 2000 + "</t></si>",  # longer than the cap
        "<si><r><t>A </t></r><r><t>B</t></r></si>",
        "<si><t>a_x000D_b</t></si>",
    ],
)
def test_shared_strings_calamine_would_read_otherwise_send_the_workbook_to_our_reader(paths, shared):
    fast, ours = both_readers(sheet(cells(2, '<c r="B2" t="s"><v>0</v></c>'), shared=shared))
    assert paths[0] == "expat" and repr(fast) == repr(ours)


def test_date_styles_calamine_classifies_otherwise_send_the_workbook_to_our_reader(paths):
    # numFmtId 31 (yyyy"年"m"月"d"日" in Chinese Excel) is no date to openpyxl's table; calamine takes it for one.
    styles = '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="31"/></cellXfs>'
    fast, ours = both_readers(sheet(cells(2, '<c r="I2" s="1"><v>44805</v></c>'), styles=styles))
    assert repr(fast) == repr(ours) and fast[0][2][0][1][8] == 44805
    assert paths[0] == "expat"


def test_a_workbook_without_package_relationships_is_read_by_our_reader(paths):
    data = workbook([("项目", f'<row r="1">{HEADER}</row>{cells(2)}')], package_rels=False)
    fast, ours = both_readers(data)
    assert (
        paths == ["expat"]
        and repr(fast) == repr(ours)
        and ours == [("项目", PROJECT_HEADERS, [(2, ["P-2"] + [None] * 9)])]
    )


def test_a_dense_sheet_calamine_would_allocate_is_never_opened_by_it(paths, monkeypatch):
    from python_calamine import CalamineWorkbook

    opened = []
    monkeypatch.setattr(CalamineWorkbook, "get_sheet_by_name", lambda *a: opened.append(a))
    for case in ("a cell at the last column", "a cell at the last row", "a cell naming another row"):
        read_file(sheet(HOSTILE[case]), "p.xlsx")
    assert opened == [] and paths == ["expat"] * 3


def huge_unique_count():
    """A 2 kB workbook whose shared-strings table declares 2,000,000,000 items: calamine alone aborts the
    process (it reserves 48 GB before reading the table)."""
    data = sheet(cells(2, '<c r="B2" t="s"><v>0</v></c>'), shared="<si><t>名称</t></si>")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            part = source.read(info)
            if info.filename.endswith("sharedStrings.xml"):
                part = part.replace(b"<sst ", b'<sst count="2000000000" uniqueCount="2000000000" ')
            target.writestr(info, part)
    return out.getvalue()


@pytest.mark.parametrize("case", ["dense", "unique count"])
def test_the_fallback_in_a_child_process_survives_what_would_abort_calamine(case):
    # A 2 kB file with cells at XFD1048576: calamine alone would allocate rows × columns densely.
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'aidtracker.settings'); django.setup()\n"
        "from spreadsheets.reading import read_file\n"
        "from tests.spreadsheets.test_xlsx_fast import sheet, cells\n"
        "from tests.spreadsheets.test_xlsx_fast import huge_unique_count\n"
        + (
            "[s] = read_file(sheet(cells(2, '<c r=\"XFD2\"><v>1</v></c>') + "
            "'<row r=\"1048576\"><c r=\"J1048576\"><v>1</v></c></row>'), 'p.xlsx')\n"
            if case == "dense"
            else "[s] = read_file(huge_unique_count(), 'p.xlsx')\nassert s.rows[0][1][1] == '名称', s.rows\n"
        )
        + "print(len(s.rows))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == ("2" if case == "dense" else "1")


@pytest.mark.parametrize("number", [0, 1, 9, 10, 26, 27, 99, 200_999])
def test_the_greater_than_patterns(number):
    from openpyxl.utils import get_column_letter

    digits = re.compile(rb"^" + _greater_than(number) + rb"$")
    assert [n for n in range(0, 250_000, 13) if digits.match(str(n).encode())] == [
        n for n in range(0, 250_000, 13) if n > number
    ]
    if number:
        letters = re.compile(rb"^" + _greater_than(number, LETTERS) + rb"$")
        names = [get_column_letter(n).encode() for n in range(1, 2000)]
        assert [bool(letters.match(name)) for name in names] == [n > number for n in range(1, 2000)]


def test_the_scan_reads_a_sheet_in_row_aligned_pieces_and_finds_every_formula_without_a_value(monkeypatch):
    from spreadsheets import xlsx_fast

    monkeypatch.setattr(xlsx_fast, "SCAN_CHUNK", 500)
    rows = "".join(cells(n, f'<c r="G{n}"><f>1+1</f></c>') for n in range(2, 200))
    data = sheet(rows)
    archive = zipfile.ZipFile(io.BytesIO(data))
    scan = xlsx_fast.scan_sheet(archive, "xl/worksheets/sheet1.xml", list(range(1, 11)), 1100, 200_000)
    assert sorted(scan.special) == list(range(2, 200))
    assert all(cells == {7: FORMULA_WITHOUT_VALUE} for cells in scan.special.values())


def test_formulas_without_a_value_past_calamines_range_and_1904_dates(paths):
    rows = cells(2, '<c r="I2" s="1"><v>1</v></c>') + '<row r="3"><c r="B3"><f>1+1</f></c></row>'
    rows += '<row r="5"><c r="G5"><f>1+1</f><v></v></c></row>'
    data = workbook([("项目", f'<row r="1">{HEADER}</row>{rows}')], styles=STYLES, date1904=True)
    fast, ours = both_readers(data)
    assert paths[0] == "calamine" and repr(fast) == repr(ours)
    assert [n for n, _v in fast[0][2]] == [2, 3, 5] and fast[0][2][0][1][8] == datetime(1904, 1, 2)


def test_a_sheet_of_formulas_without_values_only(paths):
    rows = '<row r="2"><c r="A2"><f>1+1</f></c><c r="B2"><f>1+1</f></c></row>'
    fast, ours = both_readers(sheet(rows))
    assert paths[0] == "calamine" and repr(fast) == repr(ours)
    assert fast[0][2] == [(2, [FORMULA_WITHOUT_VALUE, FORMULA_WITHOUT_VALUE] + [None] * 8)]


def rezip(data, change=lambda name, part: part, extra=()):
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            part = change(info.filename, source.read(info))
            if part is not None:
                target.writestr(info.filename, part)
        for name, part in extra:
            target.writestr(name, part)
    return out.getvalue()


def shared_elsewhere(name, part):
    if name.endswith("workbook.xml.rels"):
        return part.replace(b'Target="sharedStrings.xml"', b'Target="strings.xml"')
    return part


PACKAGES = {
    # A second member of the same name: Python's zipfile and calamine's zip reader may take different ones.
    "a repeated member": lambda data: rezip(data, extra=[("[Content_Types].xml", b"<Types/>")]),
    "the shared strings elsewhere": lambda data: rezip(
        data, shared_elsewhere, extra=[("xl/strings.xml", rezip_part(data, "xl/sharedStrings.xml"))]
    ),
    "the package pointing at another workbook": lambda data: rezip(
        data,
        lambda name, part: (
            part.replace(b"xl/workbook.xml", b"xl/other.xml") if name == "_rels/.rels" else part
        ),
    ),
    "a sheet target with dots": lambda data: rezip(
        data,
        lambda name, part: (
            part.replace(b'Target="worksheets/', b'Target="./worksheets/')
            if name.endswith("workbook.xml.rels")
            else part
        ),
    ),
}


def rezip_part(data, name):
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        return source.read(name)


@pytest.mark.parametrize("case", PACKAGES)
def test_a_package_calamine_might_open_otherwise_than_the_pre_scan_goes_to_our_reader(paths, case):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the repeated name
        data = PACKAGES[case](sheet(cells(2, '<c r="B2" t="s"><v>0</v></c>'), shared="<si><t>名称</t></si>"))
        fast, ours = both_readers(data)
    assert paths[0] == "expat" and repr(fast) == repr(ours)


def test_the_last_shared_string_longer_than_the_cap_sends_the_workbook_to_our_reader(paths):
    from spreadsheets.reading import cell_text_limit

    long = "x" * (cell_text_limit() + 20)
    fast, ours = both_readers(
        sheet(cells(2, '<c r="B2" t="s"><v>1</v></c>'), shared=f"<si><t>a</t></si><si><t>{long}</t></si>")
    )
    assert paths[0] == "expat" and repr(fast) == repr(ours)


def test_a_cell_past_the_header_in_a_small_sheet_is_read_by_calamine(paths):
    fast, ours = both_readers(sheet(cells(2, '<c r="L2"><v>1</v></c>') + cells(3)))
    assert paths[0] == "calamine" and repr(fast) == repr(ours)


def test_a_sheet_with_more_cells_than_calamine_may_hold_goes_to_our_reader(paths, monkeypatch):
    monkeypatch.setattr("spreadsheets.xlsx_fast.MAX_READ_CELLS", 50)
    fast, ours = both_readers(sheet("".join(cells(n, f'<c r="B{n}"><v>{n}</v></c>') for n in range(2, 40))))
    assert paths[0] == "expat" and repr(fast) == repr(ours)


@pytest.mark.parametrize("style", [0, 1, 2, 4])
def test_numbers_dates_and_times_read_alike_over_many_values(paths, style):
    import random

    chance = random.Random(style)
    values = [chance.uniform(0, 80000) for _ in range(400)] + [
        chance.randint(0, 80000) + chance.choice([0.5, 0.25, 0.999999, 1e-7, 1 / 3, 2 / 3])
        for _ in range(400)
    ]
    rows = "".join(
        f'<row r="{i + 2}"><c r="A{i + 2}" s="{style}"><v>{v!r}</v></c></row>' for i, v in enumerate(values)
    )
    header = '<row r="1"><c r="A1" t="inlineStr"><is><t>h</t></is></c></row>'
    fast, ours = both_readers(workbook([("S", header + rows)], styles=STYLES))
    assert paths == ["calamine"] and repr(fast) == repr(ours) and len(fast[0][2]) == 800


def test_a_header_with_gaps_and_special_cells_reads_alike_through_calamine(paths):
    """The rows' values are taken in one slice when the header's columns are contiguous; a header with gaps,
    one starting past calamine's first column, and rows holding formulas without a value or error cells go
    the other ways, and still give our reader's values."""

    def header(columns):
        names = "".join(
            f'<c r="{column}1" t="inlineStr"><is><t>{name}</t></is></c>'
            for column, name in zip(columns, "甲乙丙丁", strict=True)
        )
        return f'<row r="1">{names}</row>'

    rows = (
        '<row r="2"><c r="A2"><v>7</v></c><c r="B2" t="inlineStr"><is><t> 一 </t></is></c><c r="D2"><v>3</v></c>'
        '<c r="E2"><v>2.5</v></c><c r="H2" s="1"><v>44805</v></c></row>'
        '<row r="3"><c r="D3"><v>9</v></c></row>'  # a value under no header only: no row
        '<row r="4"><c r="C4"><f>1+1</f></c><c r="E4" t="e"><v>#N/A</v></c></row>'
        '<row r="5"><c r="A5"><v>1</v></c><c r="H5"><f>A1</f></c></row>'
        '<row r="6"><c r="B6" t="inlineStr"><is><t>　</t></is></c><c r="C6" t="b"><v>0</v></c></row>'
        '<row r="7"><c r="I7"><v>5</v></c></row>'
    )
    fast, ours = both_readers(workbook([("S", header("BCEH") + rows)], styles=STYLES))
    assert paths == ["calamine"] and repr(fast) == repr(ours)
    assert dict(fast[0][2]) == {
        2: ["一", None, 2.5, datetime(2022, 9, 1)],
        4: [None, FORMULA_WITHOUT_VALUE, "#N/A", None],
        5: [None, None, None, FORMULA_WITHOUT_VALUE],
        6: [None, False, None, None],
    }
    for columns in ("ABCD", "BCDE", "ABDE", "CDEH"):  # contiguous from A, contiguous past A, with gaps
        fast, ours = both_readers(workbook([("S", header(columns) + rows)], styles=STYLES))
        assert paths[-1] == "calamine" and repr(fast) == repr(ours)


def test_a_sheet_dense_at_its_start_but_within_the_cells_calamine_may_hold_is_scanned_in_full(
    paths, monkeypatch
):
    """The pre-scan only counts a sheet's cells once its start foretells too many; when the count then
    falls within the bound, the sheet is scanned again in full and read by calamine."""
    from spreadsheets import xlsx_fast

    monkeypatch.setattr(xlsx_fast, "MAX_READ_CELLS", 60)
    monkeypatch.setattr(xlsx_fast, "SCAN_CHUNK", 500)
    scans = []
    original = xlsx_fast.scan_sheet

    def recording(*args, **kwargs):
        scans.append(kwargs.get("project", True))
        return original(*args, **kwargs)

    monkeypatch.setattr(xlsx_fast, "scan_sheet", recording)
    dense = "".join(cells(n, *(f'<c r="{c}{n}"><v>{n}</v></c>' for c in "BCDEFGHIJ")) for n in range(2, 7))
    empty = "".join(f'<row r="{n}" spans="1:10"/>' for n in range(7, 400))
    fast, ours = both_readers(sheet(dense + empty))
    assert paths[0] == "calamine" and scans[:2] == [True, False] and repr(fast) == repr(ours)
    assert len(fast[0][2]) == 5
