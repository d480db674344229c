"""The resources of the sheets 项目, 资金拨付, 建设成果 and 进展报告 at DESIGN's paths: thin adapters onto the engine."""

from projects.importers import DisbursementImporter, FacilityOutputImporter, ProjectImporter
from projects.models import Disbursement, FacilityOutput, ProgressReport, Project
from projects.report_importer import ProgressReportImporter
from spreadsheets.resources import SpreadsheetResource


class ProjectResource(SpreadsheetResource):
    """项目 — key 项目编号."""

    importer = ProjectImporter

    class Meta:
        model = Project
        import_id_fields = ("code",)
        fields = ("code",)


class DisbursementResource(SpreadsheetResource):
    """资金拨付 — key 项目编号 + 凭证号."""

    importer = DisbursementImporter

    class Meta:
        model = Disbursement
        import_id_fields = ("project", "reference")
        fields = ("project", "reference")


class FacilityOutputResource(SpreadsheetResource):
    """建设成果 — key 项目编号 + 设施类型."""

    importer = FacilityOutputImporter

    class Meta:
        model = FacilityOutput
        import_id_fields = ("project", "facility_type")
        fields = ("project", "facility_type")


class ProgressReportResource(SpreadsheetResource):
    """进展报告 — key 项目编号 + 年度 + 季度."""

    importer = ProgressReportImporter

    class Meta:
        model = ProgressReport
        import_id_fields = ("project", "year", "quarter")
        fields = ("project", "year", "quarter")
