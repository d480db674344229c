from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Aid projects")

    def ready(self):
        from projects.importers import DisbursementImporter, FacilityOutputImporter, ProjectImporter
        from projects.report_importer import ProgressReportImporter
        from spreadsheets import registry

        registry.register(ProjectImporter, order=20)
        registry.register(DisbursementImporter, order=30)
        registry.register(FacilityOutputImporter, order=40)
        registry.register(ProgressReportImporter, order=50)  # after 项目: a row may name a new project
