"""Spreadsheet resources for agreements (DESIGN section 5, sheet 协议), and the resource base class.

A resource is what django-import-export's `import`/`export` commands and admin mixins expect. Ours keep the
library's interface but run the set-wise pipeline of `agreements.spreadsheets`: `import_data` parses once,
validates the whole sheet with lookup maps and writes with bulk operations and history, all or nothing;
`export` writes codes, Chinese status labels and amounts in 万元.
"""

import tablib
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources
from import_export.results import Error, Result, RowResult

from agreements.access import scope_queryset
from agreements.models import Agreement, Province, RecipientUnit
from agreements.spreadsheets import (
    Column,
    ImportContext,
    RawSheet,
    SheetImporter,
    SpreadsheetError,
    chunked,
    clean_cell,
    code_or_name_map,
    parse_sheets,
    run,
    unescape_csv,
    write_csv,
    write_xlsx,
    yuan_to_wan,
)

# Messages used inside per-row loops: translated when an error is reported, not once per row.
UNKNOWN_DONOR_PROVINCE = gettext_lazy("Unknown donor province.")
UNKNOWN_RECIPIENT_UNIT = gettext_lazy("Unknown recipient unit.")


def reference_id(importer, row_number, column, value, maps, *, unknown, ambiguous=None):
    """The id of a code or exact name in (by_code, by_name) maps; reports an error and returns None."""
    if value is None:
        return None  # blank or unreadable: already reported by the parser
    by_code, by_name = maps
    if value in by_code:
        return by_code[value]
    if value in by_name:
        if by_name[value] is None:
            importer.error(
                row_number, column, value, ambiguous or _("Several records have this name; use the code.")
            )
            return None
        return by_name[value]
    importer.error(row_number, column, value, unknown)
    return None


def dates_in_order(importer, number, start_column, end_column, values, start, end):
    if values.get(start) and values.get(end) and values[end] < values[start]:
        importer.error(number, end_column, values[end], _("The end date is before the start date."))


class AgreementImporter(SheetImporter):
    model = Agreement
    sheet_names = ("协议", "Agreements", "Agreement")
    columns = [
        Column("code", "协议编号", required=True, max_length=50, example="BJ-2021-01"),
        Column("title", "协议名称", required=True, max_length=200, example="北京市总工会对口援疆协议"),
        Column("province", "援助省市", kind="code", required=True, example="110000"),
        Column("donor_unit", "签约单位", max_length=100, example=None),
        Column("recipient", "受援单位", kind="code", required=True, example="653200"),
        Column("signed_on", "签订日期", kind="date", example="2021-03-01"),
        Column("starts_on", "开始日期", kind="date", example="2021-03-01"),
        Column("ends_on", "结束日期", kind="date", example="2025-12-31"),
        Column("pledged_wan", "援助意向金额（万元）", kind="amount", example=2000),
        Column("status", "协议状态", kind="status", required=True, example="已签订"),
    ]
    choices = {
        "draft": ("草拟", "draft"),
        "signed": ("已签订", "signed"),
        "completed": ("已完成", "completed"),
        "terminated": ("已终止", "terminated"),
    }

    def resolve(self, rows):
        from datetime import date
        from decimal import Decimal

        provinces = code_or_name_map(Province.objects.all())
        recipients = code_or_name_map(RecipientUnit.objects.all())
        resolved = []
        for number, row in rows:
            province_id = reference_id(
                self, number, "province", row["province"], provinces, unknown=UNKNOWN_DONOR_PROVINCE
            )
            if province_id is not None and not self.context.in_province(province_id):
                self.error(
                    number,
                    "province",
                    row["province"],
                    _("You may only import records of your own province."),
                )
            recipient_id = reference_id(
                self, number, "recipient", row["recipient"], recipients, unknown=UNKNOWN_RECIPIENT_UNIT
            )
            values = {
                "code": row["code"],
                "title": row["title"],
                "province_id": province_id,
                "donor_unit": row["donor_unit"] or "",
                "recipient_id": recipient_id,
                "signed_on": row["signed_on"] and date.fromisoformat(row["signed_on"]),
                "starts_on": row["starts_on"] and date.fromisoformat(row["starts_on"]),
                "ends_on": row["ends_on"] and date.fromisoformat(row["ends_on"]),
                "pledged": Decimal(row["pledged_wan"] or "0.00"),
                "status": row["status"],
            }
            dates_in_order(self, number, "starts_on", "ends_on", row, "starts_on", "ends_on")
            resolved.append((number, row["code"], values))
        return resolved

    def existing(self, numbers):
        found = {}
        for chunk in chunked(numbers):
            for agreement in Agreement.objects.filter(code__in=chunk):
                if self.context.in_province(agreement.province_id):
                    found[agreement.code] = agreement
                else:
                    # Never say whose it is: the same answer whatever province holds it.
                    self.error(
                        numbers[agreement.code], "code", agreement.code, _("This code is already in use.")
                    )
        return found

    def register_pending(self, resolved):
        self.context.pending[Agreement] = {key for _number, key, _values in resolved}

    def export_rows(self, queryset):
        for row in (
            queryset.order_by("province__order", "code")
            .values_list(
                "code",
                "title",
                "province__code",
                "donor_unit",
                "recipient__code",
                "signed_on",
                "starts_on",
                "ends_on",
                "pledged",
                "status",
            )
            .iterator(chunk_size=2000)
        ):
            (code, title, province, donor, recipient, signed, starts, ends, pledged, status) = row
            yield [
                code,
                title,
                province,
                donor or None,
                recipient,
                signed,
                starts,
                ends,
                yuan_to_wan(pledged),
                self.choices[status][0],
            ]


