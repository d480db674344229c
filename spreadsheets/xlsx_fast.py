"""The fast xlsx path: python-calamine (a Rust reader) behind our own pre-scan of the raw XML.

Calamine reads a sheet several times faster than our streaming expat reader (`spreadsheets.xlsx`), but it
reads a whole sheet at once into a dense rows × columns array (a tiny file with a cell at XFD or at row
1048576 would abort the process), and in some corners it reads cells differently: a formula saved without
its value is an empty cell, an error cell is empty, texts are trimmed inside rich text, `_x000D_` escapes
are decoded, dates come as `date`, numbers as floats.

So calamine only reads a sheet when a cheap pre-scan of its XML (compiled bytes regexes over row-aligned
windows of the decompressed part, no Python per cell) finds nothing it would read differently or
expensively; the pre-scan also records where the formulas without a value and the error cells are, so they
are given exactly as our reader gives them. Anything unusual — a reference past the header's width or past
the row limit, cells or rows without references, namespace prefixes, long texts, negative or huge numbers,
date cells (ISO), durations, odd booleans, escapes, literal carriage returns, a DTD, or date styles calamine classifies
otherwise than openpyxl — and the sheet is read by our reader, which stays the reference behaviour. Either
way the importer gets the same rows: the header (always read by our reader) and then (row number, [values
under the header]) for each row with a value, as the rows are consumed.

The pre-scan makes two passes (`scan_sheet`). The safety pass — what would make calamine allocate too much
or misplace rows — passes in full before calamine is handed the sheet; calamine then loads it (letting go
of the GIL) while the semantic pass (`spreadsheets.xlsx_values`) — what it would only read as other values
— runs in a thread, and a refusal there throws calamine's sheet away.
"""

import io
import re
import threading
import zipfile
from datetime import timedelta

from spreadsheets.calamine_rows import CalamineRows
from spreadsheets.xlsx_values import Unsafe, check_values, unsafe_text

MAX_FAST_CELLS = 4_000_000  # rows × columns calamine may allocate for a sheet (32 bytes each)
# Cells calamine may hold: its copy of a sheet costs about 60 bytes a cell on top of our reader's memory
# (measured: +122 MB at the 200,000 × 10 row limit); past this, our reader streams in flat memory — so an
# import at the row limit stays far under its memory goal (≤ 400 MB), and calamine speeds up the files of up
# to 100,000 rows of ten columns.
MAX_READ_CELLS = 1_000_000
MAX_SPECIAL_CELLS = 10_000  # formulas without a value and error cells remembered by position
MAX_PROBE_STYLES = 4000
ROW_SLACK = 1000  # blank rows above and between the data rows a sheet may have
SCAN_CHUNK = 1 << 20  # the pre-scan holds about three pieces at once
MAX_ROW_BYTES = 32 << 20

SHARED_ITEM = re.compile(rb"<si[\s>/]")
# Calamine reserves room for the table's declared `uniqueCount` before reading it: a 2 kB file declaring
# 2,000,000,000 aborts the process (allocation of 48 GB). It must not exceed the items the table holds.
UNIQUE_COUNT = re.compile(rb"<(?:\w+:)?sst\b[^>]*?\suniqueCount\s*=\s*[\"']\s*([^\"']*)")
# In sheet XML (what the safety pass refuses; the values are `spreadsheets.xlsx_values`' pass): prefixed
# elements; a cell reference that is not 1-2 capitals and a row of at most 7 digits.
PREFIXED = re.compile(rb":(?:c|row|v|f|is|t|r|sheetData)[\s>/]")
# A cell without a reference (or not as its first attribute), or one not 1-2 capitals and a row number.
BAD_CELL = re.compile(rb'<c(?! r="[A-Z]{1,2}[1-9]\d{0,6}")(?=[\s>/])')
ROW_NUMBER = re.compile(rb'<row r="(\d+)"')
# A row without a number, or whose first cell names another row.
BAD_ROW = re.compile(rb'<row(?:(?=[\s>/])(?! r="\d)| r="(\d+)"[^>]*><c r="[A-Z]{1,2}+(?!\1"))')


