"""The rollups: the dashboard's figures pre-summed by the keys its filters use (re-exported by projects.models)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement, RecipientUnit

# Rollups: the dashboard's figures pre-summed by the keys its filters use. Kept exact by database triggers
# (migration 0005), so every write — admin, import, bulk_create, queryset update/delete, raw SQL — keeps them
# right; `manage.py rebuild_rollups` recomputes them after loads that bypass triggers (COPY with triggers
# disabled, TRUNCATE). Amounts are in cents so that sums stay exact on SQLite as well. The foreign keys have no
# database constraint: a rollup row must never block deleting what it summarises.


class RollupKey(models.Model):
    """The project key every rollup is summed by: agreement, sub-category, recipient, status, start year."""

    # What a rollup can be narrowed and grouped by (projects.selectors.rollup_model picks the smallest that
    # serves a read).
    dimensions = frozenset({"agreement", "category", "recipient", "status", "start_year"})

    agreement = models.ForeignKey(
        Agreement, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    category = models.ForeignKey(
        "projects.Category", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    recipient = models.ForeignKey(
        RecipientUnit, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    status = models.CharField(max_length=12)
    start_year = models.PositiveSmallIntegerField()  # 0 when the project has no start date

    # The project's place, for the dashboard's province and recipient filters (agreements.access.within).
    scope_province = "agreement__province"
    scope_recipient = "recipient"

    class Meta:
        abstract = True


class ProjectRollup(RollupKey):
    """Project figures summed per agreement, sub-category, recipient unit, status and start year."""

    start_year = models.PositiveSmallIntegerField(help_text="0 when the project has no start date")
    projects = models.IntegerField(default=0)
    budget_cents = models.BigIntegerField(default=0)
    disbursed_cents = models.BigIntegerField(default=0)
    beneficiaries = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = _("project figures (rollup)")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "category", "recipient", "status", "start_year"],
                name="project_rollup_key",
            )
        ]

    def __str__(self):
        return f"{self.agreement_id}/{self.category_id}/{self.recipient_id}/{self.status}/{self.start_year}"


class FacilityRollup(RollupKey):
    """Facility quantities summed per project key (as in ProjectRollup) and facility type."""

    facility_type = models.ForeignKey(
        "projects.FacilityType", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    quantity = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = _("facility figures (rollup)")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "category", "recipient", "status", "start_year", "facility_type"],
                name="facility_rollup_key",
            )
        ]

    def __str__(self):
        return f"{self.agreement_id}/{self.category_id}/{self.facility_type_id}: {self.quantity}"


class DisbursementRollup(RollupKey):
    """Disbursed amounts summed per project key (as in ProjectRollup) and calendar quarter."""

    quarter = models.PositiveIntegerField(help_text="year * 10 + quarter, e.g. 20213")
    amount_cents = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = _("disbursement figures (rollup)")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "category", "recipient", "status", "start_year", "quarter"],
                name="disbursement_rollup_key",
            )
        ]

    def __str__(self):
        return f"{self.agreement_id}/{self.category_id}/{self.quarter}: {self.amount_cents}"


class ReportCoverageRollup(RollupKey):
    """Projects due progress reports, and their reports, counted per project key (as in ProjectRollup) and
    due window: a row with quarter 0 counts projects due every quarter from `due_from` to `due_to`; other rows
    (window 0 to 99999) count the reports of `quarter` in `state` of projects due that quarter."""

    due_from = models.PositiveIntegerField(help_text="year * 10 + quarter; 0 when due from the start")
    due_to = models.PositiveIntegerField(help_text="year * 10 + quarter; 99999 while in progress")
    quarter = models.PositiveIntegerField(
        help_text="0 for the projects; else the reports' year * 10 + quarter"
    )
    state = models.CharField(
        max_length=12, blank=True, help_text="empty for the projects; else report status"
    )
    number = models.IntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = _("report coverage (rollup)")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "agreement",
                    "category",
                    "recipient",
                    "status",
                    "start_year",
                    "due_from",
                    "due_to",
                    "quarter",
                    "state",
                ],
                name="report_coverage_rollup_key",
            )
        ]
        indexes = [models.Index(fields=["quarter", "due_from"], name="report_coverage_quarter")]

    def __str__(self):
        return f"{self.agreement_id}/{self.category_id}/{self.quarter}/{self.state}: {self.number}"


# Coarse twins of the rollups: the same figures summed per agreement, sub-category and status only (no
# recipient, no start year), a fifth to a twentieth of the rows. The dashboards read them when no `recipient`
# or `start_year` filter is given — the overview, the province and category pages, summary.json unfiltered,
# by province or by category. Kept by triggers on the fine rollups themselves (projects.rollup_sql), so they
# are exactly the fine rollups summed, whatever writes the fine rows.


class CoarseKey(models.Model):
    """Agreement, sub-category, status: the key of the coarse rollups."""

    dimensions = frozenset({"agreement", "category", "status"})

    agreement = models.ForeignKey(
        Agreement, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    category = models.ForeignKey(
        "projects.Category", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    status = models.CharField(max_length=12)

    class Meta:
        abstract = True


class AgreementProjectRollup(CoarseKey):
    """ProjectRollup summed per agreement, sub-category and status."""

    projects = models.IntegerField(default=0)
    budget_cents = models.BigIntegerField(default=0)
    disbursed_cents = models.BigIntegerField(default=0)
    beneficiaries = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = _("project figures per agreement (rollup)")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "category", "status"], name="agreement_project_rollup_key"
            )
        ]

    def __str__(self):
        return f"{self.agreement_id}/{self.category_id}/{self.status}: {self.projects}"


class YearProjectRollup(models.Model):
    """ProjectRollup summed per status and start year only: the overview's figures per start year when no
    province, category or recipient filter is given (a few dozen rows)."""

    status = models.CharField(max_length=12)
    start_year = models.PositiveSmallIntegerField(help_text="0 when the project has no start date")
    projects = models.IntegerField(default=0)
    budget_cents = models.BigIntegerField(default=0)
    disbursed_cents = models.BigIntegerField(default=0)
    beneficiaries = models.BigIntegerField(default=0)

    dimensions = frozenset({"status", "start_year"})

    class Meta:
        verbose_name = verbose_name_plural = _("project figures per start year (rollup)")
        constraints = [
            models.UniqueConstraint(fields=["status", "start_year"], name="year_project_rollup_key")
        ]

    def __str__(self):
        return f"{self.status}/{self.start_year}: {self.projects}"


class AgreementFacilityRollup(CoarseKey):
    """FacilityRollup summed per agreement, sub-category, status and facility type."""

    facility_type = models.ForeignKey(
        "projects.FacilityType", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    quantity = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = _("facility figures per agreement (rollup)")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "category", "status", "facility_type"],
                name="agreement_facility_rollup_key",
            )
        ]

    def __str__(self):
        return f"{self.agreement_id}/{self.category_id}/{self.facility_type_id}: {self.quantity}"


class AgreementDisbursementRollup(CoarseKey):
    """DisbursementRollup summed per agreement, sub-category, status and calendar quarter."""

    quarter = models.PositiveIntegerField(help_text="year * 10 + quarter, e.g. 20213")
    amount_cents = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = _("disbursement figures per agreement (rollup)")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "category", "status", "quarter"],
                name="agreement_disbursement_rollup_key",
            )
        ]

    def __str__(self):
        return f"{self.agreement_id}/{self.category_id}/{self.quarter}: {self.amount_cents}"


class AgreementQuarterRollup(models.Model):
    """DisbursementRollup summed per agreement, status and calendar quarter only: a province page's
    disbursements by quarter without a category, recipient or start year filter."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    status = models.CharField(max_length=12)
    quarter = models.PositiveIntegerField(help_text="year * 10 + quarter, e.g. 20213")
    amount_cents = models.BigIntegerField(default=0)

    dimensions = frozenset({"agreement", "status"})

    class Meta:
        verbose_name = verbose_name_plural = _("disbursements per agreement and quarter (rollup)")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "status", "quarter"], name="agreement_quarter_rollup_key"
            )
        ]

    def __str__(self):
        return f"{self.agreement_id}/{self.status}/{self.quarter}: {self.amount_cents}"


