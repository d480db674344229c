"""Which rows the dashboard's filters select, and where its figures are read from: the filters
(SummaryFilters), the one narrowing rule (`narrow`) that the figures, the admin changelists and the rollups
apply alike, the rollup that serves a read (`rollup_model`), and the reference rows a page reads once
(provinces, categories, recipient units, which agreement is whose). projects.selectors re-exports them.
"""

from dataclasses import dataclass, replace
from datetime import date

from django.db.models import Q

from agreements.access import within
from agreements.models import Agreement, Province, RecipientUnit
from aidtracker.compiled import instances as compiled_instances
from aidtracker.compiled import read_alias
from aidtracker.compiled import rows as compiled_rows
from aidtracker.replica import memoized, read_memo
from projects.models import (
    AgreementDisbursementRollup,
    AgreementFacilityRollup,
    AgreementProjectRollup,
    AgreementQuarterRollup,
    AgreementRecipientRollup,
    AgreementReportRollup,
    Category,
    DisbursementRollup,
    FacilityRollup,
    Project,
    ProjectRollup,
    ReportCoverageRollup,
    YearProjectRollup,
    live,
)


@dataclass(frozen=True)
class SummaryFilters:
    """Normalised dashboard filters; absent ones are None."""

    province: Province | None = None
    category: Category | None = None
    recipient: RecipientUnit | None = None
    status: str | None = None
    start_year: int | None = None
    as_of: date | None = None
    live: bool | None = True  # when no status is given; the dashboard always counts live projects

    def as_json(self):
        return {
            "province": self.province.code if self.province else None,
            "category": self.category.code if self.category else None,
            "recipient": self.recipient.code if self.recipient else None,
            "status": self.status,
            "start_year": self.start_year,
        }

    def signature(self) -> tuple:
        """Everything the SQL narrowing by these filters depends on (`narrow`): the values, the category's
        parent (a top-level category takes its children) and the recipient's path (its subtree)."""
        return (
            self.province.pk if self.province else None,
            (self.category.pk, self.category.parent_id) if self.category else None,
            (self.recipient.pk, self.recipient.path) if self.recipient else None,
            self.status,
            self.start_year,
            self.as_of,
            self.live,
        )

    def is_empty(self):
        return not any(self.as_json().values()) and self.as_of is None


# --- narrowing -------------------------------------------------------------------------------------------


def filter_agreements(queryset, filters: SummaryFilters):
    """Agreements narrowed by province and recipient subtree (other filters concern projects only)."""
    return within(queryset, province=filters.province, recipient=filters.recipient)


def narrow(queryset, filters: SummaryFilters, *, prefix="", year_lookup="start_date__year"):
    """Which rows the dashboard's filters select — the one rule, applied by the dashboard's figures, the
    admin changelists (which link from them) and the rollups alike. On Project (prefix "") or on a model
    reaching a project (prefix "project__"); the rollups hold the project key directly, with the start
    year under `start_year`. Without `status`, `filters.live` applies: live projects (True, the
    dashboard's rule), cancelled ones (False) or both (None, a changelist without `live`)."""
    # Province and recipient name a place: the rule a user's scope applies too (agreements.access.within,
    # through the lookups the model names, which reach the same project fields as `prefix`).
    queryset = within(queryset, province=filters.province, recipient=filters.recipient)
    if filters.category:
        if filters.category.parent_id is None:
            queryset = queryset.filter(
                Q(**{f"{prefix}category": filters.category})
                | Q(**{f"{prefix}category__parent": filters.category})
            )
        else:
            queryset = queryset.filter(**{f"{prefix}category": filters.category})
    if filters.status:
        queryset = queryset.filter(**{f"{prefix}status": filters.status})
    elif filters.live is not None:
        queryset = queryset.filter(live(prefix) if filters.live else ~live(prefix))
    if filters.start_year:
        queryset = queryset.filter(**{f"{prefix}{year_lookup}": filters.start_year})
    return queryset


def filter_projects(queryset, filters: SummaryFilters):
    """Projects narrowed by every filter; without `status` only live (not cancelled) projects."""
    return narrow(queryset, filters)


def _province_agreements(province: Province) -> list[int]:
    """The ids of the province's agreements, read once per page (read_memo)."""
    return memoized(
        ("province agreements", province.pk),
        lambda: list(Agreement.objects.filter(province=province).order_by("pk").values_list("pk", flat=True)),
    )


