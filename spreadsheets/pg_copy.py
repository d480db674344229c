"""PostgreSQL writes of new records and their history rows, without a model instance per row: COPY to a
temporary table, then one INSERT … RETURNING feeding the history rows."""

import io
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter

from django.utils.functional import cached_property

from spreadsheets.cells import Pending

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


class CopyLine(str):
    """A new record's row already in COPY's text format, formatted by the preview (see `NewRows.line`)."""

    __slots__ = ()


def insert_with_history(model, rows, user, reason, when=None) -> bool:
    """PostgreSQL: insert new records and their "+" history rows at once (see `NewRows`).

    The same rows as `bulk_create_with_history(..., default_user=user, default_change_reason=reason)`
    writes (every field's default for a column the sheet does not have; one history date, `when` or now).
    Returns False — the caller then uses the bulk helpers — on other databases, without a user, or for a
    model with field types it does not know.
    """
    new_rows = NewRows.for_model(model, user)
    if new_rows is None:
        return False
    new_rows.add(rows)
    new_rows.insert(user, reason, when)
    return True


class NewRows:
    """New records of one model, gathered a chunk at a time and then inserted with their history rows by one
    statement.

    Each chunk's rows are formatted once in Python and sent by COPY to a temporary table (no WAL, no index,
    no trigger); `insert` then moves them into the model's table and writes their history rows from what
    that INSERT returns — one INSERT … RETURNING feeding another, without a model instance, an id fetched
    beforehand or a history row formatted in Python. One statement for the whole sheet also means the
    table's statement-level triggers (the dashboard rollups) run once, over every new row, rather than once
    a chunk.
    """

    def __init__(self, model, fields, history_model):
        self.model = model
        self.fields = fields
        self.history_model = history_model
        self.defaults = {f.attname: f.get_default() for f in fields}
        self.prepared = [f for f in fields if f.get_internal_type() in PREPARED_TYPES]
        self.plan = [(f, self.defaults[f.attname], f in self.prepared) for f in fields]
        self.table = f"spreadsheets_new_{model._meta.db_table}"[:63]
        self.count = 0

    @classmethod
    def for_model(cls, model, user):
        """The gatherer of `model`'s new records, or None when the bulk helpers must write them (another
        database, no user, or a field whose value pre_save() or a type we do not know would make)."""
        from django.db import connection

        if connection.vendor != "postgresql" or getattr(user, "pk", None) is None:
            return None
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
            return None
        tracked = {f.attname for f in history_model.tracked_fields}
        if any(
            f.attname not in tracked | HISTORY_SPECIAL
            or f.get_internal_type() not in kinds | {"BigIntegerField"}
            for f in history_model._meta.concrete_fields
            if not f.primary_key
        ):
            return None
        return cls(model, fields, history_model)

    @cached_property
    def stageable(self) -> bool:
        """Whether a preview may format the rows now (see `lines`): no field takes a default computed when the
        row is written (a time, a random value), so the line is the same whenever it is written."""
        return not any(f.has_default() and callable(f.default) for f in self.fields)

    def lines(self, rows) -> list:
        """New records' field values ({attname: value}; any field left out takes its default) as lines of
        COPY's text format: what `add` sends, and what a preview stages for its confirm (`CopyLine`s). None
        for a record naming a record an earlier sheet adds (a `Pending`: its id is not known yet).

        Formatted a column at a time — one formatter for a column whose values are all of one type — as
        `copy_text` formats each value."""
        from django.db import connection

        columns, pending = [], set()
        for f, default, prepared in self.plan:
            column = _column(rows, f.attname, default)
            kinds = set(map(type, column))
            if Pending in kinds:
                pending.update(i for i, value in enumerate(column) if value.__class__ is Pending)
                column = [None if value.__class__ is Pending else value for value in column]
                kinds = set(map(type, column))
            if prepared and not all(kind is NoneType or issubclass(kind, (Decimal, date)) for kind in kinds):
                column = [
                    value
                    if value is None or isinstance(value, (Decimal, date))
                    else f.get_db_prep_save(value, connection)
                    for value in column
                ]
                kinds = set(map(type, column))
            columns.append(_formatted(column, kinds))
        out = list(map("\t".join, zip(*columns, strict=True)))
        for index in pending:
            out[index] = None
        return out

    def add(self, rows):
        """Send a chunk of new records to the temporary table: field values ({attname: value}), or lines a
        preview formatted (`CopyLine`), sent as they are."""
        from django.db import connection

        quote = connection.ops.quote_name
        formatted = iter(self.lines([row for row in rows if row.__class__ is not CopyLine]))
        lines = [row if row.__class__ is CopyLine else next(formatted) for row in rows]
        if None in lines:
            raise ValueError("a new record still names a record not yet written")
        with connection.cursor() as cursor:
            if not self.count:
                # Created once a session; emptied at every commit, and by `insert`.
                cursor.execute(
                    f"CREATE TEMP TABLE IF NOT EXISTS {quote(self.table)} ON COMMIT DELETE ROWS AS"
                    f" SELECT {', '.join(quote(f.column) for f in self.fields)}"
                    f" FROM {quote(self.model._meta.db_table)} WITH NO DATA"
                )
                cursor.execute(f"TRUNCATE {quote(self.table)}")
            copy_lines(cursor, self.table, [f.column for f in self.fields], lines)
        self.count += len(lines)

    def insert(self, user, reason, when=None):
        """Insert the gathered records (ids from the table's sequence, in the order they were added) and, unless
        history is disabled, their "+" history rows; then empty the temporary table."""
        from django.conf import settings
        from django.db import connection
        from django.utils import timezone

        if not self.count:
            return
        quote = connection.ops.quote_name
        pk = self.model._meta.pk
        columns = ", ".join(quote(f.column) for f in self.fields)
        # ctid: the temporary table's rows in the order COPY wrote them (nothing else writes to it).
        sql = (
            f"INSERT INTO {quote(self.model._meta.db_table)} ({columns})"
            f" SELECT {columns} FROM {quote(self.table)} ORDER BY ctid"
        )
        params = []
        if getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
            by_attname = {f.attname: f.column for f in [pk, *self.fields]}
            fixed = {
                "history_date": when or timezone.now(),
                "history_change_reason": str(reason),
                "history_type": "+",
                "history_user_id": user.pk,
            }
            history_fields = [f for f in self.history_model._meta.concrete_fields if not f.primary_key]
            select = []
            for f in history_fields:
                if f.attname in fixed:
                    select.append("%s")
                    params.append(fixed[f.attname])
                else:
                    select.append(f"new.{quote(by_attname[f.attname])}")
            sql = (
                f"WITH new AS ({sql} RETURNING {quote(pk.column)}, {columns})"
                f" INSERT INTO {quote(self.history_model._meta.db_table)}"
                f" ({', '.join(quote(f.column) for f in history_fields)}) SELECT {', '.join(select)} FROM new"
            )
        with connection.cursor() as cursor:
            # The triggers' grouped statements over every new row are estimated costly enough for JIT
            # compilation, which then takes longer than running them (250 ms of 500 at 50,000 rows). The
            # sort by ctid and the rows the INSERT returns are kept in memory rather than spilled to temporary
            # files (about 10 MB at 50,000 rows; the default work_mem is 4 MB).
            cursor.execute(
                "SELECT current_setting('jit'), current_setting('work_mem'), set_config('jit', 'off', true),"
                " set_config('work_mem', CASE WHEN pg_size_bytes(current_setting('work_mem')) < pg_size_bytes(%s)"
                " THEN %s ELSE current_setting('work_mem') END, true)",
                [INSERT_WORK_MEM, INSERT_WORK_MEM],
            )
            jit, work_mem = cursor.fetchone()[:2]
            cursor.execute(sql, params)
            cursor.execute(
                "SELECT set_config('jit', %s, true), set_config('work_mem', %s, true)", [jit, work_mem]
            )
            cursor.execute(f"TRUNCATE {quote(self.table)}")
        self.count = 0


