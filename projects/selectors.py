"""Reads and aggregations: the one source of every dashboard figure (DESIGN section 4).

"Live" projects are those not cancelled; "counted" agreements are signed or completed. The filters:
`province` narrows agreements and projects by the agreement's province; `recipient` narrows agreements by
the agreement's recipient and projects by the project's recipient (subtree); `category`, `status` and
`start_year` narrow projects only; `status` replaces the live rule; `as_of` counts only disbursements dated
on or before it.

Project figures come from the rollup tables (projects.models.ProjectRollup and friends, kept exact by
database triggers), one grouped query per table, so a page costs the same at 1,000 projects as at 1,000,000.
With `as_of` (disbursements up to a date), or `from_base=True`, the same figures are computed from the base tables
instead; tests hold the two paths equal.
"""

from decimal import Decimal

from django.db.models import (
    BigIntegerField,
    Count,
    F,
    IntegerField,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, ExtractQuarter, ExtractYear

from agreements.access import Scope
from agreements.models import Agreement, RecipientUnit
from aidtracker.compiled import read_alias
from aidtracker.compiled import rows as compiled_rows
from aidtracker.replica import reads
from projects.models import (
    Category,
    Disbursement,
    DisbursementRollup,
    FacilityOutput,
    FacilityRollup,
    FacilityType,
    Project,
    ProjectRollup,
)

# The filters, the narrowing rule, the rollup choice and the reference reads live in projects.narrowing;
# named here too, where the figures' callers look for them.
from projects.narrowing import (  # noqa: F401
    NEEDS,
    TWINS,
    SummaryFilters,
    _province_agreements,
    _rollup_signature,
    categories_in_order,
    counted_agreements,
    filter_agreements,
    filter_projects,
    filter_rollups,
    narrow,
    province_of_agreements,
    provinces_in_order,
    recipient_choices,
    recipient_units,
    rollup_model,
    selected_projects,
    uses_base_tables,
)
from projects.sums import sum_related

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
AMOUNTS = ("pledged", "budget", "disbursed")
TOTAL_KEYS = ("agreements", "pledged", "projects", "budget", "disbursed", "completed", "beneficiaries")
PROJECT_KEYS = ("projects", "budget", "disbursed", "completed", "beneficiaries")


# --- grouped figures -------------------------------------------------------------------------------------

# Group keys: (on the rollups, on the base tables).
GROUPS = {
    "province": (F("agreement__province_id"), F("agreement__province_id")),
    "category": (
        Coalesce("category__parent_id", "category_id"),
        Coalesce("category__parent_id", "category_id"),
    ),
    "subcategory": (F("category_id"), F("category_id")),
    "recipient": (F("recipient_id"), F("recipient_id")),
    "agreement": (F("agreement_id"), F("agreement_id")),
    "start_year": (F("start_year"), Coalesce(ExtractYear("start_date"), Value(0))),
}


def _money(value) -> Decimal:
    return (Decimal(value) if value is not None else ZERO).quantize(CENT)


def _cents(value) -> Decimal:
    return Decimal(value or 0).scaleb(-2).quantize(CENT)


def _rate(part, whole):
    """part / whole as a Decimal fraction, or None when whole is zero."""
    return (Decimal(part) / Decimal(whole)) if whole else None


def _project_row(row=None):
    """Project figures in display form, with the two rates; zeros when the group has no projects."""
    row = row or {}
    result = {
        "projects": row.get("projects") or 0,
        "budget": row.get("budget", ZERO),
        "disbursed": row.get("disbursed", ZERO),
        "completed": row.get("completed") or 0,
        "beneficiaries": row.get("beneficiaries") or 0,
    }
    result["execution"] = _rate(result["disbursed"], result["budget"])
    result["completion"] = _rate(result["completed"], result["projects"])
    return result


def _disbursed_subquery(filters: SummaryFilters):
    """Per-project sum of disbursements (up to `as_of`), so joins never inflate totals."""
    payments = Disbursement.objects.all()
    if filters.as_of:
        payments = payments.filter(date__lte=filters.as_of)
    return sum_related(payments, "amount", "project")


def _cells(filters: SummaryFilters, names: tuple, *, from_base: bool = False) -> tuple[bool, list]:
    """One grouped query: (in_cents, [(*keys, projects, budget, disbursed, completed, beneficiaries,
    in_progress)]) — the projects in progress are for the report coverage (projects.report_coverage).

    From the rollups the amounts are integer cents (in_cents True); from the base tables, Decimal yuan.
    Plain tuples, because the summary folds a few thousand of them and dicts of Decimals cost real time.
    """
    use_base = uses_base_tables(filters, from_base)
    group = {f"k{i}": GROUPS[name][1 if use_base else 0] for i, name in enumerate(names)}
    keys = list(group)
    figures = ["n_projects", "n_budget", "n_disbursed", "n_completed", "n_beneficiaries", "n_in_progress"]
    if use_base:
        rows = (
            selected_projects(filters)
            .order_by()
            .annotate(paid=_disbursed_subquery(filters))
            .values(**group)
            .annotate(
                n_projects=Count("id"),
                n_budget=Sum("budget"),
                n_disbursed=Sum("paid"),
                n_completed=Count("id", filter=Q(status=Project.Status.COMPLETED)),
                n_beneficiaries=Coalesce(Sum("beneficiaries"), Value(0), output_field=IntegerField()),
                n_in_progress=Count("id", filter=Q(status=Project.Status.IN_PROGRESS)),
            )
        )
    if use_base:
        return (False, [cell for cell in rows.values_list(*keys, *figures) if cell[len(keys)]])
    model = rollup_model(ProjectRollup, filters, names)
    signature = _rollup_signature(filters)

    def build():
        big = BigIntegerField()
        return (
            filter_rollups(model.objects.all(), filters, signature[1])
            .order_by()
            .values(**group)
            .annotate(
                n_projects=Cast(Sum("projects"), big),
                n_budget=Cast(Sum("budget_cents"), big),
                n_disbursed=Cast(Sum("disbursed_cents"), big),
                n_completed=Coalesce(
                    Cast(Sum("projects", filter=Q(status=Project.Status.COMPLETED)), big), 0
                ),
                n_beneficiaries=Cast(Sum("beneficiaries"), big),
                n_in_progress=Coalesce(
                    Cast(Sum("projects", filter=Q(status=Project.Status.IN_PROGRESS)), big), 0
                ),
            )
            .values_list(*keys, *figures)
        )

    key = (read_alias(model), "cells", model._meta.label, names, signature)
    return (True, [cell for cell in compiled_rows(key, build) if cell[len(keys)]])


def _figures(values, in_cents: bool) -> dict:
    """(projects, budget, disbursed, completed, beneficiaries, ...) in display form, with the rates."""
    projects, budget, disbursed, completed, beneficiaries = values[:5]
    convert = _cents if in_cents else _money
    return _project_row(
        {
            "projects": projects,
            "budget": convert(budget),
            "disbursed": convert(disbursed),
            "completed": completed or 0,
            "beneficiaries": beneficiaries or 0,
        }
    )


def project_figures(filters: SummaryFilters, by, *, from_base: bool = False) -> dict:
    """{group key: project figures} for the group `by` (a key of GROUPS), or for a tuple of such keys
    ({(key, key): figures}), in one grouped query."""
    names = by if isinstance(by, tuple) else (by,)
    in_cents, cells = _cells(filters, names, from_base=from_base)
    width = len(names)
    return {
        (cell[:width] if isinstance(by, tuple) else cell[0]): _figures(cell[width:], in_cents)
        for cell in cells
    }


def _fold(cells, group_of, width: int) -> dict:
    """Sum grouped cells into {group_of(cell keys): [projects, budget, disbursed, completed, beneficiaries,
    in_progress]}."""
    folded = {}
    for cell in cells:
        target = folded.get(group_of(cell))
        if target is None:
            folded[group_of(cell)] = list(cell[width:])
        else:
            for i, value in enumerate(cell[width:]):
                target[i] += value
    return folded


def facility_quantities(filters: SummaryFilters, *, from_base: bool = False) -> dict:
    """{facility type id: quantity built by the selected projects}."""
    if from_base:
        queryset = FacilityOutput.objects.filter(project__in=selected_projects(filters).values("pk"))
        return dict(queryset.order_by().values_list("facility_type_id").annotate(quantity=Sum("quantity")))
    model = rollup_model(FacilityRollup, filters)
    signature = _rollup_signature(filters)

    def build():
        queryset = filter_rollups(model.objects.all(), filters, signature[1])
        return queryset.order_by().values_list("facility_type_id").annotate(quantity=Sum("quantity"))

    key = (read_alias(model), "facilities", model._meta.label, signature)
    return dict(compiled_rows(key, build))


def disbursed_by_quarter(filters: SummaryFilters, *, from_base: bool = False) -> list[dict]:
    """Disbursements of the selected projects per calendar quarter, oldest first."""
    if uses_base_tables(filters, from_base):
        queryset = narrow(Disbursement.objects.all(), filters, prefix="project__")
        if filters.as_of:
            queryset = queryset.filter(date__lte=filters.as_of)
        rows = (
            queryset.order_by()
            .values(quarter=ExtractYear("date") * 10 + ExtractQuarter("date"))
            .annotate(amount=Sum("amount"))
            .order_by("quarter")
        )
        return [
            {
                "quarter": row["quarter"],
                "label": _quarter_label(row["quarter"]),
                "amount": _money(row["amount"]),
            }
            for row in rows
        ]
    model = rollup_model(DisbursementRollup, filters)
    signature = _rollup_signature(filters)

    def build():
        return (
            filter_rollups(model.objects.all(), filters, signature[1])
            .order_by()
            .values("quarter")
            .annotate(amount=Sum("amount_cents"))
            .order_by("quarter")
            .values_list("quarter", "amount")
        )

    key = (read_alias(model), "quarters", model._meta.label, signature)
    return [
        {"quarter": quarter, "label": _quarter_label(quarter), "amount": _cents(amount)}
        for quarter, amount in compiled_rows(key, build)
        if amount
    ]


def _quarter_label(quarter: int) -> str:
    return f"{quarter // 10}Q{quarter % 10}"


def _agreement_figures(filters: SummaryFilters) -> dict:
    """{province id: counted agreements and their pledged sum}."""
    return {
        row["province_id"]: row
        for row in counted_agreements(filters)
        .order_by()
        .values("province_id")
        .annotate(agreements=Count("id"), pledged=Sum("pledged"))
    }


def _totals(rows) -> dict:
    totals = {key: sum((row[key] for row in rows), ZERO if key in AMOUNTS else 0) for key in TOTAL_KEYS}
    totals["execution"] = _rate(totals["disbursed"], totals["budget"])
    totals["completion"] = _rate(totals["completed"], totals["projects"])
    return totals


# --- what the pages and downloads show -------------------------------------------------------------------


class Summary(dict):
    """The summary's tables (keys as in the JSON contract). Beside them, not part of the figures, what the
    pages fold their own tables from: `scan`, the grouped cells by (agreement, sub-category), and
    `categories`, every category in code order; and `in_progress`, the selected projects in progress per
    province, from which the report coverage counts those due (projects.report_coverage)."""

    scan: tuple = (True, [])
    categories: list = []
    provinces: list = []
    in_progress: dict | None = None  # {province id: selected projects in progress}, for the report coverage
    province_of: dict | None = None  # {agreement id: province id}, every agreement

    def page(self, **tables) -> dict:
        """A page's context data: these tables, the extra ones, and the reference lists it also shows."""
        return {
            **self,
            **tables,
            "categories": self.categories,
            "provinces": self.provinces,
            "in_progress_by_province": self.in_progress,
            "province_of": self.province_of,
        }


@reads
def summary(filters: SummaryFilters | None = None, *, from_base: bool = False) -> dict:
    """Totals, per province, per top-level category and facilities built, for the given filters.

    Amounts are Decimals in yuan; callers format them. Every province, top-level category and facility
    type appears, zero rows included, in code order.
    """
    filters = filters or SummaryFilters()
    agreement_rows = _agreement_figures(filters)
    # One scan of the figures by (agreement, sub-category) — plain columns of the rollup, so no join and
    # at most agreements x sub-categories groups — feeds both tables, folded here through two small maps.
    in_cents, cells = _cells(filters, ("agreement", "subcategory"), from_base=from_base)
    province_of = province_of_agreements()
    categories = categories_in_order()
    top_of = {category.pk: category.parent_id or category.pk for category in categories}
    folded = _fold(cells, lambda c: province_of[c[0]], 2)
    per_province = {k: _figures(v, in_cents) for k, v in folded.items()}
    per_category = {k: _figures(v, in_cents) for k, v in _fold(cells, lambda c: top_of[c[1]], 2).items()}
    quantities = facility_quantities(filters, from_base=from_base)

    provinces = provinces_in_order()
    by_province = []
    for province in provinces:
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
        for category in categories
        if category.parent_id is None
    ]
    facilities = [
        {"code": kind.code, "name": kind.name, "pk": kind.pk, "quantity": quantities.get(kind.pk, 0) or 0}
        for kind in FacilityType.objects.order_by("code")
    ]
    result = Summary(
        filters=filters,
        totals=_totals(by_province),
        by_province=by_province,
        by_category=by_category,
        facilities=facilities,
    )
    result.scan, result.categories, result.provinces = (in_cents, cells), categories, provinces
    result.in_progress = {province_id: figures[5] for province_id, figures in folded.items()}
    result.province_of = province_of
    return result


