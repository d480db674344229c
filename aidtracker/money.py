"""Money: the one place that knows how yuan become 万元 and 亿元, and how amounts are rounded and shown.

Amounts are stored in yuan (元) as `Decimal` with two decimals (max_digits=14). People type and read them in
万元 (10,000 yuan); large totals also show in 亿元 (100,000,000 yuan). Conversions are exact — a yuan
amount is at most six decimals in 万元 — and refuse negative amounts. Display rounds half up (四舍五入),
as Chinese finance does: 370,500,000 yuan shows as 3.71 亿元, never the banker's 3.70.

Forms, spreadsheet readers and writers, template filters, views and downloads call these functions; the
dashboard's template filters are these functions themselves.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

YUAN = Decimal(1)
WAN = Decimal(10_000)
YI = Decimal(100_000_000)
FEN = Decimal("0.01")

MAX_DIGITS = 14
DECIMAL_PLACES = 2
WAN_DECIMAL_PLACES = 6  # one fen is 0.000001 万元
MAX_YUAN = Decimal(
    "999999999999.99"
)  # the largest amount a DecimalField(max_digits=14, decimal_places=2) holds

EMPTY = "—"  # what a missing amount shows as


class AmountError(ValueError):
    """An amount that cannot be stored: negative, not a number, too precise or too large."""


def _decimal(value) -> Decimal:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise AmountError(f"not a number: {value!r}") from exc
    if not amount.is_finite():
        raise AmountError(f"not a number: {value!r}")
    if amount < 0:
        raise AmountError(f"negative amount: {value!r}")
    return amount


def yuan_to_wan(amount) -> Decimal | None:
    """Yuan as 万元, exact (None stays None). Negative amounts are refused."""
    if amount is None:
        return None
    return _decimal(amount) / WAN


def wan_to_yuan(amount) -> Decimal | None:
    """万元 as yuan with two decimals (None stays None).

    Refused: negative amounts, more than six decimals (a fraction of a fen) and amounts over the largest one
    the database holds.
    """
    if amount is None:
        return None
    wan = _decimal(amount)
    if wan > MAX_YUAN / WAN:  # before any arithmetic: past 28 digits quantize raises InvalidOperation
        raise AmountError(f"too large: {amount!r}")
    if wan != wan.quantize(Decimal(1).scaleb(-WAN_DECIMAL_PLACES), rounding=ROUND_HALF_UP):
        raise AmountError(f"more than {WAN_DECIMAL_PLACES} decimals in 万元: {amount!r}")
    yuan = (wan * WAN).quantize(FEN)
    if yuan > MAX_YUAN:
        raise AmountError(f"too large: {amount!r}")
    return yuan


# A float below this many 万元 is converted by its digits alone (see `float_wan_to_yuan_text`):
FAST_WAN = 1e7  # 千亿元: far below the largest amount stored (MAX_YUAN), so never too large


def float_wan_to_yuan_text(value: float) -> str | None:
    """`str(wan_to_yuan(value))` for a float of 万元 with at most six decimals, by its digits: its 15
    significant digits are its yuan in cents once six decimals are written out — the same text as the Decimal
    arithmetic gives, at a fraction of the cost. None for any other float (negative, too large, too
    precise, not a number), which then takes the Decimal way and its refusals."""
    if not 0 <= value < FAST_WAN:
        return None
    text = format(value, ".15g")  # fixed-point here: no exponent from 1e-4 to 1e15
    whole, _point, decimals = text.partition(".")
    if "e" in text or len(decimals) > WAN_DECIMAL_PLACES:
        return None
    cents = int(whole + decimals.ljust(WAN_DECIMAL_PLACES, "0"))
    return f"{cents // 100}.{cents % 100:02d}"


def plain(value) -> str:
    """A Decimal in its shortest exact form, never in exponent notation: 10, 12.5, 0.000001, 0."""
    if value is None:
        return ""
    value = Decimal(value)
    if value == 0:
        return "0"
    return f"{value.normalize():f}"


def wan_exact(amount) -> str:
    """Yuan as 万元 in the shortest exact form, for spreadsheets and previews (100,000 yuan → "10")."""
    return plain(yuan_to_wan(amount))


def round_half_up(value, places=2) -> Decimal:
    """`value` rounded half up (四舍五入) to `places` decimals."""
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _display(amount, unit, places) -> str:
    if amount is None or amount == "":
        return EMPTY
    return f"{round_half_up(_decimal(amount) / unit, places):,}"


def yuan(amount) -> str:
    """Yuan for reading: two decimals, thousands separators (100000 → "100,000.00"); — when empty."""
    return _display(amount, YUAN, 2)


def wan(amount) -> str:
    """Yuan shown in 万元: two decimals rounded half up, thousands separators (100000 → "10.00")."""
    return _display(amount, WAN, 2)


def yi(amount) -> str:
    """Yuan shown in 亿元: two decimals rounded half up (370,500,000 → "3.71")."""
    return _display(amount, YI, 2)


def wan_number(amount) -> str:
    """Yuan as 万元 rounded half up to two decimals, without separators: for chart data ("10.00")."""
    if amount is None:
        return "0"
    return f"{round_half_up(_decimal(amount) / WAN, 2):f}"
