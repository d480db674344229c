"""Calamine's rows of a sheet the pre-scan let it read (`spreadsheets.xlsx_fast`), given as our reader gives
them — or raw, to an importer that converts and parses each distinct cell of a column once.

Calamine gives a row as a list of its cells from the sheet's first column with a value: texts untrimmed
("" for an empty cell), numbers as floats, dates as `date`. Our reader trims texts (an empty one is None),
gives whole numbers as ints and dates as datetimes; converting every cell of a 50,000-row sheet that way and
then parsing it costs two Python passes per cell. An importer reading the raw rows (see
SheetImporter.parse_rows) looks each raw cell up in a per-column memo in C, so a cell is converted and parsed
once per distinct value of its column.
"""

from datetime import date, datetime, time
from itertools import islice
from operator import itemgetter

from spreadsheets.cells import LEADING_SPACES, SPACES

EXACT_FLOAT = 2**53
MIDNIGHT = time()


class CalamineRows:
    """A sheet's rows through calamine. Iterated, they are what our reader gives; an importer may rather read
    calamine's raw rows (`picker`, `numbered`), converting and parsing each distinct cell of a column once,
    and ask for a row's values as iterated (`values`) only for the rows it keeps, the rows with a cell given
    by position, and the rows it cannot tell from a blank one (see SheetImporter.parse_rows)."""

    def __init__(self, sheet, header_row, header_columns, scan):
        self.sheet, self.header_row, self.header_columns = sheet, header_row, header_columns
        self.special = scan.special
        self.positions = {column: position for position, column in enumerate(header_columns)}
        self.first_column = None if sheet.start is None else sheet.start[1]
        self._rows = self._every()
        self._layout = None

    def __iter__(self):
        return self._rows

    def __next__(self):
        return next(self._rows)

    def close(self):
        self._rows.close()

    def _every(self):
        number = self.header_row
        if self.first_column is not None:
            number = yield from _calamine_rows(self, _layout(self))
        yield from self.trailing(number)

    def trailing(self, number):
        """The rows past the end of calamine's range, `number` its last (it takes a formula without a value
        for an empty cell)."""
        special = self.special
        for later in sorted(row for row in special if row > max(number, self.header_row)):
            values = _placed([None] * len(self.header_columns), special[later], self.positions)
            if values is not None:
                yield later, values

    def picker(self, positions):
        """A function giving a raw row's cells under these header positions, as a tuple; None when one of
        them lies outside calamine's range."""
        if self.first_column is None:
            return None
        indexes = [self.header_columns[position] - 1 - self.first_column for position in positions]
        if not all(0 <= index < self.sheet.width for index in indexes):
            return None
        if len(indexes) == 1:
            return lambda row, index=indexes[0]: (row[index],)
        return itemgetter(*indexes)

    def numbered(self):
        """(row number, raw row) for every row calamine reads after the header, blank ones too."""
        rows = islice(self.sheet.iter_rows(), self.header_row, None)
        return enumerate(rows, start=self.header_row + 1)

    def values(self, number, row):
        """A raw row's values as iteration gives them; None for a row without a value."""
        if self._layout is None:
            self._layout = _layout(self)
        get, placed = self._layout
        values = [converted(value) for value in get(row)]
        return _finished(self, number, values, placed)


def converted(value):
    """A raw calamine cell as our reader gives it: text trimmed as our reader trims it (empty is None), whole
    floats as ints, dates as datetimes, anything else as it is."""
    kind = value.__class__
    if kind is str:
        return value.lstrip(LEADING_SPACES).rstrip(SPACES) or None
    if kind is float:
        if value.is_integer() and -EXACT_FLOAT < value < EXACT_FLOAT:
            return int(value)
    elif kind is date:
        return datetime.combine(value, MIDNIGHT)
    return value


def raw_memorable(value) -> bool:
    """Whether an importer may remember the parse of this raw calamine cell for the equal raw cells (see
    `cells.memorable`: this one is of a class whose equal cells convert alike to a memorable value).

    A bool and a number equal to 0 or 1 are never remembered, so a raw cell can be looked up as it is, its
    class not in the key: True equals 1.0, and only they could be equal across the classes remembered. (A
    float and an int equal to each other convert alike.)"""
    kind = value.__class__
    if kind is str or kind is date:
        return True
    if kind is float or kind is int:
        return value == value and value != 0 and value != 1
    return kind is datetime and value.tzinfo is None


def _layout(rows):
    """How a raw row's values under the header are taken, in one C call: (getter, the header position of
    each value taken, or None when they are all the header's positions in order).

    A slice when the header's columns are contiguous in calamine's range, as in nearly every file; an
    itemgetter otherwise."""
    width, first_column = len(rows.header_columns), rows.first_column
    picks = [
        (position, column - 1 - first_column)
        for position, column in enumerate(rows.header_columns)
        if 0 <= column - 1 - first_column < rows.sheet.width
    ]
    indexes = [index for _p, index in picks]
    if indexes and indexes == list(range(indexes[0], indexes[0] + len(indexes))):
        get = itemgetter(slice(indexes[0], indexes[0] + len(indexes)))
    elif indexes:
        get = itemgetter(*indexes)  # more than one (one index is a slice above), so it gives a tuple
    else:  # no header column within calamine's range: only cells given by position
        get = itemgetter(slice(0, 0))
    in_order = len(picks) == width and [p for p, _i in picks] == list(range(width))
    return get, None if in_order else [position for position, _i in picks]


def _finished(rows, number, values, placed):
    """The converted values spread under the header, with the cells given by position; None if all empty."""
    width = len(rows.header_columns)
    if placed is not None:
        spread = [None] * width
        for position, value in zip(placed, values, strict=True):
            spread[position] = value
        values = spread
    if rows.special:
        cells = rows.special.get(number)
        if cells:
            _placed(values, cells, rows.positions)
    # No value is equal to None without being None (texts, numbers, dates, FORMULA_WITHOUT_VALUE).
    return values if values.count(None) != width else None


def _placed(values, cells, positions):
    """The values with the cells given by position (column number: value) put in; None if all are empty."""
    for column, value in cells.items():
        position = positions.get(column)
        if position is not None and value is not None:
            values[position] = value
    return values if any(value is not None for value in values) else None


def _calamine_rows(rows, layout):
    """Every row calamine reads after the header that has a value, numbered; returns the last number read.

    A row's values are taken in one C call (see `_layout`) and converted by class (see `converted`, written
    out here as this is every cell's path). Only the rows with a value are passed on, so `CalamineRows`
    delegates to this."""
    get, placed = layout
    number = rows.header_row
    for number, row in rows.numbered():
        values = []
        for value in get(row):
            kind = value.__class__
            if kind is str:
                value = value.lstrip(LEADING_SPACES).rstrip(SPACES) or None
            elif kind is float:
                if value.is_integer() and -EXACT_FLOAT < value < EXACT_FLOAT:
                    value = int(value)
            elif kind is date:
                value = datetime.combine(value, MIDNIGHT)
            values.append(value)
        values = _finished(rows, number, values, placed)
        if values is not None:
            yield number, values
    return number
