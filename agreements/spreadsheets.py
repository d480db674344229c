"""Spreadsheet machinery shared by every import and export (DESIGN section 5).

Reading: one function turns an uploaded file (xlsx or csv, any of the encodings Chinese offices produce)
into plain sheets of cell values, refusing bad files with a clear message before anything is parsed —
an old .xls, an encrypted or corrupt workbook, a zip bomb, a file over the size or row limit.
An xlsx is streamed straight from the zip: the sheet XML goes through expat with defusedxml's guards (no DTD,
no entity declarations, no external references) and only rows, cells, values, inline and shared strings and
the date styles are looked at — several times faster than openpyxl, which builds an object per cell.

Importing is set-wise, never a query per row: a `SheetImporter` parses the cells of a sheet once into
normalised values (JSON-able, so a preview can keep them in the database and another app server can
confirm), then validates the whole sheet with lookup maps and a few `IN` queries, then writes with
`bulk_create`/`bulk_update` and django-simple-history's bulk helpers, skipping unchanged rows. Any error
anywhere means nothing is written.

`agreements` never imports `projects`: the importers of the project sheets are named by dotted path in
`IMPORTERS` and loaded on demand.
"""

import csv
import hashlib
import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.functional import cached_property
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from agreements.access import sees_everything, user_province

# Sheets in dependency order; each importer declares its sheet names and columns.
IMPORTERS = [
    "agreements.resources.AgreementImporter",
    "projects.resources.ProjectImporter",
    "projects.resources.DisbursementImporter",
    "projects.resources.FacilityOutputImporter",
]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ERROR_HEADER = "错误"
# Zip-bomb limits: an xlsx is a zip of XML; real workbooks unpack to 5-15 times their size.
ZIP_MAX_ENTRIES = 10_000
ZIP_MAX_RATIO = 200
ZIP_MIN_SUSPICIOUS_BYTES = 20 * 1024 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SPACES = " \t\r\n\u3000\xa0\ufeff"
LEADING_SPACES = " \n\u3000\xa0\ufeff"
CHUNK = 2000


class SpreadsheetError(Exception):
    """A file that cannot be imported at all; the message is for the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = str(message)


@dataclass
class RawSheet:
    """The cells of one sheet: the header row and the data rows with their sheet row numbers."""

    title: str
    header: list
    rows: list  # [(row number as the sheet shows it, [cell values])]


@dataclass
class RowError:
    sheet: str
    row: int | None
    column: str
    value: str
    message: str

    def as_dict(self):
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


# --------------------------------------------------------------------------------------------------
# Reading files


def max_bytes():
    return getattr(settings, "AIDTRACKER_IMPORT_MAX_BYTES", 50 * 1024 * 1024)


def max_rows():
    return getattr(settings, "AIDTRACKER_IMPORT_MAX_ROWS", 200_000)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_file(data: bytes, filename: str = "") -> list[RawSheet]:
    """Every sheet of an xlsx or csv file, or a SpreadsheetError saying why the file cannot be read."""
    limit = max_bytes()
    if len(data) > limit:
        raise SpreadsheetError(
            _("The file is larger than the limit of %(limit)s.") % {"limit": filesizeformat(limit)}
        )
    if not data.strip(SPACES.encode()):
        raise SpreadsheetError(_("The file is empty."))
    name = (filename or "").lower()
    if data.startswith(OLE_MAGIC):
        # Both an old .xls and an encrypted .xlsx are OLE compound files.
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise SpreadsheetError(
                _(
                    "The workbook is password-protected. Remove the password in Excel or WPS and save it again."
                )
            )
        raise SpreadsheetError(
            _(
                "Old Excel files (.xls) cannot be imported. Open the file in Excel or WPS and save it "
                "as an Excel workbook (.xlsx)."
            )
        )
    if name.endswith(".xls"):
        raise SpreadsheetError(
            _(
                "Old Excel files (.xls) cannot be imported. Open the file in Excel or WPS and save it "
                "as an Excel workbook (.xlsx)."
            )
        )
    if data.startswith(b"PK"):
        return read_xlsx(data)
    if name.endswith(".xlsx") or name.endswith(".xlsm"):
        raise SpreadsheetError(
            _("The file is not a valid .xlsx workbook; it may be damaged or another kind of file renamed.")
        )
    if name.endswith(".csv") or name.endswith(".txt") or not name:
        return [read_csv(data, title=_strip_suffix(filename))]
    raise SpreadsheetError(_("Only .xlsx and .csv files can be imported."))


def _strip_suffix(filename):
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base else base


def check_zip(data: bytes):
    """Refuse an xlsx whose unpacked size or number of entries is out of proportion (a zip bomb)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise SpreadsheetError(
            _("The file is not a valid .xlsx workbook; it may be damaged or another kind of file renamed.")
        ) from exc
    if len(infos) > ZIP_MAX_ENTRIES:
        raise SpreadsheetError(_("The workbook unpacks to an implausible size; it was not opened."))
    unpacked = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos) or 1
    if unpacked > 20 * max_bytes() or (
        unpacked > ZIP_MIN_SUSPICIOUS_BYTES and unpacked / packed > ZIP_MAX_RATIO
    ):
        raise SpreadsheetError(_("The workbook unpacks to an implausible size; it was not opened."))
    if "xl/workbook.xml" not in {info.filename for info in infos}:
        raise SpreadsheetError(
            _("The file is not a valid .xlsx workbook; it may be damaged or another kind of file renamed.")
        )


