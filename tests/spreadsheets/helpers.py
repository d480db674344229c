"""Real files for the spreadsheet tests: xlsx written with openpyxl, csv in UTF-8 or GB18030."""

import csv
import io

from openpyxl import Workbook, load_workbook

PROJECT_HEADERS = [
    "项目编号",
    "项目名称",
    "协议编号",
    "项目类别",
    "受援单位",
    "项目状态",
    "援助金额（万元）",
    "受益人次",
    "开始日期",
    "结束日期",
]
AGREEMENT_HEADERS = [
    "协议编号",
    "协议名称",
    "援助省市",
    "签约单位",
    "受援单位",
    "签订日期",
    "开始日期",
    "结束日期",
    "援助意向金额（万元）",
    "协议状态",
]


def xlsx(sheets):
    """{title: [header, *rows]} as xlsx bytes."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows, encoding="utf-8"):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode(encoding)


def project_row(code, agreement="BJ-1", **values):
    row = {
        "项目编号": code,
        "项目名称": f"项目{code}",
        "协议编号": agreement,
        "项目类别": "A01",
        "受援单位": "653200",
        "项目状态": "实施中",
        "援助金额（万元）": 12.5,
        "受益人次": 100,
        "开始日期": "2022-03-01",
        "结束日期": "2022-12-31",
    }
    row.update(values)
    return [row[h] for h in PROJECT_HEADERS]


def read_xlsx(data):
    """{title: [rows of values]} of an xlsx (for asserting on downloads)."""
    book = load_workbook(io.BytesIO(data))
    return {sheet.title: [list(r) for r in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}
