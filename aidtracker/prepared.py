"""Statements PostgreSQL plans once per connection, for the few page queries whose planning costs more than
their answer.

A user's permissions (a UNION of two four-table joins) take PostgreSQL about 1 ms to plan and 0.2 ms to
answer; the province page's list of projects due a report (a branch per agreement and state) about 2 ms to
plan and 1.5 ms to answer — while every other dashboard query plans in a tenth of a millisecond. Such a
statement is sent once per database connection as a server-side prepared statement, its values written into
its text (so it has no parameters and PostgreSQL keeps the one plan it makes at its first run), and run by
name afterwards. Only the plan is kept, never a result: each run reads the data afresh, and PostgreSQL plans
again by itself after a change to a table the statement reads or to its statistics.

Prepared statements live in the server session, so they are not made where a session is not the
connection's own: behind PgBouncer in transaction mode (docs/scaling.md), whose settings carry
`DISABLE_SERVER_SIDE_CURSORS`; nor outside PostgreSQL. There, and for a connection that is not kept
(`CONN_MAX_AGE=0`, when nothing would be run twice), the statement is simply executed.
"""

import itertools

from django.db import DatabaseError, connections

# Statements kept per connection; past it they are all dropped and made again as asked. A kept plan holds
# server memory: about 0.3 MB for the list of projects due a report, 0.1 MB for a user's permissions.
LIMIT = 16
_NAME = "aidtracker_prepared_{}"
UNDEFINED_STATEMENT = "26000"  # PostgreSQL's invalid_sql_statement_name


_numbers = itertools.count(1)  # for names never used twice in a process, whatever happened to a session


class _Held:
    """The statements prepared on one server session: {text: name}."""

    def __init__(self, raw):
        self.raw = raw
        self.names = {}


def _held(connection) -> _Held:
    """The statements prepared on the connection's current session (a new one after a reconnection)."""
    held = getattr(connection, "_aidtracker_prepared", None)
    if held is None or held.raw is not connection.connection:
        held = connection._aidtracker_prepared = _Held(connection.connection)
    return held


def preparing(connection) -> bool:
    """Whether statements are prepared on this connection (see the module's docstring)."""
    return (
        connection.vendor == "postgresql"
        and not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
        and connection.settings_dict.get("CONN_MAX_AGE") != 0
    )


def fetchall(alias: str, sql: str, params) -> list[tuple]:
    """The rows of `sql` with `params` on the database `alias`, planned once per connection (above)."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        if not preparing(connection):
            cursor.execute(sql, params)
            return cursor.fetchall()
        text = cursor.mogrify(sql, params)
        text = text.decode() if isinstance(text, bytes) else text
        held = _held(connection)
        name = held.names.get(text)
        if name is None:
            name = _NAME.format(next(_numbers))
            drop = "DEALLOCATE ALL; " if len(held.names) >= LIMIT else ""
            if drop:
                held.names.clear()
            # One round trip: made and run at once. Without parameters the text holds no placeholder.
            cursor.execute(f"{drop}PREPARE {name} AS {text}; EXECUTE {name}")
            held.names[text] = name
        else:
            try:
                cursor.execute(f"EXECUTE {name}")
            except DatabaseError as error:
                # Dropped behind our back (DISCARD ALL on the session): made again from now on; run again
                # at once unless a transaction is open (the error has ended it).
                if getattr(error.__cause__, "pgcode", None) != UNDEFINED_STATEMENT:
                    raise
                held.names.clear()
                if connection.in_atomic_block:
                    raise
                return fetchall(alias, sql, params)
        return cursor.fetchall()
