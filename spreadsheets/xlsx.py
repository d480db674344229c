"""The streaming xlsx parts reader: workbook, relationships, styles, shared strings and sheet XML.

The sheet XML goes through expat with defusedxml's guards (no DTD, no entity declarations, no external
references), a chunk at a time; only rows, cells, values, inline and shared strings and the date styles are
looked at. `spreadsheets.reading` guards the zip and calls these.
"""

from django.utils.translation import gettext as _

from spreadsheets.cells import (
    FORMULA_WITHOUT_VALUE,
    LEADING_SPACES,
    SPACES,
    LongText,
    SpreadsheetError,
    clean_cell,
    excerpt,
)

MAX_COLUMN = 16384  # XFD, the last column of a spreadsheet
MAX_HEADER_CELLS = 200

MAIN_NS_TYPES = ("/worksheet",)
XLSX_READ_CHUNK = 1 << 20
XLSX_FIRST_CHUNK = 1 << 16


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


def date_styles(archive, path):
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
    size = XLSX_FIRST_CHUNK  # a small first piece: the header is read without parsing a megabyte of rows
    with archive.open(path) as stream:
        while True:
            chunk = stream.read(size)
            size = XLSX_READ_CHUNK
            if not chunk:
                break
            parser.Parse(chunk, False)
            yield
    parser.Parse(b"", True)
    yield


def shared_strings(archive, path, cap):
    """The shared-strings table: each <si>'s text (its <t> and rich-text runs; phonetic runs left out), cut
    to a LongText past `cap` characters while reading, so one long string used by many cells costs once."""
    strings = []
    if not path:
        return strings
    parser = _xml_parser()
    parts = []
    state = {"depth_rph": 0, "in_t": False, "length": 0}

    def start(name, attrs):
        name = _local(name)
        if name == "t":
            state["in_t"] = not state["depth_rph"]
        elif name == "rPh":
            state["depth_rph"] += 1
        elif name == "si":
            parts.clear()
            state["length"] = 0

    def end(name):
        name = _local(name)
        if name == "t":
            state["in_t"] = False
        elif name == "rPh":
            state["depth_rph"] -= 1
        elif name == "si":
            # As openpyxl reads it; trimmed once here rather than in every cell that uses it.
            value = "".join(parts).replace("x005F_", "").lstrip(LEADING_SPACES).rstrip(SPACES) or None
            strings.append(capped(value, cap) if value else None)

    def text(data):
        if state["in_t"] and state["length"] <= cap:
            parts.append(data[: cap + 1 - state["length"]])
            state["length"] += len(data)

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