def _folded(result: "Summary", position: int) -> dict:
    """{key: project figures} folded from the summary's scan by (agreement, sub-category): position 0 folds
    per agreement, 1 per sub-category."""
    in_cents, cells = result.scan
    return {k: _figures(v, in_cents) for k, v in _fold(cells, lambda c: c[position], 2).items()}


def _iso(day):
    return day.isoformat() if day else None


def summary_as_json(result: dict) -> dict:
    """The summary in the JSON contract's shape: amounts as strings with two decimals, no extra keys."""

    def encode(row, keys):
        return {
            key: (f"{row[key]:.2f}" if isinstance(row[key], Decimal) else row[key])
            for key in keys
            if key in row
        }

    return {
        "filters": {**result["filters"].as_json(), "as_of": _iso(result["filters"].as_of)},
        "totals": encode(result["totals"], TOTAL_KEYS),
        "by_province": [encode(row, ("code", "name", *TOTAL_KEYS)) for row in result["by_province"]],
        "by_category": [encode(row, ("code", "name", *PROJECT_KEYS)) for row in result["by_category"]],
        "facilities": [encode(row, ("code", "name", "quantity")) for row in result["facilities"]],
    }


def by_start_year(filters: SummaryFilters, *, from_base: bool = False) -> list[dict]:
    """Project figures per start year (0: no start date), oldest first."""
    figures = project_figures(filters, "start_year", from_base=from_base)
    return [
        {"year": year, "code": year or None, **figures[year]}
        for year in sorted(figures, key=lambda y: (y == 0, y))
    ]


