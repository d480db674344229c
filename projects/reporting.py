"""Reads of the reporting cycle (DESIGN section 7): the reporting quarter, which projects are due a report
for a quarter, and each project's reporting status. The dashboards, the admin's task list and the reminders
all take these rules from here.
"""

import datetime
from zoneinfo import ZoneInfo

from django.db.models import CharField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from agreements.access import scope_queryset, sees_everything
from projects.models import ClosedPeriod, ProgressReport, Project

PROGRAMME_TIMEZONE = ZoneInfo("Asia/Shanghai")
MISSING = "missing"


def today() -> datetime.date:
    """Today's date where the programme works (Asia/Shanghai), whatever the server's time zone."""
    return timezone.now().astimezone(PROGRAMME_TIMEZONE).date()


def quarter_of(day: datetime.date) -> tuple[int, int]:
    """The (year, quarter) a date falls in."""
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[datetime.date, datetime.date]:
    """The first and the last day of a quarter."""
    first = datetime.date(year, 3 * quarter - 2, 1)
    if quarter == 4:
        return first, datetime.date(year, 12, 31)
    return first, datetime.date(year, 3 * quarter + 1, 1) - datetime.timedelta(days=1)


def reporting_quarter(*, as_of: datetime.date | None = None) -> tuple[int, int]:
    """The last calendar quarter whose last day is on or before `as_of` (default: today in Asia/Shanghai),
    closed or not."""
    day = as_of or today()
    year, quarter = quarter_of(day)
    if day == quarter_bounds(year, quarter)[1]:
        return year, quarter
    return (year, quarter - 1) if quarter > 1 else (year - 1, 4)


def due_q(*, year: int, quarter: int, prefix: str = "") -> Q:
    """The condition for a project to be due a report for the quarter, for a queryset of projects
    (`prefix` = "" ) or of rows reaching a project (e.g. prefix="project__").

    In progress and started by the quarter's last day (or no start date), or completed with an end date in
    the quarter; a planned end date in the past does not end the duty of a project still in progress.
    """
    first, last = quarter_bounds(year, quarter)
    p = prefix
    return Q(**{f"{p}status": Project.Status.IN_PROGRESS}) & (
        Q(**{f"{p}start_date__isnull": True}) | Q(**{f"{p}start_date__lte": last})
    ) | Q(**{f"{p}status": Project.Status.COMPLETED, f"{p}end_date__gte": first, f"{p}end_date__lte": last})


def with_reporting_status(queryset: QuerySet, *, year: int, quarter: int) -> QuerySet:
    """Annotate projects with `reporting_status` for the quarter: their report's status, or "missing"."""
    reports = ProgressReport.objects.filter(project=OuterRef("pk"), year=year, quarter=quarter)
    status = reports.order_by().values("status")[:1]
    return queryset.annotate(
        reporting_status=Coalesce(Subquery(status), Value(MISSING), output_field=CharField())
    )


def projects_due(queryset: QuerySet | None = None, *, year: int, quarter: int) -> QuerySet:
    """Projects (of `queryset`, default all) due a report for the quarter, with their `reporting_status`."""
    queryset = Project.objects.all() if queryset is None else queryset
    return with_reporting_status(
        queryset.filter(due_q(year=year, quarter=quarter)), year=year, quarter=quarter
    )


def is_closed(*, year: int, quarter: int) -> bool:
    """Whether the national office has closed the quarter (and not reopened it)."""
    return ClosedPeriod.objects.filter(year=year, quarter=quarter, reopened_at__isnull=True).exists()


def closed_quarters() -> set[tuple[int, int]]:
    """Every quarter closed now, as (year, quarter) pairs."""
    return set(ClosedPeriod.objects.filter(reopened_at__isnull=True).values_list("year", "quarter"))


TASK_LIMIT = 50


def tasks_for(user, *, as_of: datetime.date | None = None) -> dict:
    """What waits for `user` on the admin index.

    An author sees the returned reports and the reports missing or still in draft for the reporting quarter
    on the projects they are responsible for (their province's, or their unit subtree's; the national office,
    responsible for none in particular, sees the reports it wrote). A reviewer sees how many reports wait
    for review. Lists are cut at TASK_LIMIT rows; the counts are whole.
    """
    year, quarter = reporting_quarter(as_of=as_of)
    tasks = {"year": year, "quarter": quarter, "author": False, "reviewer": False}
    if user.is_active and user.has_perm("projects.add_progressreport"):
        reports = scope_queryset(user, ProgressReport.objects.all())
        projects = scope_queryset(user, Project.objects.all())
        if sees_everything(user):
            reports = reports.filter(author=user)
            projects = projects.filter(reports__author=user, reports__year=year, reports__quarter=quarter)
        returned = reports.filter(status=ProgressReport.Status.RETURNED).select_related("project")
        due = projects_due(projects, year=year, quarter=quarter).filter(
            reporting_status__in=[MISSING, ProgressReport.Status.DRAFT]
        )
        drafts = {
            r.project_id: r.pk
            for r in reports.filter(year=year, quarter=quarter, status=ProgressReport.Status.DRAFT)
        }
        due_rows = list(due.order_by("code")[:TASK_LIMIT])
        for project in due_rows:
            project.draft_report_id = drafts.get(project.pk)
        tasks.update(
            author=True,
            returned=list(returned.order_by("-year", "-quarter", "project__code")[:TASK_LIMIT]),
            returned_count=returned.count(),
            due=due_rows,
            due_count=due.count(),
        )
    if user.is_active and user.has_perm("projects.review_progressreport"):
        submitted = scope_queryset(
            user, ProgressReport.objects.filter(status=ProgressReport.Status.SUBMITTED)
        )
        tasks.update(reviewer=True, submitted_count=submitted.count())
    return tasks
