"""Reminders to report authors (DESIGN section 7): once a day, every active user who may author reports is
mailed what waits for them for the reporting quarter — reports missing or still in draft, and reports
returned to them — as the admin index's task list shows it (projects.reporting.tasks_for)."""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from projects.models import ReportReminder, quarter_label
from projects.reporting import reporting_quarter, tasks_for, today


@dataclass
class RemindResult:
    sent: list = field(default_factory=list)  # (user, email)
    already: list = field(default_factory=list)  # users mailed earlier today
    without_email: list = field(default_factory=list)  # users with work waiting and no address
    failed: list = field(default_factory=list)  # (user, error)
    nothing: int = 0  # users with nothing waiting


def possible_authors():
    """Active users who may author some project's report (the permission, by group or directly)."""
    users = get_user_model().objects.filter(is_active=True)
    perm = Q(groups__permissions__codename="add_progressreport") | Q(
        user_permissions__codename="add_progressreport"
    )
    return users.filter(perm | Q(is_superuser=True)).distinct().order_by("username")


def _message(user, tasks, *, year, quarter):
    base = getattr(settings, "AIDTRACKER_SITE_URL", "").rstrip("/")
    context = {
        "user": user,
        "tasks": tasks,
        "quarter_name": quarter_label(year, quarter),
        "base": base,
        "index_url": base + reverse("admin:index"),
    }
    for report in tasks["returned"]:
        report.mail_url = base + reverse("admin:projects_progressreport_change", args=[report.pk])
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("projects/email/report_reminder_subject.txt", context).strip()
        body = render_to_string("projects/email/report_reminder.txt", context)
    return subject, body


def remind(*, day: datetime.date | None = None, dry_run: bool = False) -> RemindResult:
    """Mail every possible author what waits for them for the reporting quarter of `day` (default: today in
    Asia/Shanghai). A user mailed on `day` already is skipped: the log row (unique per user and day) is
    written in the same transaction as the mail is sent, so two runs at once still send one mail."""
    day = day or today()
    year, quarter = reporting_quarter(as_of=day)
    result = RemindResult()
    mailed_today = set(ReportReminder.objects.filter(day=day).values_list("user_id", flat=True))
    for user in possible_authors():
        tasks = tasks_for(user, as_of=day)
        if not tasks["author"] or not (tasks["due_count"] or tasks["returned_count"]):
            result.nothing += 1
            continue
        if user.pk in mailed_today:
            result.already.append(user)
            continue
        if not user.email:
            result.without_email.append(user)
            continue
        if dry_run:
            result.sent.append((user, user.email))
            continue
        subject, body = _message(user, tasks, year=year, quarter=quarter)
        try:
            with transaction.atomic():
                ReportReminder.objects.create(
                    user=user,
                    day=day,
                    year=year,
                    quarter=quarter,
                    email=user.email,
                    missing=tasks["due_count"],
                    returned=tasks["returned_count"],
                )
                send_mail(subject, body, None, [user.email])
        except IntegrityError:
            result.already.append(user)  # another run mailed this user a moment ago
        except Exception as exc:  # noqa: BLE001 — one bad address must not stop the others' mails
            result.failed.append((user, exc))
        else:
            result.sent.append((user, user.email))
    return result