@reads
def overview(filters: SummaryFilters) -> dict:
    """Everything /dashboard/ shows."""
    return summary(filters).page(by_year=by_start_year(filters))


def by_subcategory(result: Summary, parent: Category | None = None) -> list[dict]:
    """Project figures per second-level category (under `parent` if given), zero rows included, folded from
    the summary `result`."""
    figures = _folded(result, 1)
    categories = [c for c in result.categories if c.parent_id is not None]
    if parent is not None:
        categories = [c for c in categories if c.parent_id == parent.pk or c.pk == parent.pk]
    return [{"code": c.code, "name": c.name, **_project_row(figures.get(c.pk))} for c in categories]


def by_recipient(filters: SummaryFilters, all_units: list | None = None) -> list[dict]:
    """Project figures per recipient unit *and its subtree* (as the `recipient` filter reads a unit), for
    the units that are direct recipients of selected projects, in tree order with their depth.
    (`all_units`: every unit in path order, when the caller has them already.)"""
    figures = project_figures(filters, "recipient")
    if all_units is None:
        units = list(RecipientUnit.objects.filter(pk__in=figures.keys()).order_by("path"))
    else:
        units = [unit for unit in all_units if unit.pk in figures]
    rows = []
    for unit in units:
        below = [figures[other.pk] for other in units if other.path.startswith(unit.path)]
        merged = {
            key: sum((row[key] for row in below), ZERO if key in AMOUNTS else 0) for key in PROJECT_KEYS
        }
        depth = sum(1 for other in units if unit.path.startswith(other.path) and other.pk != unit.pk)
        rows.append({"code": unit.code, "name": unit.name, "depth": depth, **_project_row(merged)})
    return rows


