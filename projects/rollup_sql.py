"""The SQL that keeps the dashboard rollups exact: the triggers, and the rebuild from the base tables.

One module for the runtime (`projects.rollups`: rebuild and check) and for the tests that compare the
installed triggers with it. Migrations keep frozen copies of what they installed; when this SQL changes, a new
migration installs the new text (the test comparing the database with this module says when one is due).

Triggers rather than signals or service hooks: every way rows change — admin, spreadsheet import,
bulk_create, queryset update() and delete(), raw SQL — goes through them. Loads that bypass them (COPY with
triggers disabled, TRUNCATE) must be followed by `manage.py rebuild_rollups`.

- **SQLite** (one writer at a time): row triggers (projects.rollup_sql_sqlite). Each subtracts the old row's contribution and adds the new
  one with an upsert, then drops rollup rows that fell to zero.
- **PostgreSQL**: statement-level triggers over the transition tables (`REFERENCING NEW TABLE` / `OLD
  TABLE`), one grouped upsert per rollup per statement, rollup rows locked in key order.

Concurrency on PostgreSQL. A disbursement or output is summed under its project's key (agreement, category,
recipient, status, start year), which a concurrent project update may be moving. So the disbursement and
output triggers first lock their projects `FOR SHARE`, in id order: that waits for an uncommitted project
update and, under READ COMMITTED, the trigger's next statements see its committed key. (`FOR KEY SHARE`, the
foreign-key check's lock, would not wait: a status change is not a key update.) The other way round, a
project update waits on that share lock, so when the project trigger sums the project's disbursements and
outputs, every one whose trigger already ran under the old key is committed and visible to it. The project
trigger itself needs no extra lock: its UPDATE and DELETE hold the project rows, and a row it inserts is
visible to nobody else yet.

Progress reports follow the same rule: the report coverage rollup counts each report under its project's key
(only when the project is due a report for the report's quarter), so the report triggers lock their projects
FOR SHARE first, and the project triggers recount the project's reports under its old and new key and due
window (they watch `end_date` too, which only the coverage depends on).

Delete order does not matter: a disbursement, output or report whose project is already gone is a no-op (the
project's own trigger subtracted what was still attached to it).
"""

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

# Per base table: the columns whose change matters to the rollups (an update touching none is skipped).
TABLES = {
    "projects_project": [
        "agreement_id",
        "category_id",
        "recipient_id",
        "status",
        "start_date",
        "end_date",
        "budget",
        "beneficiaries",
    ],
    "projects_disbursement": ["project_id", "date", "amount"],
    "projects_facilityoutput": ["project_id", "facility_type_id", "quantity"],
    "projects_progressreport": ["project_id", "year", "quarter", "status"],
}

# Per rollup: its own key columns after the project key, its summed columns, and when a row is empty.
ROLLUPS = {
    "projects_projectrollup": ("", ["projects", "budget_cents", "disbursed_cents", "beneficiaries"]),
    "projects_facilityrollup": ("facility_type_id", ["quantity"]),
    "projects_disbursementrollup": ("quarter", ["amount_cents"]),
    "projects_reportcoveragerollup": ("due_from, due_to, quarter, state", ["number"]),
}
COVERAGE = "projects_reportcoveragerollup"

# The coarse twins (projects.models.CoarseKey, YearProjectRollup): per twin, the fine rollup it sums, its key,
# its extra key (as in ROLLUPS) and which fine rows it sums (a condition on fine row `{r}`). Triggers on the
# fine rollups carry every change of a fine row into its twins' rows, so a twin row is always the sum of its
# fine rows, whatever wrote them (the base tables' triggers, a rebuild).
COARSE_KEY = "agreement_id, category_id, status"
TWINS = {
    "projects_agreementprojectrollup": ("projects_projectrollup", COARSE_KEY, "", ""),
    "projects_agreementfacilityrollup": ("projects_facilityrollup", COARSE_KEY, "facility_type_id", ""),
    "projects_agreementdisbursementrollup": ("projects_disbursementrollup", COARSE_KEY, "quarter", ""),
    # the reports, not the due projects
    "projects_agreementreportrollup": (COVERAGE, COARSE_KEY, "quarter, state", "{r}.quarter <> 0"),
    "projects_yearprojectrollup": ("projects_projectrollup", "status, start_year", "", ""),
    "projects_agreementquarterrollup": ("projects_disbursementrollup", "agreement_id, status", "quarter", ""),
    "projects_agreementrecipientrollup": (
        "projects_projectrollup",
        "agreement_id, recipient_id, status",
        "",
        "",
    ),
}
ROLLUPS.update({twin: (extra, ROLLUPS[fine][1]) for twin, (fine, _key, extra, _if) in TWINS.items()})
WITH_TWINS = list(dict.fromkeys(fine for fine, _key, _extra, _if in TWINS.values()))  # the fine rollups


