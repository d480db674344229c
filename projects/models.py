"""Categories, facility types, aid projects, their disbursements and facility outputs."""

import os
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agreements.models import Agreement, RecipientUnit
from aidtracker.constraints import FieldCheckConstraint, FieldUniqueConstraint
from aidtracker.versioning import AuditHistory, VersionedModel

# The rollups live in their own module; imported here so Django registers them and `projects.models` names them.
from projects.rollup_models import (  # noqa: F401
    AgreementDisbursementRollup,
    AgreementFacilityRollup,
    AgreementProjectRollup,
    AgreementQuarterRollup,
    AgreementRecipientRollup,
    AgreementReportRollup,
    CoarseKey,
    DisbursementRollup,
    FacilityRollup,
    ProjectRollup,
    ReportCoverageRollup,
    RollupKey,
    YearProjectRollup,
)


class Category(models.Model):
    """A project category (项目类别): top level (A, B, …) or a second level (A01, …) under one."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    order = models.PositiveSmallIntegerField(_("display order"), default=0)

    class Meta:
        ordering = ["code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def is_top_level(self):
        return self.parent_id is None


class FacilityType(models.Model):
    """A kind of facility a project builds (设施类型), e.g. F01 模范职工之家."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("display order"), default=0)

    class Meta:
        ordering = ["code"]
        verbose_name = _("facility type")
        verbose_name_plural = _("facility types")

    def __str__(self):
        return f"{self.code} {self.name}"


# The programme's habit for project codes: shown as help wherever a code is typed, never enforced.
CODE_CONVENTION = _(
    "Usually the agreement code, a hyphen and three digits, e.g. BJ-2021-01-001. This is a convention, "
    "not a rule: any code not used by another project is accepted."
)


