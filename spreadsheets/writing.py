"""Writing files: the one xlsx and CSV writer every download goes through, formula-safe, amounts numeric."""

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from spreadsheets.cells import FORMULA_PREFIXES, formula_like

# --------------------------------------------------------------------------------------------------
# Writing files: formula-safe, amounts numeric


def needs_escape(value) -> bool:
    """Whether a CSV text gets a leading `'` (see `cells.formula_like`)."""
    return formula_like(value)


@dataclass
class SheetLayout:
    """How a sheet looks beyond its cells: column widths, text and amount columns, bold rows (a 合计 row),
    the header row frozen, and drop-down lists ((cell range, list formula, blank allowed))."""

    widths: dict = field(default_factory=dict)  # column index (0-based) -> width in characters
    text_columns: tuple = ()  # formatted as text ("@"), so Excel keeps 650400 or 0653 as typed
    amount_columns: tuple = ()  # numbers shown with thousands separators and up to six decimals
    bold_rows: tuple = ()  # data row indexes (0-based) written bold
    freeze_header: bool = True
    validations: tuple = ()


def write_xlsx(sheets, *, stream=None):
    """Write [(title, headers, rows)] or [(title, headers, rows, SheetLayout)] as xlsx, streaming each
    sheet's XML into the zip.

    The sheet XML is written directly (strings inline, a bold header row), a row at a time, so memory stays
    bounded whatever the number of rows. A text a spreadsheet would run as a formula is a text cell with the
    quote prefix style, which Excel shows as-is; codes are text cells; amounts stay numbers; dates are
    date-formatted serial numbers.
    """
    target = stream or io.BytesIO()
    sheets = [(*sheet, SheetLayout(freeze_header=False))[:4] for sheet in sheets]
    titles = [_sheet_title(sheet[0], index) for index, sheet in enumerate(sheets)]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=XLSX_COMPRESSLEVEL) as archive:
        archive.writestr("[Content_Types].xml", _content_types(len(sheets)))
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _workbook_xml(titles))
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        archive.writestr("xl/styles.xml", _STYLES_XML)
        for index, (_title, headers, rows, layout) in enumerate(sheets, start=1):
            with archive.open(f"xl/worksheets/sheet{index}.xml", "w", force_zip64=True) as part:
                _write_sheet(part, headers, rows, layout)
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
# Cell styles: 0 plain, 1 bold (headers), 2 quote prefix (formula-like text), 3 date, 4 date and time,
# 5 text format, 6 amount, 7 bold amount, 8 bold quote prefix.
_STYLE_BOLD, _STYLE_QUOTED, _STYLE_DATE, _STYLE_DATETIME = 1, 2, 3, 4
_STYLE_TEXT, _STYLE_AMOUNT, _STYLE_BOLD_AMOUNT, _STYLE_BOLD_QUOTED = 5, 6, 7, 8
_STYLES_XML = (
    f'{_XML_HEAD}<styleSheet xmlns="{_MAIN_NS}">'
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd h:mm:ss"/><numFmt numFmtId="166" formatCode="#,##0.00####"/>'
    "</numFmts>"
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="9"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" quotePrefix="1"/>'
    "</cellXfs>"
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


def _write_sheet(part, headers, rows, layout, flush_every=2000):
    columns = _column_letters(max(len(headers), 1))
    out = [f'{_XML_HEAD}<worksheet xmlns="{_MAIN_NS}">', _sheet_views(layout), _cols(layout), "<sheetData>"]
    header = "".join(
        _text_cell(f"{columns[i]}1", str(h), _STYLE_BOLD) for i, h in enumerate(headers) if h is not None
    )
    out.append(f'<row r="1">{header}</row>')
    number = 1
    amounts = set(layout.amount_columns)
    bold = set(layout.bold_rows)
    for index, row in enumerate(rows):
        number += 1
        if len(row) > len(columns):
            columns = _column_letters(len(row))
        if amounts or index in bold:
            cells = "".join(
                [
                    _styled_cell(f"{columns[i]}{number}", v, i in amounts, index in bold)
                    for i, v in enumerate(row)
                ]
            )
        else:
            cells = "".join([_cell(f"{columns[i]}{number}", value) for i, value in enumerate(row)])
        out.append(f'<row r="{number}">{cells}</row>')
        if len(out) >= flush_every:
            part.write("".join(out).encode())
            out = []
    out.append("</sheetData>")
    if layout.validations:
        items = "".join(
            f'<dataValidation type="list" allowBlank="{int(blank)}" showErrorMessage="0" sqref="{ref}">'
            f"<formula1>{_xml_text(formula)}</formula1></dataValidation>"
            for ref, formula, blank in layout.validations
        )
        out.append(f'<dataValidations count="{len(layout.validations)}">{items}</dataValidations>')
    out.append("</worksheet>")
    part.write("".join(out).encode())


def _sheet_views(layout):
    if not layout.freeze_header:
        return ""
    return (
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/></sheetView></sheetViews>'
    )


def _cols(layout):
    indexes = sorted(set(layout.widths) | set(layout.text_columns))
    if not indexes:
        return ""
    items = []
    for index in indexes:
        width = layout.widths.get(index, 12)
        style = f' style="{_STYLE_TEXT}"' if index in layout.text_columns else ""
        items.append(f'<col min="{index + 1}" max="{index + 1}" width="{width}" customWidth="1"{style}/>')
    return f"<cols>{''.join(items)}</cols>"


def _styled_cell(ref, value, amount, bold):
    """A cell of an amount column (numbers formatted as amounts) or of a bold row (a 合计 row)."""
    if isinstance(value, str):
        quoted = value.startswith(FORMULA_PREFIXES)
        style = (_STYLE_BOLD_QUOTED if quoted else _STYLE_BOLD) if bold else (_STYLE_QUOTED if quoted else 0)
        return _text_cell(ref, value, style)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        cell = _cell(ref, value)
        style = _STYLE_BOLD_AMOUNT if (bold and amount) else _STYLE_AMOUNT if amount else _STYLE_BOLD
        return cell.replace(f'<c r="{ref}"', f'<c r="{ref}" s="{style}"', 1) if cell else cell
    return _cell(ref, value)


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


# --------------------------------------------------------------------------------------------------
# Templates

CODES_SHEET = "代码"
NOTES_SHEET = "说明"
TEMPLATE_ROWS = 5000


def column_help(importer):
    """[(column, help text)] for the columns whose importer explains them (the project code's convention)."""
    notes = getattr(importer, "column_help", {})
    return [(column, str(notes[column.name])) for column in importer.columns if column.name in notes]


def template_example(importer, lists):
    """The example row of a template: a value of a listed column that is not among the user's codes (say the
    province 110000 for a user of 湖北) becomes the first of them, so no example shows another's record."""
    row = importer.example_row()
    for index, column in enumerate(importer.columns):
        values = lists.get(column.name)
        if values and row[index] is not None and str(row[index]) not in {str(code) for code, _n in values}:
            row[index] = values[0][0]
    return row


def template_workbook(importer, lists) -> bytes:
    """An import template: the data sheet with its headers only (drop-down lists on the code and status
    columns, code and text columns formatted as text), a 说明 sheet with an example row — where no import
    ever reads it, so importing the template as downloaded writes nothing — and a sheet of the valid codes.

    `lists` is {column name: [(code, name)]}."""
    columns = importer.columns
    codes_columns, codes_headers, validations = [], [], []
    for position, column in enumerate(columns):
        values = lists.get(column.name)
        if not values:
            continue
        letter = _column_letters(len(codes_headers) + 1)[-1]
        codes_headers += [column.header, "名称", None]
        codes_columns.append(values)
        ref = _column_letters(position + 1)[-1]
        validations.append(
            (
                f"{ref}2:{ref}{TEMPLATE_ROWS}",
                f"'{CODES_SHEET}'!${letter}$2:${letter}${len(values) + 1}",
                not column.required,
            )
        )
    longest = max((len(values) for values in codes_columns), default=0)
    codes_rows = (
        [
            cell
            for values in codes_columns
            for cell in (
                (str(values[i][0]), str(values[i][1]), None) if i < len(values) else (None, None, None)
            )
        ]
        for i in range(longest)
    )
    widths = {i: max(12, len(column.header) * 2 + 2) for i, column in enumerate(columns)}
    text = tuple(i for i, column in enumerate(columns) if column.kind in ("code", "text"))
    data = SheetLayout(widths=widths, text_columns=text, validations=tuple(validations))
    notes = [
        template_example(importer, lists),
        [],
        [
            "说明：上面一行是填写示例，只在本工作表中，导入时不会读取。请在“"
            + importer.sheet_title()
            + "”工作表中从第 2 行起填写数据；金额单位为万元；代码见“"
            + CODES_SHEET
            + "”工作表。"
        ],
        # Conventions the importer explains (e.g. the project code's): help only, never checked.
        *([f"{column.header}：{text}"] for column, text in column_help(importer)),
    ]
    codes_layout = SheetLayout(
        widths={i: (30 if i % 3 == 1 else 16) for i in range(len(codes_headers))},
        text_columns=tuple(range(0, len(codes_headers), 3)),
    )
    return write_xlsx(
        [
            (importer.sheet_title(), importer.headers(), [], data),
            (NOTES_SHEET, importer.headers(), notes, SheetLayout(widths=widths, text_columns=text)),
            (CODES_SHEET, codes_headers, codes_rows, codes_layout),
        ]
    )
