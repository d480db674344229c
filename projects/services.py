"""Writes of the reporting cycle (DESIGN section 7): progress reports moving through their states, and the
closed-quarter guard every write of a disbursement or a report goes through.

Every rule lives here once; the admin's forms, inlines, bulk actions and delete pages, and the spreadsheet
importers call these functions, and so hold the same rules. Raw ORM writes are not guarded.
"""

import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agreements.access import in_scope
from aidtracker.versioning import StaleVersionError, check_versions
from projects.models import ClosedPeriod, Disbursement, ProgressReport, Project, quarter_label
from projects.reporting import closed_quarters, quarter_of

REVIEW_PERMISSION = "projects.review_progressreport"
CLOSE_PERMISSION = "projects.add_closedperiod"
Status = ProgressReport.Status
EDITABLE_STATES = (Status.DRAFT, Status.RETURNED)
CONTENT_FIELDS = ("project", "year", "quarter", "percent_complete", "narrative")


# --- Closed quarters -----------------------------------------------------------------------------------


def may_write_closed_quarters(user) -> bool:
    """Users with `projects.add_closedperiod` (the national office) still write in closed quarters."""
    return bool(user is not None and user.has_perm(CLOSE_PERMISSION))


def closed_quarter_error(*, user, periods: Iterable[tuple[int, int]], closed=None) -> str | None:
    """The message refusing `user` a write touching one of `periods`, or None when every one is open to them.

    `closed` may pass the set of closed quarters already read (imports check many rows with one query).
    """
    periods = {p for p in periods if p is not None and None not in p}
    if not periods or may_write_closed_quarters(user):
        return None
    closed = closed_quarters() if closed is None else closed
    hit = sorted(periods & closed)
    if not hit:
        return None
    return _("%(quarter)s is closed: its disbursements and reports can no longer be changed.") % {
        "quarter": quarter_label(*hit[0])
    }


def check_open_quarters(*, user, dates: Iterable[datetime.date | None] = (), periods=()) -> None:
    """Raise a ValidationError naming the quarter when `user` may not write in one of these dates' or
    periods' quarters. The one guard of closed quarters: every user path calls it."""
    wanted = {quarter_of(day) for day in dates if day} | {tuple(p) for p in periods}
    message = closed_quarter_error(user=user, periods=wanted)
    if message:
        raise ValidationError(message, code="closed_quarter")


def check_disbursement_write(*, user, disbursement: Disbursement | None = None, new_date=None) -> None:
    """A disbursement added, changed or deleted: checked on its stored (old) date and on its new one."""
    old_date = None
    if disbursement is not None and disbursement.pk:
        old_date = Disbursement.objects.filter(pk=disbursement.pk).values_list("date", flat=True).first()
    check_open_quarters(user=user, dates=[old_date, new_date])


def closed_disbursement_rows(*, user, rows) -> list[tuple[object, str]]:
    """The spreadsheet import's check: [(row number, message)] for rows that would add a disbursement dated
    in a closed quarter, or change one on its old or new date. `rows` is [(row number, stored Disbursement or
    None, {attname: new value})]; a row identical to the stored record changes nothing and passes."""
    if may_write_closed_quarters(user):
        return []
    closed = closed_quarters()
    if not closed:
        return []
    errors = []
    for number, stored, values in rows:
        if stored is not None and all(
            getattr(stored, name) == value for name, value in values.items() if hasattr(stored, name)
        ):
            continue
        periods = [quarter_of(values["date"])] if values.get("date") else []
        if stored is not None:
            periods.append(quarter_of(stored.date))
        message = closed_quarter_error(user=user, periods=periods, closed=closed)
        if message:
            errors.append((number, message))
    return errors


def deletion_refusals(*, user, objects: Iterable) -> list[str]:
    """What deleting `objects` (with everything the deletion cascades to) would remove from a closed quarter,
    as lines for the delete page; empty when the user may delete it all."""
    if may_write_closed_quarters(user):
        return []
    closed = closed_quarters()
    if not closed:
        return []
    refusals = []
    for obj in objects:
        if isinstance(obj, Disbursement):
            period = quarter_of(obj.date)
        elif isinstance(obj, ProgressReport):
            period = (obj.year, obj.quarter)
        else:
            continue
        if period in closed:
            refusals.append(
                _("%(object)s (%(quarter)s is closed)")
                % {"object": f"{obj._meta.verbose_name}: {obj}", "quarter": quarter_label(*period)}
            )
    return refusals


