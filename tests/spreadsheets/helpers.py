"""Real files for the spreadsheet tests: xlsx written with openpyxl, csv in UTF-8 or GB18030."""

import csv
import io
import zipfile

import pytest
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


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def workbook(sheets, shared=None, styles=None, date1904=False, prefix="", package_rels=True):
    """A minimal xlsx: sheets = [(name, sheet data XML)]; shared = <sst> body; styles = <styleSheet> body;
    the package relationships (`_rels/.rels`, which some readers need to find the workbook) unless told."""
    out = io.BytesIO()
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        if package_rels:
            z.writestr(
                "_rels/.rels",
                f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" '
                'Target="xl/workbook.xml"/></Relationships>',
            )
        entries = "".join(
            f'<{p}sheet name="{name}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
            for i, (name, _x) in enumerate(sheets)
        )
        pr = f'<{p}workbookPr date1904="1"/>' if date1904 else ""
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?><{p}workbook {xmlns} xmlns:r="{REL}">{pr}<{p}sheets>{entries}</{p}sheets>'
            f"</{p}workbook>",
        )
        rels = "".join(
            f'<Relationship Id="rId{i + 1}" Type="{REL}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
            for i in range(len(sheets))
        )
        rels += f'<Relationship Id="rS" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        rels += f'<Relationship Id="rT" Type="{REL}/styles" Target="/xl/styles.xml"/>'
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{PKG}">{rels}</Relationships>')
        for i, (_name, xml) in enumerate(sheets):
            z.writestr(
                f"xl/worksheets/sheet{i + 1}.xml",
                f"<{p}worksheet {xmlns}><{p}sheetData>{xml}</{p}sheetData></{p}worksheet>",
            )
        if shared is not None:
            z.writestr("xl/sharedStrings.xml", f"<{p}sst {xmlns}>{shared}</{p}sst>")
        if styles is not None:
            z.writestr("xl/styles.xml", f"<{p}styleSheet {xmlns}>{styles}</{p}styleSheet>")
    return out.getvalue()


@pytest.fixture(params=["calamine", "expat"])
def both_xlsx_readers(request, monkeypatch):
    """Run a test once with calamine allowed behind its pre-scan (spreadsheets.xlsx_fast) and once with our
    streaming reader alone: both must give what the test pins."""
    monkeypatch.setattr("spreadsheets.reading.FAST_XLSX", request.param == "calamine")
    return request.param