def read_xlsx(data: bytes) -> list[RawSheet]:
    """Every worksheet of an xlsx, streamed straight from the zip (see `_sheet_rows`)."""
    check_zip(data)
    limit = max_rows()
    sheets = []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts, epoch, shared_path, styles_path = _workbook_sheets(archive)
        shared = _shared_strings(archive, shared_path)
        dates, durations = _date_styles(archive, styles_path)
        for title, path in parts:
            header = None
            rows = []
            for number, values in _sheet_rows(archive, path, shared, dates, durations, epoch):
                if header is None:
                    header = values
                    continue
                rows.append((number, values))
                if len(rows) > limit:
                    raise SpreadsheetError(_("The file has more than %(limit)s rows.") % {"limit": limit})
            if header is not None:
                sheets.append(RawSheet(title, _trim_header(header), rows))
    except SpreadsheetError:
        raise
    except Exception as exc:  # damaged zip members, malformed or forbidden XML, missing parts
        raise SpreadsheetError(
            _("The file is not a valid .xlsx workbook; it may be damaged or another kind of file renamed.")
        ) from exc
    if not sheets:
        raise SpreadsheetError(_("The file is empty."))
    return sheets


MAIN_NS_TYPES = ("/worksheet",)
XLSX_READ_CHUNK = 1 << 20


def _xml_parser():
    """An expat parser with defusedxml's guards: no DTD, no entity declarations, no external references."""
    from xml.parsers import expat

    from defusedxml.expatreader import DefusedExpatParser

    guard = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = guard.defused_start_doctype_decl
    parser.EntityDeclHandler = guard.defused_entity_decl
    parser.UnparsedEntityDeclHandler = guard.defused_unparsed_entity_decl
    parser.ExternalEntityRefHandler = guard.defused_external_entity_ref_handler
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    return parser


def _local(name):
    return name.rpartition(":")[2]


def _small_xml(archive, path):
    """A small part (workbook, relationships, styles) as a defusedxml ElementTree root, or None."""
    from defusedxml.ElementTree import fromstring

    try:
        data = archive.read(path)
    except KeyError:
        return None
    return fromstring(data, forbid_dtd=True)


def _children(element, name):
    return [child for child in element.iter() if _local(child.tag.rpartition("}")[2]) == name]


def _resolve_target(base_dir, target):
    if target.startswith("/"):
        return target.lstrip("/")
    parts = [p for p in base_dir.split("/") if p]
    for piece in target.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece and piece != ".":
            parts.append(piece)
    return "/".join(parts)


def _relationships(archive, path):
    """{relationship id: (type, part path)} of xl/workbook.xml."""
    root = _small_xml(archive, path)
    out = {}
    if root is None:
        return out
    for rel in _children(root, "Relationship"):
        target = rel.get("Target") or ""
        if rel.get("TargetMode") == "External":
            continue
        out[rel.get("Id")] = (rel.get("Type") or "", _resolve_target("xl", target))
    return out


def _date_styles(archive, path):
    """The cell style indexes whose number format shows a date or a duration (as openpyxl decides)."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format

    root = _small_xml(archive, path) if path else None
    dates, durations = set(), set()
    if root is None:
        return dates, durations
    custom = {}
    for fmt in _children(root, "numFmt"):
        try:
            custom[int(fmt.get("numFmtId"))] = fmt.get("formatCode")
        except (TypeError, ValueError):
            continue
    for xfs in _children(root, "cellXfs"):
        for index, xf in enumerate(child for child in xfs if _local(child.tag.rpartition("}")[2]) == "xf"):
            try:
                number = int(xf.get("numFmtId", 0))
            except ValueError:
                continue
            code = custom[number] if number in custom else BUILTIN_FORMATS.get(number)
            if code and is_date_format(code):
                dates.add(index)
            if code and is_timedelta_format(code):
                durations.add(index)
        break
    return dates, durations


def _stream_xml(archive, path, parser):
    with archive.open(path) as stream:
        while True:
            chunk = stream.read(XLSX_READ_CHUNK)
            if not chunk:
                break
            parser.Parse(chunk, False)
            yield
    parser.Parse(b"", True)
    yield


def _shared_strings(archive, path):
    """The shared-strings table: each <si>'s text (its <t> and rich-text runs; phonetic runs left out)."""
    strings = []
    if not path:
        return strings
    parser = _xml_parser()
    parts = []
    state = {"depth_rph": 0, "in_t": False}

    def start(name, attrs):
        name = _local(name)
        if name == "t":
            state["in_t"] = not state["depth_rph"]
        elif name == "rPh":
            state["depth_rph"] += 1
        elif name == "si":
            parts.clear()

    def end(name):
        name = _local(name)
        if name == "t":
            state["in_t"] = False
        elif name == "rPh":
            state["depth_rph"] -= 1
        elif name == "si":
            # As openpyxl reads it; trimmed once here rather than in every cell that uses it.
            strings.append("".join(parts).replace("x005F_", "").lstrip(LEADING_SPACES).rstrip(SPACES) or None)

    def text(data):
        if state["in_t"]:
            parts.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    for _step in _stream_xml(archive, path, parser):
        pass
    return strings


_COLUMN_INDEX = {}


def _column_index(letters):
    index = _COLUMN_INDEX.get(letters)
    if index is None:
        index = 0
        for char in letters.upper():
            if not "A" <= char <= "Z":
                raise ValueError(letters)
            index = index * 26 + ord(char) - 64
        _COLUMN_INDEX[letters] = index
    return index


