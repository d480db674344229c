"""The 协议 resource at DESIGN's path: a thin adapter onto the engine's AgreementImporter."""

from agreements.importers import AgreementImporter
from agreements.models import Agreement
from spreadsheets.resources import SpreadsheetResource


class AgreementResource(SpreadsheetResource):
    """协议 — key 协议编号."""

    importer = AgreementImporter

    class Meta:
        model = Agreement
        import_id_fields = ("code",)
        fields = ("code",)
