"""Importers of the sheets 项目, 资金拨付 and 建设成果 (DESIGN section 5), registered in apps.py.

A row may name a project or agreement that an earlier sheet of the same workbook adds; only records in the
user's scope can be named — any other is answered exactly as a code that does not exist.
"""

from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.access import scope_queryset
from agreements.models import Agreement, RecipientUnit
from projects import services
from projects.models import (
    CODE_CONVENTION,
    Category,
    ClosedPeriod,
    Disbursement,
    FacilityOutput,
    FacilityType,
    Project,
)
from spreadsheets.cells import EXAMPLE_AGREEMENT, EXAMPLE_PROJECT, Column, Pending, chunked, yuan_to_wan
from spreadsheets.importer import SheetImporter, keyset, many
from spreadsheets.references import (
    Converted,
    code_or_name_map,
    column_values,
    dates_in_order,
    reference_id,
)

# Messages used inside per-row loops: translated when an error is reported, not once per row.
UNKNOWN_CATEGORY = gettext_lazy("Unknown category; use a second-level category such as A01.")
UNKNOWN_RECIPIENT_UNIT = gettext_lazy("Unknown recipient unit.")
UNKNOWN_FACILITY_TYPE = gettext_lazy("Unknown facility type.")


def _date(value):
    return date.fromisoformat(value) if value else None


def _amount(value):
    """Yuan as a parsed amount column holds them (text), a blank cell being nothing."""
    return Decimal(value or "0.00")


TEMPLATE_CODES = 5000  # a template lists at most this many codes per column (a drop-down, not a limit)


def scoped_codes(user, queryset, name_field):
    """[(code, name)] of the records in the user's scope, by code: one bounded query."""
    return list(
        scope_queryset(user, queryset.order_by("code")).values_list("code", name_field)[:TEMPLATE_CODES]
    )


def known_project(importer, projects, number, row):
    """The id of the row's project from `projects` (the importer's scoped ids by code), or None with a row
    error when the code is not one the user may see."""
    return known_project_id(importer, projects, number, row["project"])


def known_project_id(importer, projects, number, code):
    """`known_project` for the project code itself."""
    project_id = projects.get(code)
    if project_id is None and code is not None:
        importer.error(number, "project", code, _("Unknown project code."))
    return project_id


def project_codes(user):
    """The project codes of the user's scope, for the 项目编号 drop-down and the template's codes sheet."""
    return {"project": scoped_codes(user, Project.objects.all(), "name")}


class ScopedReferences:
    """Resolve codes of agreements or projects the user may see, or that an earlier sheet adds."""

    def scoped_ids(self, model, codes):
        ids = {}
        for chunk in chunked(set(codes)):
            ids.update(
                self.context.scoped(model.objects.filter(code__in=many(chunk))).values_list("code", "pk")
            )
        pending = self.context.pending.get(model, set())
        for code in codes:
            if code not in ids and code in pending:
                ids[code] = Pending(model, code)
        return ids


