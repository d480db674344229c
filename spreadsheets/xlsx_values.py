"""The pre-scan's semantic pass (see `spreadsheets.xlsx_fast`): what calamine would read as other values
than our reader — texts, numbers, dates, booleans, durations, formulas and error cells — in sheet XML whose
references, rows and size the safety pass has already checked.

None of it can cost more than our reader's time: calamine reads such XML without harm, only otherwise (each
case was loaded by calamine alone: a value, or a CalamineError). So this pass may run while calamine loads
the sheet, and a refusal here only throws calamine's sheet away.
"""

import re

from spreadsheets.cells import FORMULA_WITHOUT_VALUE, LEADING_SPACES, SPACES


class Unsafe(Exception):
    """Calamine would read this sheet differently or expensively: our reader reads it."""


# Anywhere in sheet or shared-strings XML: a DTD or CDATA, a literal CR (XML normalises it, calamine does
# not), an `_xHHHH_` escape (calamine decodes it, openpyxl does not), a text starting with a tab after
# spaces (calamine trims it away). Literal tests first: a regex without a literal prefix is slow.
ESCAPE = re.compile(rb"_x[0-9A-Fa-f]{4}_")
LEADING_TAB = re.compile(rb">[ \n]*\t[ \t\n]*[^\s<]")
# In rich text, calamine trims each run: "A " + "B" would read "AB".
RUN_SPACES = (b"<t> ", b"<t>\n", b"<t>\t", b" </t>", b"\n</t>", b"\t</t>")
# Numbers that are negative, huge, in exponent form, not a number, or padded; ISO dates; odd booleans.
# The digits and the point are taken whole (possessive): what may follow them is neither, so no other split
# can match, and the search does not retry every split of each number.
BAD_NUMBER = re.compile(rb"<v>(?:[-+\s]|\d{7}|[nNiI]|\d*+\.?+\d*+(?:[eE]\+?\d|\s))")
BAD_LITERALS = (b't="d"',)
BAD_BOOLEAN = re.compile(rb'\st="b"[^>]*>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?<v>(?![01]</v>)')
FORMULA_CELL = re.compile(
    rb'<c r="([A-Z]{1,2})(\d+)"([^>]*)>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)(<v/>|<v>[^<]*</v>|)</c>'
)
ERROR_CELL = re.compile(
    rb'<c r="([A-Z]{1,2})(\d+)"[^>]*\st="e"[^>]*>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?(?:<v>([^<&]*)</v>)?</c>'
)
FORMULA_TOKENS = (b"<f>", b"<f ", b"<f/>")


def unsafe_text(xml, rich=None) -> bool:
    """Whether the XML holds text calamine reads otherwise than our reader; `rich` says whether it holds a
    rich-text run (`<r>`), when the caller has looked already."""
    if b"\r" in xml or (b"!" in xml and b"<!" in xml):
        return True
    if b"_" in xml and (b"x005F_" in xml or ESCAPE.search(xml)):
        return True
    if b"\t" in xml and LEADING_TAB.search(xml):
        return True
    if rich is None:
        rich = b"<r>" in xml
    return rich and any(literal in xml for literal in RUN_SPACES)


def check_values(windows, durations, add):
    """Unsafe when calamine would read a value in the sheet's row-aligned pieces of XML otherwise than our
    reader (a text longer than the cap is the safety pass's to refuse); add(letters, digits, value) gets each
    formula without a value and each error cell, which calamine reads as empty, to be given by position."""
    # Durations: calamine rounds to the millisecond otherwise than openpyxl (1 ms apart, 2 in 5,000 values).
    duration = durations and re.compile(
        rb'\ss="(?:%s)"' % b"|".join(str(index).encode() for index in sorted(durations))
    )
    for window in windows:
        rich = b"<r>" in window
        if (
            unsafe_text(window, rich)
            or any(literal in window for literal in BAD_LITERALS)
            or (b't="b"' in window and BAD_BOOLEAN.search(window))
            or BAD_NUMBER.search(window)
            or (duration and duration.search(window))
        ):
            raise Unsafe
        if window.count(b't="inlineStr"') != window.count(b"<is>"):
            raise Unsafe  # an inline-string cell without its string (calamine may read a <v> there)
        formulas = b"<f" in window and sum(map(window.count, FORMULA_TOKENS))
        if formulas:
            found = 0
            for match in FORMULA_CELL.finditer(window):
                found += 1
                attrs, value = match.group(3), match.group(4)
                is_text = b't="str"' in attrs
                if not value or (value in (b"<v/>", b"<v></v>") and not is_text):
                    add(match.group(1), match.group(2), FORMULA_WITHOUT_VALUE)
            if found != formulas:
                raise Unsafe
        errors = window.count(b' t="e"')
        if errors:
            found = 0
            for match in ERROR_CELL.finditer(window):
                found += 1
                if match.group(3) is not None:  # without a value, a formula's (above) or blank
                    text = match.group(3).decode("utf-8").lstrip(LEADING_SPACES).rstrip(SPACES)
                    add(match.group(1), match.group(2), text or None)
            if found != errors:
                raise Unsafe
