"""Report coverage on the dashboards (DESIGN section 7): per province, how many projects are due a report for
the reporting quarter and where their reports stand; and, on a province page, the projects needing
attention first. The due rule and the reporting quarter are projects.reporting's; this module only counts.
"""

import re

from django.db.models import (
    Count,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from agreements.access import profile_of, scope_queryset, sees_everything
from agreements.models import Agreement, Province
from aidtracker.replica import reads
from projects.models import (
    AgreementProjectRollup,
    AgreementReportRollup,
    ProgressReport,
    Project,
    ProjectRollup,
    ReportCoverageRollup,
)
from projects.reporting import MISSING, due_q, quarter_bounds, reporting_quarter
from projects.rollup_sql import OPEN_END
from projects.selectors import SummaryFilters, filter_projects, filter_rollups, rollup_model

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
    model = rollup_model(ProjectRollup, AgreementProjectRollup, filters)
    cells = (
        filter_rollups(model.objects.all(), filters)
        .filter(status=Project.Status.IN_PROGRESS)
        .order_by()
        .values_list("agreement_id")
        .annotate(n=Sum("projects"))
    )
    province_of = dict(Agreement.objects.order_by().values_list("pk", "province_id"))
    counts = {}
    for agreement_id, n in cells:
        counts[province_of[agreement_id]] = counts.get(province_of[agreement_id], 0) + (n or 0)
    return counts


def _counts_from_rollup(filters: SummaryFilters, year: int, quarter: int, in_progress=None) -> dict:
    """The same from the rollups, in three small reads.

    Due: every project in progress is due from its start quarter on, so those due are the projects in
    progress (`in_progress`, {province id: number}, from the summary's scan or read here) less those
    starting after the quarter, plus the completed ones whose end quarter it is — both read from the few
    ReportCoverageRollup project rows (quarter 0) with `due_from` at or after the quarter, by index.
    Reports: the rows of the quarter, from the coarse twin (per agreement, sub-category and status) unless a
    recipient or start year filter needs the fine rows. Those due without a report are missing."""
    index = year * 10 + quarter
    province_of = dict(Agreement.objects.order_by().values_list("pk", "province_id"))
    due = dict(_in_progress_from_rollup(filters) if in_progress is None else in_progress)
    windows = (
        filter_rollups(ReportCoverageRollup.objects.all(), filters)
        .filter(quarter=0, due_from__gte=index)
        .order_by()
        .values_list("agreement_id", "due_from", "due_to")
        .annotate(n=Sum("number"))
    )
    for agreement_id, due_from, due_to, n in windows:
        province_id = province_of[agreement_id]
        if due_to == OPEN_END and due_from > index:  # in progress, starting after the quarter: not yet due
            due[province_id] = due.get(province_id, 0) - n
        elif due_to != OPEN_END and due_from <= index <= due_to:  # completed in the quarter
            due[province_id] = due.get(province_id, 0) + n
    model = rollup_model(ReportCoverageRollup, AgreementReportRollup, filters)
    reports = (
        filter_rollups(model.objects.all(), filters)
        .filter(quarter=index)
        .order_by()
        .values_list("agreement_id", "state")
        .annotate(n=Sum("number"))
    )
    counts = {province_id: {"": n} for province_id, n in due.items() if n}
    for agreement_id, state, n in reports:
        if n:
            by_state = counts.setdefault(province_of[agreement_id], {})
            by_state[state] = by_state.get(state, 0) + n
    for by_state in counts.values():
        due_here = by_state.pop("", 0)
        missing = due_here - sum(by_state.values())
        if missing:
            by_state[MISSING] = missing
    return counts


@reads
def reporting(filters: SummaryFilters, *, from_base: bool = False, in_progress: dict | None = None) -> dict:
    """The `reporting` block: the reporting quarter (by `as_of`, or today) and, for every province in code
    order, the projects within the filters due a report for it, by reporting status. From the rollups
    (`as_of` only moves the quarter; `in_progress`: the summary's projects in progress per province for the
    same filters, `Summary.in_progress`, saving a read), or from the base tables with `from_base`."""
    year, quarter = reporting_quarter(as_of=filters.as_of)
    if from_base:
        counts = _counts_from_base(filters, year, quarter)
    else:
        counts = _counts_from_rollup(filters, year, quarter, in_progress)
    provinces = []
    for province in Province.objects.order_by("code"):
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


def attention_projects(
    filters: SummaryFilters, user, *, year: int, quarter: int, counts: dict | None = None
) -> list[Project]:
    """At most PROJECT_LIST_LIMIT projects in the filters (and the user's scope) due a report for the
    quarter, those needing attention first (then by code), each with `reporting_status` and
    `percent_complete` (of its latest approved report, None when none is approved).

    Read state by state in attention order until the list is full, skipping the states `counts` ({state:
    projects}, the coverage figures for the same filters) says are empty; usually one read fills it. Each
    read walks, per agreement, its projects in progress in code order by index (project_in_progress_code)
    and stops at the limit — never every due project of the province, as sorting by attention would — plus
    the few completed in the quarter (project_status_end_date). Then one read of the listed projects."""
    first, last = quarter_bounds(year, quarter)
    selected = scope_queryset(user, filter_projects(Project.objects.all(), filters))
    agreements = Agreement.objects.order_by("pk")
    if filters.province:
        agreements = agreements.filter(province=filters.province)
    agreement_ids = list(agreements.values_list("pk", flat=True))
    running = selected.filter(status=Project.Status.IN_PROGRESS).filter(
        Q(start_date__isnull=True) | Q(start_date__lte=last)
    )
    completed = selected.filter(status=Project.Status.COMPLETED, end_date__gte=first, end_date__lte=last)
    listed = []  # (pk, state), in attention order
    for state in ATTENTION:
        wanted = PROJECT_LIST_LIMIT - len(listed)
        if not wanted:
            break
        if counts is not None and not counts.get(str(state)):
            continue
        parts = [
            _due_in_state(part, state, year=year, quarter=quarter)
            .order_by("code")
            .values_list("pk", "code")[:wanted]
            for part in [*(running.filter(agreement_id=pk) for pk in agreement_ids), completed]
        ]
        found = parts[0].union(*parts[1:], all=True).order_by("code")[:wanted]
        listed += [(pk, state) for pk, _code in found]
    if not listed:
        return []
    latest_approved = (
        ProgressReport.objects.filter(project=OuterRef("pk"), status=Status.APPROVED)
        .order_by("-year", "-quarter")
        .values("percent_complete")[:1]
    )
    projects = {
        project.pk: project
        for project in Project.objects.filter(pk__in=[pk for pk, _state in listed])
        .annotate(percent_complete=Subquery(latest_approved))
        .only("pk", "code", "name", "status")
    }
    out = []
    for pk, state in listed:
        project = projects[pk]
        project.reporting_status = str(state)
        out.append(project)
    return out


@reads
def province_reporting(filters: SummaryFilters, user, block: dict) -> dict:
    """What a province page shows of the reporting cycle: its coverage row and, to users allowed to see
    them, the projects needing attention."""
    row = next(r for r in block["provinces"] if r["code"] == filters.province.code)
    listed = may_list_projects(user, filters.province)
    projects = (
        attention_projects(
            filters, user, year=block["year"], quarter=block["quarter"], counts={s: row[s] for s in KEYS[1:]}
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
