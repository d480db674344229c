"""Sums over related rows, as correlated subqueries (in the spirit of NetBox's `count_related`).

A join to several related tables multiplies rows and inflates every SUM; a subquery per figure sums each
relation on its own. One helper, so "disbursed per project", "budget per agreement" and the like are always
summed the same way.
"""

from decimal import Decimal

from django.db.models import BigIntegerField, DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

MONEY = DecimalField(max_digits=16, decimal_places=2)
COUNT = BigIntegerField()


def sum_related(queryset, field: str, link: str, *, output_field=MONEY):
    """SUM(`field`) over the rows of `queryset` whose `link` is the outer row, 0 when there are none."""
    total = (
        queryset.filter(**{link: OuterRef("pk")})
        .order_by()
        .values(link)
        .annotate(total=Sum(field))
        .values("total")
    )
    zero = Value(Decimal("0.00") if isinstance(output_field, DecimalField) else 0)
    return Coalesce(Subquery(total), zero, output_field=output_field)
