"""Reading files: the zip guard, CSV decoding and the xlsx readers.

One function turns an uploaded file (xlsx or csv, any of the encodings Chinese offices produce) into plain
sheets of cell values, refusing bad files with a clear message before anything is parsed — an old .xls, an
encrypted or corrupt workbook, a zip bomb, a file over the size or row limit. An xlsx sheet's header is read
by our streaming reader (`spreadsheets.xlsx`: expat with defusedxml's guards, only rows, cells, values,
strings and date styles looked at); its rows, when they are first wanted, by python-calamine if a cheap
pre-scan of the sheet's XML allows (`spreadsheets.xlsx_fast`: nothing calamine would read differently or
allocate densely past the header and the row limit), otherwise by our reader, which is the reference: both
give the same rows.
"""

import csv
import hashlib
import io
import zipfile
from functools import partial
from itertools import islice

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from spreadsheets.cells import (
    SPACES,
    RawSheet,
    SpreadsheetError,
    clean_cell,
    unescape_csv,
)
from spreadsheets.xlsx import (
    MAX_HEADER_CELLS,
    capped,
    date_styles,
    shared_strings,
    sheet_rows,
    workbook_sheets,
)
from spreadsheets.xlsx_fast import FastBook

_UNDECIDED = object()  # whether calamine reads a sheet is decided when its rows are first wanted
FAST_XLSX = True  # read sheets with calamine behind its pre-scan (spreadsheets.xlsx_fast) when it allows

# Zip-bomb limits: an xlsx is a zip of XML; real workbooks unpack to 5-15 times their size.
ZIP_MAX_ENTRIES = 10_000
ZIP_MAX_RATIO = 200
ZIP_MIN_SUSPICIOUS_BYTES = 20 * 1024 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Sheet XML allowed per data row (a full row of our widest sheet is well under 1 kB) and in all.
SHEET_XML_PER_ROW = 2048
SHEET_XML_BASE = 1024 * 1024
MIN_CELL_TEXT = 1000
CELL_TEXT_MARGIN = 100

# --------------------------------------------------------------------------------------------------
# Reading files


def max_bytes():
    return getattr(settings, "AIDTRACKER_IMPORT_MAX_BYTES", 50 * 1024 * 1024)


def max_rows():
    return getattr(settings, "AIDTRACKER_IMPORT_MAX_ROWS", 200_000)


def size_limit_text() -> str:
    """The import size limit as the pages and messages state it (one place, in the unit that fits)."""
    return filesizeformat(max_bytes())


def sheet_xml_limit() -> int:
    """The most uncompressed sheet XML a workbook may hold: what the row limit can need, and room to spare."""
    return SHEET_XML_BASE + SHEET_XML_PER_ROW * max_rows()


def cell_text_limit() -> int:
    """The longest text a cell is read with: the longest value any column accepts, plus a margin."""
    from spreadsheets import registry

    longest = max(
        (column.max_length or 0 for cls in registry.importer_classes() for column in cls.columns), default=0
    )
    return max(longest, MIN_CELL_TEXT) + CELL_TEXT_MARGIN


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_file(data: bytes, filename: str = "") -> list[RawSheet]:
    """Every sheet of an xlsx or csv file with all its rows, or a SpreadsheetError saying why the file cannot
    be read."""
    return _materialised(open_file(data, filename))


