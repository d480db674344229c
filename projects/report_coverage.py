"""Report coverage on the dashboards (DESIGN section 7): per province, how many projects are due a report for
the reporting quarter and where their reports stand; and, on a province page, the projects needing
attention first. The due rule and the reporting quarter are projects.reporting's; this module only counts.
"""

import re
from dataclasses import replace

from django.db import connections
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from agreements.access import Scope, profile_of, sees_everything
from agreements.models import Province
from aidtracker import prepared
from aidtracker.compiled import compiled
from aidtracker.replica import reads
from projects.models import (
    ProgressReport,
    Project,
    ProjectRollup,
    ReportCoverageRollup,
)
from projects.narrowing import (
    SummaryFilters,
    filter_projects,
    filter_rollups,
    province_of_agreements,
    provinces_in_order,
    rollup_model,
)
from projects.reporting import MISSING, due_q, quarter_bounds, reporting_quarter
from projects.rollup_sql import OPEN_END

Status = ProgressReport.Status
STATES = (Status.APPROVED, Status.SUBMITTED, Status.RETURNED, Status.DRAFT, MISSING)
KEYS = ("due", "approved", "submitted", "returned", "draft", "missing")
# Those needing attention first: nothing written, sent back, still a draft; then waiting for review; done.
ATTENTION = (MISSING, Status.RETURNED, Status.DRAFT, Status.SUBMITTED, Status.APPROVED)
PROJECT_LIST_LIMIT = 50
QUARTER_PARAMETER = re.compile(r"^(\d{4})Q([1-4])$")


def quarter_parameter(year: int, quarter: int) -> str:
    """The changelist's `due` value for a quarter, e.g. 2026Q3."""
    return f"{year}Q{quarter}"


def parse_quarter_parameter(value: str) -> tuple[int, int] | None:
    """(year, quarter) from a `due` value such as 2026Q3, or None when malformed."""
    match = QUARTER_PARAMETER.match(value or "")
    return (int(match[1]), int(match[2])) if match else None


def due_with_status(queryset, *, year: int, quarter: int):
    """Projects of `queryset` due a report for the quarter, annotated with `reporting_status` through one
    LEFT JOIN on the report of that quarter (the unique (project, year, quarter) index), so a grouped count
    is one query whatever the number of projects."""
    return (
        queryset.filter(due_q(year=year, quarter=quarter))
        .annotate(
            quarter_report=FilteredRelation(
                "reports", condition=Q(reports__year=year, reports__quarter=quarter)
            )
        )
        .annotate(reporting_status=Coalesce(F("quarter_report__status"), Value(MISSING)))
    )


def filter_reporting(queryset, *, year: int, quarter: int, state: str | None):
    """The changelist's rule for `?due=<quarter>[&reporting=<state>]`: projects due a report for the
    quarter, and with that reporting status (a report state, or "missing") when given."""
    queryset = due_with_status(queryset, year=year, quarter=quarter)
    if state:
        queryset = queryset.filter(reporting_status=state)
    return queryset


def _counts_from_base(filters: SummaryFilters, year: int, quarter: int) -> dict:
    """{province id: {reporting status: projects}} from the projects joined to the quarter's reports."""
    cells = (
        due_with_status(filter_projects(Project.objects.all(), filters), year=year, quarter=quarter)
        .order_by()
        .values_list("agreement__province_id", "reporting_status")
        .annotate(n=Count("id"))
    )
    counts = {}
    for province_id, state, n in cells:
        counts.setdefault(province_id, {})[state] = n
    return counts


def _in_progress_from_rollup(filters: SummaryFilters) -> dict:
    """{province id: selected projects in progress}, when the summary's scan is not at hand."""
    model = rollup_model(ProjectRollup, filters, ("agreement",))
    cells = (
        filter_rollups(model.objects.all(), filters)
        .filter(status=Project.Status.IN_PROGRESS)
        .order_by()
        .values_list("agreement_id")
        .annotate(n=Sum("projects"))
    )
    province_of = province_of_agreements()
    counts = {}
    for agreement_id, n in cells:
        if agreement_id in province_of:
            counts[province_of[agreement_id]] = counts.get(province_of[agreement_id], 0) + (n or 0)
    return counts