def _table_key(table):
    """The key columns every row of `table` is summed by (before its own extra key)."""
    return TWINS[table][1] if table in TWINS else KEY


def _columns(names: str) -> list[str]:
    return [name.strip() for name in names.split(",") if name.strip()]


def _twin_columns(twin):
    """(its key columns with the extra key, its summed columns, condition on fine row {r})."""
    fine, key, extra, condition = TWINS[twin]
    return _columns(f"{key}, {extra}"), ROLLUPS[fine][1], condition


def _twins_of(fine):
    return [twin for twin, (of, _key, _extra, _if) in TWINS.items() if of == fine]


COVERAGE_COLUMNS = f"{KEY}, due_from, due_to, quarter, state, number"
OPEN_END = 99999  # due_to of a project in progress: due every quarter from its start on


def _due(v, p):
    """(due_from, due_to, whether counted) of project row `p` for the report coverage (DESIGN section 7):
    a project in progress is due every quarter from its start quarter (0: no start date); a completed one,
    the quarter of its end date only; any other project never. Quarters as year * 10 + quarter."""
    start, end = v["quarter"].format(p + ".start_date"), v["quarter"].format(p + ".end_date")
    running = f"{p}.status = 'in_progress'"
    return (
        f"CASE WHEN {running} THEN COALESCE({start}, 0) ELSE {end} END",
        f"CASE WHEN {running} THEN {OPEN_END} ELSE {end} END",
        f"({running} OR ({p}.status = 'completed' AND {p}.end_date IS NOT NULL))",
    )


def _due_at(v, p, quarter):
    """Whether project row `p` is due a report for `quarter` (year * 10 + quarter): a report is counted only
    then, under the open window (0, OPEN_END), so report rows need no window of their own."""
    start, end = v["quarter"].format(p + ".start_date"), v["quarter"].format(p + ".end_date")
    return (
        f"(({p}.status = 'in_progress' AND COALESCE({start}, 0) <= {quarter})"
        f" OR ({p}.status = 'completed' AND {end} = {quarter}))"
    )


def _report_quarter(r):
    return f"({r}.year * 10 + {r}.quarter)"


def _project_key(v, p):
    """The rollup key columns of project row `p` (NEW, OLD or a table alias)."""
    return f"{p}.agreement_id, {p}.category_id, {p}.recipient_id, {p}.status, {v['year'].format(p + '.start_date')}"


# --- PostgreSQL: statement triggers ----------------------------------------------------------------------

_PG = VENDOR["postgresql"]
_YEAR, _QUARTER, _CENTS = _PG["year"], _PG["quarter"], _PG["cents"]


def _changed_rows(event, columns):
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


def _upsert(table, extra_key, sums, source):
    """One grouped upsert of `source` (key columns, extra key columns, summed columns) into `table`.

    Groups whose sums are all zero change nothing and are skipped; rows are locked in key order."""
    keys = f"{_table_key(table)}{', ' + extra_key if extra_key else ''}"
    names = [name for name, _expr in sums]
    sets = ", ".join(f"{n} = {table}.{n} + excluded.{n}" for n in names)
    nonzero = " OR ".join(f"SUM({expr}) <> 0" for _name, expr in sums)
    summed = ", ".join(f"SUM({expr})" for _name, expr in sums)
    return (
        f"INSERT INTO {table} ({keys}, {', '.join(names)})"
        f" SELECT {keys}, {summed} FROM ({source}) x GROUP BY {keys} HAVING {nonzero} ORDER BY {keys}"
        f" ON CONFLICT ({keys}) DO UPDATE SET {sets}"
    )


