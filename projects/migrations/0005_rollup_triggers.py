"""Database triggers that keep the dashboard rollups exact, and a first fill from the base tables.

Triggers rather than signals or service hooks: every way rows change — admin, spreadsheet import,
bulk_create, queryset update() and delete(), raw SQL — goes through them. One SQL text serves SQLite and
PostgreSQL; only the date and cents expressions differ. Each row trigger subtracts the old row's
contribution and adds the new one with an upsert, then drops rollup rows that fell to zero.

Delete order does not matter: a disbursement or output whose project is already gone is a no-op (the
project's own trigger subtracted what was still attached to it). Loads that bypass triggers (COPY with
triggers disabled, TRUNCATE) must be followed by `manage.py rebuild_rollups`. The SQL is frozen here on
purpose; `projects.rollups` holds the same rebuild for the command.
"""

from django.db import migrations

KEY = "agreement_id, category_id, recipient_id, status, start_year"

VENDOR = {
    "sqlite": {
        "year": "COALESCE(CAST(strftime('%Y', {0}) AS INTEGER), 0)",
        "quarter": "(CAST(strftime('%Y', {0}) AS INTEGER) * 10 + (CAST(strftime('%m', {0}) AS INTEGER) + 2) / 3)",
        "cents": "CAST(ROUND({0} * 100) AS INTEGER)",
    },
    "postgresql": {
        "year": "COALESCE(EXTRACT(YEAR FROM {0})::integer, 0)",
        "quarter": "(EXTRACT(YEAR FROM {0})::integer * 10 + EXTRACT(QUARTER FROM {0})::integer)",
        "cents": "ROUND({0} * 100)::bigint",
    },
}


def project_key(v, p):
    """The rollup key columns of project row `p` (NEW, OLD or a table alias)."""
    return f"{p}.agreement_id, {p}.category_id, {p}.recipient_id, {p}.status, {v['year'].format(p + '.start_date')}"


def key_match(v, table, p):
    return (
        f"{table}.agreement_id = {p}.agreement_id AND {table}.category_id = {p}.category_id"
        f" AND {table}.recipient_id = {p}.recipient_id AND {table}.status = {p}.status"
        f" AND {table}.start_year = {v['year'].format(p + '.start_date')}"
    )


def upsert(table, columns, summed):
    sets = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in summed)
    return f"INSERT INTO {table} ({columns}) {{select}} ON CONFLICT ({{conflict}}) DO UPDATE SET {sets}"


def project_statements(v, r, s):
    """Add (s = '+1') or remove (s = '-1') project row `r` and everything attached to it."""
    key = project_key(v, r)
    cents = v["cents"]
    return [
        upsert(
            "projects_projectrollup",
            f"{KEY}, projects, budget_cents, disbursed_cents, beneficiaries",
            ["projects", "budget_cents", "disbursed_cents", "beneficiaries"],
        ).format(
            select=(
                f"SELECT {key}, {s}, {s} * {cents.format(r + '.budget')},"
                f" {s} * COALESCE((SELECT SUM({cents.format('d.amount')}) FROM projects_disbursement d"
                f" WHERE d.project_id = {r}.id), 0), {s} * {r}.beneficiaries WHERE 1 = 1"
            ),
            conflict=KEY,
        ),
        upsert("projects_facilityrollup", f"{KEY}, facility_type_id, quantity", ["quantity"]).format(
            select=(
                f"SELECT {key}, o.facility_type_id, {s} * SUM(o.quantity) FROM projects_facilityoutput o"
                f" WHERE o.project_id = {r}.id GROUP BY o.facility_type_id"
            ),
            conflict=f"{KEY}, facility_type_id",
        ),
        upsert("projects_disbursementrollup", f"{KEY}, quarter, amount_cents", ["amount_cents"]).format(
            select=(
                f"SELECT {key}, {v['quarter'].format('d.date')}, {s} * SUM({cents.format('d.amount')})"
                f" FROM projects_disbursement d WHERE d.project_id = {r}.id"
                f" GROUP BY {v['quarter'].format('d.date')}"
            ),
            conflict=f"{KEY}, quarter",
        ),
        f"DELETE FROM projects_projectrollup WHERE {key_match(v, 'projects_projectrollup', r)}"
        " AND projects = 0 AND budget_cents = 0 AND disbursed_cents = 0 AND beneficiaries = 0",
        f"DELETE FROM projects_facilityrollup WHERE {key_match(v, 'projects_facilityrollup', r)} AND quantity = 0",
        f"DELETE FROM projects_disbursementrollup WHERE {key_match(v, 'projects_disbursementrollup', r)}"
        " AND amount_cents = 0",
    ]


def disbursement_statements(v, r, s):
    """Add or remove disbursement row `r` under its project's key (nothing if the project is gone)."""
    amount = f"{s} * {v['cents'].format(r + '.amount')}"
    quarter = v["quarter"].format(r + ".date")
    key = project_key(v, "p")
    return [
        upsert(
            "projects_projectrollup",
            f"{KEY}, projects, budget_cents, disbursed_cents, beneficiaries",
            ["disbursed_cents"],
        ).format(
            select=f"SELECT {key}, 0, 0, {amount}, 0 FROM projects_project p WHERE p.id = {r}.project_id",
            conflict=KEY,
        ),
        upsert("projects_disbursementrollup", f"{KEY}, quarter, amount_cents", ["amount_cents"]).format(
            select=f"SELECT {key}, {quarter}, {amount} FROM projects_project p WHERE p.id = {r}.project_id",
            conflict=f"{KEY}, quarter",
        ),
        "DELETE FROM projects_disbursementrollup WHERE amount_cents = 0 AND quarter = {q} AND EXISTS ("
        "SELECT 1 FROM projects_project p WHERE p.id = {r}.project_id AND {m})".format(
            q=quarter, r=r, m=key_match(v, "projects_disbursementrollup", "p")
        ),
    ]