def _sheet_rows(archive, path, shared, dates, durations, epoch):
    """Yield (sheet row number, [cell values]) of a worksheet part, streaming its XML.

    Cell values as openpyxl gives them with data_only: numbers (int or float), texts (shared, inline or a
    formula's cached text), booleans, and dates or times for numbers in a date style; a formula's cached
    value only."""
    from openpyxl.utils.datetime import from_excel, from_ISO8601

    parser = _xml_parser()
    done = []
    date_styles = {str(index) for index in dates}
    duration_styles = {str(index) for index in durations}
    row_number = 0
    column = 0
    cell_type = "n"
    style = 0
    value_parts = None
    inline_parts = None
    collecting = None
    rph = 0
    cells = {}

    def start(name, attrs):
        nonlocal row_number, column, cell_type, style, value_parts, inline_parts, collecting, rph, cells
        if ":" in name:
            name = name.rpartition(":")[2]
        if name == "c":
            ref = attrs.get("r")
            column = _column_index(ref.rstrip("0123456789")) if ref else column + 1
            cell_type = attrs.get("t", "n")
            style = attrs.get("s")
            value_parts = None
            inline_parts = None
        elif name == "v":
            value_parts = []
            collecting = value_parts
        elif name == "t":
            if inline_parts is not None and not rph:
                collecting = inline_parts
        elif name == "is":
            inline_parts = []
        elif name == "rPh":
            rph += 1
        elif name == "row":
            ref = attrs.get("r")
            row_number = int(ref) if ref else row_number + 1
            column = 0
            cells = {}

    def end(name):
        nonlocal collecting, rph, cells
        if ":" in name:
            name = name.rpartition(":")[2]
        if name == "c":
            value = None
            if cell_type == "inlineStr":
                if inline_parts is not None:
                    value = "".join(inline_parts).lstrip(LEADING_SPACES).rstrip(SPACES) or None
            elif value_parts:
                text = "".join(value_parts)
                if text:
                    if cell_type == "n":
                        value = float(text) if ("." in text or "E" in text or "e" in text) else int(text)
                        if style in date_styles:
                            try:
                                value = from_excel(value, epoch, timedelta=style in duration_styles)
                            except (OverflowError, ValueError):
                                value = "#VALUE!"
                    elif cell_type == "s":
                        value = shared[int(text)]  # trimmed already
                    elif cell_type == "b":
                        value = bool(int(text))
                    elif cell_type == "d":
                        value = from_ISO8601(text)
                    else:  # str (a formula's text), e (an error such as #N/A)
                        value = text
                    if value.__class__ is str:
                        value = value.lstrip(LEADING_SPACES).rstrip(SPACES) or None
            if value is not None:
                cells[column] = value
        elif name == "v" or name == "t":
            collecting = None
        elif name == "rPh":
            rph -= 1
        elif name == "row":
            if cells:
                values = [None] * max(cells)
                for index, value in cells.items():
                    values[index - 1] = value
                done.append((row_number, values))

    def text(data):
        if collecting is not None:
            collecting.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    for _step in _stream_xml(archive, path, parser):
        if done:
            yield from done
            done.clear()


def _workbook_sheets(archive):
    """[(sheet name, part path)] in workbook order, the date epoch, the shared-strings and styles paths."""
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

    root = _small_xml(archive, "xl/workbook.xml")
    rels = _relationships(archive, "xl/_rels/workbook.xml.rels")
    epoch = CALENDAR_WINDOWS_1900
    for props in _children(root, "workbookPr"):
        if (props.get("date1904") or "").lower() in ("1", "true"):
            epoch = CALENDAR_MAC_1904
    sheets = []
    for sheet in _children(root, "sheet"):
        rid = next((value for key, value in sheet.attrib.items() if key.rpartition("}")[2] == "id"), None)
        kind, path = rels.get(rid, ("", ""))
        if kind.endswith(MAIN_NS_TYPES) and path:
            sheets.append((sheet.get("name") or "", path))
    names = set(archive.namelist())
    shared = next((p for k, p in rels.values() if k.endswith("/sharedStrings")), "xl/sharedStrings.xml")
    styles = next((p for k, p in rels.values() if k.endswith("/styles")), "xl/styles.xml")
    return (
        sheets,
        epoch,
        shared if shared in names else None,
        styles if styles in names else None,
    )


def decode_text(data: bytes) -> str:
    """CSV text in UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030/GBK — without being told."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312, which is what Excel on Chinese Windows writes.
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise SpreadsheetError(
            _("The CSV file's text encoding could not be recognised; save it as CSV UTF-8.")
        ) from exc


def read_csv(data: bytes, title: str = "") -> RawSheet:
    try:
        text = decode_text(data)
    except UnicodeDecodeError as exc:
        raise SpreadsheetError(
            _("The CSV file's text encoding could not be recognised; save it as CSV UTF-8.")
        ) from exc
    if "\x00" in text:
        raise SpreadsheetError(_("Only .xlsx and .csv files can be imported."))
    reader = csv.reader(io.StringIO(text, newline=""))
    header = None
    rows = []
    limit = max_rows()
    try:
        for number, values in enumerate(reader, start=1):
            values = [clean_cell(unescape_csv(v)) for v in values]
            if header is None:
                if any(v is not None for v in values):
                    header = values
                continue
            if any(v is not None for v in values):
                rows.append((number, values))
                if len(rows) > limit:
                    raise SpreadsheetError(_("The file has more than %(limit)s rows.") % {"limit": limit})
    except csv.Error as exc:
        raise SpreadsheetError(_("The CSV file could not be read: %(error)s") % {"error": exc}) from exc
    if header is None:
        raise SpreadsheetError(_("The file is empty."))
    return RawSheet(title, _trim_header(header), rows)


def _trim_header(header):
    header = list(header)
    while header and header[-1] is None:
        header.pop()
    return header


def clean_cell(value):
    """Trim spaces (full-width ones too); an empty text is a blank cell.

    A leading tab or CR is kept: our exports write such a text as a quoted text cell (xlsx) or behind a `'`
    (CSV) precisely so that it comes back unchanged.
    """
    if isinstance(value, str):
        value = value.lstrip(LEADING_SPACES).rstrip(SPACES)
        return value or None
    return value


def unescape_csv(value: str) -> str:
    """Undo the `'` our CSV export puts before a text that a spreadsheet would run as a formula."""
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


# --------------------------------------------------------------------------------------------------
# Headers and cell values


def normalise_header(text) -> str:
    text = "" if text is None else str(text)
    text = text.translate(str.maketrans("（）【】［］", "()[][]"))
    return re.sub(r"\s+", "", text).lower()


def normalise_sheet_name(text) -> str:
    return re.sub(r"[\s_]+", "", str(text or "")).lower()


@dataclass
class Column:
    """One spreadsheet column: its fixed Chinese header, its English alias and how its cells are read."""

    name: str  # key in the normalised row (also the English alias)
    header: str  # fixed Chinese header, never translated
    kind: str = "text"  # text, code, amount, date, int, status
    required: bool = False
    max_length: int | None = None
    example: object = None

    def accepted_headers(self):
        zh = normalise_header(self.header)
        en = normalise_header(self.name)
        return {zh, en, f"{zh}[{en}]", f"{zh}({en})"}


def text_value(value):
    """A cell as text: numbers Excel made of codes (653100, 653100.0) become their digits again."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if not value.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return clean_cell(str(value))


NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]00:00(?::00(?:\.0+)?)?)?$"
)
MAX_YUAN = Decimal("999999999999.99")


class CellError(ValueError):
    pass


def parse_decimal(value) -> Decimal:
    if isinstance(value, bool):
        raise CellError(_("Not a number."))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # Excel keeps 15 significant digits; beyond that a float only carries binary noise.
        return Decimal(format(value, ".15g"))
    if isinstance(value, Decimal):
        return value
    text = str(value).strip(SPACES).replace(",", "").replace("，", "").replace(" ", "")
    if not NUMBER_RE.match(text):
        raise CellError(_("Not a number."))
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise CellError(_("Not a number.")) from exc


def parse_wan(value) -> str:
    """An amount in 万元 as exact yuan (a string with two decimals); more than six decimals is refused."""
    amount = parse_decimal(value)
    if not amount.is_finite():
        raise CellError(_("Not a number."))
    amount = amount.normalize() if amount != 0 else Decimal(0)
    if amount.as_tuple().exponent < -6:
        raise CellError(_("Amounts in 万元 may have at most 6 decimal places."))
    if amount < 0:
        raise CellError(_("Amounts may not be negative."))
    yuan = (amount * 10000).quantize(Decimal("0.01"))
    if yuan > MAX_YUAN:
        raise CellError(_("The amount is too large."))
    return str(yuan)


def parse_int(value) -> int:
    number = parse_decimal(value)
    if number != number.to_integral_value():
        raise CellError(_("Not a whole number."))
    if number < 0:
        raise CellError(_("Must not be negative."))
    if number > 2_147_483_647:
        raise CellError(_("The number is too large."))
    return int(number)


def parse_date(value) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value < 2958466:
        # An Excel serial day number in a cell not formatted as a date.
        from openpyxl.utils.datetime import from_excel

        return from_excel(value).date().isoformat()
    match = DATE_RE.match(str(value).strip(SPACES))
    if match:
        try:
            return date(*(int(part) for part in match.groups())).isoformat()
        except ValueError:
            pass
    raise CellError(_("Not a valid date; use 2022-08-19, 2022/8/19 or 2022年8月19日."))


_CHOICE_MAPS = {}


def _choice_maps(choices):
    """{normalised form: stored value} (the first value naming a form wins), and a memo of cell texts."""
    cached = _CHOICE_MAPS.get(id(choices))
    if cached is None or cached[0] is not choices:
        by_form = {}
        for stored, labels in choices.items():
            for form in (stored, *labels):
                by_form.setdefault(normalise_header(form), stored)
        cached = _CHOICE_MAPS[id(choices)] = (choices, by_form, {})
    return cached[1], cached[2]


def parse_choice(value, choices) -> str:
    """A status given as its Chinese label, its English value or its English label."""
    by_form, seen = _choice_maps(choices)
    if value.__class__ is str and value in seen:
        return seen[value]
    stored = by_form.get(normalise_header(text_value(value)))
    if stored is not None:
        if value.__class__ is str and len(seen) < 1000:
            seen[value] = stored
        return stored
    raise CellError(
        _("Unknown value; use one of: %(choices)s.")
        % {"choices": "、".join(labels[0] for labels in choices.values())}
    )


# --------------------------------------------------------------------------------------------------
# Importing


class Pending:
    """A reference to a record that an earlier sheet of the same file creates; resolved when written."""

    __slots__ = ("model", "code")

    def __init__(self, model, code):
        self.model = model
        self.code = code

    def __eq__(self, other):
        return isinstance(other, Pending) and (self.model, self.code) == (other.model, other.code)

    def __hash__(self):
        return hash((self.model, self.code))


class ImportContext:
    """What every sheet of one import shares: the user, their scope and the records earlier sheets add."""

    def __init__(self, user=None):
        self.user = user
        # No user (the django-import-export commands) means national scope.
        self.national = user is None or sees_everything(user)
        self.province = None if self.national else user_province(user)
        self.pending = {}  # model label -> {code: info}

    @cached_property
    def province_id(self):
        return self.province.pk if self.province else None

    def in_province(self, province_id) -> bool:
        return self.national or (self.province_id is not None and province_id == self.province_id)

    def scoped(self, queryset):
        if self.user is None:
            return queryset
        from agreements.access import scope_queryset

        return scope_queryset(self.user, queryset)


def code_or_name_map(queryset, code_field="code", name_field="name"):
    """{code: id, exact name: id}; a name shared by several rows maps to None (ambiguous)."""
    by_code, by_name = {}, {}
    for pk, code, name in queryset.values_list("pk", code_field, name_field):
        by_code[code] = pk
        by_name[name] = None if name in by_name else pk
    return by_code, by_name