class AgreementRecipientRollup(models.Model):
    """ProjectRollup summed per agreement, recipient unit and status only (no category, no start year): a
    province page's figures per recipient unit without a category or start year filter."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    recipient = models.ForeignKey(
        RecipientUnit, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    status = models.CharField(max_length=12)
    projects = models.IntegerField(default=0)
    budget_cents = models.BigIntegerField(default=0)
    disbursed_cents = models.BigIntegerField(default=0)
    beneficiaries = models.BigIntegerField(default=0)

    dimensions = frozenset({"agreement", "recipient", "status"})
    scope_province = "agreement__province"  # as RollupKey's
    scope_recipient = "recipient"

    class Meta:
        verbose_name = verbose_name_plural = _("project figures per agreement and recipient unit (rollup)")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "recipient", "status"], name="agreement_recipient_rollup_key"
            )
        ]

    def __str__(self):
        return f"{self.agreement_id}/{self.recipient_id}/{self.status}: {self.projects}"


class AgreementReportRollup(CoarseKey):
    """The report rows of ReportCoverageRollup (quarter not 0) summed per agreement, sub-category, status,
    quarter and report state: the reports of each quarter by projects due that quarter."""

    quarter = models.PositiveIntegerField(help_text="the reports' year * 10 + quarter")
    state = models.CharField(max_length=12, help_text="report status")
    number = models.IntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = _("reports per agreement (rollup)")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "category", "status", "quarter", "state"],
                name="agreement_report_rollup_key",
            )
        ]
        indexes = [models.Index(fields=["quarter"], name="agreement_report_quarter")]

    def __str__(self):
        return f"{self.agreement_id}/{self.category_id}/{self.quarter}/{self.state}: {self.number}"
