"""The SQL of a dashboard queryset, compiled once per process for the same inputs.

Building and compiling a grouped ORM query costs about a millisecond of Python, several times what
PostgreSQL then takes to answer it from the rollups, and a dashboard page asks a dozen. The text and
parameters of such a query depend only on its inputs (the filters, the database), so they are kept here
under a key holding all of them, as a prepared statement would be, and run with a cursor. Only the SQL is
kept, never a result: every request reads the data afresh.

Rows come back as the database driver gives them, without the ORM's converters: only for queries whose
columns need none (integers, and text).
"""

from django.core.exceptions import EmptyResultSet
from django.db import connections, router

LIMIT = 1024  # distinct keys kept; past it the memo starts again (a filter combination per key)
_memo: dict = {}


def read_alias(model) -> str:
    """The database alias a read of `model` goes to now (aidtracker.replica's router)."""
    return router.db_for_read(model)


def compiled(key: tuple, build) -> tuple[str, tuple | None]:
    """(sql, params) of the queryset `build()` returns, compiled once per `key` — which must hold everything
    the SQL depends on, the database alias first; params None for a queryset that can select nothing (an
    empty `__in`), which the ORM would not send either."""
    found = _memo.get(key)
    if found is None:
        queryset = build()
        try:
            found = queryset.query.get_compiler(key[0]).as_sql()
        except EmptyResultSet:
            found = ("", None)
        if len(_memo) >= LIMIT:
            _memo.clear()
        _memo[key] = found
    return found


def rows(key: tuple, build) -> list[tuple]:
    """The rows of the queryset `build()` returns (a values_list), through its SQL compiled once per `key`."""
    sql, params = compiled(key, build)
    if params is None:
        return []
    with connections[key[0]].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