def _counts_from_rollup(
    filters: SummaryFilters, year: int, quarter: int, in_progress=None, province_of=None
) -> dict:
    """The same from the rollups, in three small reads.

    Due: every project in progress is due from its start quarter on, so those due are the projects in
    progress (`in_progress`, {province id: number}, from the summary's scan or read here) less those
    starting after the quarter, plus the completed ones whose end quarter it is — both read from the few
    ReportCoverageRollup project rows (quarter 0) with `due_from` at or after the quarter, by index.
    Reports: the rows of the quarter, from the coarse twin (per agreement, sub-category and status) unless a
    recipient or start year filter needs the fine rows. Those due without a report are missing."""
    index = year * 10 + quarter
    if province_of is None:
        province_of = province_of_agreements()
    due = dict(_in_progress_from_rollup(filters) if in_progress is None else in_progress)
    windows = (
        filter_rollups(ReportCoverageRollup.objects.all(), filters)
        .filter(quarter=0, due_from__gte=index)
        .order_by()
        .values_list("agreement_id", "due_from", "due_to")
        .annotate(n=Sum("number"))
    )
    for agreement_id, due_from, due_to, n in windows:
        province_id = province_of.get(agreement_id)
        if province_id is None:  # a rollup row of an agreement deleted meanwhile
            continue
        if due_to == OPEN_END and due_from > index:  # in progress, starting after the quarter: not yet due
            due[province_id] = due.get(province_id, 0) - n
        elif due_to != OPEN_END and due_from <= index <= due_to:  # completed in the quarter
            due[province_id] = due.get(province_id, 0) + n
    model = rollup_model(ReportCoverageRollup, filters, ("agreement",))
    reports = (
        filter_rollups(model.objects.all(), filters)
        .filter(quarter=index)
        .order_by()
        .values_list("agreement_id", "state")
        .annotate(n=Sum("number"))
    )
    counts = {province_id: {"": n} for province_id, n in due.items() if n}
    for agreement_id, state, n in reports:
        if n and agreement_id in province_of:
            by_state = counts.setdefault(province_of[agreement_id], {})
            by_state[state] = by_state.get(state, 0) + n
    for by_state in counts.values():
        due_here = by_state.pop("", 0)
        missing = due_here - sum(by_state.values())
        if missing:
            by_state[MISSING] = missing
    return counts


@reads
def reporting(
    filters: SummaryFilters,
    *,
    from_base: bool = False,
    in_progress: dict | None = None,
    province_of: dict | None = None,
) -> dict:
    """The `reporting` block: the reporting quarter (by `as_of`, or today) and, for every province in code
    order, the projects within the filters due a report for it, by reporting status. From the rollups
    (`as_of` only moves the quarter; `in_progress`: the summary's projects in progress per province for the
    same filters, `Summary.in_progress`, and `province_of`, {agreement id: province id}, saving two reads),
    or from the base tables with `from_base`."""
    year, quarter = reporting_quarter(as_of=filters.as_of)
    if from_base:
        counts = _counts_from_base(filters, year, quarter)
    else:
        counts = _counts_from_rollup(filters, year, quarter, in_progress, province_of)
    provinces = []
    for province in provinces_in_order():
        by_state = counts.get(province.pk, {})
        row = {"code": province.code, "name": province.name, "due": sum(by_state.values())}
        row.update({str(state): by_state.get(state, 0) for state in STATES})
        provinces.append(row)
    return {"year": year, "quarter": quarter, "due": quarter_parameter(year, quarter), "provinces": provinces}


def reporting_json(block: dict) -> dict:
    """The block in the JSON contract's shape (no extra keys)."""
    return {
        "year": block["year"],
        "quarter": block["quarter"],
        "provinces": [{key: row[key] for key in ("code", "name", *KEYS)} for row in block["provinces"]],
    }


def may_list_projects(user, province: Province) -> bool:
    """Whether a province page lists projects to `user`: not to another province's staff (they get the
    aggregates only). Others see the list through their scope (recipient staff: their subtree)."""
    if sees_everything(user):
        return True
    profile = profile_of(user)
    if profile is None:
        return False
    if profile.province_id:
        return profile.province_id == province.pk
    return bool(profile.recipient_id)


def _due_in_state(queryset, state: str, *, year: int, quarter: int):
    """Projects of `queryset` whose reporting status for the quarter is `state` (a report state or missing),
    by one index probe each on the unique (project, year, quarter) report index."""
    reports = ProgressReport.objects.filter(project=OuterRef("pk"), year=year, quarter=quarter)
    if state == MISSING:
        return queryset.filter(~Exists(reports))
    return queryset.filter(Exists(reports.filter(status=state)))