def chunked(items, size=CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SheetImporter:
    """Parse, validate and write one sheet. Subclasses declare the columns and the references."""

    model = None
    sheet_names = ()  # Chinese first (canonical), then English
    columns: list[Column] = []
    key_column = "code"  # the column named in a duplicate-key error
    # Labels of stored status values: {value: (Chinese label, English label)}
    choices: dict = {}

    def __init__(self, context: ImportContext):
        self.context = context
        self.errors: list[RowError] = []
        self.creates = []
        self.updates = []
        self.unchanged = 0
        self.actions = {}  # row number -> "new" / "updated" / "unchanged"
        self.error_rows = set()

    # -- declarations -------------------------------------------------------------------------------

    @classmethod
    def sheet_title(cls):
        return cls.sheet_names[0]

    @classmethod
    def label(cls):
        return cls.model._meta.label_lower

    @classmethod
    def matches_sheet(cls, title) -> bool:
        return normalise_sheet_name(title) in {normalise_sheet_name(n) for n in cls.sheet_names}

    @property
    def header_of(self):
        return {column.name: column.header for column in self.columns}

    def error(self, row, column_name, value, message):
        self.error_rows.add(row)
        self.errors.append(
            RowError(
                self.sheet_title(),
                row,
                self.header_of.get(column_name, column_name),
                "" if value is None else str(value),
                str(message),
            )
        )

    # -- parsing ------------------------------------------------------------------------------------

    def map_columns(self, header):
        """Column index per column name, or file-level errors for missing, unknown or repeated columns."""
        accepted = {}
        for column in self.columns:
            for form in column.accepted_headers():
                accepted[form] = column
        positions, problems = {}, []
        for index, title in enumerate(header):
            if title is None:
                continue
            column = accepted.get(normalise_header(title))
            if column is None:
                if normalise_header(title) == normalise_header(ERROR_HEADER):
                    continue  # an error report sent back after fixing the rows
                problems.append(_("Unknown column: %(header)s.") % {"header": title})
            elif column.name in positions:
                problems.append(_("Repeated column: %(header)s.") % {"header": title})
            else:
                positions[column.name] = index
        for column in self.columns:
            if column.name not in positions:
                problems.append(_("Missing column: %(header)s.") % {"header": column.header})
        return positions, problems

    def parse(self, raw: RawSheet):
        """Normalised rows [(row number, {column: JSON-able value})]; cell errors go to self.errors."""
        positions, problems = self.map_columns(raw.header)
        if problems:
            raise SpreadsheetError(
                _("Sheet %(sheet)s: %(problems)s") % {"sheet": raw.title, "problems": " ".join(problems)}
            )
        parsed = []
        columns = [(column, positions[column.name]) for column in self.columns]
        for number, values in raw.rows:
            row = {}
            for column, index in columns:
                value = values[index] if index < len(values) else None
                try:
                    row[column.name] = self.parse_cell(column, value)
                except CellError as exc:
                    self.error(number, column.name, value, exc.args[0])
                    row[column.name] = None
            parsed.append((number, row))
        return parsed

    def parse_cell(self, column: Column, value):
        if value is None:
            if column.required:
                raise CellError(_("This field is required."))
            return None
        if column.kind == "amount":
            return parse_wan(value)
        if column.kind == "date":
            return parse_date(value)
        if column.kind == "int":
            return parse_int(value)
        if column.kind == "status":
            return parse_choice(value, self.choices)
        text = text_value(value)
        if column.max_length and len(text) > column.max_length:
            raise CellError(
                _("The text is too long (at most %(max)d characters).") % {"max": column.max_length}
            )
        return text

    # -- validation ---------------------------------------------------------------------------------

    def resolve(self, rows):
        """Model field values per row: [(row number, key, {attname: value})]. Subclasses implement."""
        raise NotImplementedError

    def existing(self, numbers):
        """{key: instance} for the keys (given as {key: row number}) already stored.

        A key held by a record outside the user's scope is reported as an error by the subclass."""
        raise NotImplementedError

    def register_pending(self, resolved):
        """Tell later sheets about the records this sheet adds or changes."""

    def validate(self, rows):
        """Set-wise validation of the parsed rows; fills creates/updates/unchanged and errors."""
        parsed = dict(rows)
        # Rows with a bad cell are resolved too, so every problem of a row is reported at once.
        resolved = self.resolve(rows)
        seen = {}
        unique = []
        for number, key, values in resolved:
            if number in self.error_rows:
                continue
            if key in seen:
                self.error(
                    number,
                    self.key_column,
                    parsed[number].get(self.key_column),
                    _("Duplicate key: the same record is also in row %(row)s.") % {"row": seen[key]},
                )
                continue
            seen[key] = number
            unique.append((number, key, values))
        existing = self.existing({key: number for number, key, _values in unique})
        fields = None
        for number, key, values in unique:
            if number in self.error_rows:
                continue
            instance = existing.get(key)
            if instance is None:
                self.creates.append(values)
                self.actions[number] = "new"
                continue
            changed = False
            for attname, value in values.items():
                if getattr(instance, attname) != value:
                    setattr(instance, attname, value)
                    changed = True
            if changed:
                self.updates.append(instance)
                self.actions[number] = "updated"
                fields = fields or list(values)
            else:
                self.unchanged += 1
                self.actions[number] = "unchanged"
        self.update_fields = [self.model._meta.get_field(f).name for f in (fields or [])]
        # The good rows are known to the sheets that follow even when another row is bad, so a bad project
        # does not make every disbursement of the good ones an "unknown project" as well.
        self.register_pending([row for row in unique if row[0] not in self.error_rows])

    # -- writing ------------------------------------------------------------------------------------

    def resolve_pending(self, values):
        """Replace references to records created by an earlier sheet with their ids, now they exist."""
        pending = {(v.model, v.code) for row in values for v in row.values() if isinstance(v, Pending)}
        if not pending:
            return
        ids = {}
        for model in {m for m, _code in pending}:
            codes = [c for m, c in pending if m is model]
            for chunk in chunked(codes):
                ids.update(
                    {
                        (model, c): pk
                        for c, pk in model.objects.filter(code__in=chunk).values_list("code", "pk")
                    }
                )
        for row in values:
            for attname, value in row.items():
                if isinstance(value, Pending):
                    row[attname] = ids[(value.model, value.code)]

    def write(self):
        from simple_history.utils import bulk_create_with_history, bulk_update_with_history

        user = self.context.user
        self.resolve_pending(self.creates)
        for instance in self.updates:
            for attname, value in list(vars(instance).items()):
                if isinstance(value, Pending):
                    setattr(
                        instance,
                        attname,
                        value.model.objects.values_list("pk", flat=True).get(code=value.code),
                    )
        if self.creates and not insert_with_history(self.model, self.creates, user, _("spreadsheet import")):
            bulk_create_with_history(
                [self.model(**values) for values in self.creates],
                self.model,
                batch_size=1000,
                default_user=user,
                default_change_reason=_("spreadsheet import"),
            )
        if self.updates:
            bulk_update_with_history(
                self.updates,
                self.model,
                fields=self.update_fields,
                batch_size=1000,
                default_user=user,
                default_change_reason=_("spreadsheet import"),
            )

    def counts(self):
        return {
            "new": len(self.creates),
            "updated": len(self.updates),
            "unchanged": self.unchanged,
            "errors": len(self.error_rows),
        }

    # -- exporting ----------------------------------------------------------------------------------

    def export_rows(self, queryset):
        """Rows of cell values (codes as text, statuses as Chinese labels, amounts in 万元) for export."""
        raise NotImplementedError

    @classmethod
    def example_row(cls):
        return [column.example for column in cls.columns]

    @classmethod
    def headers(cls):
        return [column.header for column in cls.columns]


# Field types whose values the importers already hold in the form the database takes.
PLAIN_TYPES = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
}
PREPARED_TYPES = {"DateField", "DateTimeField", "DecimalField"}


