"""Form fields shared by the admin: amounts are entered and shown in 万元 but stored in yuan."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from aidtracker import money


class WanAmountField(forms.DecimalField):
    """A yuan amount typed in 万元 (up to six decimals, so every yuan amount is exact)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 16)
        kwargs.setdefault("decimal_places", money.WAN_DECIMAL_PLACES)
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("help_text", _("In 10,000 yuan (万元)."))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        # Initial values come from the model in yuan; re-displayed input is already in 万元.
        if isinstance(value, Decimal | int):
            return money.wan_exact(value)
        return value

    def _to_yuan(self, wan):
        try:
            return money.wan_to_yuan(wan)
        except money.AmountError as exc:
            raise forms.ValidationError(_("The amount is too large."), code="max_value") from exc

    def clean(self, value):
        return self._to_yuan(super().clean(value))

    def has_changed(self, initial, data):
        try:
            new = self._to_yuan(super().clean(data))
        except forms.ValidationError:
            return True
        old = None if initial in (None, "") else Decimal(initial).quantize(money.FEN)
        return old != new