@transaction.atomic
def close_quarter(*, user, year: int, quarter: int) -> ClosedPeriod:
    """Close a quarter (national office); closing a quarter already closed is refused."""
    if not user.has_perm(CLOSE_PERMISSION):
        raise PermissionDenied
    if ClosedPeriod.objects.filter(year=year, quarter=quarter, reopened_at__isnull=True).exists():
        raise ValidationError(
            _("%(quarter)s is already closed.") % {"quarter": quarter_label(year, quarter)}, code="closed"
        )
    period = ClosedPeriod(year=year, quarter=quarter, closed_by=user, closed_at=timezone.now())
    period.full_clean()
    period._history_user = user
    period.save()
    return period


@transaction.atomic
def reopen_quarter(*, user, period: ClosedPeriod) -> ClosedPeriod:
    """Reopen a closed quarter; the row stays, recording who reopened it and when."""
    if not user.has_perm("projects.change_closedperiod"):
        raise PermissionDenied
    period = ClosedPeriod.objects.select_for_update().get(pk=period.pk)
    if period.reopened_at is None:
        period.reopened_by = user
        period.reopened_at = timezone.now()
        period._history_user = user
        period.save()
    return period


# --- Progress reports: who may do what -------------------------------------------------------------------


def may_author(user, project: Project | None) -> bool:
    """Province staff for their province's projects, recipient staff for their subtree's, the national
    office for any: whoever may add reports and sees the project."""
    return bool(
        user is not None
        and user.is_active
        and user.has_perm("projects.add_progressreport")
        and (project is None or in_scope(user, project))
    )


def may_review(user) -> bool:
    return bool(user is not None and user.is_active and user.has_perm(REVIEW_PERMISSION))


def wrote(user, report: ProgressReport) -> bool:
    """Whether `user` is the report's author or submitted it: such a user never approves or returns it."""
    return user.pk is not None and user.pk in (report.author_id, report.submitted_by_id)


def content_editable(*, user, report: ProgressReport) -> bool:
    """Whether `user` may change the report's content (percent, narrative, photos) now.

    Drafts and returned reports, by those who may author them, outside closed quarters; a submitted report
    is read-only for its author (and waits for review), an approved one for everyone until reopened.
    """
    if report.pk and report.status not in EDITABLE_STATES:
        return False
    if not may_author(user, report.project if report.project_id else None):
        return False
    if report.year and report.quarter:
        return closed_quarter_error(user=user, periods=[(report.year, report.quarter)]) is None
    return True


def may_submit(*, user, report: ProgressReport) -> bool:
    return bool(report.pk) and content_editable(user=user, report=report)


def _may_review_from(status, *, user, report: ProgressReport) -> bool:
    """Whether `user` may review the stored report while it is in `status`: a reviewer who sees the project,
    did not write the report, and is not held by a closed quarter."""
    return (
        report.pk is not None
        and report.status == status
        and may_review(user)
        and in_scope(user, report.project)
        and not wrote(user, report)
        and closed_quarter_error(user=user, periods=[(report.year, report.quarter)]) is None
    )


def may_decide(*, user, report: ProgressReport) -> bool:
    """Whether `user` may approve or return the report (as it is stored now)."""
    return _may_review_from(Status.SUBMITTED, user=user, report=report)


def may_reopen(*, user, report: ProgressReport) -> bool:
    """Whether `user` may reopen the approved report (approved → returned)."""
    return _may_review_from(Status.APPROVED, user=user, report=report)


# --- Progress reports: the writes ------------------------------------------------------------------------


def _locked(report: ProgressReport, expected_version: int | None) -> ProgressReport:
    """The stored report, locked for this transaction; refused when it changed since `expected_version`
    (the version the user's page showed), through the one check of no lost edits."""
    if expected_version is not None:
        try:
            check_versions(ProgressReport, {report.pk: expected_version})
        except StaleVersionError as error:
            raise ValidationError(str(error), code="stale_version") from None
    return ProgressReport.objects.select_for_update().select_related("project").get(pk=report.pk)


def _save(report: ProgressReport, user) -> ProgressReport:
    """Validate and save; the version rises by one (VersionedModel checks it against the stored one)."""
    report.full_clean()
    report._history_user = user  # the history names who acted, also outside a request (imports, commands)
    report.save()
    return report


@transaction.atomic
def save_report(*, user, report: ProgressReport, expected_version: int | None = None) -> ProgressReport:
    """Create a draft, or save a draft's or a returned report's content (a returned one stays returned)."""
    if report.pk:
        stored = _locked(report, expected_version)
        if not content_editable(user=user, report=stored):
            raise ValidationError(_("This report can no longer be changed."), code="read_only")
        # State and review fields are the transitions' alone.
        for name in ("status", "review_note", "author", "submitted_by", "reviewed_by", "reviewed_at"):
            setattr(report, name, getattr(stored, name))
        report.version = stored.version
    else:
        report.status = Status.DRAFT
        report.author = user
        report.submitted_by = report.reviewed_by = report.reviewed_at = None
        report.review_note = ""
    if not may_author(user, report.project if report.project_id else None):
        raise PermissionDenied
    check_open_quarters(user=user, periods=[(report.year, report.quarter)])
    return _save(report, user)


