"""Cells: the shapes every module of the engine shares (errors, raw sheets), headers, and value parsers.

A parser turns one cell (as the reader gives it: text, int, float, bool, date or datetime) into a normalised,
JSON-able value, or raises CellError with a message for the clerk.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from aidtracker import money

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ERROR_HEADER = "错误"

SPACES = " \t\r\n\u3000\xa0\ufeff"
LEADING_SPACES = " \n\u3000\xa0\ufeff"


class SpreadsheetError(Exception):
    """A file that cannot be imported at all; the message is for the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = str(message)


class LongText(str):
    """A cell's text cut short while reading because it is longer than any column accepts."""


class _FormulaWithoutValue:
    """A formula cell saved without its computed value (files written by scripts, never opened in Excel)."""

    __slots__ = ()

    def __str__(self):
        return ""

    def __repr__(self):
        return "FORMULA_WITHOUT_VALUE"

    def __bool__(self):
        return False


FORMULA_WITHOUT_VALUE = _FormulaWithoutValue()
EXCERPT_CHARS = 100
CHUNK = 2000  # keys per IN query


def excerpt(value, limit=EXCERPT_CHARS) -> str:
    """A value as errors, previews, stored records and command output show it: at most `limit` characters."""
    text = "" if value is None else str(value)
    if len(text) > limit or isinstance(value, LongText):
        return text[: limit - 1] + "…"
    return text


@dataclass
class RawSheet:
    """The cells of one sheet: the header row and the data rows with their sheet row numbers."""

    title: str
    header: list
    # [(row number as the sheet shows it, [cell values])]: a list, or an iterator read once as it is consumed
    rows: object
    kept: list = field(default_factory=list)  # the first rows, kept for the preview while the rows stream
    # xlsx: a function giving the rows parsed straight from calamine's raw rows, when it reads them (see
    # SheetImporter.parse_rows and reading._fused_rows)
    fuse: object = None


@dataclass
class RowError:
    sheet: str
    row: int | None
    column: str
    value: str
    message: str

    def __post_init__(self):
        self.value = excerpt(self.value)

    def as_dict(self):
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


def clean_cell(value):
    """Trim spaces (full-width ones too); an empty text is a blank cell.

    A leading tab or CR is kept: our exports write such a text as a quoted text cell (xlsx) or behind a `'`
    (CSV) precisely so that it comes back unchanged.
    """
    if isinstance(value, str):
        kind = value.__class__
        value = value.lstrip(LEADING_SPACES).rstrip(SPACES)
        return (LongText(value) if kind is LongText else value) or None
    return value


def formula_like(value) -> bool:
    """Whether our CSV export puts a `'` before this text: one a spreadsheet would run as a formula, or one
    that would otherwise read back as such an escape (a `'` before a text that is itself formula-like)."""
    while isinstance(value, str) and value[:1] == "'":
        value = value[1:]
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def unescape_csv(value: str) -> str:
    """Undo the `'` our CSV export puts before a formula-like text, and nothing else: the same rule both
    ways, so every text survives a round trip through CSV as it does through xlsx."""
    if value[:1] == "'" and formula_like(value[1:]):
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


# Examples of codes in templates: obviously fictitious, so no template shows a record of another province.
EXAMPLE_AGREEMENT = "XX-2021-01"
EXAMPLE_PROJECT = "XX-2021-01-001"


@dataclass
class Column:
    """One spreadsheet column: its fixed Chinese header, its English alias and how its cells are read."""

    name: str  # key in the normalised row (also the English alias)
    header: str  # fixed Chinese header, never translated
    kind: str = "text"  # text, code, amount, date, int, status
    required: bool = False
    max_length: int | None = None
    example: object = None
    field: str | None = None  # the model field it fills, when not named like the column

    def attnames(self):
        """The model attributes this column may fill: its field, or the column's name (and `<name>_id`)."""
        return (self.field,) if self.field else (self.name, f"{self.name}_id")

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
        return _datetime_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return clean_cell(str(value))


def _datetime_text(value):
    # A date cell is a datetime at midnight: shown as the date. (A time object is truthy even at
    # midnight, so this compares rather than tests it.)
    return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")


def display(value) -> str:
    """A cell as the preview shows it: dates as dates, numbers as Excel shows them, long texts cut short."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _datetime_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return format(value, ".15g")
    return excerpt(value)


MEMO_LIMIT = 4096  # distinct cells per column whose parse an import remembers (memory stays flat)
# Cells whose parse depends on their value alone: two equal cells of one of these classes parse alike. (1,
# 1.0 and True are equal but of different classes; an aware datetime equals the same instant in another
# zone, whose date differs: such a cell is parsed every time.)
_MEMORABLE = frozenset({str, int, float, bool, date, type(None)})


def memorable(value) -> bool:
    """Whether a column may remember the parse of this cell for the equal cells of the same class."""
    kind = value.__class__
    return kind in _MEMORABLE or (kind is datetime and value.tzinfo is None)


NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]00:00(?::00(?:\.0+)?)?)?$"
)


class CellError(ValueError):
    pass


def parse_decimal(value) -> Decimal:
    if isinstance(value, bool):
        raise CellError(_("Not a number."))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise CellError(_("Not a number."))
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
    """An amount in 万元 as exact yuan (a string with two decimals); more than six decimals is refused.

    A float cell (what Excel stores for nearly every amount) takes `money.float_wan_to_yuan_text` when it
    can; anything else the Decimal way."""
    if value.__class__ is float:
        text = money.float_wan_to_yuan_text(value)
        if text is not None:
            return text
    amount = parse_decimal(value)
    if not amount.is_finite():
        raise CellError(_("Not a number."))
    amount = amount.normalize() if amount != 0 else Decimal(0)
    if amount.as_tuple().exponent < -6:
        raise CellError(_("Amounts in 万元 may have at most 6 decimal places."))
    if amount < 0:
        raise CellError(_("Amounts may not be negative."))
    try:
        return str(money.wan_to_yuan(amount))
    except money.AmountError as exc:
        raise CellError(_("The amount is too large.")) from exc


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


def yuan_to_wan(amount):
    """Yuan (Decimal) as 万元 for a sheet cell: exact (the programme's one conversion, `aidtracker.money`), in
    its shortest form and never in exponent notation (10, 12.5, 0.000001)."""
    if amount is None:
        return None
    return Decimal(money.plain(money.yuan_to_wan(amount)))


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


def chunked(items, size=CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ParsedRow(tuple):
    """A parsed row: its values in column order, read by column name (`row["code"]`, `row.get("code")`).

    A tuple takes a fifth of the memory of a dict per row, which counts at 200,000 rows; it is written to
    the staging as a JSON list."""

    __slots__ = ()
    index: dict = {}

    def __getitem__(self, key):
        if key.__class__ is str:
            return tuple.__getitem__(self, self.index[key])
        return tuple.__getitem__(self, key)

    def get(self, key, default=None):
        position = self.index.get(key)
        return default if position is None else tuple.__getitem__(self, position)

    def as_dict(self):
        return {name: tuple.__getitem__(self, position) for name, position in self.index.items()}