def _greater_than(number: int, digits: bytes = b"0123456789") -> bytes:
    """A regex (bytes) matching the numerals greater than `number` in `digits`' base, written without
    leading zeros (as `digits`' first symbol is zero) — or, with letters, column names past a column."""
    text = _numeral(number, digits)
    zero = digits[:1] if digits[:1] == b"0" else b""
    first = re.escape(digits[1:] if zero else digits).decode()
    every = re.escape(digits).decode()
    choices = [f"[{first}][{every}]{{{len(text)},}}"]
    for index, symbol in enumerate(text):
        higher = digits[digits.index(symbol) + 1 :]
        if higher:
            choices.append(
                f"{re.escape(text[:index]).decode()}[{re.escape(higher).decode()}][{every}]{{{len(text) - index - 1}}}"
            )
    return ("(?:" + "|".join(choices) + ")").encode()


def _numeral(number, digits):
    if digits[:1] == b"0":
        return str(number).encode()
    out = b""
    while number:
        number, rest = divmod(number - 1, 26)
        out = digits[rest : rest + 1] + out
    return out


LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _past_reference(last, rows_bound):
    """A regex (compiled) finding a cell reference past column `last` or past row `rows_bound`.

    It reads each reference's letters once and whole, then looks at its digits only when there are enough
    of them to pass the bound, and at its letters through look-behinds — about twice as fast as trying
    every longer-or-greater spelling in turn. It knows references of one or two letters and one to seven
    digits: BAD_CELL refuses every other form in the same piece of XML first."""
    name = _numeral(last, LETTERS)
    later = []  # look-behinds, just after the letters, for the one- and two-letter names past `last`
    if len(name) == 1:
        if name != b"Z":
            later.append(b'(?<="[' + LETTERS[LETTERS.index(name) + 1 :] + b"])")
        later.append(b"(?<=[A-Z][A-Z])")
    elif len(name) == 2:
        first, second = name[:1], name[1:]
        if second != b"Z":
            later.append(b'(?<="' + first + b"[" + LETTERS[LETTERS.index(second) + 1 :] + b"])")
        if first != b"Z":
            later.append(b'(?<="[' + LETTERS[LETTERS.index(first) + 1 :] + b"][A-Z])")
    digits = len(str(rows_bound))
    return re.compile(
        rb'<c r="[A-Z]{1,2}+(?:(?=\d{%d})%s"|(?:%s)\d)'
        % (digits, _greater_than(rows_bound), b"|".join(later) or b"(?!)")
    )


def shared_strings_safe(archive, path, cap) -> bool:
    """Whether calamine reads the shared strings as our reader does, each within the text cap."""
    if not path:
        return True
    data = archive.read(path)
    if unsafe_text(data):
        return False
    # An item's XML is at least as long as its text: none longer than the cap, so nothing to cut.
    previous, count = None, 0
    for match in SHARED_ITEM.finditer(data):
        if previous is not None and match.start() - previous > cap:
            return False
        previous, count = match.start(), count + 1
    if previous is not None and data.rfind(b"si>") + 3 - previous > cap:  # the last item, to its end tag
        return False
    declared = UNIQUE_COUNT.search(data)
    return not declared or (declared.group(1).isdigit() and int(declared.group(1)) <= count)


