"""The base of the django-import-export resources at DESIGN's paths: thin adapters onto the engine.

A resource is what django-import-export's `import`/`export` commands expect. Ours keep the library's
interface but run the engine: `import_data` reads, checks, writes and records through `spreadsheets.services`
like every other entry point; `export` writes codes, Chinese status labels and amounts in 万元, and its xlsx
and csv renderings come from the engine's one writer.
"""

import tablib
from django.utils.translation import gettext as _
from import_export import resources
from import_export.results import Error, Result, RowResult

from spreadsheets import registry
from spreadsheets.cells import RawSheet, SpreadsheetError, clean_cell
from spreadsheets.importer import ImportContext
from spreadsheets.reading import cell_text_limit
from spreadsheets.services import import_recorded
from spreadsheets.writing import write_csv, write_xlsx
from spreadsheets.xlsx import capped


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
            queryset = registry.access("scope_queryset")(self.user, queryset)
        return queryset

    def export_rows(self, queryset=None):
        """The headers and a stream of the rows in scope, as the engine's writer takes them."""
        importer = self.importer(ImportContext(self.user))
        return importer.headers(), importer.export_rows(self.export_queryset(queryset))

    def export(self, queryset=None, **kwargs):
        """A dataset of the rows in scope, with our columns; xlsx and csv renderings are formula-safe."""
        dataset = SafeDataset(headers=self.importer.headers())
        dataset.title = self.importer.sheet_title()
        importer = self.importer(ImportContext(self.user))
        for row in importer.export_rows(self.export_queryset(queryset)):
            dataset.append(row)
        return dataset

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None, **kwargs):
        """Import a tablib dataset all or nothing, recorded like every import; errors are reported per row
        with header and reason. The dataset's cells are taken as they are (as an xlsx's are)."""
        user = kwargs.get("user", self.user)
        if user is not None and not getattr(user, "is_authenticated", False):
            user = None
        result = Result()
        result.diff_headers = list(dataset.headers or [])
        cap = cell_text_limit()
        header = [clean_cell(h) for h in (dataset.headers or [])]
        rows = []
        for index, values in enumerate(dataset, start=2):
            values = [clean_cell(capped(v, cap)) if isinstance(v, str) else v for v in values]
            if any(v is not None for v in values):
                rows.append((index, values))
        title = dataset.title or self.importer.sheet_title()
        raw = RawSheet(title, header, rows)
        record, outcome = import_recorded(
            write_csv(header, (values for _number, values in rows)),
            kwargs.get("file_name") or f"<{title}>",
            user,
            dry_run=dry_run,
            importers=[self.importer],
            target=self.importer.label(),
            sheets=[raw],
        )
        self.record = record
        if outcome is None:
            if raise_errors:
                raise SpreadsheetError(record.message)
            result.append_base_error(Error(ValueError(record.message)))
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