def _upsert_dropping_zeros(table, extra_key, sums, source):
    """The grouped upsert, then the delete of the rows it left at zero, found by id from what it returned.

    (Not a second pass over `source` joined to the table on its key: that evaluated the source twice, and a
    planner without statistics for the table — a rollup that just grew, before any ANALYZE — could join
    through a barely selective index, which made a large import quadratic.)"""
    empty = " AND ".join(f"{column} = 0" for column in ROLLUPS[table][1])
    return [
        f"WITH up AS ({_upsert(table, extra_key, sums, source)} RETURNING id, {empty} AS empty)"
        " SELECT array_agg(id) INTO zero FROM up WHERE empty",
        f"IF zero IS NOT NULL THEN\n    DELETE FROM {table} WHERE id = ANY (zero);\n  END IF",
    ]


def _set_key(p):
    return (
        f"{p}.agreement_id, {p}.category_id, {p}.recipient_id, {p}.status,"
        f" {_YEAR.format(p + '.start_date')} AS start_year"
    )


def _lock_projects(rows):
    """Wait for concurrent updates of the statement's projects and read their committed keys afterwards."""
    return (
        f"PERFORM 1 FROM projects_project p WHERE p.id IN (SELECT r.project_id FROM ({rows}) r)"
        " ORDER BY p.id FOR SHARE"
    )


