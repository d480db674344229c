"""PostgreSQL COPY writes: new records and their history rows, without a model instance per row."""

import io
from datetime import date, datetime
from decimal import Decimal

# Field types whose values the importers already hold in the form the database takes.
PLAIN_TYPES = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
}
PREPARED_TYPES = {"DateField", "DateTimeField", "DecimalField"}


def insert_with_history(model, rows, user, reason, when=None) -> bool:
    """PostgreSQL: insert new records and their "+" history rows with COPY (ids drawn from the sequence first).

    The same rows as `bulk_create_with_history(..., default_user=user, default_change_reason=reason)`
    writes (every field's default for a column the sheet does not have; one history date, `when` or now), without building a model instance and compiling each field of every row in Python, which is
    most of the time of a 50,000-row import. Returns False — the caller then uses the bulk helpers — on
    other databases, without a user, or for a model with field types it does not know.
    """
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    if connection.vendor != "postgresql" or getattr(user, "pk", None) is None:
        return False
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    history = getattr(model, "history", None)
    history_model = history.model if history is not None else None
    kinds = PLAIN_TYPES | PREPARED_TYPES
    if history_model is None or any(
        f.get_internal_type() not in kinds
        or getattr(f, "auto_now", False)
        or getattr(f, "auto_now_add", False)
        for f in fields
    ):
        return False  # pre_save() would fill such a field; leave it to bulk_create
    history_fields = [f for f in history_model._meta.concrete_fields if not f.primary_key]
    tracked = {f.attname for f in history_model.tracked_fields}
    special = {"history_date", "history_change_reason", "history_type", "history_user_id"}
    if any(f.attname not in tracked | special for f in history_fields) or any(
        f.get_internal_type() not in kinds | {"BigIntegerField"} for f in history_fields
    ):
        return False
    defaults = {f.attname: f.get_default() for f in fields}
    prepared = [f for f in fields if f.get_internal_type() in PREPARED_TYPES]
    pk = model._meta.pk
    table = model._meta.db_table
    with connection.cursor() as cursor:
        # Ids first (one query), so the history rows can name them; COPY returns nothing.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk.column, len(rows)],
        )
        ids = [new_id for (new_id,) in cursor.fetchall()]
        # Each value formatted once, for the record's line and its history row's.
        columns = [pk.attname] + [f.attname for f in fields]
        formats = _COPY_FORMAT
        records = []
        for new_id, values in zip(ids, rows, strict=True):
            row = {**defaults, **values}
            for f in prepared:
                value = row[f.attname]
                if value is not None and not isinstance(value, (Decimal, date)):
                    row[f.attname] = f.get_db_prep_save(value, connection)
            row[pk.attname] = new_id
            # Kept as one line of text (a fifth of the memory of a list of values); tabs inside values are
            # escaped, so the history rows split it again safely.
            records.append("\t".join([formats.get(type(v), copy_text)(v) for v in (row[n] for n in columns)]))
        copy_lines(cursor, table, [pk.column] + [f.column for f in fields], records)
        if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
            return True
        fixed = {
            "history_date": when or timezone.now(),
            "history_change_reason": str(reason),
            "history_type": "+",
            "history_user_id": user.pk,
        }
        fixed = {name: copy_text(value) for name, value in fixed.items()}
        position = {name: index for index, name in enumerate(columns)}
        order = [(position.get(f.attname), fixed.get(f.attname)) for f in history_fields]
        copy_lines(
            cursor,
            history_model._meta.db_table,
            [f.column for f in history_fields],
            (
                "\t".join([parts[i] if i is not None else text for i, text in order])
                for parts in (line.split("\t") for line in records)
            ),
        )
    return True


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value) -> str:
    """A value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


# The common types straight to their formatter (no isinstance chain per value).
_COPY_FORMAT = {
    str: lambda value: value.translate(_COPY_ESCAPES),
    int: int.__str__,
    Decimal: Decimal.__str__,
    date: date.isoformat,
    type(None): lambda value: "\\N",
}


def _copy_line(row):
    formats = _COPY_FORMAT
    return "\t".join([formats.get(type(value), copy_text)(value) for value in row])


def copy_rows(cursor, table, columns, rows, chunk=20_000):
    """COPY rows (lists of Python values) into a table, a chunk at a time (bounded memory)."""
    copy_lines(cursor, table, columns, (_copy_line(row) for row in rows), chunk)


def copy_lines(cursor, table, columns, lines, chunk=20_000):
    """COPY lines already in COPY's text format into a table, a chunk at a time."""
    quote = cursor.db.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    buffer = []
    for line in lines:
        buffer.append(line)
        if len(buffer) >= chunk:
            _copy(cursor, sql, buffer)
            buffer = []
    if buffer:
        _copy(cursor, sql, buffer)


def _copy(cursor, sql, lines):
    with cursor.db.wrap_database_errors:  # IntegrityError and friends as Django's, like bulk_create's
        cursor.copy_expert(sql, io.StringIO("\n".join(lines) + "\n"))