def open_file(data: bytes, filename: str = "") -> list[RawSheet]:
    """Every sheet of an xlsx or csv file, its header read and its rows an iterator read once, as they are
    consumed — so an import never holds the file's rows at once. A file that cannot be read at all is a
    SpreadsheetError here; one damaged further on, or over the row limit, raises it while its rows are read."""
    limit = max_bytes()
    if len(data) > limit:
        raise SpreadsheetError(
            _("The file is larger than the limit of %(limit)s.") % {"limit": size_limit_text()}
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
        return open_xlsx(data)
    if name.endswith(".xlsx") or name.endswith(".xlsm"):
        raise SpreadsheetError(_not_xlsx())
    if name.endswith(".csv") or name.endswith(".txt") or not name:
        return [open_csv(data, title=_strip_suffix(filename))]
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
        raise SpreadsheetError(_not_xlsx()) from exc
    if len(infos) > ZIP_MAX_ENTRIES:
        raise SpreadsheetError(_("The workbook unpacks to an implausible size; it was not opened."))
    unpacked = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos) or 1
    if unpacked > 20 * max_bytes() or (
        unpacked > ZIP_MIN_SUSPICIOUS_BYTES and unpacked / packed > ZIP_MAX_RATIO
    ):
        raise SpreadsheetError(_("The workbook unpacks to an implausible size; it was not opened."))
    # The sheets' XML (and their shared strings) can need no more than so much per row the limit allows;
    # a zip padded past that (with a ratio kept under the check above) would cost seconds of CPU to parse.
    xml = sum(
        info.file_size
        for info in infos
        if info.filename.startswith("xl/worksheets/") or info.filename.endswith("sharedStrings.xml")
    )
    if xml > sheet_xml_limit():
        raise SpreadsheetError(
            _("The workbook's sheets are larger than %(limit)s rows can need; it was not opened.")
            % {"limit": max_rows()}
        )
    if "xl/workbook.xml" not in {info.filename for info in infos}:
        raise SpreadsheetError(_not_xlsx())


def _materialised(sheets):
    for sheet in sheets:
        sheet.rows = list(sheet.rows)
    return sheets


def read_xlsx(data: bytes) -> list[RawSheet]:
    """Every worksheet of an xlsx with all its rows."""
    return _materialised(open_xlsx(data))


def open_xlsx(data: bytes) -> list[RawSheet]:
    """Every worksheet of an xlsx, streamed straight from the zip (see `sheet_rows`): each sheet's header is
    read here, its rows as they are consumed."""
    check_zip(data)
    sheets = []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts, epoch, shared_path, styles_path = workbook_sheets(archive)
        cap = cell_text_limit()
        shared = shared_strings(archive, shared_path, cap)
        dates, durations = date_styles(archive, styles_path)
        fast = FastBook(data, archive, parts, shared_path, styles_path, dates, durations, cap, max_rows())
        for title, path in parts:
            columns = []
            rows = sheet_rows(archive, path, shared, dates, durations, epoch, cap, columns)
            first = next(rows, None)
            if first is not None:
                args = rows, fast, title, path, first[0], columns
                raw = RawSheet(title, _trim_header(first[1]), _xlsx_rows(*args))
                raw.fuse = partial(_fused_rows, raw.rows, args)  # not `raw` itself: no cycle for the gc
                sheets.append(raw)
    except SpreadsheetError:
        raise
    except Exception as exc:  # damaged zip members, malformed or forbidden XML, missing parts
        raise SpreadsheetError(_not_xlsx()) from exc
    if not sheets:
        raise SpreadsheetError(_("The file is empty."))
    return sheets


def _xlsx_rows(rows, fast, title, path, header_row, columns, decided=_UNDECIDED, parse=None):
    """A sheet's rows after its header: through calamine when its pre-scan allows (decided when the rows are
    first wanted, so one sheet at a time is in calamine's memory), otherwise through our reader; refused once
    there are more than the limit allows, and damage found further on in the file is the same clear error as
    at its start. One generator for all three, the rows passed on in C (islice), as this is every row's path.

    `decided`: calamine's rows (or None: our reader's) when `_fused_rows` has decided already; `parse`: what
    turns calamine's rows into the rows given (parsed rows, see `_fused_rows`)."""
    limit = max_rows()
    try:
        fast_rows = decided
        if fast_rows is _UNDECIDED:
            fast_rows = fast.rows(title, path, header_row, columns) if FAST_XLSX else None
        if fast_rows is not None:
            rows.close()
            rows = fast_rows if parse is None else parse(fast_rows)
        yield from islice(rows, limit)
        if next(rows, None) is not None:
            raise SpreadsheetError(_("The file has more than %(limit)s rows.") % {"limit": limit})
    except SpreadsheetError:
        raise
    except Exception as exc:
        raise SpreadsheetError(_not_xlsx()) from exc
    finally:
        rows.close()  # islice does not pass a close on: the reader's zip member is closed here