_AGREEMENT = -2_000_000_017  # stands for the agreement id in the compiled per-agreement query
_STATE = "\x00state"  # stands for a report state in the compiled queries


def _compiled_branches(running, completed, *, missing: bool, year: int, quarter: int, key: tuple) -> tuple:
    """The SQL and parameters of _state_branch's two sub-branches — one agreement's projects in progress, the
    completed ones — in the state `missing` or, with a stand-in for it, in a report state: the ORM's own SQL
    for the filters and the scope, compiled once per process for each of the two shapes and each `key`
    (everything else the SQL depends on: aidtracker.compiled), rather than once per state and agreement.
    `running` and `completed` are functions giving the querysets."""
    state = MISSING if missing else _STATE

    def branch(queryset):
        return (
            _due_in_state(queryset, state, year=year, quarter=quarter)
            .order_by("code")
            .values_list("pk", "code")[:PROJECT_LIST_LIMIT]
        )

    return (
        compiled(
            (*key, missing, "running"),
            lambda: branch(running().filter(agreement_id=RawSQL("%s", (_AGREEMENT,)))),
        ),
        compiled((*key, missing, "completed"), lambda: branch(completed())),
    )


def _state_branch(compiled, agreement_ids, state, rank) -> tuple[str, list]:
    """SQL (and parameters) for the first PROJECT_LIST_LIMIT projects in code order in `state` among the
    projects in progress and the completed, as (rank, id, code): one sub-branch per agreement walking its
    projects in progress in code order by index and stopping at the limit, and one for the completed;
    PostgreSQL merges the sorted sub-branches and stops when the limit is reached. `compiled`: the two
    sub-branches' SQL (_compiled_branches), their stand-ins replaced here by each agreement id and the state."""
    (sql, branch_params), (ended_sql, ended_params) = compiled

    def bound(params, agreement_id=None):
        return [agreement_id if v == _AGREEMENT else str(state) if v == _STATE else v for v in params]

    branches, params = [], []
    for agreement_id in agreement_ids:
        branches.append(f"({sql})")
        params += bound(branch_params, agreement_id)
    branches.append(f"({ended_sql})")
    params += bound(ended_params)
    merged = " UNION ALL ".join(branches)
    return (
        f"(SELECT {rank} AS attention, branch.* FROM ({merged}) branch ORDER BY 3 LIMIT {PROJECT_LIST_LIMIT})",
        params,
    )


def _attention_sorted(selected, *, year: int, quarter: int) -> list[Project]:
    """The same list by sorting every due project by attention (SQLite, where a development database is
    small; its compound selects take no ORDER BY or LIMIT per branch)."""
    latest_approved = (
        ProgressReport.objects.filter(project=OuterRef("pk"), status=Status.APPROVED)
        .order_by("-year", "-quarter")
        .values("percent_complete")[:1]
    )
    rank = Case(
        *(When(reporting_status=state, then=Value(i)) for i, state in enumerate(ATTENTION)),
        output_field=IntegerField(),
    )
    return list(
        due_with_status(selected, year=year, quarter=quarter)
        .annotate(attention=rank, percent_complete=Subquery(latest_approved))
        .only("pk", "code", "name", "status")
        .order_by("attention", "code")[:PROJECT_LIST_LIMIT]
    )