@transaction.atomic
def submit_report(*, user, report: ProgressReport, expected_version: int | None = None) -> ProgressReport:
    """Author: draft or returned → submitted."""
    stored = _locked(report, expected_version)
    if not may_submit(user=user, report=stored):
        raise ValidationError(_("You cannot submit this report."), code="not_allowed")
    stored.status = Status.SUBMITTED
    stored.submitted_by = user
    return _save(stored, user)


def _decide(*, user, report, expected_version, status, note, allowed) -> ProgressReport:
    stored = _locked(report, expected_version)
    if stored.pk and wrote(user, stored) and stored.status in (Status.SUBMITTED, Status.APPROVED):
        raise ValidationError(
            _("You wrote or submitted this report: another reviewer must decide on it."), code="own_report"
        )
    if not allowed(user=user, report=stored):
        raise ValidationError(_("You cannot review this report in its present state."), code="not_allowed")
    stored.status = status
    stored.review_note = note
    stored.reviewed_by = user
    stored.reviewed_at = timezone.now()
    return _save(stored, user)


@transaction.atomic
def approve_report(
    *, user, report: ProgressReport, note: str = "", expected_version: int | None = None
) -> ProgressReport:
    """Reviewer: submitted → approved (the note is kept when given)."""
    return _decide(
        user=user,
        report=report,
        expected_version=expected_version,
        status=Status.APPROVED,
        note=(note or "").strip(),
        allowed=may_decide,
    )


@transaction.atomic
def return_report(
    *, user, report: ProgressReport, note: str, expected_version: int | None = None
) -> ProgressReport:
    """Reviewer: submitted → returned, or an approved report reopened (→ returned); a note is required."""
    note = (note or "").strip()
    if not note:
        raise ValidationError(
            {"review_note": _("Say why the report is returned: a note is required.")}, code="note_required"
        )
    stored = ProgressReport.objects.get(pk=report.pk)
    allowed = may_reopen if stored.status == Status.APPROVED else may_decide
    return _decide(
        user=user,
        report=report,
        expected_version=expected_version,
        status=Status.RETURNED,
        note=note,
        allowed=allowed,
    )


def check_report_delete(*, user, report: ProgressReport) -> None:
    """Only drafts and returned reports are deleted, by those who may author them, outside closed quarters."""
    if not content_editable(user=user, report=report):
        raise ValidationError(_("This report can no longer be deleted."), code="read_only")


def report_row_error(
    *, user, stored: ProgressReport | None, year: int, quarter: int, percent_complete, narrative, closed=None
) -> ValidationError | None:
    """Why a spreadsheet row may not write this report (None when it may). A row identical to the stored
    report changes nothing and passes whatever the report's state; otherwise a closed quarter, or a report
    submitted or approved, refuses it. For the importer's row check and `import_report` alike."""
    if stored is not None and stored.percent_complete == percent_complete and stored.narrative == narrative:
        return None
    message = closed_quarter_error(user=user, periods=[(year, quarter)], closed=closed)
    if message:
        return ValidationError(message, code="closed_quarter")
    if stored is not None and stored.status not in EDITABLE_STATES:
        return ValidationError(
            _("This report is %(status)s: a spreadsheet cannot change it.")
            % {"status": stored.get_status_display()},
            code="read_only",
        )
    return None


@transaction.atomic
def import_report(
    *,
    user,
    project: Project,
    year: int,
    quarter: int,
    percent_complete: int,
    narrative: str,
    closed: set | None = None,
) -> tuple[ProgressReport, bool]:
    """Import one spreadsheet row: a new draft, or an update of a draft or returned report (which stays
    returned). A row identical to a stored report changes nothing; one that would change a submitted or
    approved report is refused. Returns (report, whether anything was written); raises ValidationError."""
    if not may_author(user, project):
        raise ValidationError(_("Unknown project code."), code="unknown_project")
    report = (
        ProgressReport.objects.select_for_update().filter(project=project, year=year, quarter=quarter).first()
    )
    error = report_row_error(
        user=user,
        stored=report,
        year=year,
        quarter=quarter,
        percent_complete=percent_complete,
        narrative=narrative,
        closed=closed,
    )
    if error is not None:
        raise error
    if report is None:
        report = ProgressReport(
            project=project,
            year=year,
            quarter=quarter,
            percent_complete=percent_complete,
            narrative=narrative,
        )
        return save_report(user=user, report=report), True
    if report.percent_complete == percent_complete and report.narrative == narrative:
        return report, False
    report.percent_complete = percent_complete
    report.narrative = narrative
    return save_report(user=user, report=report), True
