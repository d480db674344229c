"""The dashboard rollups (ProjectRollup, FacilityRollup, DisbursementRollup, ReportCoverageRollup): rebuild
and check.

Database triggers keep the rollups exact on every write (their SQL: projects.rollup_sql); the rebuild is for
data loaded around the triggers (COPY with triggers disabled, TRUNCATE) and for repairs, and the check
compares the kept rollups with a fresh rebuild without changing anything.
"""

from django.db import connection, connections, transaction

from projects import rollup_sql


def _connection(using):
    return connection if using is None else connections[using]


def rebuild_rollups(using=None) -> None:
    """Recompute every rollup row from the base tables, in one transaction."""
    conn = _connection(using)
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            # Writers wait until the rebuild commits, so none of their trigger updates is lost or doubled.
            cursor.execute(
                "LOCK TABLE projects_project, projects_disbursement, projects_facilityoutput,"
                " projects_progressreport IN SHARE MODE"
            )
        for sql in rollup_sql.rebuild_sql(conn.vendor):
            cursor.execute(sql)


def _rows(cursor, sql, width) -> dict:
    """{key columns: summed columns} of a rollup, rows whose sums are all zero left out (an empty row
    and a missing row mean the same)."""
    cursor.execute(sql)
    return {row[:width]: row[width:] for row in cursor.fetchall() if any(row[width:])}


def rollup_differences(using=None) -> list[tuple]:
    """[(rollup table, key, kept sums or None, rebuilt sums or None)] where the rollups differ from a fresh
    rebuild from the base tables; empty when they agree.

    Both are read in one snapshot (REPEATABLE READ on PostgreSQL), so writers committing meanwhile cannot make
    a false difference, and nothing is locked or written: it can run on a schedule in production.
    """
    conn = _connection(using)
    differences = []
    fresh = not conn.in_atomic_block  # inside a caller's transaction (tests), its isolation stands
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        if fresh and conn.vendor == "postgresql":
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        for table, (columns, select) in rollup_sql.rebuild_selects(conn.vendor).items():
            extra_key, summed = rollup_sql.ROLLUPS[table]
            width = len(columns.split(",")) - len(summed)
            kept = _rows(cursor, f"SELECT {columns} FROM {table}", width)
            rebuilt = _rows(cursor, select, width)
            for key in sorted(kept.keys() | rebuilt.keys(), key=repr):
                if kept.get(key) != rebuilt.get(key):
                    differences.append((table, key, kept.get(key), rebuilt.get(key)))
    return differences