def provinces_in_order() -> list[Province]:
    """Every province in code order, read once per page (read_memo)."""
    return memoized("provinces", lambda: list(Province.objects.order_by("code")))


def categories_in_order() -> list[Category]:
    """Every category in code order, read once per page (read_memo)."""
    return memoized("categories", lambda: list(Category.objects.order_by("code")))


def province_of_agreements() -> dict:
    """{agreement id: province id} for every agreement, read once per page (read_memo)."""
    return memoized(
        "province of", lambda: dict(Agreement.objects.order_by().values_list("pk", "province_id"))
    )


def recipient_units() -> list[RecipientUnit]:
    """Every recipient unit in tree (path) order, read once per page (read_memo), by SQL compiled once."""
    key = (read_alias(RecipientUnit), "recipient units")
    return memoized(
        "recipient units", lambda: compiled_instances(key, lambda: RecipientUnit.objects.order_by("path"))
    )


def recipient_choices() -> list[tuple[str, str]]:
    """(code, label) of every recipient unit in tree order, for the filter form's select, read once per page:
    from the units themselves when the page has read them (recipient_units), else two columns by SQL compiled
    once, without a model instance per unit. The label is what a unit shows as, its name (__str__)."""
    memo = read_memo()
    if memo is not None and "recipient units" in memo:
        return [(unit.code, str(unit)) for unit in memo["recipient units"]]
    key = (read_alias(RecipientUnit), "recipient choices")
    return memoized(
        "recipient choices",
        lambda: compiled_rows(
            key, lambda: RecipientUnit.objects.order_by("path").values_list("code", "name")
        ),
    )


def _rollup_signature(filters: SummaryFilters) -> tuple:
    """Everything the SQL of filter_rollups(…, filters) depends on: the filters' values and, for a province,
    its agreements' ids (for aidtracker.compiled's keys; the same ids go to filter_rollups)."""
    agreements = tuple(_province_agreements(filters.province)) if filters.province else None
    return (filters.signature(), agreements)


def filter_rollups(queryset, filters: SummaryFilters, agreement_ids=None):
    """Rollup rows narrowed exactly as filter_projects narrows projects.

    A province is turned into its agreements' ids first (`agreement_ids` when the caller has read them): the
    rollups lead with the agreement, so PostgreSQL reads only that province's rows by index instead of
    joining every row to its agreement."""
    if filters.province:
        ids = _province_agreements(filters.province) if agreement_ids is None else agreement_ids
        queryset = queryset.filter(agreement_id__in=ids)
        filters = replace(filters, province=None)
    return narrow(queryset, filters, year_lookup="start_year")


# The twins of each rollup, smallest first (projects.models: kept by triggers as the sums of the fine rows).
TWINS = {
    ProjectRollup: (YearProjectRollup, AgreementRecipientRollup, AgreementProjectRollup),
    FacilityRollup: (AgreementFacilityRollup,),
    DisbursementRollup: (AgreementQuarterRollup, AgreementDisbursementRollup),
    ReportCoverageRollup: (AgreementReportRollup,),
}
# What a filter or a grouping needs of a rollup.
NEEDS = {
    "province": "agreement",
    "agreement": "agreement",
    "category": "category",
    "subcategory": "category",
    "recipient": "recipient",
    "status": "status",
    "start_year": "start_year",
}


def rollup_model(fine, filters: SummaryFilters, names=()):
    """The smallest twin of the rollup `fine` that can be narrowed by the filters and grouped by `names`
    (per agreement, sub-category and status: a fifth of the rows; per status and start year, or per
    agreement, status and quarter: a few hundred), else `fine` itself. All hold the same figures."""
    given = {name for name in ("province", "category", "recipient", "start_year") if getattr(filters, name)}
    needed = {NEEDS[name] for name in (*given, *names)} | {"status"}
    for twin in TWINS.get(fine, ()):
        if needed <= twin.dimensions:
            return twin
    return fine


def counted_agreements(filters: SummaryFilters):
    return filter_agreements(Agreement.objects.filter(status__in=Agreement.COUNTED), filters)


def selected_projects(filters: SummaryFilters):
    return filter_projects(Project.objects.all(), filters)


def uses_base_tables(filters: SummaryFilters, from_base: bool) -> bool:
    """Whether figures must come from the base tables: `as_of` needs disbursement dates."""
    return from_base or filters.as_of is not None
