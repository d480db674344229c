"""The streaming xlsx writer (spreadsheets.writing.write_xlsx): what openpyxl and our reader see in it."""

import io
from datetime import date, datetime
from decimal import Decimal

from openpyxl import load_workbook

from spreadsheets.reading import read_xlsx
from spreadsheets.writing import write_xlsx

ROWS = [
    ["=1+1", "A&B <c>", " 前后有空格 ", Decimal("12.345678"), 653100, 0.5, date(2022, 8, 19), True],
    ["+86", "-", "@x", Decimal("50"), None, None, datetime(2021, 1, 2, 3, 4, 5), False],
    ["\tTab", "bell\x07gone", "line\nbreak", Decimal("0.000001"), 0, -1.25, None, None],
]


def test_openpyxl_reads_types_styles_and_text_back():
    data = write_xlsx(
        [("项目", ["编号", "名称", "备注", "金额", "代码", "比例", "日期", "布尔"], ROWS), ("空", ["h"], [])]
    )
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["项目", "空"]
    sheet = book["项目"]
    assert [c.value for c in sheet[1]] == ["编号", "名称", "备注", "金额", "代码", "比例", "日期", "布尔"]
    assert all(c.font.b for c in sheet[1])
    first, second, third = sheet[2], sheet[3], sheet[4]
    assert first[0].value == "=1+1" and first[0].data_type == "s" and first[0].quotePrefix
    assert first[1].value == "A&B <c>" and not first[1].quotePrefix
    assert first[2].value == " 前后有空格 "
    assert first[3].data_type == "n" and Decimal(str(first[3].value)) == Decimal("12.345678")
    assert first[4].value == 653100 and first[5].value == 0.5
    assert first[6].value == datetime(2022, 8, 19) and first[6].is_date
    assert first[7].value is True
    assert [c.quotePrefix for c in second[:3]] == [True, True, True]
    assert second[4].value is None and second[6].value == datetime(2021, 1, 2, 3, 4, 5)
    assert second[7].value is False
    assert third[0].value == "\tTab" and third[0].quotePrefix
    assert third[1].value == "bellgone"  # a control character XML cannot hold is left out
    assert third[2].value == "line\nbreak"
    assert third[3].value == 0.000001
    assert book["空"].max_row == 1


def test_our_reader_reads_what_we_write():
    [raw, empty] = read_xlsx(
        write_xlsx([("项目", ["a", "b"], [["653100", 653100], ["x", None]]), ("空", ["h"], [])])
    )
    assert (raw.header, raw.rows) == (["a", "b"], [(2, ["653100", 653100]), (3, ["x", None])])
    assert (empty.title, empty.header, empty.rows) == ("空", ["h"], [])
