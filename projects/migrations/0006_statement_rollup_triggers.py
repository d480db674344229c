"""PostgreSQL: statement-level rollup triggers with transition tables instead of one trigger call per row.

Migration 0005's row triggers run six statements for every inserted, updated or deleted row, which made a
50,000-row import spend most of its time in PL/pgSQL. Here each INSERT, UPDATE or DELETE statement on the
three base tables runs one grouped upsert per rollup over its transition table (`REFERENCING NEW TABLE` /
`OLD TABLE`), then drops the rollup rows of the touched keys that fell to zero — the same arithmetic as 0005,
set-wise. An UPDATE only counts the rows whose key or summed columns changed (old rows subtracted, new rows
added). PostgreSQL allows no column list on a trigger with transition tables, so there are three triggers per
table, one per event.

SQLite keeps 0005's row triggers (it has no transition tables); nothing changes there. The rebuild SQL stays
in 0005 (`projects.rollups` uses it).
"""

import importlib

from django.db import migrations

_rows = importlib.import_module("projects.migrations.0005_rollup_triggers")

KEY = _rows.KEY
V = _rows.VENDOR["postgresql"]
YEAR = V["year"]
QUARTER = V["quarter"]
CENTS = V["cents"]

# Per table: the columns whose change matters to the rollups (an update touching none of them is skipped).
TABLES = {
    "projects_project": [
        "agreement_id",
        "category_id",
        "recipient_id",
        "status",
        "start_date",
        "budget",
        "beneficiaries",
    ],
    "projects_disbursement": ["project_id", "date", "amount"],
    "projects_facilityoutput": ["project_id", "facility_type_id", "quantity"],
}

ZERO = {
    "projects_projectrollup": "projects = 0 AND budget_cents = 0 AND disbursed_cents = 0 AND beneficiaries = 0",
    "projects_facilityrollup": "quantity = 0",
    "projects_disbursementrollup": "amount_cents = 0",
}


def changed_rows(event, columns):
    """The rows of the statement with their sign s: +1 for rows added, -1 for rows removed."""
    if event == "INSERT":
        return "SELECT r.*, 1 AS s FROM new_rows r"
    if event == "DELETE":
        return "SELECT r.*, -1 AS s FROM old_rows r"
    same = " AND ".join(f"b.{c} IS NOT DISTINCT FROM a.{c}" for c in columns)
    return (
        f"SELECT a.*, -1 AS s FROM old_rows a WHERE NOT EXISTS (SELECT 1 FROM new_rows b WHERE b.id = a.id AND {same})"
        f" UNION ALL SELECT a.*, 1 AS s FROM new_rows a WHERE NOT EXISTS"
        f" (SELECT 1 FROM old_rows b WHERE b.id = a.id AND {same})"
    )


def upsert(table, extra_key, sums, source):
    """One grouped upsert of `source` (key columns, extra key columns, summed columns) into `table`.

    Groups whose sums are all zero change nothing and are skipped; rows are locked in key order."""
    keys = f"{KEY}{', ' + extra_key if extra_key else ''}"
    names = [name for name, _expr in sums]
    sets = ", ".join(f"{n} = {table}.{n} + excluded.{n}" for n in names)
    nonzero = " OR ".join(f"SUM({expr}) <> 0" for _name, expr in sums)
    summed = ", ".join(f"SUM({expr})" for _name, expr in sums)
    return (
        f"INSERT INTO {table} ({keys}, {', '.join(names)})"
        f" SELECT {keys}, {summed} FROM ({source}) x GROUP BY {keys} HAVING {nonzero} ORDER BY {keys}"
        f" ON CONFLICT ({keys}) DO UPDATE SET {sets}"
    )


def drop_zeros(table, extra_key, source):
    keys = f"{KEY}{', ' + extra_key if extra_key else ''}"
    return f"DELETE FROM {table} WHERE {ZERO[table]} AND ({keys}) IN (SELECT {keys} FROM ({source}) x)"


def project_key(p):
    return (
        f"{p}.agreement_id, {p}.category_id, {p}.recipient_id, {p}.status,"
        f" {YEAR.format(p + '.start_date')} AS start_year"
    )


