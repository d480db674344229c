"""Reading many rows: in bounded memory, and by many keys at once."""

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL


def many(values):
    """The right-hand side of an `__in` lookup by thousands of keys (`code__in=many(codes)`).

    On PostgreSQL one array parameter, unnested in a subquery: the planner then looks each key up in the
    index whatever it estimates of the table, where a literal list of 2,000 keys made it scan a table of
    300,000 projects (37 ms a query against 4 ms, measured; with statistics or without), and Django does
    not prepare each value in Python. Elsewhere the values themselves."""
    values = [value for value in values if value is not None]  # as `__in` does: NULL equals nothing
    if connection.vendor == "postgresql" and values:
        return RawSQL("SELECT unnest(%s)", [values])
    return values


def keyset(queryset, order, fields, chunk=10_000, *, unique=False):
    """`values_list(*fields)` rows of a queryset in `order`, read a chunk at a time by keyset
    (`WHERE (order, pk) > last ORDER BY order, pk LIMIT chunk`): memory stays flat whatever the number of
    rows, with no server-side cursor (which a transaction-pooling PgBouncer does not allow). The `order`
    fields must not be null. With one unique field the condition is a plain `field > last`, which the
    field's index serves directly."""
    keys = list(order) if unique else [*order, "pk"]  # `unique`: the order alone names one row
    width = len(fields)
    last = None
    queryset = queryset.order_by(*keys)
    while True:
        page = queryset
        if last is not None:
            after = Q()
            for i, key in enumerate(keys):
                step = Q(**{f"{key}__gt": last[i]})
                for j in range(i):
                    step &= Q(**{keys[j]: last[j]})
                after |= step
            page = page.filter(after)
        batch = list(page.values_list(*fields, *keys)[:chunk])
        for row in batch:
            yield row[:width]
        if len(batch) < chunk:
            return
        last = batch[-1][width:]
