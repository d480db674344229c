"""Reads and aggregations: the one source of every dashboard figure (DESIGN section 4).

"Live" projects are those not cancelled; "counted" agreements are signed or completed. The filters:
`province` narrows agreements and projects by the agreement's province; `recipient` narrows agreements by
the agreement's recipient and projects by the project's recipient (subtree); `category`, `status` and
`start_year` narrow projects only; `status` replaces the live rule; `as_of` counts only disbursements dated
on or before it.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, DecimalField, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from agreements.models import Agreement, Province, RecipientUnit
from projects.models import Category, Disbursement, FacilityOutput, FacilityType, Project

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class SummaryFilters:
    """Normalised dashboard filters; absent ones are None."""

    province: Province | None = None
    category: Category | None = None
    recipient: RecipientUnit | None = None
    status: str | None = None
    start_year: int | None = None
    as_of: date | None = None

    def as_json(self):
        return {
            "province": self.province.code if self.province else None,
            "category": self.category.code if self.category else None,
            "recipient": self.recipient.code if self.recipient else None,
            "status": self.status,
            "start_year": self.start_year,
        }


def filter_agreements(queryset, filters: SummaryFilters):
    """Agreements narrowed by province and recipient subtree (other filters concern projects only)."""
    if filters.province:
        queryset = queryset.filter(province=filters.province)
    if filters.recipient:
        queryset = queryset.filter(recipient__path__startswith=filters.recipient.path)
    return queryset


def filter_projects(queryset, filters: SummaryFilters):
    """Projects narrowed by every filter; without `status` only live (not cancelled) projects."""
    if filters.province:
        queryset = queryset.filter(agreement__province=filters.province)
    if filters.recipient:
        queryset = queryset.filter(recipient__path__startswith=filters.recipient.path)
    if filters.category:
        if filters.category.parent_id is None:
            queryset = queryset.filter(Q(category=filters.category) | Q(category__parent=filters.category))
        else:
            queryset = queryset.filter(category=filters.category)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    else:
        queryset = queryset.exclude(status=Project.Status.CANCELLED)
    if filters.start_year:
        queryset = queryset.filter(start_date__year=filters.start_year)
    return queryset


def counted_agreements(filters: SummaryFilters):
    return filter_agreements(Agreement.objects.filter(status__in=Agreement.COUNTED), filters)


def selected_projects(filters: SummaryFilters):
    return filter_projects(Project.objects.all(), filters)


def _disbursed_subquery(filters: SummaryFilters):
    """Per-project sum of disbursements as a correlated subquery, so joins never inflate totals."""
    payments = Disbursement.objects.filter(project=OuterRef("pk"))
    if filters.as_of:
        payments = payments.filter(date__lte=filters.as_of)
    total = payments.order_by().values("project").annotate(total=Sum("amount")).values("total")
    return Coalesce(Subquery(total), Value(ZERO), output_field=DecimalField(max_digits=16, decimal_places=2))


def _project_figures(queryset, group_by, filters):
    """One grouped query: project figures per value of `group_by`."""
    return {
        row["key"]: row
        for row in queryset.order_by()
        .annotate(paid=_disbursed_subquery(filters))
        .values(key=group_by)
        .annotate(
            projects=Count("id"),
            budget=Sum("budget"),
            disbursed=Sum("paid"),
            completed=Count("id", filter=Q(status=Project.Status.COMPLETED)),
            beneficiaries=Coalesce(Sum("beneficiaries"), Value(0), output_field=IntegerField()),
        )
    }


def _money(value) -> Decimal:
    return (Decimal(value) if value is not None else ZERO).quantize(CENT)


def _project_row(row):
    row = row or {}
    return {
        "projects": row.get("projects", 0),
        "budget": _money(row.get("budget")),
        "disbursed": _money(row.get("disbursed")),
        "completed": row.get("completed", 0),
        "beneficiaries": row.get("beneficiaries", 0) or 0,
    }


def summary(filters: SummaryFilters | None = None) -> dict:
    """Totals, per province, per top-level category and facilities built, for the given filters.

    Amounts are Decimals in yuan; callers format them. Every province, top-level category and facility
    type appears, zero rows included, in code order.
    """
    filters = filters or SummaryFilters()
    projects = selected_projects(filters)

    agreement_rows = {
        row["province_id"]: row
        for row in counted_agreements(filters)
        .order_by()
        .values("province_id")
        .annotate(agreements=Count("id"), pledged=Sum("pledged"))
    }
    per_province = _project_figures(projects, "agreement__province_id", filters)
    per_category = _project_figures(projects, Coalesce("category__parent_id", "category_id"), filters)
    quantities = dict(
        FacilityOutput.objects.filter(project__in=projects.values("pk"))
        .order_by()
        .values_list("facility_type_id")
        .annotate(quantity=Sum("quantity"))
    )

    by_province = []
    for province in Province.objects.order_by("code"):
        agreements = agreement_rows.get(province.pk, {})
        by_province.append(
            {
                "code": province.code,
                "name": province.name,
                "agreements": agreements.get("agreements", 0),
                "pledged": _money(agreements.get("pledged")),
                **_project_row(per_province.get(province.pk)),
            }
        )
    by_category = [
        {"code": category.code, "name": category.name, **_project_row(per_category.get(category.pk))}
        for category in Category.objects.filter(parent__isnull=True).order_by("code")
    ]
    facilities = [
        {"code": kind.code, "name": kind.name, "quantity": quantities.get(kind.pk, 0) or 0}
        for kind in FacilityType.objects.order_by("code")
    ]
    totals = {
        key: sum((row[key] for row in by_province), ZERO if key in ("pledged", "budget", "disbursed") else 0)
        for key in ("agreements", "pledged", "projects", "budget", "disbursed", "completed", "beneficiaries")
    }
    return {
        "filters": filters,
        "totals": totals,
        "by_province": by_province,
        "by_category": by_category,
        "facilities": facilities,
    }


def summary_as_json(result: dict) -> dict:
    """The summary in the JSON contract's shape: amounts as strings with two decimals."""

    def encode(row):
        return {key: (f"{value:.2f}" if isinstance(value, Decimal) else value) for key, value in row.items()}

    return {
        "filters": result["filters"].as_json(),
        "totals": encode(result["totals"]),
        "by_province": [encode(row) for row in result["by_province"]],
        "by_category": [encode(row) for row in result["by_category"]],
        "facilities": [encode(row) for row in result["facilities"]],
    }