def styles_agree(data, styles_path, dates, durations) -> bool:
    """Whether calamine takes the same cell styles for dates and durations as we do (openpyxl's rules):
    a one-sheet probe workbook with the file's own styles and one cell in each style."""
    if not styles_path:
        return True
    from python_calamine import CalamineWorkbook

    from spreadsheets.xlsx import _children, _local, _small_xml

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        styles = archive.read(styles_path)
        root = _small_xml(archive, styles_path)
    count = 0
    for xfs in _children(root, "cellXfs"):
        count = sum(1 for child in xfs if _local(child.tag.rpartition("}")[2]) == "xf")
        break
    if count > MAX_PROBE_STYLES:
        return False
    if not count:
        return True
    cells = "".join(f'<row r="{i + 1}"><c r="A{i + 1}" s="{i}"><v>1.5</v></c></row>' for i in range(count))
    book = CalamineWorkbook.from_filelike(
        io.BytesIO(_workbook_bytes(f"<sheetData>{cells}</sheetData>", styles))
    )
    values = [row[0] for row in book.get_sheet_by_name("S").to_python(skip_empty_area=False)]
    for index, value in enumerate(values):
        ours = "duration" if index in durations and index in dates else "date" if index in dates else "n"
        theirs = (
            "duration" if isinstance(value, timedelta) else "n" if isinstance(value, float | int) else "date"
        )
        if ours != theirs:
            return False
    return len(values) == count