def attention_projects(
    filters: SummaryFilters,
    user,
    *,
    year: int,
    quarter: int,
    counts: dict | None = None,
    province_of: dict | None = None,
) -> list[Project]:
    """At most PROJECT_LIST_LIMIT projects in the filters (and the user's scope) due a report for the
    quarter, those needing attention first (then by code), each with `reporting_status` and
    `percent_complete` (of its latest approved report, None when none is approved). One statement whatever
    the data (and one for the agreements unless `province_of`, {agreement id: province id}, is given).

    That statement holds a branch per state in attention order (_state_branch), each walking, per agreement,
    the projects in progress in code order by index (project_in_progress_code) and stopping at the limit —
    never every due project of the province, as sorting by attention would — plus the few completed in the
    quarter (project_status_end_date). Without an ORDER BY above the branches PostgreSQL runs them one after
    the other and stops at the limit, so a state is read only if those before it leave room (the rows are
    put in order here all the same). `counts` ({state: projects}, the coverage figures for the same filters)
    leaves out the states that are empty (a branch for a state with no project would walk every project in
    progress to find none); and, when the user's scope holds every project of the filters (so the counts
    are what the list can hold), the states after those that fill it."""
    first, last = quarter_bounds(year, quarter)
    scope = Scope(user)
    if not (scope.everything or scope.province or scope.recipient):
        return []  # a user with no place sees no project
    selected = scope.narrow(filter_projects(Project.objects.all(), filters))
    if connections[selected.db].vendor != "postgresql":
        return _attention_sorted(selected, year=year, quarter=quarter)
    if province_of is None:
        province_of = province_of_agreements()
    agreement_ids = sorted(
        pk
        for pk, province_id in province_of.items()
        if not filters.province or province_id == filters.province.pk
    )

    def running():
        # Read per agreement, of the filtered province's agreements only: the branch needs no province
        # condition of its own (nor the join to agreements it takes).
        within_agreement = scope.narrow(
            filter_projects(Project.objects.all(), replace(filters, province=None))
        )
        return within_agreement.filter(status=Project.Status.IN_PROGRESS).filter(
            Q(start_date__isnull=True) | Q(start_date__lte=last)
        )

    def completed():
        return selected.filter(status=Project.Status.COMPLETED, end_date__gte=first, end_date__lte=last)

    key = (selected.db, "attention", filters.signature(), scope.signature(), year, quarter)
    exact = counts is not None and scope.covers(
        province=filters.province.code if filters.province else None,
        recipient=filters.recipient.code if filters.recipient else None,
    )
    nothing_due = counts is not None and not any(counts.get(str(state)) for state in ATTENTION)
    branches, params, held, shapes = [], [], 0, {}
    for rank, state in enumerate(ATTENTION):
        if exact and held >= PROJECT_LIST_LIMIT:
            break
        # With nothing due the missing branch still runs (it finds nothing, cheaply: no project in progress
        # has started), so the page asks the same queries whatever the data.
        if counts is None or counts.get(str(state)) or (nothing_due and state == MISSING):
            missing = state == MISSING
            if missing not in shapes:
                shapes[missing] = _compiled_branches(
                    running, completed, missing=missing, year=year, quarter=quarter, key=key
                )
            sql, branch_params = _state_branch(shapes[missing], agreement_ids, state, rank)
            branches.append(sql)
            params += branch_params
            held += counts.get(str(state), 0) if counts else 0
    latest_approved = (
        "SELECT r.percent_complete FROM projects_progressreport r WHERE r.project_id = p.id"
        f" AND r.status = '{Status.APPROVED}' ORDER BY r.year DESC, r.quarter DESC LIMIT 1"
    )
    # Planned once per connection (aidtracker.prepared): its planning, a branch per agreement and state, takes
    # PostgreSQL longer than its answer.
    found = prepared.fetchall(
        selected.db,
        f"SELECT found.attention, p.id, p.code, p.name, p.status, ({latest_approved})"
        f" FROM ({' UNION ALL '.join(branches)}) found JOIN projects_project p ON p.id = found.pk"
        f" LIMIT {PROJECT_LIST_LIMIT}",
        params,
    )
    rows = sorted(found, key=lambda row: (row[0], row[2]))
    out = []
    for rank, pk, code, name, status, percent in rows:
        project = Project(pk=pk, code=code, name=name, status=status)
        project.reporting_status, project.percent_complete = str(ATTENTION[rank]), percent
        out.append(project)
    return out


@reads
def province_reporting(filters: SummaryFilters, user, block: dict, province_of: dict | None = None) -> dict:
    """What a province page shows of the reporting cycle: its coverage row and, to users allowed to see
    them, the projects needing attention."""
    row = next(r for r in block["provinces"] if r["code"] == filters.province.code)
    listed = may_list_projects(user, filters.province)
    projects = (
        attention_projects(
            filters,
            user,
            year=block["year"],
            quarter=block["quarter"],
            counts={s: row[s] for s in KEYS[1:]},
            province_of=province_of,
        )
        if listed
        else []
    )
    return {
        "row": row,
        "rows": [row],
        "listed": listed,
        "projects": projects,
        "cut": len(projects) == PROJECT_LIST_LIMIT,
    }
