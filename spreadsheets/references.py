"""What the importers' `resolve` shares: codes and names to ids, and the rules a row's values must keep.

`resolve` runs once per row of a sheet, so these are written for the common case: a code found at once.
"""

from django.utils.translation import gettext as _


def code_or_name_map(queryset, code_field="code", name_field="name"):
    """{code: id, exact name: id}; a name shared by several rows maps to None (ambiguous)."""
    by_code, by_name = {}, {}
    for pk, code, name in queryset.values_list("pk", code_field, name_field):
        by_code[code] = pk
        by_name[name] = None if name in by_name else pk
    return by_code, by_name


def reference_id(importer, row_number, column, value, maps, *, unknown, ambiguous=None):
    """The id of a code or exact name in (by_code, by_name) maps; reports an error and returns None."""
    if value is None:
        return None  # blank or unreadable: already reported by the parser
    by_code, by_name = maps
    if value in by_code:
        return by_code[value]
    if value in by_name:
        if by_name[value] is None:
            importer.error(
                row_number, column, value, ambiguous or _("Several records have this name; use the code.")
            )
            return None
        return by_name[value]
    importer.error(row_number, column, value, unknown)
    return None


def dates_in_order(importer, number, end_column, start, end):
    """An error on the end date of a row whose end date (ISO text) is before its start date."""
    if start and end and end < start:
        importer.error(number, end_column, end, _("The end date is before the start date."))


def column_values(importer, rows, name):
    """The distinct values of one column of parsed rows [(row number, ParsedRow)], read by position."""
    position, get = importer.row_class().index[name], tuple.__getitem__
    return {get(row, position) for _number, row in rows}


class Converted(dict):
    """{text: convert(text)}, each distinct text converted once: a column's values repeat (amounts, dates).

    Only for a conversion to an immutable value (a Decimal, a date), shared by the rows that hold the text.
    Made for one chunk of rows, so it holds at most a chunk's distinct texts."""

    def __init__(self, convert):
        super().__init__()
        self.convert = convert

    def __missing__(self, text):
        value = self[text] = self.convert(text)
        return value
