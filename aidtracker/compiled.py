"""The SQL of a dashboard queryset, compiled once per process for the same inputs.

Building and compiling a grouped ORM query costs about a millisecond of Python, several times what
PostgreSQL then takes to answer it from the rollups, and a dashboard page asks a dozen. The text and
parameters of such a query depend only on its inputs (the filters, the database), so they are kept here,
with the ORM's converters for its columns, under a key holding all of them, as a prepared statement would
be; the query is then run with a cursor and its rows converted as the ORM converts them. Only the SQL is
kept, never a result: every request reads the data afresh.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connections, router

LIMIT = 1024  # distinct keys kept; past it the memo starts again (a filter combination per key)
_memo: dict = {}
_ABSENT = object()


def read_alias(model) -> str:
    """The database alias a read of `model` goes to now (aidtracker.replica's router)."""
    return router.db_for_read(model)


def _compile(key, build):
    queryset = build()
    compiler = queryset.query.get_compiler(key[0])
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None  # a queryset that can select nothing (an empty `__in`): the ORM sends no query either
    converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
    return sql, params, list(converters.items())


def _memoized(key, build):
    """The compiled entry for `key`, compiled now if absent. The dict is read once (another thread may empty
    it meanwhile: gunicorn runs threads)."""
    found = _memo.get(key, _ABSENT)
    if found is _ABSENT:
        found = _compile(key, build)
        if len(_memo) >= LIMIT:
            _memo.clear()
        _memo[key] = found
    return found


def rows(key: tuple, build) -> list[tuple]:
    """The rows of the values_list queryset `build()` returns, as values_list gives them, through its SQL
    and converters compiled once per `key` — which must hold everything the SQL depends on, the database
    alias first."""
    found = _memoized(key, build)
    if found is None:
        return []
    sql, params, converters = found
    connection = connections[key[0]]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    if not converters:
        return fetched
    out = []
    for row in fetched:
        row = list(row)
        for position, (functions, expression) in converters:
            value = row[position]
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
        out.append(tuple(row))
    return out


def compiled(key: tuple, build) -> tuple[str, list]:
    """(sql, params) of the queryset `build()` returns, compiled once per `key` (as for `rows`), for a caller
    that builds a larger statement from it; it must not be a queryset that can select nothing."""
    found = _memoized(key, build)
    if found is None:
        raise EmptyResultSet
    sql, params, _converters = found
    return sql, params


def instances(key: tuple, build) -> list:
    """The model instances of the queryset `build()` returns, through its SQL compiled once per `key` (as
    for `rows`): every concrete field read, each row made an instance as the ORM makes them (`from_db`)."""
    model = build().model
    names = [field.attname for field in model._meta.concrete_fields]
    return [model.from_db(key[0], names, row) for row in rows(key, lambda: build().values_list(*names))]