def province_agreements(filters: SummaryFilters, user, figures: dict) -> list[dict]:
    """The province's agreements the user may see (rows are scoped), with their projects' `figures`
    ({agreement id: project figures})."""
    scope = Scope(user)
    columns = ("pk", "code", "title", "recipient__name", "status", "pledged")

    def build():
        agreements = scope.narrow(filter_agreements(Agreement.objects.all(), filters)).order_by("code")
        return agreements.values_list(*columns)

    key = (read_alias(Agreement), "province agreements", filters.signature(), scope.signature())
    status_label = dict(Agreement.Status.choices)
    return [
        {
            "pk": pk,
            "code": code,
            "title": title,
            "recipient": recipient,
            "status": status_label.get(status, status),
            "counted": status in Agreement.COUNTED,
            "pledged": _money(pledged),
            **_project_row(figures.get(pk)),
        }
        for pk, code, title, recipient, status, pledged in compiled_rows(key, build)
    ]


@reads
def province_dashboard(filters: SummaryFilters, user) -> dict:
    """Everything /dashboard/provinces/<code>/ shows; `filters.province` is the province."""
    result = summary(filters)
    units = recipient_units()  # for the table, and the filter form (recipient_choices) from them
    return result.page(
        recipients=recipient_choices(),
        province_row=next(row for row in result["by_province"] if row["code"] == filters.province.code),
        agreement_rows=province_agreements(filters, user, _folded(result, 0)),
        by_recipient=by_recipient(filters, units),
        by_quarter=disbursed_by_quarter(filters),
    )


@reads
def category_dashboard(filters: SummaryFilters) -> dict:
    """Everything /dashboard/categories/<code>/ shows; `filters.category` is the category."""
    result = summary(filters)
    top_id = filters.category.parent_id or filters.category.pk
    top = next(c for c in result.categories if c.pk == top_id)
    return result.page(by_subcategory=by_subcategory(result, parent=top))
