"""The rollup triggers on SQLite: row triggers, one statement per rollup and row (the PostgreSQL statement
triggers and the shared key rules: projects.rollup_sql). Runtime copy; migrations keep frozen ones."""

from projects.rollup_sql import (
    COVERAGE,
    COVERAGE_COLUMNS,
    KEY,
    OPEN_END,
    TABLES,
    VENDOR,
    WITH_TWINS,
    _due,
    _due_at,
    _project_key,
    _report_quarter,
    _twin_columns,
    _twins_of,
)

# --- SQLite: row triggers --------------------------------------------------------------------------------


def _key_match(v, table, p):
    return (
        f"{table}.agreement_id = {p}.agreement_id AND {table}.category_id = {p}.category_id"
        f" AND {table}.recipient_id = {p}.recipient_id AND {table}.status = {p}.status"
        f" AND {table}.start_year = {v['year'].format(p + '.start_date')}"
    )


def _row_upsert(table, columns, summed):
    sets = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in summed)
    return f"INSERT INTO {table} ({columns}) {{select}} ON CONFLICT ({{conflict}}) DO UPDATE SET {sets}"


def _row_project(v, r, s):
    """Add (s = '+1') or remove (s = '-1') project row `r` and everything attached to it."""
    key = _project_key(v, r)
    cents = v["cents"]
    return [
        _row_upsert(
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
        _row_upsert("projects_facilityrollup", f"{KEY}, facility_type_id, quantity", ["quantity"]).format(
            select=(
                f"SELECT {key}, o.facility_type_id, {s} * SUM(o.quantity) FROM projects_facilityoutput o"
                f" WHERE o.project_id = {r}.id GROUP BY o.facility_type_id"
            ),
            conflict=f"{KEY}, facility_type_id",
        ),
        _row_upsert("projects_disbursementrollup", f"{KEY}, quarter, amount_cents", ["amount_cents"]).format(
            select=(
                f"SELECT {key}, {v['quarter'].format('d.date')}, {s} * SUM({cents.format('d.amount')})"
                f" FROM projects_disbursement d WHERE d.project_id = {r}.id"
                f" GROUP BY {v['quarter'].format('d.date')}"
            ),
            conflict=f"{KEY}, quarter",
        ),
        f"DELETE FROM projects_projectrollup WHERE {_key_match(v, 'projects_projectrollup', r)}"
        " AND projects = 0 AND budget_cents = 0 AND disbursed_cents = 0 AND beneficiaries = 0",
        f"DELETE FROM projects_facilityrollup WHERE {_key_match(v, 'projects_facilityrollup', r)} AND quantity = 0",
        f"DELETE FROM projects_disbursementrollup WHERE {_key_match(v, 'projects_disbursementrollup', r)}"
        " AND amount_cents = 0",
        *_row_project_coverage(v, r, s),
    ]


def _row_project_coverage(v, r, s):
    """The project row and its reports in the report coverage rollup."""
    key = _project_key(v, r)
    due_from, due_to, counted = _due(v, r)
    quarter = _report_quarter("pr")
    upsert = _row_upsert(COVERAGE, COVERAGE_COLUMNS, ["number"])
    conflict = f"{KEY}, due_from, due_to, quarter, state"
    return [
        upsert.format(
            select=f"SELECT {key}, {due_from}, {due_to}, 0, '', {s} WHERE {counted}", conflict=conflict
        ),
        upsert.format(
            select=(
                f"SELECT {key}, 0, {OPEN_END}, {quarter}, pr.status, {s} * COUNT(*)"
                f" FROM projects_progressreport pr WHERE pr.project_id = {r}.id AND {_due_at(v, r, quarter)}"
                f" GROUP BY {quarter}, pr.status"
            ),
            conflict=conflict,
        ),
        f"DELETE FROM {COVERAGE} WHERE {_key_match(v, COVERAGE, r)} AND number = 0",
    ]


def _row_report(v, r, s):
    """Add or remove progress report row `r` under its project's key and due window (nothing if the project
    is gone or never due)."""
    quarter = _report_quarter(r)
    return [
        _row_upsert(COVERAGE, COVERAGE_COLUMNS, ["number"]).format(
            select=(
                f"SELECT {_project_key(v, 'p')}, 0, {OPEN_END}, {quarter}, {r}.status, {s}"
                f" FROM projects_project p WHERE p.id = {r}.project_id AND {_due_at(v, 'p', quarter)}"
            ),
            conflict=f"{KEY}, due_from, due_to, quarter, state",
        ),
        f"DELETE FROM {COVERAGE} WHERE number = 0 AND quarter = {quarter} AND state = {r}.status",
    ]


def _row_disbursement(v, r, s):
    """Add or remove disbursement row `r` under its project's key (nothing if the project is gone)."""
    amount = f"{s} * {v['cents'].format(r + '.amount')}"
    quarter = v["quarter"].format(r + ".date")
    key = _project_key(v, "p")
    return [
        _row_upsert(
            "projects_projectrollup",
            f"{KEY}, projects, budget_cents, disbursed_cents, beneficiaries",
            ["disbursed_cents"],
        ).format(
            select=f"SELECT {key}, 0, 0, {amount}, 0 FROM projects_project p WHERE p.id = {r}.project_id",
            conflict=KEY,
        ),
        _row_upsert("projects_disbursementrollup", f"{KEY}, quarter, amount_cents", ["amount_cents"]).format(
            select=f"SELECT {key}, {quarter}, {amount} FROM projects_project p WHERE p.id = {r}.project_id",
            conflict=f"{KEY}, quarter",
        ),
        "DELETE FROM projects_disbursementrollup WHERE amount_cents = 0 AND quarter = {q} AND EXISTS ("
        "SELECT 1 FROM projects_project p WHERE p.id = {r}.project_id AND {m})".format(
            q=quarter, r=r, m=_key_match(v, "projects_disbursementrollup", "p")
        ),
    ]


def _row_output(v, r, s):
    """Add or remove facility output row `r` under its project's key (nothing if the project is gone)."""
    key = _project_key(v, "p")
    return [
        _row_upsert("projects_facilityrollup", f"{KEY}, facility_type_id, quantity", ["quantity"]).format(
            select=(
                f"SELECT {key}, {r}.facility_type_id, {s} * {r}.quantity FROM projects_project p"
                f" WHERE p.id = {r}.project_id"
            ),
            conflict=f"{KEY}, facility_type_id",
        ),
        "DELETE FROM projects_facilityrollup WHERE quantity = 0 AND facility_type_id = {r}.facility_type_id"
        " AND EXISTS (SELECT 1 FROM projects_project p WHERE p.id = {r}.project_id AND {m})".format(
            r=r, m=_key_match(v, "projects_facilityrollup", "p")
        ),
    ]


_ROW_BUILDERS = {
    "projects_project": _row_project,
    "projects_disbursement": _row_disbursement,
    "projects_facilityoutput": _row_output,
    "projects_progressreport": _row_report,
}


def _row_twin(twin, r, sign):
    """Add (sign "") or remove (sign "-") fine rollup row `r` to or from its row in `twin`."""
    keys, summed, condition = _twin_columns(twin)
    names = ", ".join(keys)
    sets = ", ".join(f"{c} = {twin}.{c} + excluded.{c}" for c in summed)
    return (
        f"INSERT INTO {twin} ({names}, {', '.join(summed)})"
        f" SELECT {', '.join(f'{r}.{c}' for c in keys)}, {', '.join(f'{sign}{r}.{c}' for c in summed)}"
        f" WHERE {condition.format(r=r) if condition else '1 = 1'} ON CONFLICT ({names}) DO UPDATE SET {sets}"
    )


def _row_twin_drop(twin, r):
    keys, summed, _condition = _twin_columns(twin)
    match = " AND ".join(f"{twin}.{c} = {r}.{c}" for c in keys)
    return f"DELETE FROM {twin} WHERE {match} AND {' AND '.join(f'{c} = 0' for c in summed)}"


def sqlite_twin_triggers() -> dict[str, str]:
    """{trigger name: CREATE TRIGGER} on each fine rollup, keeping its twins."""
    out = {}
    for fine in WITH_TWINS:
        twins = _twins_of(fine)
        name = f"{fine}_rollup"
        parts = {
            "ins": ("INSERT", [_row_twin(t, "NEW", "") for t in twins]),
            "del": (
                "DELETE",
                [s for t in twins for s in (_row_twin(t, "OLD", "-"), _row_twin_drop(t, "OLD"))],
            ),
            "upd": (
                "UPDATE",
                [
                    s
                    for t in twins
                    for s in (_row_twin(t, "OLD", "-"), _row_twin(t, "NEW", ""), _row_twin_drop(t, "OLD"))
                ],
            ),
        }
        for suffix, (event, stmts) in parts.items():
            body = "\n".join(f"  {stmt};" for stmt in stmts)
            out[f"{name}_{suffix}"] = (
                f"CREATE TRIGGER {name}_{suffix} AFTER {event} ON {fine} FOR EACH ROW BEGIN\n{body}\nEND"
            )
    return out


def sqlite_triggers() -> dict[str, str]:
    """{trigger name: CREATE TRIGGER statement} for SQLite, as sqlite_master keeps them."""
    v = VENDOR["sqlite"]
    out = {}
    for table, columns in TABLES.items():
        build = _ROW_BUILDERS[table]
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)

        def body(*parts):
            return "\n".join(f"  {stmt};" for part in parts for stmt in part)

        name = f"{table}_rollup"
        out[f"{name}_ins"] = (
            f"CREATE TRIGGER {name}_ins AFTER INSERT ON {table} FOR EACH ROW BEGIN\n"
            f"{body(build(v, 'NEW', '1'))}\nEND"
        )
        out[f"{name}_del"] = (
            f"CREATE TRIGGER {name}_del AFTER DELETE ON {table} FOR EACH ROW BEGIN\n"
            f"{body(build(v, 'OLD', '-1'))}\nEND"
        )
        out[f"{name}_upd"] = (
            f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {table} FOR EACH ROW WHEN {changed} BEGIN\n"
            f"{body(build(v, 'OLD', '-1'), build(v, 'NEW', '1'))}\nEND"
        )
    out.update(sqlite_twin_triggers())
    return out