class Project(VersionedModel):
    """An aid project (援助项目) under an agreement; its province is the agreement's province."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        IN_PROGRESS = "in_progress", _("in progress")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")

    code = models.CharField(_("project code"), max_length=50, unique=True, help_text=CODE_CONVENTION)
    name = models.CharField(_("project name"), max_length=200)
    agreement = models.ForeignKey(
        Agreement, verbose_name=_("aid agreement"), on_delete=models.PROTECT, related_name="projects"
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        limit_choices_to={"parent__isnull": False},
        related_name="projects",
    )
    recipient = models.ForeignKey(
        RecipientUnit, verbose_name=_("recipient unit"), on_delete=models.PROTECT, related_name="projects"
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PLANNED)
    budget = models.DecimalField(_("aid amount (yuan)"), max_digits=14, decimal_places=2, default=0)
    beneficiaries = models.PositiveIntegerField(_("beneficiaries (person-times)"), default=0)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    version = models.PositiveIntegerField(default=1)  # see aidtracker.versioning

    history = AuditHistory()

    scope_province = "agreement__province"
    scope_recipient = "recipient"

    class Meta:
        ordering = ["code"]
        verbose_name = _("aid project")
        verbose_name_plural = _("aid projects")
        permissions = [
            ("import_project", _("Can import aid projects")),
            ("export_project", _("Can export aid projects")),
        ]
        constraints = [
            FieldCheckConstraint(
                condition=Q(budget__gte=0),
                name="project_budget_not_negative",
                field="budget",
                violation_error_message=_("The aid amount cannot be negative."),
            ),
            FieldCheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="project_ends_after_start",
                field="end_date",
                violation_error_message=_("The end date cannot be before the start date."),
            ),
        ]
        indexes = [
            models.Index(fields=["agreement", "status"], name="project_agreement_status"),
            models.Index(fields=["category", "status"], name="project_category_status"),
            models.Index(fields=["start_date"], name="project_start_date"),
            # The province page's projects due a report, in code order per agreement (report_coverage).
            models.Index(
                fields=["agreement", "code"],
                name="project_in_progress_code",
                condition=Q(status="in_progress"),
            ),
            models.Index(fields=["status", "end_date"], name="project_status_end_date"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def recipient_within_agreement(self):
        """Whether the beneficiary unit is the agreement's recipient unit or below it (warned, not enforced:
        a project may benefit a unit the agreement does not name)."""
        return self.recipient.path.startswith(self.agreement.recipient.path)


def live(prefix: str = "") -> Q:
    """ "Live" projects: every status but cancelled (DESIGN section 4), through the lookup `prefix` from the
    model at hand ("" on Project, "project__" on its disbursements and outputs). The one place this is said."""
    return ~Q(**{f"{prefix}status": Project.Status.CANCELLED})


class Disbursement(VersionedModel):
    """A payment of aid money to a project (资金拨付); the reference is unique within the project."""

    project = models.ForeignKey(
        Project, verbose_name=_("aid project"), on_delete=models.CASCADE, related_name="disbursements"
    )
    date = models.DateField(_("disbursement date"))
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    reference = models.CharField(_("voucher number"), max_length=50)
    version = models.PositiveIntegerField(default=1)  # see aidtracker.versioning

    history = AuditHistory()

    scope_province = "project__agreement__province"
    scope_recipient = "project__recipient"

    class Meta:
        ordering = ["project", "date", "reference"]
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        permissions = [
            ("import_disbursement", _("Can import disbursements")),
            ("export_disbursement", _("Can export disbursements")),
        ]
        constraints = [
            FieldUniqueConstraint(
                fields=["project", "reference"],
                name="disbursement_unique_reference_per_project",
                field="reference",
                violation_error_message=_(
                    "This project already has a disbursement with this voucher number."
                ),
            ),
            FieldCheckConstraint(
                condition=Q(amount__gte=0),
                name="disbursement_amount_not_negative",
                field="amount",
                violation_error_message=_("The amount cannot be negative."),
            ),
        ]
        indexes = [models.Index(fields=["date"], name="disbursement_date")]

    def __str__(self):
        return f"{self.project.code} {self.reference}"


class FacilityOutput(VersionedModel):
    """How many facilities of one type a project built (建设成果)."""

    project = models.ForeignKey(
        Project, verbose_name=_("aid project"), on_delete=models.CASCADE, related_name="outputs"
    )
    facility_type = models.ForeignKey(
        FacilityType, verbose_name=_("facility type"), on_delete=models.PROTECT, related_name="outputs"
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    version = models.PositiveIntegerField(default=1)  # see aidtracker.versioning

    history = AuditHistory()

    scope_province = "project__agreement__province"
    scope_recipient = "project__recipient"

    class Meta:
        ordering = ["project", "facility_type"]
        verbose_name = _("facility output")
        verbose_name_plural = _("facility outputs")
        permissions = [
            ("import_facilityoutput", _("Can import facility outputs")),
            ("export_facilityoutput", _("Can export facility outputs")),
        ]
        constraints = [
            FieldUniqueConstraint(
                fields=["project", "facility_type"],
                name="output_unique_type_per_project",
                field="facility_type",
                violation_error_message=_(
                    "This project already has an output of this facility type: change its quantity instead."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.project.code} {self.facility_type.code} × {self.quantity}"


# The reporting cycle (DESIGN section 7): quarterly progress reports with photos, their review, and quarters
# the national office has closed.


class ProgressReport(VersionedModel):
    """A quarterly progress report on a project (进展报告), written by its author and reviewed.

    The state moves only through `projects.reporting` (submit, approve, return, reopen), which holds the
    rules of who may do what; the admin and imports call it.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("report status", "draft")
        SUBMITTED = "submitted", pgettext_lazy("report status", "submitted")
        RETURNED = "returned", pgettext_lazy("report status", "returned")
        APPROVED = "approved", pgettext_lazy("report status", "approved")

    project = models.ForeignKey(
        Project, verbose_name=_("aid project"), on_delete=models.CASCADE, related_name="reports"
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    quarter = models.PositiveSmallIntegerField(
        _("quarter"),
        choices=[(q, q) for q in range(1, 5)],
        validators=[MinValueValidator(1), MaxValueValidator(4)],
    )
    percent_complete = models.PositiveSmallIntegerField(
        _("percent complete"), default=0, validators=[MaxValueValidator(100)]
    )
    narrative = models.TextField(_("progress narrative"), max_length=5000, blank=True)
    status = models.CharField(_("report status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    review_note = models.TextField(_("review note"), max_length=2000, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    history = AuditHistory()

    scope_province = "project__agreement__province"
    scope_recipient = "project__recipient"

    class Meta:
        ordering = ["-year", "-quarter", "project"]
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        permissions = [
            ("review_progressreport", _("Can review progress reports")),
            ("import_progressreport", _("Can import progress reports")),
            ("export_progressreport", _("Can export progress reports")),
        ]
        constraints = [
            FieldUniqueConstraint(
                fields=["project", "year", "quarter"],
                name="progressreport_one_per_project_quarter",
                field="quarter",
                violation_error_message=_("This project already has a report for this quarter."),
            ),
            FieldCheckConstraint(
                condition=Q(quarter__gte=1) & Q(quarter__lte=4),
                name="progressreport_quarter_1_to_4",
                field="quarter",
                violation_error_message=_("The quarter is 1, 2, 3 or 4."),
            ),
            FieldCheckConstraint(
                condition=Q(percent_complete__lte=100),
                name="progressreport_percent_le_100",
                field="percent_complete",
                violation_error_message=_("The percent complete is at most 100."),
            ),
        ]
        indexes = [
            models.Index(fields=["year", "quarter", "status"], name="progressreport_period_status"),
            models.Index(fields=["status"], name="progressreport_status"),
        ]

    def __str__(self):
        return _("%(project)s, %(year)s Q%(quarter)s") % {
            "project": self.project.code,
            "year": self.year,
            "quarter": self.quarter,
        }


def report_photo_path(instance, filename):
    """A random stored name (the uploaded name may carry personal data); the extension is the re-encoded
    file's own (.jpg, .png or .webp)."""
    return f"reports/{uuid.uuid4().hex}{os.path.splitext(filename)[1].lower()}"


def report_thumbnail_path(instance, filename):
    return f"reports/thumbs/{uuid.uuid4().hex}{os.path.splitext(filename)[1].lower()}"


class ReportPhoto(models.Model):
    """A photo from the site (现场照片) attached to a report: re-encoded on upload, without metadata."""

    report = models.ForeignKey(
        ProgressReport, verbose_name=_("progress report"), on_delete=models.CASCADE, related_name="photos"
    )
    image = models.FileField(_("photo"), upload_to=report_photo_path, max_length=200)
    thumbnail = models.FileField(_("thumbnail"), upload_to=report_thumbnail_path, max_length=200, blank=True)
    caption = models.CharField(_("caption"), max_length=200, blank=True)

    scope_province = "report__project__agreement__province"
    scope_recipient = "report__project__recipient"

    class Meta:
        ordering = ["report", "pk"]
        verbose_name = _("site photo")
        verbose_name_plural = _("site photos")

    def __str__(self):
        return self.caption or _("photo %(number)s") % {"number": self.pk}


class ClosedPeriod(models.Model):
    """A quarter the national office has closed (已关账季度): its disbursements and reports are frozen.

    Reopening keeps the row and records who reopened it and when; closing the quarter again adds a new row.
    """

    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    quarter = models.PositiveSmallIntegerField(
        _("quarter"),
        choices=[(q, q) for q in range(1, 5)],
        validators=[MinValueValidator(1), MaxValueValidator(4)],
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), default=timezone.now)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reopened by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reopened_at = models.DateTimeField(_("reopened at"), null=True, blank=True)

    history = AuditHistory()

    class Meta:
        ordering = ["-year", "-quarter", "-closed_at"]
        verbose_name = _("closed quarter")
        verbose_name_plural = _("closed quarters")
        constraints = [
            FieldUniqueConstraint(
                fields=["year", "quarter"],
                condition=Q(reopened_at__isnull=True),
                name="closedperiod_one_open_row_per_quarter",
                field="quarter",
                violation_error_message=_("This quarter is already closed."),
            ),
            FieldCheckConstraint(
                condition=Q(quarter__gte=1) & Q(quarter__lte=4),
                name="closedperiod_quarter_1_to_4",
                field="quarter",
                violation_error_message=_("The quarter is 1, 2, 3 or 4."),
            ),
        ]

    def __str__(self):
        return quarter_label(self.year, self.quarter)

    @property
    def is_closed(self):
        return self.reopened_at is None


class ReportReminder(models.Model):
    """A reminder mail sent to a report author (报告提醒): one row per user, day and reporting quarter, so the
    daily `remind_reports` sends a user at most one mail a day, however often it runs."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    email = models.EmailField(_("e-mail address"))
    missing = models.PositiveIntegerField(_("reports missing or in draft"), default=0)
    returned = models.PositiveIntegerField(_("returned reports"), default=0)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        ordering = ["-day", "user"]
        verbose_name = _("report reminder")
        verbose_name_plural = _("report reminders")
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="reportreminder_one_per_user_and_day"),
        ]

    def __str__(self):
        return f"{self.user} {self.day} {quarter_label(self.year, self.quarter)}"


def quarter_label(year, quarter):
    """A quarter as the interface names it, e.g. 2022年第1季度."""
    return _("%(year)s Q%(quarter)s") % {"year": year, "quarter": quarter}