def insert_with_history(model, rows, user, reason) -> bool:
    """PostgreSQL: insert new records and their "+" history rows with COPY (ids drawn from the sequence first).

    The same rows as `bulk_create_with_history(..., default_user=user, default_change_reason=reason)`
    writes (every field's default for a column the sheet does not have; one history date for the whole
    import), without building a model instance and compiling each field of every row in Python, which is
    most of the time of a 50,000-row import. Returns False — the caller then uses the bulk helpers — on
    other databases, without a user, or for a model with field types it does not know.
    """
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    if connection.vendor != "postgresql" or getattr(user, "pk", None) is None:
        return False
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    history = getattr(model, "history", None)
    history_model = history.model if history is not None else None
    kinds = PLAIN_TYPES | PREPARED_TYPES
    if history_model is None or any(
        f.get_internal_type() not in kinds
        or getattr(f, "auto_now", False)
        or getattr(f, "auto_now_add", False)
        for f in fields
    ):
        return False  # pre_save() would fill such a field; leave it to bulk_create
    history_fields = [f for f in history_model._meta.concrete_fields if not f.primary_key]
    tracked = {f.attname for f in history_model.tracked_fields}
    special = {"history_date", "history_change_reason", "history_type", "history_user_id"}
    if any(f.attname not in tracked | special for f in history_fields) or any(
        f.get_internal_type() not in kinds | {"BigIntegerField"} for f in history_fields
    ):
        return False
    defaults = {f.attname: f.get_default() for f in fields}
    prepared = [f for f in fields if f.get_internal_type() in PREPARED_TYPES]
    pk = model._meta.pk
    table = model._meta.db_table
    with connection.cursor() as cursor:
        # Ids first (one query), so the history rows can name them; COPY returns nothing.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk.column, len(rows)],
        )
        ids = [new_id for (new_id,) in cursor.fetchall()]
        # Each value formatted once, for the record's line and its history row's.
        columns = [pk.attname] + [f.attname for f in fields]
        formats = _COPY_FORMAT
        records = []
        for new_id, values in zip(ids, rows, strict=True):
            row = {**defaults, **values}
            for f in prepared:
                value = row[f.attname]
                if value is not None and not isinstance(value, (Decimal, date)):
                    row[f.attname] = f.get_db_prep_save(value, connection)
            row[pk.attname] = new_id
            records.append([formats.get(type(v), copy_text)(v) for v in (row[n] for n in columns)])
        copy_lines(cursor, table, [pk.column] + [f.column for f in fields], ("\t".join(r) for r in records))
        if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
            return True
        fixed = {
            "history_date": timezone.now(),
            "history_change_reason": str(reason),
            "history_type": "+",
            "history_user_id": user.pk,
        }
        fixed = {name: copy_text(value) for name, value in fixed.items()}
        position = {name: index for index, name in enumerate(columns)}
        order = [(position.get(f.attname), fixed.get(f.attname)) for f in history_fields]
        copy_lines(
            cursor,
            history_model._meta.db_table,
            [f.column for f in history_fields],
            ("\t".join([r[i] if i is not None else text for i, text in order]) for r in records),
        )
    return True


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value) -> str:
    """A value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


# The common types straight to their formatter (no isinstance chain per value).
_COPY_FORMAT = {
    str: lambda value: value.translate(_COPY_ESCAPES),
    int: int.__str__,
    Decimal: Decimal.__str__,
    date: date.isoformat,
    type(None): lambda value: "\\N",
}


def _copy_line(row):
    formats = _COPY_FORMAT
    return "\t".join([formats.get(type(value), copy_text)(value) for value in row])


def copy_rows(cursor, table, columns, rows, chunk=20_000):
    """COPY rows (lists of Python values) into a table, a chunk at a time (bounded memory)."""
    copy_lines(cursor, table, columns, (_copy_line(row) for row in rows), chunk)


def copy_lines(cursor, table, columns, lines, chunk=20_000):
    """COPY lines already in COPY's text format into a table, a chunk at a time."""
    quote = cursor.db.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    buffer = []
    for line in lines:
        buffer.append(line)
        if len(buffer) >= chunk:
            _copy(cursor, sql, buffer)
            buffer = []
    if buffer:
        _copy(cursor, sql, buffer)


