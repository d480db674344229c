"""The sheet 进展报告 (DESIGN sections 5 and 7), registered in apps.py after 项目.

A row adds a draft report written by the importing user, or updates a draft or a returned report (which
stays returned). A row identical to a submitted or approved report leaves it unchanged; one that would change
it is an error, as is a row of a closed quarter that would write anything (the quarter is named). Photos are
not imported.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from projects import services
from projects.importers import ScopedReferences, known_project, project_codes
from projects.models import ClosedPeriod, ProgressReport, Project
from projects.reporting import closed_quarters
from spreadsheets.cells import EXAMPLE_PROJECT, Column, Pending, chunked, excerpt
from spreadsheets.importer import SheetImporter, many

Status = ProgressReport.Status
READ_ONLY = (Status.SUBMITTED, Status.APPROVED)
BAD_YEAR = gettext_lazy("Enter a year between 2000 and 2100.")
BAD_QUARTER = gettext_lazy("Enter a quarter from 1 to 4.")
BAD_PERCENT = gettext_lazy("Enter a percentage from 0 to 100.")


class ProgressReportImporter(ScopedReferences, SheetImporter):
    model = ProgressReport
    extra_dependencies = (ClosedPeriod,)
    sheet_names = ("进展报告", "Progress reports", "ProgressReports", "Reports")
    key_column = "quarter"
    key_columns = ("project", "year", "quarter")
    columns = [
        Column("project", "项目编号", kind="code", required=True, example=EXAMPLE_PROJECT),
        Column("year", "年度", kind="int", required=True, example=2022),
        Column("quarter", "季度", kind="int", required=True, example=3),
        Column("percent_complete", "完成进度（%）", kind="int", required=True, example=40),
        Column("narrative", "进展情况", max_length=5000, example="主体工程已完工，正在进行内部装修。"),
    ]

    template_lists = staticmethod(project_codes)

    def resolve(self, rows):
        projects = self.scoped_ids(Project, [row["project"] for _n, row in rows])
        resolved = []
        for number, row in rows:
            project_id = known_project(self, projects, number, row)
            for name, low, high, message in (
                ("year", 2000, 2100, BAD_YEAR),
                ("quarter", 1, 4, BAD_QUARTER),
                ("percent_complete", 0, 100, BAD_PERCENT),
            ):
                if row[name] is not None and not low <= row[name] <= high:
                    self.error(number, name, row[name], message)
            values = {
                "project_id": project_id,
                "year": row["year"],
                "quarter": row["quarter"],
                "percent_complete": row["percent_complete"],
                "narrative": row["narrative"] or "",
            }
            resolved.append((number, (project_id, row["year"], row["quarter"]), values))
        return resolved

    def existing(self, numbers):
        project_ids = {key[0] for key in numbers if key[0] is not None and not isinstance(key[0], Pending)}
        found = {}
        for chunk in chunked(project_ids):
            for report in self.objects().filter(project_id__in=many(chunk)):
                key = (report.project_id, report.year, report.quarter)
                if key in numbers:
                    found[key] = report
        return found

    def check_rows(self, staged):
        """Submitted and approved reports are not changed by a file; closed quarters are not written."""
        user = self.context.user
        closed = closed_quarters()
        errors = []
        for number, _key, values, stored in staged:
            if stored is not None and all(getattr(stored, k) == v for k, v in values.items()):
                continue  # identical: changes nothing, whatever the state or the quarter
            if stored is not None and stored.status in READ_ONLY:
                message = _("This report is %(status)s: a spreadsheet cannot change it.") % {
                    "status": stored.get_status_display()
                }
                # Each column that would change is named, with the value the file gives it.
                for name in ("percent_complete", "narrative"):
                    if getattr(stored, name) != values[name]:
                        errors.append((number, name, excerpt(values[name]), message))
                continue
            message = services.closed_quarter_error(
                user=user, periods=[(values["year"], values["quarter"])], closed=closed
            )
            if message:
                errors.append((number, "quarter", values["quarter"], message))
        return errors

    def write(self):
        # A new report is a draft written by the importing user; updates keep their state and author.
        author_id = getattr(self.context.user, "pk", None)
        for values in self.creates:
            values.setdefault("status", Status.DRAFT)
            values.setdefault("author_id", author_id)
        super().write()

    def export_rows(self, queryset):
        rows = queryset.order_by("project__code", "year", "quarter").values_list(
            "project__code", "year", "quarter", "percent_complete", "narrative"
        )
        for row in rows.iterator(chunk_size=5000):
            yield list(row)