def sheet_rows(archive, path, shared, dates, durations, epoch, cap, header_columns=None):
    """Yield (sheet row number, [cell values]) of a worksheet part, streaming its XML.

    Cell values as openpyxl gives them with data_only: numbers (int or float), texts (shared, inline or a
    formula's cached text), booleans, and dates or times for numbers in a date style; a formula's cached
    value only, FORMULA_WITHOUT_VALUE for a formula saved without one. Texts longer than `cap` are cut to
    a LongText.

    Nothing is allocated by a cell's column index: the first row yielded (the header) holds only its
    non-empty cells, in order, and every later row is a list as long as the header, holding the cells
    under a header; cells anywhere else are never materialised. The header cells' column numbers (1 for A)
    are appended to `header_columns` when it is given.
    """
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
    collected = 0
    formula = False
    rph = 0
    cells = {}
    positions = None  # header column index -> position in a row, once the header is read

    def start(name, attrs):
        nonlocal row_number, column, cell_type, style, value_parts, inline_parts, collecting, collected
        nonlocal rph, cells, formula
        if ":" in name:
            name = name.rpartition(":")[2]
        if name == "c":
            ref = attrs.get("r")
            column = _column_index(ref.rstrip("0123456789")) if ref else column + 1
            if column > MAX_COLUMN:
                raise SpreadsheetError(
                    _("Cell %(cell)s lies beyond the last column a spreadsheet can have (XFD).")
                    % {"cell": excerpt(ref or column, 20)}
                )
            cell_type = attrs.get("t", "n")
            style = attrs.get("s")
            value_parts = None
            inline_parts = None
            formula = False
        elif name == "v":
            value_parts = []
            collecting = value_parts
            collected = 0
        elif name == "f":
            formula = True
        elif name == "t":
            if inline_parts is not None and not rph:
                collecting = inline_parts
        elif name == "is":
            inline_parts = []
            collected = 0
        elif name == "rPh":
            rph += 1
        elif name == "row":
            ref = attrs.get("r")
            row_number = int(ref) if ref else row_number + 1
            column = 0
            cells = {}

    def end(name):
        nonlocal collecting, rph, cells, positions
        if ":" in name:
            name = name.rpartition(":")[2]
        if name == "c":
            if positions is not None and column not in positions:
                return  # under no header: never materialised
            value = None
            if cell_type == "s" and value_parts:
                index = int("".join(value_parts))
                if index < 0:  # Python would read the table from its end: a damaged file, said as such
                    raise IndexError(index)
                value = shared[index]  # trimmed and capped already
            elif cell_type == "n" and value_parts and not formula:
                text = "".join(value_parts)
                value = int(text) if text.isdigit() else number(text)
                if style in date_styles and value.__class__ is not str:
                    try:
                        value = from_excel(value, epoch, timedelta=style in duration_styles)
                    except (OverflowError, ValueError, TypeError):
                        value = "#VALUE!"
            elif cell_type == "inlineStr":
                if inline_parts is not None:
                    value = "".join(inline_parts)
                    if len(value) <= cap:
                        value = value.lstrip(LEADING_SPACES).rstrip(SPACES) or None
                    else:
                        value = clean_cell(LongText(value[:cap]))
            else:
                text = None if value_parts is None else "".join(value_parts)
                if formula and (text is None or (not text and cell_type != "str")):
                    # Written by a script and never opened in Excel: the formula's result is not in the file.
                    value = FORMULA_WITHOUT_VALUE
                elif text:
                    if cell_type == "n":
                        value = number(text)
                        if style in date_styles and value.__class__ is not str:
                            try:
                                value = from_excel(value, epoch, timedelta=style in duration_styles)
                            except (OverflowError, ValueError, TypeError):
                                value = "#VALUE!"
                    elif cell_type == "b":
                        value = bool(int(text))
                    elif cell_type == "d":
                        value = from_ISO8601(text)
                    else:  # str (a formula's text), e (an error such as #N/A)
                        value = clean_cell(capped(text, cap))
            if value is not None:
                cells[column] = value
        elif name == "v" or name == "t":
            collecting = None
        elif name == "rPh":
            rph -= 1
        elif name == "row":
            if positions is None:
                if cells:
                    if len(cells) > MAX_HEADER_CELLS:
                        raise SpreadsheetError(
                            _("The header row has more than %(count)s columns.") % {"count": MAX_HEADER_CELLS}
                        )
                    order = sorted(cells)
                    positions = {index: position for position, index in enumerate(order)}
                    if header_columns is not None:
                        header_columns.extend(order)
                    done.append((row_number, [_header_cell(cells[index]) for index in order]))
            elif cells:
                values = [None] * len(positions)
                for index, value in cells.items():
                    values[positions[index]] = value
                done.append((row_number, values))

    def text(data):
        nonlocal collected
        if collecting is not None:
            # With buffered text a cell's value comes in one piece unless it is long: count only then.
            if not collecting and len(data) <= cap:
                collecting.append(data)
                collected = len(data)
            elif collected <= cap:
                collecting.append(data[: cap + 1 - collected])
                collected += len(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    for _step in _stream_xml(archive, path, parser):
        if done:
            yield from done
            done.clear()


def _header_cell(value):
    return None if value is FORMULA_WITHOUT_VALUE else value


def number(text):
    """A numeric cell's text as int or float; NaN and infinities stay floats (the parsers refuse them), and
    anything else unreadable stays text, so it is a row error against its column, not a broken file."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def capped(text, cap):
    return LongText(text[:cap]) if len(text) > cap else text


def workbook_sheets(archive):
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
