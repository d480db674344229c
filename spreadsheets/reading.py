"""Reading files: the zip guard, CSV decoding and the streaming xlsx reader.

One function turns an uploaded file (xlsx or csv, any of the encodings Chinese offices produce) into plain
sheets of cell values, refusing bad files with a clear message before anything is parsed — an old .xls, an
encrypted or corrupt workbook, a zip bomb, a file over the size or row limit. An xlsx is streamed straight
from the zip: the sheet XML goes through expat with defusedxml's guards (no DTD, no entity declarations, no
external references) and only rows, cells, values, inline and shared strings and the date styles are looked
at — several times faster than openpyxl, which builds an object per cell.
"""

import csv
import hashlib
import io
import zipfile

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from spreadsheets.cells import (
    LEADING_SPACES,
    SPACES,
    RawSheet,
    SpreadsheetError,
    clean_cell,
    unescape_csv,
)

# Zip-bomb limits: an xlsx is a zip of XML; real workbooks unpack to 5-15 times their size.
ZIP_MAX_ENTRIES = 10_000
ZIP_MAX_RATIO = 200
ZIP_MIN_SUSPICIOUS_BYTES = 20 * 1024 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

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