def _fused_rows(original, args, raw, parse):
    """The sheet's rows as `parse` gives them from calamine's rows (a CalamineRows: an importer's parsed rows,
    see SheetImporter.parse_rows), with the same row limit and errors as `_xlsx_rows`; or None, when calamine
    does not read the sheet (its rows are then read as they would be) or its rows are being read already."""
    raw.fuse = None  # once: what it holds (the reader, the workbook) goes with the rows
    if raw.rows is not original or not FAST_XLSX:
        return None
    try:
        decided = args[1].rows(*args[2:])
    except Exception as exc:
        raise SpreadsheetError(_not_xlsx()) from exc
    if decided is None:
        raw.rows = _xlsx_rows(*args, decided=None)
        return None
    raw.rows = iter(())  # read by `parse`, as an iterator would be once read
    return _xlsx_rows(*args, decided=decided, parse=parse)


def _not_xlsx():
    # One message for every way an xlsx can be unreadable.
    return _("The file is not a valid .xlsx workbook; it may be damaged or another kind of file renamed.")


def _limited(rows):
    """The rows, refused once there are more than the limit allows."""
    limit = max_rows()
    for count, row in enumerate(rows, start=1):
        if count > limit:
            raise SpreadsheetError(_("The file has more than %(limit)s rows.") % {"limit": limit})
        yield row


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
    """A CSV file as one sheet with all its rows."""
    return _materialised([open_csv(data, title)])[0]


def open_csv(data: bytes, title: str = "") -> RawSheet:
    """A CSV file as one sheet: its header read here, its rows as they are consumed."""
    try:
        text = decode_text(data)
    except UnicodeDecodeError as exc:
        raise SpreadsheetError(
            _("The CSV file's text encoding could not be recognised; save it as CSV UTF-8.")
        ) from exc
    if "\x00" in text:
        raise SpreadsheetError(_("Only .xlsx and .csv files can be imported."))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    cap = cell_text_limit()
    header = None
    number = 0
    try:
        for number, values in enumerate(reader, start=1):  # noqa: B007 (the header's number, after)
            values = [clean_cell(capped(unescape_csv(v), cap)) for v in values]
            if any(v is not None for v in values):
                header = _trim_header(values)
                break
    except csv.Error as exc:
        raise _csv_error(reader) from exc
    if header is None:
        raise SpreadsheetError(_("The file is empty."))
    if len(header) > MAX_HEADER_CELLS:
        raise SpreadsheetError(
            _("The header row has more than %(count)s columns.") % {"count": MAX_HEADER_CELLS}
        )
    return RawSheet(title, header, _limited(_csv_rows(reader, number, len(header), cap)))


def _delimiter(text: str) -> str:
    """Comma; or tab for the tab-separated text Excel saves as "Unicode text" (制表符分隔): its first line with
    a value has tabs and no comma."""
    for line in text.split("\n", 50)[:50]:
        if line.strip():
            return "\t" if "\t" in line and "," not in line else ","
    return ","


def _csv_rows(reader, header_number, width, cap):
    try:
        for number, values in enumerate(reader, start=header_number + 1):
            values = [clean_cell(capped(unescape_csv(v), cap)) for v in values[:width]]
            if any(v is not None for v in values):
                yield number, values
    except csv.Error as exc:
        raise _csv_error(reader) from exc


def _csv_error(reader):
    """What the csv module refused, in the user's language: with `newline=""` and the default dialect, the
    one error it raises is a cell longer than its field limit (its own message is English)."""
    return SpreadsheetError(
        _("The CSV file could not be read: line %(line)s holds a cell longer than %(limit)s characters.")
        % {"line": reader.line_num, "limit": f"{csv.field_size_limit():,}"}
    )


def _trim_header(header):
    header = list(header)
    while header and header[-1] is None:
        header.pop()
    return header