def _column(rows, name, default) -> list:
    """The values of one field over the rows (dicts), the default where a row leaves it out."""
    if rows and name in rows[0]:
        try:
            return list(map(itemgetter(name), rows))
        except KeyError:
            pass
    elif not any(name in values for values in rows):
        return [default] * len(rows)
    return [values.get(name, default) for values in rows]


def _formatted(column, kinds) -> list:
    """A column's values in COPY's text format, as `copy_text` formats each; `kinds` are their types. One
    formatter a column when its values are of one type, mapped without a Python call a value where it can
    be (no empty value, no text to escape), and a column of one value formatted once."""
    if len(kinds) == 1 and kinds <= _SAME_WHEN_EQUAL and column.count(column[0]) == len(column):
        return [copy_text(column[0])] * len(column)
    empty = NoneType in kinds
    kinds = kinds - {NoneType}
    kind = kinds.pop() if len(kinds) == 1 else None
    if kind is str:
        if not empty:
            text = "\x00".join(column)
            if not any(c in text for c in "\\\t\n\r"):
                return column
        return [_NULL if value is None else value.translate(_COPY_ESCAPES) for value in column]
    if kind in _PLAIN_STR or kind is date:
        format_ = date.isoformat if kind is date else kind.__str__
        if not empty:
            return list(map(format_, column))
        return [_NULL if value is None else format_(value) for value in column]
    formats = _COPY_FORMAT
    return [formats.get(value.__class__, copy_text)(value) for value in column]


INSERT_WORK_MEM = "64MB"  # at least, for the one INSERT of a sheet's new records (see NewRows.insert)
HISTORY_SPECIAL = {"history_date", "history_change_reason", "history_type", "history_user_id"}


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
_NULL = "\\N"
_PLAIN_STR = {int, Decimal}  # formatted by their own __str__
_SAME_WHEN_EQUAL = {str, int, date, type(None)}  # equal values format alike (not Decimal: 1.0 and 1.00)
NoneType = type(None)
_COPY_FORMAT = {
    str: lambda value: value.translate(_COPY_ESCAPES),
    int: int.__str__,
    Decimal: Decimal.__str__,
    date: date.isoformat,
    type(None): lambda value: "\\N",
}


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