class ProjectImporter(ScopedReferences, SheetImporter):
    model = Project
    sheet_names = ("项目", "Projects", "Project")
    # Shown on the import page and as a note on the template's header: help only, never checked.
    column_help = {"code": CODE_CONVENTION}
    columns = [
        Column("code", "项目编号", required=True, max_length=50, example=EXAMPLE_PROJECT),
        Column("name", "项目名称", required=True, max_length=200, example="和田市职工书屋"),
        Column("agreement", "协议编号", kind="code", required=True, example=EXAMPLE_AGREEMENT),
        Column("category", "项目类别", kind="code", required=True, example="A02"),
        Column("recipient", "受援单位", kind="code", required=True, example="653201"),
        Column("status", "项目状态", kind="status", required=True, example="实施中"),
        Column("budget_wan", "援助金额（万元）", kind="amount", example=50, field="budget"),
        Column("beneficiaries", "受益人次", kind="int", example=1200),
        Column("start_date", "开始日期", kind="date", example="2022-03-01"),
        Column("end_date", "结束日期", kind="date", example="2022-12-31"),
    ]
    choices = {
        "planned": ("计划中", "planned"),
        "in_progress": ("实施中", "in progress"),
        "completed": ("已完成", "completed"),
        "cancelled": ("已取消", "cancelled"),
    }

    @classmethod
    def template_lists(cls, user):
        """The valid codes of the code columns, for the template's drop-downs and its codes sheet."""
        categories = Category.objects.filter(parent__isnull=False).order_by("code")
        return {
            "agreement": scoped_codes(user, Agreement.objects.all(), "title"),
            "category": list(categories.values_list("code", "name")),
            "recipient": list(RecipientUnit.objects.order_by("path").values_list("code", "name")),
        }

    def resolve(self, rows):
        agreements = self.scoped_ids(Agreement, column_values(self, rows, "agreement"))
        categories = code_or_name_map(Category.objects.filter(parent__isnull=False))
        recipients = code_or_name_map(RecipientUnit.objects.all())
        category_ids, recipient_ids = categories[0], recipients[0]
        budgets, days = Converted(_amount), Converted(_date)
        resolved = []
        # A parsed row unpacks in the order of `columns`, without a lookup by name per cell.
        for number, (code, name, agreement, category, recipient, status, budget, people, start, end) in rows:
            agreement_id = agreements.get(agreement)
            if agreement_id is None and agreement is not None:
                self.error(number, "agreement", agreement, _("Unknown agreement code."))
            category_id = category_ids.get(category)
            if category_id is None:
                category_id = reference_id(
                    self, number, "category", category, categories, unknown=UNKNOWN_CATEGORY
                )
            recipient_id = recipient_ids.get(recipient)
            if recipient_id is None:
                recipient_id = reference_id(
                    self, number, "recipient", recipient, recipients, unknown=UNKNOWN_RECIPIENT_UNIT
                )
            dates_in_order(self, number, "end_date", start, end)
            values = {
                "code": code,
                "name": name,
                "agreement_id": agreement_id,
                "category_id": category_id,
                "recipient_id": recipient_id,
                "status": status,
                "budget": budgets[budget],
                "beneficiaries": people or 0,
                "start_date": days[start],
                "end_date": days[end],
            }
            resolved.append((number, code, values))
        return resolved

    def existing(self, numbers):
        found = {}
        for chunk in chunked(numbers):
            for project in self.objects().filter(code__in=many(chunk)):
                if project.code in found:
                    continue
                found[project.code] = project
        if not self.context.national and found:
            in_scope = set()
            for chunk in chunked(found):
                in_scope.update(
                    self.context.scoped(Project.objects.filter(code__in=many(chunk))).values_list(
                        "code", flat=True
                    )
                )
            for code in list(found):
                if code not in in_scope:
                    # Never say whose it is: the same answer whatever province holds it.
                    self.error(numbers[code], "code", code, _("This code is already in use."))
                    del found[code]
        return found

    def register_pending(self, resolved):
        self.pending_codes(Project).update(key for _n, key, _v in resolved)

    def export_rows(self, queryset):
        labels = {value: labels[0] for value, labels in self.choices.items()}
        fields = [
            "code",
            "name",
            "agreement__code",
            "category__code",
            "recipient__code",
            "status",
            "budget",
            "beneficiaries",
            "start_date",
            "end_date",
        ]
        for code, name, agreement, category, recipient, status, budget, people, start, end in keyset(
            queryset, ["code"], fields, unique=True
        ):
            yield [
                code,
                name,
                agreement,
                category,
                recipient,
                labels[status],
                yuan_to_wan(budget),
                people,
                start,
                end,
            ]