class SpreadsheetResource(resources.ModelResource):
    """A django-import-export resource running the set-wise spreadsheet pipeline.

    `user` scopes imports and exports (section 3) and is recorded in the history; without one (the
    library's `import`/`export` commands) the scope is national.
    """

    importer = None

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def get_export_headers(self, selected_fields=None):
        return self.importer.headers()

    def export_queryset(self, queryset=None):
        queryset = self._meta.model.objects.all() if queryset is None else queryset
        if self.user is not None:
            queryset = scope_queryset(self.user, queryset)
        return queryset

    def export(self, queryset=None, **kwargs):
        """A dataset of the rows in scope, with our columns; xlsx and csv renderings are formula-safe."""
        dataset = SafeDataset(headers=self.importer.headers())
        dataset.title = self.importer.sheet_title()
        importer = self.importer(ImportContext(self.user))
        for row in importer.export_rows(self.export_queryset(queryset)):
            dataset.append(row)
        return dataset

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None, **kwargs):
        """Import a tablib dataset all or nothing; errors are reported per row with header and reason."""
        user = kwargs.get("user", self.user)
        if user is not None and not getattr(user, "is_authenticated", False):
            user = None
        result = Result()
        result.diff_headers = list(dataset.headers or [])
        header = [clean_cell(h) for h in (dataset.headers or [])]
        rows = []
        for index, values in enumerate(dataset, start=2):
            values = [clean_cell(unescape_csv(v)) if isinstance(v, str) else v for v in values]
            if any(v is not None for v in values):
                rows.append((index, values))
        raw = RawSheet(dataset.title or self.importer.sheet_title(), header, rows)
        try:
            parsed = parse_sheets([(self.importer, raw)])
            outcome = run(parsed.sheets, user, dry_run=dry_run, parse_errors=parsed.errors)
        except SpreadsheetError as exc:
            if raise_errors:
                raise
            result.append_base_error(Error(ValueError(exc.message)))
            return result
        self.outcome = outcome
        counts = outcome.totals()
        result.totals[RowResult.IMPORT_TYPE_NEW] = counts["new"]
        result.totals[RowResult.IMPORT_TYPE_UPDATE] = counts["updated"]
        result.totals[RowResult.IMPORT_TYPE_SKIP] = counts["unchanged"]
        result.total_rows = len(rows)
        for error in outcome.errors:
            row_result = RowResult()
            row_result.number = error.row
            row_result.import_type = RowResult.IMPORT_TYPE_ERROR
            message = _("Row %(row)s, column %(column)s, value “%(value)s”: %(message)s") % error.as_dict()
            row_result.errors.append(Error(ValueError(message), number=error.row))
            result.append_row_result(row_result)
            result.totals[RowResult.IMPORT_TYPE_ERROR] += 1
        if outcome.errors and raise_errors:
            raise ValueError(outcome.errors[0].message)
        return result


class SafeDataset(tablib.Dataset):
    """A dataset whose xlsx and csv renderings never let a cell run as a formula (see spreadsheets)."""

    def export(self, format, **kwargs):
        if format == "xlsx":
            return write_xlsx([(self.title or "Sheet1", self.headers, list(self))])
        if format == "csv":
            return write_csv(self.headers, list(self)).decode("utf-8")
        return super().export(format, **kwargs)


class AgreementResource(SpreadsheetResource):
    """协议 — key 协议编号."""

    importer = AgreementImporter

    code = fields.Field(attribute="code", column_name="协议编号")
    title = fields.Field(attribute="title", column_name="协议名称")
    province = fields.Field(attribute="province__code", column_name="援助省市")
    donor_unit = fields.Field(attribute="donor_unit", column_name="签约单位")
    recipient = fields.Field(attribute="recipient__code", column_name="受援单位")
    signed_on = fields.Field(attribute="signed_on", column_name="签订日期")
    starts_on = fields.Field(attribute="starts_on", column_name="开始日期")
    ends_on = fields.Field(attribute="ends_on", column_name="结束日期")
    pledged_wan = fields.Field(attribute="pledged", column_name="援助意向金额（万元）")
    status = fields.Field(attribute="status", column_name="协议状态")

    class Meta:
        model = Agreement
        import_id_fields = ("code",)
        fields = (
            "code",
            "title",
            "province",
            "donor_unit",
            "recipient",
            "signed_on",
            "starts_on",
            "ends_on",
            "pledged_wan",
            "status",
        )
