"""The streaming xlsx reader (spreadsheets.reading.read_xlsx) on workbooks written by hand, as other tools
write them: shared strings with rich text and phonetic runs, inline strings, numbers that are codes, date
styles (built-in and custom, 1900 and 1904 epochs), rows and cells without references, prefixed namespaces,
blank trailing rows — and the same cells as openpyxl reads from a workbook it wrote."""

import io
import zipfile
from datetime import date, datetime

import openpyxl
import pytest

from spreadsheets.cells import FORMULA_WITHOUT_VALUE, SpreadsheetError
from spreadsheets.reading import read_file, read_xlsx
from tests.spreadsheets.helpers import MAIN, both_xlsx_readers, workbook

pytestmark = pytest.mark.usefixtures(both_xlsx_readers.__name__)

STYLES = (
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy/m/d;@"/></numFmts>'
    '<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="49"/></cellXfs>'
)


def test_shared_inline_numbers_dates_and_blank_rows():
    shared = (
        "<si><t>项目编号</t></si>"
        "<si><r><t>受援</t></r><r><rPr><b/></rPr><t>单位</t></r></si>"
        '<si><t>和田</t><rPh sb="0" eb="2"><t>ホータン</t></rPh></si>'
        '<si><t xml:space="preserve">  653100\u3000</t></si>'
        "<si><t>   </t></si>"
    )
    sheet = (
        '<row r="2"><c r="B2" t="s"><v>0</v></c><c r="C2" t="s"><v>1</v></c>'
        '<c r="D2" t="inlineStr"><is><t>日期</t></is></c><c r="E2" t="str"><v>金额</v></c></row>'
        '<row r="3"><c r="B3" t="s"><v>2</v></c><c r="C3"><v>653100</v></c>'
        '<c r="D3" s="1"><v>44805</v></c><c r="E3"><v>0.30000000000000004</v></c></row>'
        '<row r="4"><c r="B4" t="s"><v>3</v></c><c r="C4" t="s"><v>4</v></c>'
        '<c r="D4" s="2"><v>44806.5</v></c><c r="E4" t="b"><v>1</v></c><c r="F4" t="e"><v>#N/A</v></c></row>'
        '<row r="5"><c r="B5" t="inlineStr"><is><r><t>A</t></r><r><t>&amp;B</t></r></is></c>'
        '<c r="D5" s="3"><v>12</v></c></row>'
        '<row r="6"><c r="B6" t="s"><v>4</v></c><c r="C6" t="inlineStr"><is><t> </t></is></c></row>'
        '<row r="9"><c r="B9"/></row><row r="10" spans="1:5"/>'
    )
    [raw] = read_xlsx(workbook([("项目", sheet)], shared=shared, styles=STYLES))
    assert raw.title == "项目"
    # The header holds its cells in order; each row is as wide as the header, and a cell under no header
    # (F4) is never read.
    assert raw.header == ["项目编号", "受援单位", "日期", "金额"]
    assert raw.rows == [
        (3, ["和田", 653100, datetime(2022, 9, 1), 0.30000000000000004]),
        (4, ["653100", None, datetime(2022, 9, 2, 12), True]),
        (5, ["A&B", None, 12, None]),
    ]


def test_rows_and_cells_without_references_prefixed_namespace_and_1904_dates():
    sheet = (
        '<x:row><x:c t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c><x:c t="inlineStr"><x:is><x:t>b</x:t>'
        "</x:is></x:c></x:row>"
        '<x:row><x:c><x:v>1</x:v></x:c><x:c s="1"><x:v>1</x:v></x:c></x:row>'
        '<x:row r="7"><x:c r="C7"><x:v>2.5E3</x:v></x:c></x:row>'
    )
    styles = '<x:cellXfs><x:xf numFmtId="0"/><x:xf numFmtId="14"/></x:cellXfs>'
    [raw] = read_xlsx(workbook([("S", sheet)], styles=styles, date1904=True, prefix="x"))
    assert raw.header == ["a", "b"]
    assert raw.rows == [(2, [1, datetime(1904, 1, 2)])]  # row 7's only cell is under no header