class DisbursementImporter(ScopedReferences, SheetImporter):
    model = Disbursement
    extra_dependencies = (ClosedPeriod,)
    sheet_names = ("资金拨付", "Disbursements", "Disbursement")
    key_column = "reference"
    key_columns = ("project", "reference")
    columns = [
        Column("project", "项目编号", kind="code", required=True, example=EXAMPLE_PROJECT),
        Column("date", "拨付日期", kind="date", required=True, example="2022-04-15"),
        Column("amount_wan", "拨付金额（万元）", kind="amount", required=True, example=20, field="amount"),
        Column("reference", "凭证号", required=True, max_length=50, example="PZ2022-0001"),
    ]
    template_lists = staticmethod(project_codes)

    def resolve(self, rows):
        projects = self.scoped_ids(Project, column_values(self, rows, "project"))
        amounts, days = Converted(_amount), Converted(_date)
        resolved = []
        for number, (project, day, amount, reference) in rows:  # in the order of `columns`
            project_id = known_project_id(self, projects, number, project)
            values = {
                "project_id": project_id,
                "date": days[day],
                "amount": amounts[amount],
                "reference": reference,
            }
            resolved.append((number, (project_id, reference), values))
        return resolved

    def check_rows(self, staged):
        """A row adding a disbursement dated in a closed quarter, or changing one on its old or new date, is an
        error naming the quarter (unless the user may write closed quarters). Without a user (a command run
        without --user) the import acts for the national office."""
        if self.context.user is None:
            return []
        refused = services.closed_disbursement_rows(
            user=self.context.user, rows=[(number, stored, values) for number, _key, values, stored in staged]
        )
        return [(number, "date", self.parsed[number].get("date"), message) for number, message in refused]

    def existing(self, numbers):
        project_ids = {project_id for project_id, _ref in numbers if not isinstance(project_id, Pending)}
        found = {}
        for chunk in chunked(project_ids):
            for payment in self.objects().filter(project_id__in=many(chunk)):
                key = (payment.project_id, payment.reference)
                if key in numbers:
                    found[key] = payment
        return found

    def export_rows(self, queryset):
        fields = ["project__code", "date", "amount", "reference"]
        for project, day, amount, reference in keyset(
            queryset, ["project__code", "date", "reference"], fields
        ):
            yield [project, day, yuan_to_wan(amount), reference]


class FacilityOutputImporter(ScopedReferences, SheetImporter):
    model = FacilityOutput
    sheet_names = ("建设成果", "Facility outputs", "Outputs", "FacilityOutputs")
    key_column = "facility_type"
    key_columns = ("project", "facility_type")
    columns = [
        Column("project", "项目编号", kind="code", required=True, example=EXAMPLE_PROJECT),
        Column("facility_type", "设施类型", kind="code", required=True, example="F03"),
        Column("quantity", "数量", kind="int", required=True, example=1),
    ]

    @classmethod
    def template_lists(cls, user):
        return {
            **project_codes(user),
            "facility_type": list(FacilityType.objects.order_by("code").values_list("code", "name")),
        }

    def resolve(self, rows):
        projects = self.scoped_ids(Project, column_values(self, rows, "project"))
        kinds = code_or_name_map(FacilityType.objects.all())
        resolved = []
        for number, (project, kind, quantity) in rows:  # in the order of `columns`
            project_id = known_project_id(self, projects, number, project)
            kind_id = reference_id(self, number, "facility_type", kind, kinds, unknown=UNKNOWN_FACILITY_TYPE)
            values = {"project_id": project_id, "facility_type_id": kind_id, "quantity": quantity}
            resolved.append((number, (project_id, kind_id), values))
        return resolved

    def existing(self, numbers):
        project_ids = {project_id for project_id, _kind in numbers if not isinstance(project_id, Pending)}
        found = {}
        for chunk in chunked(project_ids):
            for output in self.objects().filter(project_id__in=many(chunk)):
                key = (output.project_id, output.facility_type_id)
                if key in numbers:
                    found[key] = output
        return found

    def export_rows(self, queryset):
        fields = ["project__code", "facility_type__code", "quantity"]
        for project, kind, quantity in keyset(queryset, ["project__code", "facility_type__code"], fields):
            yield [project, kind, quantity]