def _copy(cursor, sql, lines):
    with cursor.db.wrap_database_errors:  # IntegrityError and friends as Django's, like bulk_create's
        cursor.copy_expert(sql, io.StringIO("\n".join(lines) + "\n"))


def yuan_to_wan(amount):
    """Yuan (Decimal) as 万元: exact, shown without trailing zeros."""
    if amount is None:
        return None
    value = (Decimal(amount) / 10000).quantize(Decimal("0.000001"))
    value = value.normalize()
    # normalize() may give 1E+1; keep a plain number
    return value.quantize(Decimal(1)) if value == value.to_integral() else value


def importer_classes():
    return [import_string(path) for path in IMPORTERS]


def importers_for(target):
    """The importer of a model label ("projects.project"), or every importer (a whole workbook)."""
    for cls in importer_classes():
        if cls.label() == target:
            return [cls]
    return None


def importer_for_model(model):
    for cls in importer_classes():
        if cls.model is model:
            return cls
    raise LookupError(model)


# --------------------------------------------------------------------------------------------------
# Running an import: parse once, validate (again on confirm), write all in one transaction


@dataclass
class ImportOutcome:
    """What an import found: per-sheet counts, every error, and the normalised rows for a confirm."""

    sheets: list = field(default_factory=list)  # [(importer class, parsed rows)]
    counts: dict = field(default_factory=dict)  # sheet title -> counts
    errors: list = field(default_factory=list)  # [RowError]
    actions: dict = field(default_factory=dict)  # sheet title -> {row: action}
    written: bool = False

    @property
    def ok(self):
        return not self.errors

    def totals(self):
        total = {"new": 0, "updated": 0, "unchanged": 0, "errors": 0}
        for counts in self.counts.values():
            for key in total:
                total[key] += counts[key]
        return total

    def staged(self) -> bytes:
        """The normalised rows, compressed, for a confirm on any app server."""
        payload = [[cls.label(), rows] for cls, rows in self.sheets]
        return zlib.compress(json.dumps(payload, ensure_ascii=False).encode(), 3)


def select_sheets(raw_sheets, importers=None):
    """Pair the file's sheets with importers.

    With one importer (an admin page or a resource), a file of one sheet is that sheet whatever its name;
    otherwise sheets are matched by name (Chinese or English) and unknown sheets are an error.
    """
    importers = importers or importer_classes()
    if len(importers) == 1:
        cls = importers[0]
        named = [raw for raw in raw_sheets if cls.matches_sheet(raw.title)]
        if named:
            return [(cls, named[0])]
        if len(raw_sheets) == 1:
            return [(cls, raw_sheets[0])]
        raise SpreadsheetError(
            _("No sheet named %(names)s was found.") % {"names": " / ".join(cls.sheet_names)}
        )
    pairs = []
    for cls in importers:
        for raw in raw_sheets:
            if cls.matches_sheet(raw.title):
                pairs.append((cls, raw))
                break
    if not pairs and len(raw_sheets) == 1:
        # A csv (or a sheet named otherwise): recognise it by its header.
        for cls in importers:
            positions, problems = cls(ImportContext()).map_columns(raw_sheets[0].header)
            if not problems:
                pairs.append((cls, raw_sheets[0]))
                break
    if not pairs:
        names = "、".join(cls.sheet_title() for cls in importers)
        raise SpreadsheetError(_("No sheet named %(names)s was found.") % {"names": names})
    return pairs


def parse_sheets(pairs, context=None):
    """Parse every selected sheet; cell errors are collected, not raised."""
    outcome = ImportOutcome()
    for cls, raw in pairs:
        importer = cls(context or ImportContext())
        rows = importer.parse(raw)
        outcome.sheets.append((cls, rows))
        outcome.errors.extend(importer.errors)
    if not any(rows for _cls, rows in outcome.sheets):
        raise SpreadsheetError(_("The file holds no data rows."))
    return outcome


def run(sheets, user=None, *, dry_run=False, parse_errors=()):
    """Validate parsed sheets in dependency order and, unless dry_run or any error, write them all.

    `sheets` is [(importer class, parsed rows)]; nothing is written when any sheet has an error.
    """
    context = ImportContext(user)
    order = {path: index for index, path in enumerate(importer_classes())}
    sheets = sorted(sheets, key=lambda pair: order.get(pair[0], 0))
    outcome = ImportOutcome(sheets=sheets)
    importers = []
    parse_error_rows = {}
    for error in parse_errors:
        parse_error_rows.setdefault(error.sheet, set()).add(error.row)
    for cls, rows in sheets:
        importer = cls(context)
        importer.error_rows |= parse_error_rows.get(cls.sheet_title(), set())
        importer.validate(rows)
        importers.append(importer)
        counts = importer.counts()
        outcome.counts[cls.sheet_title()] = counts
        outcome.actions[cls.sheet_title()] = importer.actions
    outcome.errors = list(parse_errors) + [e for importer in importers for e in importer.errors]
    for importer in importers:
        rows_with_errors = {e.row for e in outcome.errors if e.sheet == importer.sheet_title()}
        outcome.counts[importer.sheet_title()]["errors"] = len(rows_with_errors)
    if outcome.errors or dry_run:
        return outcome
    with transaction.atomic():
        for importer in importers:
            importer.write()
    outcome.written = True
    return outcome


