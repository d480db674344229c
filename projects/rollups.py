"""The dashboard rollups (ProjectRollup, FacilityRollup, DisbursementRollup): rebuild and check.

Database triggers installed by migration 0005 keep the rollups exact on every write; the rebuild is for data
loaded around the triggers (COPY with triggers disabled, TRUNCATE) and for repairs. The SQL lives in that
migration so the triggers and the rebuild cannot drift apart.
"""

import importlib

from django.db import connection, connections, transaction

_triggers = importlib.import_module("projects.migrations.0005_rollup_triggers")


def rebuild_rollups(using=None) -> None:
    """Recompute every rollup row from the base tables, in one transaction."""
    conn = connection if using is None else connections[using]
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            # Writers wait until the rebuild commits, so none of their trigger updates is lost or doubled.
            cursor.execute(
                "LOCK TABLE projects_project, projects_disbursement, projects_facilityoutput IN SHARE MODE"
            )
        for sql in _triggers.rebuild_sql(conn.vendor):
            cursor.execute(sql)
