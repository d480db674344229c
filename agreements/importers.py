"""The importer of the 协议 sheet (DESIGN section 5), registered with the spreadsheet engine in apps.py."""

from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.access import sees_everything
from agreements.models import Agreement, Province, RecipientUnit
from spreadsheets.cells import EXAMPLE_AGREEMENT, Column, chunked, yuan_to_wan
from spreadsheets.importer import SheetImporter, keyset, many
from spreadsheets.references import Converted, code_or_name_map, dates_in_order, reference_id


def _date(value):
    """A parsed date column's ISO text as a date; a blank cell stays blank."""
    return value and date.fromisoformat(value)


# Messages used inside per-row loops: translated when an error is reported, not once per row.
UNKNOWN_DONOR_PROVINCE = gettext_lazy("Unknown donor province.")
UNKNOWN_RECIPIENT_UNIT = gettext_lazy("Unknown recipient unit.")


class AgreementImporter(SheetImporter):
    model = Agreement
    sheet_names = ("协议", "Agreements", "Agreement")
    columns = [
        Column("code", "协议编号", required=True, max_length=50, example=EXAMPLE_AGREEMENT),
        Column("title", "协议名称", required=True, max_length=200, example="××市总工会对口援疆协议"),
        Column("province", "援助省市", kind="code", required=True, example="110000"),
        Column("donor_unit", "签约单位", max_length=100, example=None),
        Column("recipient", "受援单位", kind="code", required=True, example="653200"),
        Column("signed_on", "签订日期", kind="date", example="2021-03-01"),
        Column("starts_on", "开始日期", kind="date", example="2021-03-01"),
        Column("ends_on", "结束日期", kind="date", example="2025-12-31"),
        Column("pledged_wan", "援助意向金额（万元）", kind="amount", example=2000, field="pledged"),
        Column("status", "协议状态", kind="status", required=True, example="已签订"),
    ]
    choices = {
        "draft": ("草拟", "draft"),
        "signed": ("已签订", "signed"),
        "completed": ("已完成", "completed"),
        "terminated": ("已终止", "terminated"),
    }

    @classmethod
    def template_lists(cls, user):
        """The valid codes of the code columns, for the template's drop-downs and its codes sheet."""
        provinces = Province.objects.order_by("order", "code")
        if not sees_everything(user):
            profile_province = getattr(getattr(user, "staff_profile", None), "province_id", None)
            provinces = provinces.filter(pk=profile_province)
        return {
            "province": list(provinces.values_list("code", "name")),
            "recipient": list(RecipientUnit.objects.order_by("path").values_list("code", "name")),
        }

    def resolve(self, rows):
        provinces = code_or_name_map(Province.objects.all())
        recipients = code_or_name_map(RecipientUnit.objects.all())
        province_ids, recipient_ids = provinces[0], recipients[0]
        amounts, days = Converted(lambda text: Decimal(text or "0.00")), Converted(_date)
        resolved = []
        # A parsed row unpacks in the order of `columns`, without a lookup by name per cell.
        for number, row in rows:
            code, title, province, donor, recipient, signed, starts, ends, pledged, status = row
            province_id = province_ids.get(province)
            if province_id is None:
                province_id = reference_id(
                    self, number, "province", province, provinces, unknown=UNKNOWN_DONOR_PROVINCE
                )
            if province_id is not None and not self.context.in_province(province_id):
                self.error(
                    number,
                    "province",
                    province,
                    _("You may only import records of your own province."),
                )
            recipient_id = recipient_ids.get(recipient)
            if recipient_id is None:
                recipient_id = reference_id(
                    self, number, "recipient", recipient, recipients, unknown=UNKNOWN_RECIPIENT_UNIT
                )
            values = {
                "code": code,
                "title": title,
                "province_id": province_id,
                "donor_unit": donor or "",
                "recipient_id": recipient_id,
                "signed_on": days[signed],
                "starts_on": days[starts],
                "ends_on": days[ends],
                "pledged": amounts[pledged],
                "status": status,
            }
            dates_in_order(self, number, "ends_on", starts, ends)
            resolved.append((number, code, values))
        return resolved

    def existing(self, numbers):
        found = {}
        for chunk in chunked(numbers):
            for agreement in self.objects().filter(code__in=many(chunk)):
                if self.context.in_province(agreement.province_id):
                    found[agreement.code] = agreement
                else:
                    # Never say whose it is: the same answer whatever province holds it.
                    self.error(
                        numbers[agreement.code], "code", agreement.code, _("This code is already in use.")
                    )
        return found

    def register_pending(self, resolved):
        self.pending_codes(Agreement).update(key for _number, key, _values in resolved)

    def export_rows(self, queryset):
        fields = [
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
        ]
        for row in keyset(queryset, ["province__order", "code"], fields):
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