def output_statements(v, r, s):
    """Add or remove facility output row `r` under its project's key (nothing if the project is gone)."""
    key = project_key(v, "p")
    return [
        upsert("projects_facilityrollup", f"{KEY}, facility_type_id, quantity", ["quantity"]).format(
            select=(
                f"SELECT {key}, {r}.facility_type_id, {s} * {r}.quantity FROM projects_project p"
                f" WHERE p.id = {r}.project_id"
            ),
            conflict=f"{KEY}, facility_type_id",
        ),
        "DELETE FROM projects_facilityrollup WHERE quantity = 0 AND facility_type_id = {r}.facility_type_id"
        " AND EXISTS (SELECT 1 FROM projects_project p WHERE p.id = {r}.project_id AND {m})".format(
            r=r, m=key_match(v, "projects_facilityrollup", "p")
        ),
    ]


# Per table: the statement builder and the columns whose change matters (an update touching none is skipped).
TABLES = {
    "projects_project": (
        project_statements,
        ["agreement_id", "category_id", "recipient_id", "status", "start_date", "budget", "beneficiaries"],
    ),
    "projects_disbursement": (disbursement_statements, ["project_id", "date", "amount"]),
    "projects_facilityoutput": (output_statements, ["project_id", "facility_type_id", "quantity"]),
}


def sqlite_sql(table, build, columns):
    v = VENDOR["sqlite"]
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)

    def body(*parts):
        return "\n".join(f"  {stmt};" for part in parts for stmt in part)

    name = f"{table}_rollup"
    return [
        f"CREATE TRIGGER {name}_ins AFTER INSERT ON {table} FOR EACH ROW BEGIN\n"
        f"{body(build(v, 'NEW', '1'))}\nEND",
        f"CREATE TRIGGER {name}_del AFTER DELETE ON {table} FOR EACH ROW BEGIN\n"
        f"{body(build(v, 'OLD', '-1'))}\nEND",
        f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {table} FOR EACH ROW WHEN {changed} BEGIN\n"
        f"{body(build(v, 'OLD', '-1'), build(v, 'NEW', '1'))}\nEND",
    ]


def postgresql_sql(table, build, columns):
    v = VENDOR["postgresql"]
    unchanged = " AND ".join(f"OLD.{c} IS NOT DISTINCT FROM NEW.{c}" for c in columns)

    def body(stmts):
        return "\n".join(f"    {stmt};" for stmt in stmts)

    name = f"{table}_rollup"
    return [
        f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND {unchanged} THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
{body(build(v, "OLD", "-1"))}
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
{body(build(v, "NEW", "1"))}
  END IF;
  RETURN NULL;
END
$$""",
        f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON {table}"
        f" FOR EACH ROW EXECUTE FUNCTION {name}()",
    ]


def rebuild_sql(vendor):
    """Recompute the three rollups from the base tables."""
    v = VENDOR[vendor]
    cents = v["cents"]
    key = project_key(v, "p")
    year = v["year"].format("p.start_date")
    group = f"p.agreement_id, p.category_id, p.recipient_id, p.status, {year}"
    quarter = v["quarter"].format("d.date")
    return [
        "DELETE FROM projects_projectrollup",
        "DELETE FROM projects_facilityrollup",
        "DELETE FROM projects_disbursementrollup",
        f"INSERT INTO projects_projectrollup ({KEY}, projects, budget_cents, disbursed_cents, beneficiaries)"
        f" SELECT {key}, COUNT(*), SUM({cents.format('p.budget')}), SUM(COALESCE(d.cents, 0)),"
        f" SUM(p.beneficiaries) FROM projects_project p LEFT JOIN (SELECT project_id,"
        f" SUM({cents.format('amount')}) AS cents FROM projects_disbursement GROUP BY project_id) d"
        f" ON d.project_id = p.id GROUP BY {group}",
        f"INSERT INTO projects_facilityrollup ({KEY}, facility_type_id, quantity)"
        f" SELECT {key}, o.facility_type_id, SUM(o.quantity) FROM projects_facilityoutput o"
        f" JOIN projects_project p ON p.id = o.project_id GROUP BY {group}, o.facility_type_id",
        f"INSERT INTO projects_disbursementrollup ({KEY}, quarter, amount_cents)"
        f" SELECT {key}, {quarter}, SUM({cents.format('d.amount')}) FROM projects_disbursement d"
        f" JOIN projects_project p ON p.id = d.project_id GROUP BY {group}, {quarter}",
    ]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in VENDOR:
        raise NotImplementedError(f"rollup triggers are written for SQLite and PostgreSQL, not {vendor}")
    make = sqlite_sql if vendor == "sqlite" else postgresql_sql
    for table, (build, columns) in TABLES.items():
        for sql in make(table, build, columns):
            schema_editor.execute(sql, params=None)
    for sql in rebuild_sql(vendor):
        schema_editor.execute(sql, params=None)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        name = f"{table}_rollup"
        if vendor == "sqlite":
            for suffix in ("ins", "del", "upd"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_{suffix}", params=None)
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}", params=None)
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()", params=None)


class Migration(migrations.Migration):
    dependencies = [("projects", "0004_rollups")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