def test_every_sheet_in_workbook_order_and_sheets_without_data_left_out():
    book = workbook(
        [
            ("协议", '<row r="1"><c r="A1" t="inlineStr"><is><t>h</t></is></c></row>'),
            ("空", '<row r="1"><c r="A1" t="inlineStr"><is><t> </t></is></c></row>'),
            ("项目", '<row r="3"><c r="A3"><v>1</v></c></row><row r="4"><c r="A4"><v>2</v></c></row>'),
        ]
    )
    sheets = read_xlsx(book)
    assert [(s.title, s.header, s.rows) for s in sheets] == [("协议", ["h"], []), ("项目", [1], [(4, [2])])]


@pytest.mark.parametrize(
    "xml",
    [
        '<!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet xmlns="' + MAIN + '"><sheetData/></worksheet>',
        '<worksheet xmlns="' + MAIN + '"><sheetData><row><c><v>1</v></row></sheetData></worksheet>',
    ],
)
def test_a_dtd_or_malformed_xml_is_a_damaged_workbook(xml):
    book = io.BytesIO(workbook([("S", '<row r="1"><c r="A1"><v>1</v></c></row>')]))
    out = io.BytesIO()
    with zipfile.ZipFile(book) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = xml.encode() if info.filename.endswith("sheet1.xml") else source.read(info)
            target.writestr(info, data)
    with pytest.raises(SpreadsheetError, match=r"\.xlsx"):
        read_file(out.getvalue(), "x.xlsx")


def test_a_missing_worksheet_part_is_a_damaged_workbook():
    book = io.BytesIO(workbook([("S", '<row r="1"><c r="A1"><v>1</v></c></row>')]))
    out = io.BytesIO()
    with zipfile.ZipFile(book) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if not info.filename.endswith("sheet1.xml"):
                target.writestr(info, source.read(info))
    with pytest.raises(SpreadsheetError, match=r"\.xlsx"):
        read_file(out.getvalue(), "x.xlsx")


def test_the_cells_openpyxl_reads_from_a_workbook_it_wrote():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "项目"
    rows = [
        ["项目编号", "金额", "日期", "代码", "公式"],
        ["P-1", 12.5, date(2022, 8, 19), 653100, "=A2"],
        [" 全角\u3000", 1e-7, datetime(2021, 1, 2, 3, 4, 5), "0653", True],
        [None, None, None, None, None],
        ["P-3", 3, "2022/8/19", -4.25, None],
    ]
    for row in rows:
        sheet.append(row)
    sheet["F7"] = "tail"
    sheet["F9"] = None
    data = io.BytesIO()
    book.save(data)
    [raw] = read_xlsx(data.getvalue())
    expected = openpyxl.load_workbook(io.BytesIO(data.getvalue()), read_only=True, data_only=True)["项目"]
    expected.reset_dimensions()
    cells = [
        (number, [v.strip(" \u3000") or None if isinstance(v, str) else v for v in values])
        for number, values in enumerate(expected.iter_rows(values_only=True), start=1)
    ]
    cells = [(n, v) for n, v in cells if any(x is not None for x in v)]
    width = len(cells[0][1])
    expected_rows = [
        (n, list(v[:width]) + [None] * (width - len(v)))
        for n, v in cells[1:]
        if any(x is not None for x in v[:width])
    ]
    assert raw.header == cells[0][1]
    # openpyxl reads a formula it wrote (with no result in the file) as blank; we say it has none.
    assert [(n, [None if x is FORMULA_WITHOUT_VALUE else x for x in v]) for n, v in raw.rows] == expected_rows
    assert raw.rows[0][1] == ["P-1", 12.5, datetime(2022, 8, 19), 653100, FORMULA_WITHOUT_VALUE]