def _workbook_bytes(sheet_xml, styles):
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{pkg}"><Relationship Id="r1" Type="{rel}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet name="S" sheetId="1" r:id="r1"/>'
            "</sheets></workbook>",
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{pkg}"><Relationship Id="r1" Type="{rel}/worksheet" '
            f'Target="worksheets/sheet1.xml"/><Relationship Id="r2" Type="{rel}/styles" '
            'Target="styles.xml"/></Relationships>',
        )
        z.writestr("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{main}">{sheet_xml}</worksheet>')
        z.writestr("xl/styles.xml", styles)
    return out.getvalue()


class SheetScan:
    """What the pre-scan of one sheet found: the cells given by position (formulas without a value, error
    cells) as {row number: {column number: value}}, and what was loaded alongside (see `scan_sheet`)."""

    def __init__(self):
        self.special = {}
        self.count = 0
        self.loaded = None

    def add(self, letters, digits, value):
        self.count += 1
        if self.count > MAX_SPECIAL_CELLS:
            raise Unsafe
        self.special.setdefault(int(digits), {})[_column(letters)] = value


def _column(letters):
    index = 0
    for char in letters:
        index = index * 26 + char - 64
    return index


def _windows(stream):
    """The decompressed part in pieces cut just before a `<row`, so no row straddles two pieces."""
    rest = b""
    while True:
        more = stream.read(SCAN_CHUNK)
        buf = rest + more if rest else more
        if not more:
            if buf:
                yield buf
            return
        cut = buf.rfind(b"<row", 1)
        if cut <= 0:
            if len(buf) > MAX_ROW_BYTES:
                raise Unsafe
            rest = buf
            continue
        yield buf[:cut]
        rest = buf[cut:]


def scan_sheet(
    archive, path, header_columns, cap, row_limit, durations=(), project=True, alongside=None
) -> SheetScan:
    """Pre-scan a sheet's XML for calamine (see the module's docstring); Unsafe when our reader must read
    it. Two passes, each decompressing the part afresh (holding its pieces for the second would cost memory
    in proportion to the sheet):

    - the safety pass (`_check_bounds`) refuses whatever could cost the process or misplace rows: it bounds
      the dense array calamine would allocate (no reference past the header's last column or Z, none past
      the row limit and a margin, rows × columns within MAX_FAST_CELLS, cells within MAX_READ_CELLS) and
      refuses references, rows and elements calamine would read otherwise than their order or name says,
      and texts longer than the cap (calamine would hold each whole);
    - the semantic pass (`spreadsheets.xlsx_values`) refuses what calamine would only read as another value
      (numbers, texts, booleans, durations…) and records the cells given by position.

    `alongside` (calamine's load of the sheet) may only start once the safety pass has passed, as calamine
    may abort the process on what that pass refuses; the semantic pass then runs in a thread during the load
    (calamine releases the GIL for most of its work, so the two overlap), and `scan.loaded` holds its result
    — thrown away when the semantic pass refuses the sheet, as a failure there only means our reader reads
    it.

    A sheet whose cells so far, carried over its whole part, come to a quarter more than MAX_READ_CELLS is
    only counted from then on (`project`), so a sheet our reader will read anyway (one at the row limit is
    refused half-way) is not checked for nothing; should it hold few enough cells after all, it is scanned
    again in full."""
    if not _check_bounds(archive, path, header_columns, cap, row_limit, project):  # fewer cells than foretold
        return scan_sheet(
            archive, path, header_columns, cap, row_limit, durations, project=False, alongside=alongside
        )
    scan = SheetScan()

    def check():
        with archive.open(path) as stream:
            check_values(_windows(stream), durations, scan.add)

    if alongside is None:
        check()
    else:
        scan.loaded = _overlapped(alongside, check)
    return scan


def _overlapped(load, check):
    """load() here while check() runs in a thread; load's result once both are done. An exception of
    check's comes first (load's result or exception is then dropped), then one of load's.

    The load stays on the caller's thread, so calamine's sheet comes from the malloc arena it came from
    before (loaded in a thread, it took a fresh one: 17 MB more peak memory on the 50,000-row bench, against
    about 8 MB now, the check's pieces of XML living beside the sheet); calamine lets go of the GIL as it
    reads, so the check's regexes run meanwhile."""
    failure = []

    def run():
        try:
            check()
        except BaseException as error:  # noqa: BLE001 — handed to the caller's thread
            failure.append(error)

    thread = threading.Thread(target=run, name="xlsx-values-check")
    thread.start()
    try:
        loaded = load()
    except BaseException:
        thread.join()
        if failure:
            raise failure[0] from None
        raise
    thread.join()
    if failure:
        loaded = None  # calamine's sheet is not to live on in the traceback's frames
        raise failure[0]
    return loaded


def _check_bounds(archive, path, header_columns, cap, row_limit, project) -> bool:
    """The safety pass (see `scan_sheet`): Unsafe, or whether the whole part was checked (False when it was
    only counted past its start, as `project` allows)."""
    last = max(header_columns)
    rows_bound = row_limit + ROW_SLACK
    # A reference past the header's last column or past the rows the limit allows (then with Z as the bound).
    past_header = _past_reference(last, rows_bound)
    past_z = _past_reference(max(last, 26), rows_bound)
    # A text longer than any column takes: calamine would hold every one whole (a few MB of XML can carry
    # hundreds of MB of such texts, compressed) before the sheet could be refused.
    long_text = re.compile(rb">[^<]{%d}" % (cap + 1))
    long_rich = re.compile(rb"<is>(?:[^<]|<(?!/is>)){%d}" % (cap + 1))
    width = last
    previous = 0
    counted = 0
    size = archive.getinfo(path).file_size
    seen = 0
    counting_only = False
    with archive.open(path) as stream:
        for window in _windows(stream):
            counted += window.count(b'<c r="')
            if counted > MAX_READ_CELLS:
                raise Unsafe
            seen += len(window)
            if project and 4 * counted * size > 5 * MAX_READ_CELLS * seen:
                counting_only = True
            if counting_only:
                continue
            if (
                (b"!" in window and b"<!" in window)  # a DTD, CDATA or a comment: never for calamine's parser
                or PREFIXED.search(window)
                or BAD_CELL.search(window)
                or BAD_ROW.search(window)
                or long_text.search(window)
                or (b"<r>" in window and long_rich.search(window))
            ):
                raise Unsafe
            found = past_header.search(window)
            if found:
                if past_z.search(window, found.start()):
                    raise Unsafe
                width = max(width, 26)
            numbers = [int(n) for n in ROW_NUMBER.findall(window)]
            if numbers:
                if numbers[0] <= previous or any(a >= b for a, b in zip(numbers, numbers[1:], strict=False)):
                    raise Unsafe  # rows out of order or repeated: calamine would sort and merge them
                previous = numbers[-1]
    if counting_only:
        return False
    if rows_bound * width > MAX_FAST_CELLS:
        # Bounded by the rows the sheet has rather than the limit: a second pass makes sure no cell lies
        # below its last row (the pass above checked only each row's first cell against the row).
        if previous * width > MAX_FAST_CELLS:
            raise Unsafe
        below = re.compile(rb'<c r="[A-Z]{1,2}+' + _greater_than(previous) + rb'"')
        with archive.open(path) as stream:
            if any(below.search(window) for window in _windows(stream)):
                raise Unsafe
    return True


def fast_rows(sheet, header_row, header_columns, scan):
    """(sheet row number, [values under the header]) for each row after the header with a value, read by
    calamine and given as our reader gives them (see CalamineRows)."""
    return CalamineRows(sheet, header_row, header_columns, scan)


SIMPLE_SHEET_TARGET = re.compile(r"(?:/xl/)?worksheets/[A-Za-z0-9_-]+\.xml")


def plain_package(archive, parts, shared_path, styles_path) -> bool:
    """Whether calamine opens the very parts the pre-scan reads: one member per name (case aside), the
    package pointing at xl/workbook.xml, sheets with plain targets and distinct names, the shared strings
    and styles at their usual paths and nowhere else."""
    from spreadsheets.xlsx import _children, _small_xml

    names = archive.namelist()
    if len({name.lower() for name in names}) != len(names):
        return False
    if shared_path not in (None, "xl/sharedStrings.xml") or styles_path not in (None, "xl/styles.xml"):
        return False
    if any(n.lower().endswith("sharedstrings.xml") and n != "xl/sharedStrings.xml" for n in names):
        return False
    if len({title for title, _path in parts}) != len(parts):
        return False
    if any(not re.fullmatch(r"xl/worksheets/[A-Za-z0-9_-]+\.xml", path) for _title, path in parts):
        return False
    package = _small_xml(archive, "_rels/.rels")
    if package is None:
        return False
    targets = [
        (rel.get("Target") or "").lstrip("/")
        for rel in _children(package, "Relationship")
        if (rel.get("Type") or "").endswith("/officeDocument")
    ]
    if targets != ["xl/workbook.xml"]:
        return False
    relationships = _small_xml(archive, "xl/_rels/workbook.xml.rels")
    return relationships is not None and all(
        SIMPLE_SHEET_TARGET.fullmatch(rel.get("Target") or "")
        for rel in _children(relationships, "Relationship")
        if (rel.get("Type") or "").endswith("/worksheet")
    )


class FastBook:
    """The workbook for calamine, checked and opened when a sheet's rows are first wanted; `rows` gives a
    sheet's rows through calamine, or None when our reader must read them."""

    def __init__(self, data, archive, parts, shared_path, styles_path, dates, durations, cap, row_limit):
        self.data = data
        self.archive = archive
        self.parts = parts
        self.paths = shared_path, styles_path
        self.dates, self.durations = dates, durations
        self.cap = cap
        self.row_limit = row_limit
        self.book = None
        self.usable = None

    def _open(self):
        shared_path, styles_path = self.paths
        self.usable = False
        try:
            if (
                plain_package(self.archive, self.parts, shared_path, styles_path)
                and shared_strings_safe(self.archive, shared_path, self.cap)
                and styles_agree(self.data, styles_path, self.dates, self.durations)
            ):
                from python_calamine import CalamineWorkbook

                self.book = CalamineWorkbook.from_filelike(io.BytesIO(self.data))
                self.usable = True
        except Exception:  # noqa: BLE001 — whatever calamine cannot open, our reader reads (or refuses)
            self.book = None

    def rows(self, title, path, header_row, header_columns):
        if self.usable is None:
            self._open()
        if not self.usable or not header_columns:
            return None
        try:
            scan = scan_sheet(
                self.archive,
                path,
                header_columns,
                self.cap,
                self.row_limit,
                self.durations,
                alongside=lambda: self.book.get_sheet_by_name(title),
            )
        except Exception:  # noqa: BLE001 — Unsafe, or a part calamine cannot read: our reader reads it
            return None
        return fast_rows(scan.loaded, header_row, header_columns, scan)
