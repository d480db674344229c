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

import hashlib

from django.db import DatabaseError, connections

# Statements kept per connection; past it they are all dropped and made again as asked. A kept plan holds
# server memory: about 0.3 MB for the list of projects due a report, 0.1 MB for a user's permissions.
LIMIT = 16
UNDEFINED_STATEMENT = "26000"  # PostgreSQL's invalid_sql_statement_name: dropped behind our back
DUPLICATE_STATEMENT = "42P05"  # duplicate_prepared_statement: made by another process sharing the session
RESULT_TYPE_CHANGED = "0A000"  # "cached plan must not change result type": a column changed by a migration


def _name(text: str, generation: int) -> str:
    """A statement's name from its text: the same name is the same statement in every process and on every
    server session (a session a pooler hands from one process to another runs nothing it was not asked for)."""
    return f"aidtracker_{generation}_{hashlib.sha256(text.encode()).hexdigest()[:32]}"


class _Held:
    """The statements prepared on one server session: {text: name}."""

    def __init__(self, raw):
        self.raw = raw
        self.names = {}
        self.generation = 0  # raised when the session's statements can no longer be trusted
        self.fresh = True


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


def fetchall(alias: str, sql: str, params, _again=False) -> list[tuple]:
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
        try:
            if name is None:
                name = _name(text, held.generation)
                # Past the limit, and at a session's first statement (it may hold an earlier session's
                # statements: the connection was made again, or handed over by a pooler), all are dropped.
                drop = "DEALLOCATE ALL; " if held.fresh or len(held.names) >= LIMIT else ""
                if drop:
                    held.names.clear()
                    held.fresh = False
                held.names[text] = name  # before it runs: a failed EXECUTE leaves the statement made
                # One round trip: made and run at once. Without parameters the text holds no placeholder.
                cursor.execute(f"{drop}PREPARE {name} AS {text}\n; EXECUTE {name}")
            else:
                cursor.execute(f"EXECUTE {name}")
        except DatabaseError as error:
            code = _code(error)
            if code == UNDEFINED_STATEMENT:
                # Dropped behind our back (DISCARD ALL on the session): made again from now on.
                held.names.clear()
            elif code in (RESULT_TYPE_CHANGED, DUPLICATE_STATEMENT):
                # Planned before a migration changed a column it returns, or made by another process sharing
                # the session: every statement of the session is made again under new names (the old ones go
                # at the next DEALLOCATE ALL).
                held.names.clear()
                held.generation += 1
            else:
                raise
            if connection.in_atomic_block or _again:
                raise  # the error has ended the transaction; the next one prepares afresh
            return fetchall(alias, sql, params, _again=True)
        return cursor.fetchall()


def _code(error) -> str | None:
    return getattr(error.__cause__, "pgcode", None)
