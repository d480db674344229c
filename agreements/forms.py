"""Form fields shared by the admin: amounts are entered and shown in 万元 but stored in yuan."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

TEN_THOUSAND = Decimal(10000)
CENT = Decimal("0.01")


def yuan_to_wan(value):
    return (Decimal(value) / TEN_THOUSAND).normalize() if value is not None else None


class WanAmountField(forms.DecimalField):
    """A yuan amount typed in 万元 (up to six decimals, so every yuan amount is exact)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 16)
        kwargs.setdefault("decimal_places", 6)
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("help_text", _("In 10,000 yuan (万元)."))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        # Initial values come from the model in yuan; re-displayed input is already in 万元.
        if isinstance(value, Decimal | int):
            value = yuan_to_wan(value)
            return f"{value:f}"
        return value

    def clean(self, value):
        wan = super().clean(value)
        return None if wan is None else (wan * TEN_THOUSAND).quantize(CENT)

    def has_changed(self, initial, data):
        try:
            new = super().clean(data)
        except forms.ValidationError:
            return True
        new_yuan = None if new is None else (new * TEN_THOUSAND).quantize(CENT)
        old = None if initial in (None, "") else Decimal(initial).quantize(CENT)
        return old != new_yuan


def wan_display(value):
    """Format a yuan amount as 万元 with up to four decimals, for changelists."""
    if value is None:
        return "-"
    return f"{(Decimal(value) / TEN_THOUSAND).quantize(Decimal('0.0001')):,}"