def _set_project(rows):
    key = _set_key("r")
    due_from, due_to, counted = _due(_PG, "r")
    due_from, due_to = f"{due_from} AS due_from", f"{due_to} AS due_to"
    projects = (
        f"SELECT {key}, r.s, r.s * {_CENTS.format('r.budget')} AS budget_cents, r.s * r.beneficiaries AS beneficiaries,"
        f" r.s * COALESCE((SELECT SUM({_CENTS.format('d.amount')}) FROM projects_disbursement d"
        f" WHERE d.project_id = r.id), 0) AS disbursed_cents FROM ({rows}) r"
        # A fence: the grouped upsert sums disbursed_cents and tests the sum, and without it the planner
        # inlines this query and looks the disbursements up twice per project.
        " OFFSET 0"
    )
    outputs = (
        f"SELECT {key}, o.facility_type_id, r.s * o.quantity AS quantity FROM ({rows}) r"
        f" JOIN projects_facilityoutput o ON o.project_id = r.id"
    )
    payments = (
        f"SELECT {key}, {_QUARTER.format('d.date')} AS quarter, r.s * {_CENTS.format('d.amount')} AS amount_cents"
        f" FROM ({rows}) r JOIN projects_disbursement d ON d.project_id = r.id"
    )
    return [
        *_upsert_dropping_zeros(
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
        *_upsert_dropping_zeros(
            "projects_facilityrollup", "facility_type_id", [("quantity", "quantity")], outputs
        ),
        *_upsert_dropping_zeros(
            "projects_disbursementrollup", "quarter", [("amount_cents", "amount_cents")], payments
        ),
        *_coverage(
            f"SELECT {key}, {due_from}, {due_to}, 0 AS quarter, '' AS state, r.s AS number"
            f" FROM ({rows}) r WHERE {counted}"
            f" UNION ALL SELECT {key}, 0 AS due_from, {OPEN_END} AS due_to, {_report_quarter('pr')} AS quarter,"
            f" pr.status AS state, r.s AS number FROM ({rows}) r"
            f" JOIN projects_progressreport pr ON pr.project_id = r.id"
            f" WHERE {_due_at(_PG, 'r', _report_quarter('pr'))}"
        ),
    ]


def _coverage(source):
    return [
        *_upsert_dropping_zeros(COVERAGE, "due_from, due_to, quarter, state", [("number", "number")], source),
    ]


def _set_report(rows):
    """Under the project's key and due window; a report whose project is gone changes nothing."""
    return [
        _lock_projects(rows),
        *_coverage(
            f"SELECT {_set_key('p')}, 0 AS due_from, {OPEN_END} AS due_to,"
            f" {_report_quarter('r')} AS quarter, r.status AS state, r.s AS number"
            f" FROM ({rows}) r JOIN projects_project p ON p.id = r.project_id"
            f" WHERE {_due_at(_PG, 'p', _report_quarter('r'))}"
        ),
    ]


def _set_disbursement(rows):
    """Under the project's key; a disbursement whose project is gone changes nothing."""
    payments = (
        f"SELECT {_set_key('p')}, {_QUARTER.format('r.date')} AS quarter,"
        f" r.s * {_CENTS.format('r.amount')} AS amount_cents"
        f" FROM ({rows}) r JOIN projects_project p ON p.id = r.project_id"
    )
    return [
        _lock_projects(rows),
        _upsert(
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
        *_upsert_dropping_zeros(
            "projects_disbursementrollup", "quarter", [("amount_cents", "amount_cents")], payments
        ),
    ]


def _set_output(rows):
    outputs = (
        f"SELECT {_set_key('p')}, r.facility_type_id, r.s * r.quantity AS quantity"
        f" FROM ({rows}) r JOIN projects_project p ON p.id = r.project_id"
    )
    return [
        _lock_projects(rows),
        *_upsert_dropping_zeros(
            "projects_facilityrollup", "facility_type_id", [("quantity", "quantity")], outputs
        ),
    ]


_SET_BUILDERS = {
    "projects_project": _set_project,
    "projects_disbursement": _set_disbursement,
    "projects_facilityoutput": _set_output,
    "projects_progressreport": _set_report,
}


def _signed_rows(event):
    """The fine rollup rows of the statement with their sign: an update is its old rows taken away and its
    new rows added (unchanged rows cancel out in the grouped sums; no row-by-row comparison of the two
    transition tables, which have no index)."""
    if event == "INSERT":
        return "SELECT r.*, 1 AS s FROM new_rows r"
    if event == "DELETE":
        return "SELECT r.*, -1 AS s FROM old_rows r"
    return "SELECT r.*, -1 AS s FROM old_rows r UNION ALL SELECT r.*, 1 AS s FROM new_rows r"


def _set_twin(twin, rows):
    """Carry the fine rollup rows changed by the statement (`rows`, signed) into `twin`: one grouped upsert.
    A twin row that falls to zero is kept (it reads as no row; deleting it would cost a statement on every
    write), as the fine rollups' zero rows are not."""
    keys, summed, condition = _twin_columns(twin)
    source = (
        f"SELECT {', '.join(f'r.{c}' for c in keys)}, {', '.join(f'r.s * r.{c} AS {c}' for c in summed)}"
        f" FROM ({rows}) r{' WHERE ' + condition.format(r='r') if condition else ''}"
    )
    return [_upsert(twin, TWINS[twin][2], [(c, c) for c in summed], source)]


EVENTS = {
    "INSERT": ("ins", "REFERENCING NEW TABLE AS new_rows"),
    "UPDATE": ("upd", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    "DELETE": ("del", "REFERENCING OLD TABLE AS old_rows"),
}


def postgresql_functions() -> dict[str, str]:
    """{trigger function name: its PL/pgSQL body}, the text pg_proc.prosrc holds once installed."""
    out = {}
    for table, columns in TABLES.items():
        for event, (suffix, _referencing) in EVENTS.items():
            stmts = _SET_BUILDERS[table](_changed_rows(event, columns))
            body = "\n".join(f"  {stmt};" for stmt in stmts)
            out[f"{table}_rollup_{suffix}"] = (
                f"\nDECLARE\n  zero bigint[];\nBEGIN\n{body}\n  RETURN NULL;\nEND\n"
            )
    for fine in WITH_TWINS:
        twins = _twins_of(fine)
        for event, (suffix, _referencing) in EVENTS.items():
            stmts = [stmt for twin in twins for stmt in _set_twin(twin, _signed_rows(event))]
            body = "\n".join(f"  {stmt};" for stmt in stmts)
            # An upsert fires the insert and the update statement triggers whatever it touched, and the base
            # triggers' zero-row deletes fire the delete one: most calls have nothing to carry.
            touched = "old_rows" if event == "DELETE" else "new_rows"
            empty = f"  IF NOT EXISTS (SELECT 1 FROM {touched}) THEN\n    RETURN NULL;\n  END IF;\n"
            out[f"{fine}_rollup_{suffix}"] = f"\nBEGIN\n{empty}{body}\n  RETURN NULL;\nEND\n"
    return out


def _triggered_tables():
    """Every table with rollup triggers: the base tables, then the fine rollups that keep a coarse twin."""
    return [*TABLES, *WITH_TWINS]


def postgresql_install() -> list[str]:
    """Statements that (re)create every trigger function and trigger on PostgreSQL."""
    bodies = postgresql_functions()
    out = []
    for table in _triggered_tables():
        for event, (suffix, referencing) in EVENTS.items():
            name = f"{table}_rollup_{suffix}"
            out += [
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $${bodies[name]}$$",
                f"DROP TRIGGER IF EXISTS {name} ON {table}",
                f"CREATE TRIGGER {name} AFTER {event} ON {table} {referencing}"
                f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
            ]
    return out


# --- the rebuild -----------------------------------------------------------------------------------------


def rebuild_selects(vendor) -> dict[str, tuple[str, str]]:
    """{rollup table: (its columns, the SELECT computing its rows from the base tables)}."""
    v = VENDOR[vendor]
    cents = v["cents"]
    key = _project_key(v, "p")
    year = v["year"].format("p.start_date")
    group = f"p.agreement_id, p.category_id, p.recipient_id, p.status, {year}"
    quarter = v["quarter"].format("d.date")
    due_from, due_to, counted = _due(v, "p")
    report = _report_quarter("pr")
    out = {
        "projects_projectrollup": (
            f"{KEY}, projects, budget_cents, disbursed_cents, beneficiaries",
            f"SELECT {key}, COUNT(*), SUM({cents.format('p.budget')}), SUM(COALESCE(d.cents, 0)),"
            f" SUM(p.beneficiaries) FROM projects_project p LEFT JOIN (SELECT project_id,"
            f" SUM({cents.format('amount')}) AS cents FROM projects_disbursement GROUP BY project_id) d"
            f" ON d.project_id = p.id GROUP BY {group}",
        ),
        "projects_facilityrollup": (
            f"{KEY}, facility_type_id, quantity",
            f"SELECT {key}, o.facility_type_id, SUM(o.quantity) FROM projects_facilityoutput o"
            f" JOIN projects_project p ON p.id = o.project_id GROUP BY {group}, o.facility_type_id",
        ),
        "projects_disbursementrollup": (
            f"{KEY}, quarter, amount_cents",
            f"SELECT {key}, {quarter}, SUM({cents.format('d.amount')}) FROM projects_disbursement d"
            f" JOIN projects_project p ON p.id = d.project_id GROUP BY {group}, {quarter}",
        ),
        COVERAGE: (
            COVERAGE_COLUMNS,
            f"SELECT {key}, {due_from}, {due_to}, 0, '', COUNT(*) FROM projects_project p WHERE {counted}"
            f" GROUP BY {group}, {due_from}, {due_to}"
            f" UNION ALL SELECT {key}, 0, {OPEN_END}, {report}, pr.status, COUNT(*)"
            f" FROM projects_progressreport pr JOIN projects_project p ON p.id = pr.project_id"
            f" WHERE {_due_at(v, 'p', report)} GROUP BY {group}, {report}, pr.status",
        ),
    }
    for twin, (fine, _key, _extra, condition) in TWINS.items():
        keys, summed, _if = _twin_columns(twin)
        names = ", ".join(keys)
        columns, select = out[fine]
        where = f" WHERE {condition.format(r='f')}" if condition else ""
        out[twin] = (
            f"{names}, {', '.join(summed)}",
            f"WITH f ({columns}) AS ({select}) SELECT {names}, {', '.join(f'SUM({c})' for c in summed)}"
            f" FROM f{where} GROUP BY {names}",
        )
    return out


def rebuild_sql(vendor) -> list[str]:
    """Recompute every rollup from the base tables. The twins are emptied after the fine rollups (whose
    delete triggers subtract from them) and filled by the fine rollups' insert triggers."""
    selects = rebuild_selects(vendor)
    return [f"DELETE FROM {table}" for table in selects] + [
        f"INSERT INTO {table} ({columns}) {select}"
        for table, (columns, select) in selects.items()
        if table not in TWINS
    ]