def project_statements(rows):
    key = project_key("r")
    projects = (
        f"SELECT {key}, r.s, r.s * {CENTS.format('r.budget')} AS budget_cents, r.s * r.beneficiaries AS beneficiaries,"
        f" r.s * COALESCE((SELECT SUM({CENTS.format('d.amount')}) FROM projects_disbursement d"
        f" WHERE d.project_id = r.id), 0) AS disbursed_cents FROM ({rows}) r"
    )
    outputs = (
        f"SELECT {key}, o.facility_type_id, r.s * o.quantity AS quantity FROM ({rows}) r"
        f" JOIN projects_facilityoutput o ON o.project_id = r.id"
    )
    payments = (
        f"SELECT {key}, {QUARTER.format('d.date')} AS quarter, r.s * {CENTS.format('d.amount')} AS amount_cents"
        f" FROM ({rows}) r JOIN projects_disbursement d ON d.project_id = r.id"
    )
    return [
        upsert(
            "projects_projectrollup",
            "",
            [
                ("projects", "s"),
                ("budget_cents", "budget_cents"),
                ("disbursed_cents", "disbursed_cents"),
                ("beneficiaries", "beneficiaries"),
            ],
            projects,
        ),
        upsert("projects_facilityrollup", "facility_type_id", [("quantity", "quantity")], outputs),
        upsert("projects_disbursementrollup", "quarter", [("amount_cents", "amount_cents")], payments),
        drop_zeros("projects_projectrollup", "", projects),
        drop_zeros("projects_facilityrollup", "facility_type_id", outputs),
        drop_zeros("projects_disbursementrollup", "quarter", payments),
    ]


def disbursement_statements(rows):
    """Under the project's key; a disbursement whose project is gone changes nothing (as in 0005)."""
    payments = (
        f"SELECT {project_key('p')}, {QUARTER.format('r.date')} AS quarter,"
        f" r.s * {CENTS.format('r.amount')} AS amount_cents"
        f" FROM ({rows}) r JOIN projects_project p ON p.id = r.project_id"
    )
    return [
        upsert(
            "projects_projectrollup",
            "",
            [
                ("projects", "0"),
                ("budget_cents", "0"),
                ("disbursed_cents", "amount_cents"),
                ("beneficiaries", "0"),
            ],
            payments,
        ),
        upsert("projects_disbursementrollup", "quarter", [("amount_cents", "amount_cents")], payments),
        drop_zeros("projects_disbursementrollup", "quarter", payments),
    ]


def output_statements(rows):
    outputs = (
        f"SELECT {project_key('p')}, r.facility_type_id, r.s * r.quantity AS quantity"
        f" FROM ({rows}) r JOIN projects_project p ON p.id = r.project_id"
    )
    return [
        upsert("projects_facilityrollup", "facility_type_id", [("quantity", "quantity")], outputs),
        drop_zeros("projects_facilityrollup", "facility_type_id", outputs),
    ]


BUILDERS = {
    "projects_project": project_statements,
    "projects_disbursement": disbursement_statements,
    "projects_facilityoutput": output_statements,
}
EVENTS = {
    "INSERT": ("ins", "REFERENCING NEW TABLE AS new_rows"),
    "UPDATE": ("upd", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    "DELETE": ("del", "REFERENCING OLD TABLE AS old_rows"),
}


def postgresql_sql(table):
    out = []
    for event, (suffix, referencing) in EVENTS.items():
        name = f"{table}_rollup_{suffix}"
        body = "\n".join(f"  {stmt};" for stmt in BUILDERS[table](changed_rows(event, TABLES[table])))
        out += [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}\n"
            "  RETURN NULL;\nEND\n$$",
            f"CREATE TRIGGER {name} AFTER {event} ON {table} {referencing}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    return out


def drop_sql(table):
    out = []
    for suffix, _referencing in EVENTS.values():
        name = f"{table}_rollup_{suffix}"
        out += [f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()"]
    return out


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_rollup ON {table}", params=None)
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_rollup()", params=None)
        for sql in postgresql_sql(table):
            schema_editor.execute(sql, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, (build, columns) in _rows.TABLES.items():
        for sql in drop_sql(table):
            schema_editor.execute(sql, params=None)
        for sql in _rows.postgresql_sql(table, build, columns):
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("projects", "0005_rollup_triggers")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
