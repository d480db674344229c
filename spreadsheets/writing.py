"""Writing files: the one xlsx and CSV writer every download goes through, formula-safe, amounts numeric."""

import csv
import io
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal

from spreadsheets.cells import FORMULA_PREFIXES, formula_like

# --------------------------------------------------------------------------------------------------
# Writing files: formula-safe, amounts numeric


def needs_escape(value) -> bool:
    """Whether a CSV text gets a leading `'` (see `cells.formula_like`)."""
    return formula_like(value)


def write_xlsx(sheets, *, stream=None):
    """Write [(title, headers, rows)] as xlsx, streaming each sheet's XML into the zip.

    The sheet XML is written directly (strings inline, a bold header row), a row at a time, so memory stays
    bounded whatever the number of rows. A text a spreadsheet would run as a formula is a text cell with the
    quote prefix style, which Excel shows as-is; codes are text cells; amounts stay numbers; dates are
    date-formatted serial numbers.
    """
    target = stream or io.BytesIO()
    titles = [_sheet_title(title, index) for index, (title, _h, _r) in enumerate(sheets)]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=XLSX_COMPRESSLEVEL) as archive:
        archive.writestr("[Content_Types].xml", _content_types(len(sheets)))
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _workbook_xml(titles))
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        archive.writestr("xl/styles.xml", _STYLES_XML)
        for index, (_title, headers, rows) in enumerate(sheets, start=1):
            with archive.open(f"xl/worksheets/sheet{index}.xml", "w", force_zip64=True) as part:
                _write_sheet(part, headers, rows)
    return target.getvalue() if stream is None else None


XLSX_COMPRESSLEVEL = 1  # the sheet XML compresses ~10x even so; level 6 costs twice the time
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_ROOT_RELS = (
    f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL_NS}"><Relationship Id="rId1" '
    f'Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
# Cell styles: 0 plain, 1 bold (headers), 2 quote prefix (formula-like text), 3 date, 4 date and time.
_STYLE_BOLD, _STYLE_QUOTED, _STYLE_DATE, _STYLE_DATETIME = 1, 2, 3, 4
_STYLES_XML = (
    f'{_XML_HEAD}<styleSheet xmlns="{_MAIN_NS}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd h:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXCEL_EPOCH = date(1899, 12, 30)
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(title, index):
    title = _BAD_TITLE.sub("_", str(title or ""))[:31]
    return title or f"Sheet{index + 1}"


def _content_types(count):
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, count + 1)
    )
    return (
        f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{sheets}</Types>"
    )


def _workbook_xml(titles):
    sheets = "".join(
        f'<sheet name="{_xml_text(title, attribute=True)}" sheetId="{i}" r:id="rId{i}"/>'
        for i, title in enumerate(titles, start=1)
    )
    return (
        f'{_XML_HEAD}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
        f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets></workbook>'
    )


def _workbook_rels(count):
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, count + 1)
    )
    styles = f'<Relationship Id="rId{count + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
    return f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL_NS}">{rels}{styles}</Relationships>'


def _xml_text(value, attribute=False):
    if _ILLEGAL_XML.search(value):
        value = _ILLEGAL_XML.sub("", value)  # not representable in XML 1.0; Excel could not hold them either
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    if attribute:
        value = value.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    return value


def _text_cell(ref, value, style=0):
    text = _xml_text(value)
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    style = f' s="{style}"' if style else ""
    return f'<c r="{ref}" t="inlineStr"{style}><is><t{space}>{text}</t></is></c>'


def _cell(ref, value):
    """One <c> element for a value (None gives no cell)."""
    kind = value.__class__
    if kind is str:
        return _text_cell(ref, value, _STYLE_QUOTED if value.startswith(FORMULA_PREFIXES) else 0)
    if kind is int or kind is Decimal:
        return f'<c r="{ref}"><v>{value}</v></c>'
    if kind is float:
        return f'<c r="{ref}"><v>{value!r}</v></c>' if value == value and abs(value) != float("inf") else ""
    if value is None:
        return ""
    if kind is bool:
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if kind is date:
        return f'<c r="{ref}" s="{_STYLE_DATE}"><v>{(value - _EXCEL_EPOCH).days}</v></c>'
    if kind is datetime:
        value = value.replace(tzinfo=None)
        delta = value - datetime(1899, 12, 30)
        serial = delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
        return f'<c r="{ref}" s="{_STYLE_DATETIME}"><v>{serial!r}</v></c>'
    for base in (bool, int, float, Decimal, str, datetime, date):  # subclasses (enums, lazy texts…)
        if isinstance(value, base):
            if base is datetime:
                return _cell(ref, datetime.combine(value.date(), value.time()))
            if base is date:
                return _cell(ref, date(value.year, value.month, value.day))
            return _cell(ref, base(value))
    return _cell(ref, str(value))


def _column_letters(count):
    letters = []
    for index in range(1, count + 1):
        name = ""
        while index:
            index, remainder = divmod(index - 1, 26)
            name = chr(65 + remainder) + name
        letters.append(name)
    return letters


def _write_sheet(part, headers, rows, flush_every=2000):
    columns = _column_letters(max(len(headers), 1))
    out = [f'{_XML_HEAD}<worksheet xmlns="{_MAIN_NS}"><sheetData>']
    header = "".join(
        _text_cell(f"{columns[i]}1", str(h), _STYLE_BOLD) for i, h in enumerate(headers) if h is not None
    )
    out.append(f'<row r="1">{header}</row>')
    number = 1
    for row in rows:
        number += 1
        if len(row) > len(columns):
            columns = _column_letters(len(row))
        cells = "".join([_cell(f"{columns[i]}{number}", value) for i, value in enumerate(row)])
        out.append(f'<row r="{number}">{cells}</row>')
        if len(out) >= flush_every:
            part.write("".join(out).encode())
            out = []
    out.append("</sheetData></worksheet>")
    part.write("".join(out).encode())


def escape_csv(value):
    if needs_escape(value):
        return "'" + value
    return value


def write_csv(headers, rows) -> bytes:
    """CSV in UTF-8 with a BOM (so Excel opens it as UTF-8), formula-like texts prefixed with `'`."""
    return b"".join(write_csv_stream(headers, rows))


def write_csv_stream(headers, rows, chunk=2000):
    """The same CSV as `write_csv`, as a stream of byte chunks (memory flat in the number of rows)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow(headers)
    for count, row in enumerate(rows, start=1):
        writer.writerow(["" if v is None else escape_csv(v) for v in row])
        if count % chunk == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")
