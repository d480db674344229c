"""Money is converted and shown the same way everywhere: pinned at the edges."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from aidtracker import money
from projects.templatetags import dashboard

LARGEST = Decimal("999999999999.99")  # DecimalField(max_digits=14, decimal_places=2)


@pytest.mark.parametrize(
    ("yuan", "wan"),
    [
        (Decimal("0"), Decimal("0")),
        (Decimal("0.00"), Decimal("0")),
        (Decimal("0.01"), Decimal("0.000001")),
        (Decimal("100000"), Decimal("10")),
        (Decimal("100000.00"), Decimal("10")),
        (LARGEST, Decimal("99999999.999999")),
    ],
)
def test_yuan_and_wan_convert_exactly_both_ways(yuan, wan):
    assert money.yuan_to_wan(yuan) == wan
    assert money.wan_to_yuan(wan) == yuan.quantize(Decimal("0.01"))
    assert money.wan_to_yuan(money.yuan_to_wan(yuan)) == yuan


@pytest.mark.parametrize(
    ("yuan", "exact", "wan", "yi"),
    [
        ("0", "0", "0.00", "0.00"),
        ("0.00", "0", "0.00", "0.00"),
        ("0.01", "0.000001", "0.00", "0.00"),
        ("100000", "10", "10.00", "0.00"),
        ("100000.00", "10", "10.00", "0.00"),
        ("125000", "12.5", "12.50", "0.00"),
        ("370500000", "37050", "37,050.00", "3.71"),
        ("999999999999.99", "99999999.999999", "100,000,000.00", "10,000.00"),
    ],
)
def test_each_amount_has_one_spreadsheet_form_and_one_display_form(yuan, exact, wan, yi):
    amount = Decimal(yuan)
    assert money.wan_exact(amount) == exact  # never "1E+1" nor "10.0000"
    assert money.wan(amount) == wan
    assert money.yi(amount) == yi


def test_it_rounds_half_up_as_chinese_finance_does():
    assert money.yi(Decimal("370500000")) == "3.71"  # 3.705 亿, not the banker's 3.70
    assert money.yi(Decimal("370499999.99")) == "3.70"
    assert money.wan(Decimal("50")) == "0.01"  # 0.005 万
    assert money.wan(Decimal("49.99")) == "0.00"
    assert money.yuan(Decimal("0.005")) == "0.01"
    assert money.yuan(Decimal("100000")) == "100,000.00"
    assert money.round_half_up(Decimal("2.345")) == Decimal("2.35")


def test_a_missing_amount_shows_as_a_dash():
    assert money.wan(None) == money.yi(None) == money.yuan(None) == "—"
    assert money.yuan_to_wan(None) is None and money.wan_to_yuan(None) is None
    assert money.wan_exact(None) == ""


@pytest.mark.parametrize("amount", [Decimal("-0.01"), Decimal("-100000"), -1, "-5"])
def test_it_refuses_negative_amounts(amount):
    with pytest.raises(money.AmountError):
        money.yuan_to_wan(amount)
    with pytest.raises(money.AmountError):
        money.wan_to_yuan(amount)
    with pytest.raises(money.AmountError):
        money.wan(amount)


def test_it_refuses_a_fraction_of_a_fen_and_amounts_the_database_cannot_hold():
    with pytest.raises(money.AmountError):
        money.wan_to_yuan(Decimal("0.0000001"))
    with pytest.raises(money.AmountError):
        money.wan_to_yuan(Decimal("100000000"))  # one fen over the largest amount
    with pytest.raises(money.AmountError):
        money.wan_to_yuan("abc")
    with pytest.raises(money.AmountError):
        money.wan_to_yuan(Decimal("NaN"))


def test_chart_data_is_plain_and_rounded_half_up():
    assert money.wan_number(Decimal("100000")) == "10.00"
    assert money.wan_number(Decimal("50")) == "0.01"
    assert money.wan_number(LARGEST) == "100000000.00"


def test_the_template_filters_are_the_money_functions():
    assert dashboard.register.filters["wan"] is money.wan
    assert dashboard.register.filters["yi"] is money.yi


def test_the_admin_amount_field_shows_and_takes_wan():
    from agreements.forms import WanAmountField

    field = WanAmountField()
    assert field.prepare_value(Decimal("100000.00")) == "10"  # was "1E+1"
    assert field.prepare_value(Decimal("0.01")) == "0.000001"
    assert field.prepare_value(Decimal("0")) == "0"
    assert field.clean("10") == Decimal("100000.00")
    assert field.clean("99999999.999999") == LARGEST
    assert not field.has_changed(Decimal("100000.00"), "10")
    with pytest.raises(ValidationError):
        field.clean("-1")
    with pytest.raises(ValidationError):
        field.clean("100000000")  # more than the database holds