def import_file(data: bytes, filename: str, user=None, *, dry_run=False, importers=None):
    """Read, parse, validate and (unless dry_run or any error) write a file. Raises SpreadsheetError."""
    pairs = select_sheets(read_file(data, filename), importers)
    parsed = parse_sheets(pairs)
    return run(parsed.sheets, user, dry_run=dry_run, parse_errors=parsed.errors)


def load_staged(blob: bytes):
    by_label = {cls.label(): cls for cls in importer_classes()}
    return [
        (by_label[label], [(number, row) for number, row in rows])
        for label, rows in json.loads(zlib.decompress(blob).decode())
    ]


# --------------------------------------------------------------------------------------------------
# Writing files: formula-safe, amounts numeric


def needs_escape(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


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
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else escape_csv(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --------------------------------------------------------------------------------------------------
# Recorded imports: what the admin and the command line call

PREVIEW_ROWS = 100


def _display(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if not value.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return format(value, ".15g")
    return str(value)


def _new_record(data, filename, user, source, target):
    from agreements.models import ImportRecord

    return ImportRecord(
        user=user if getattr(user, "pk", None) else None,
        file_name=(filename or "")[-255:],
        file_size=len(data),
        sha256=sha256(data),
        source=source,
        target=target,
    )


def _fill(record, outcome, pairs):
    record.counts = outcome.counts
    record.errors = [error.as_dict() for error in outcome.errors]
    preview = []
    for cls, raw in pairs:
        actions = outcome.actions.get(cls.sheet_title(), {})
        positions, _problems = cls(ImportContext()).map_columns(raw.header)
        order = [positions.get(column.name) for column in cls.columns]
        for number, values in raw.rows:
            if len(preview) >= PREVIEW_ROWS:
                break
            preview.append(
                {
                    "sheet": cls.sheet_title(),
                    "row": number,
                    "action": actions.get(number, "error"),
                    "values": [
                        _display(values[i]) if i is not None and i < len(values) else "" for i in order
                    ],
                }
            )
    record.preview = preview


def preview_import(data, filename, user, *, importers=None, source="admin", target=""):
    """Read, parse and validate a file without writing; a clean preview keeps the rows for confirm."""
    from django.utils import timezone

    from agreements.models import ImportRecord

    record = _new_record(data, filename, user, source, target)
    record.file = data
    try:
        pairs = select_sheets(read_file(data, filename), importers)
        parsed = parse_sheets(pairs)
        outcome = run(parsed.sheets, user, dry_run=True, parse_errors=parsed.errors)
    except SpreadsheetError as exc:
        record.outcome = ImportRecord.Outcome.REJECTED
        record.message = exc.message
        record.finished_at = timezone.now()
        record.save()
        return record
    _fill(record, outcome, pairs)
    if outcome.ok:
        record.outcome = ImportRecord.Outcome.PREVIEWED
        record.staged = outcome.staged()
    else:
        record.outcome = ImportRecord.Outcome.REJECTED
        record.message = _("Nothing was imported: %(count)s rows have errors.") % {
            "count": sum(c["errors"] for c in outcome.counts.values())
        }
        record.finished_at = timezone.now()
    record.save()
    return record


def confirm_import(record, user):
    """Write a previewed import, validating again against the data as it is now; all or nothing."""
    from django.utils import timezone

    from agreements.models import ImportRecord

    sheets = load_staged(bytes(record.staged))
    outcome = run(sheets, user)
    record.counts = outcome.counts
    record.errors = [error.as_dict() for error in outcome.errors]
    record.finished_at = timezone.now()
    record.staged = None
    if outcome.written:
        record.outcome = ImportRecord.Outcome.IMPORTED
    else:
        record.outcome = ImportRecord.Outcome.REJECTED
        record.message = _("The data changed since the preview; nothing was imported.")
    record.save()
    return record, outcome


def import_recorded(data, filename, user, *, dry_run=False, importers=None, source="command", target=""):
    """Read, validate and write in one go (the command line); recorded like an admin import."""
    from django.utils import timezone

    from agreements.models import ImportRecord

    record = _new_record(data, filename, user, source, target)
    outcome = None
    try:
        pairs = select_sheets(read_file(data, filename), importers)
        parsed = parse_sheets(pairs)
        outcome = run(parsed.sheets, user, dry_run=dry_run, parse_errors=parsed.errors)
    except SpreadsheetError as exc:
        record.outcome = ImportRecord.Outcome.REJECTED
        record.message = exc.message
    else:
        record.counts = outcome.counts
        record.errors = [error.as_dict() for error in outcome.errors]
        if outcome.errors:
            record.outcome = ImportRecord.Outcome.REJECTED
            record.file = data
        elif dry_run:
            record.outcome = ImportRecord.Outcome.DRY_RUN
        else:
            record.outcome = ImportRecord.Outcome.IMPORTED
    record.finished_at = timezone.now()
    record.save()
    return record, outcome


def error_report(record) -> bytes:
    """The uploaded sheets as xlsx with an error column holding every problem of each row."""
    sheets = select_sheets(read_file(bytes(record.file), record.file_name), importers_for(record.target))
    by_row = {}
    for error in record.errors:
        text = f"{error['column']}: {error['message']}" if error["column"] else error["message"]
        by_row.setdefault((error["sheet"], error["row"]), []).append(text)
    out = []
    for cls, raw in sheets:
        title = cls.sheet_title()
        rows = [
            list(values[: len(raw.header)])
            + [None] * (len(raw.header) - len(values))
            + ["；".join(by_row.get((title, number), []))]
            for number, values in raw.rows
        ]
        out.append((title, list(raw.header) + [ERROR_HEADER], rows))
    return write_xlsx(out)
