"""django-import-export's own `export` command, written by the engine's one writer.

Same name and arguments as the library's (`python manage.py export <format> <resource>`). For our resources
the xlsx and csv come from `spreadsheets.writing`, so a text that a spreadsheet would run as a formula is
written as text, codes are text cells and amounts numbers, exactly as in the admin's downloads; the rows are
read in keyset chunks, so memory stays flat whatever the number of rows. Other resources and formats are
left to the library.
"""

import importlib
import sys

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from import_export.command_utils import get_resource_class

from spreadsheets.writing import write_csv_stream, write_xlsx

library = importlib.import_module("import_export.management.commands.export")


class Command(library.Command):
    def handle(self, *args, **options):
        fmt = (options.get("format") or "").lower().rsplit(".", 1)[-1]
        resource = get_resource_class(options["resource"])()
        importer = getattr(resource, "importer", None)
        if importer is None or fmt not in ("xlsx", "csv"):
            return super().handle(*args, **options)
        if options.get("encoding") and options["encoding"].replace("-", "").lower() not in (
            "utf8",
            "utf8sig",
        ):
            raise CommandError(_("CSV exports are UTF-8 with a BOM."))
        headers, rows = resource.export_rows()
        out = self.stdout.buffer
        if fmt == "xlsx":
            if self.stdout.isatty():
                self.stderr.write(
                    self.style.ERROR(
                        _(
                            "An xlsx file is binary and cannot be shown on a terminal. Redirect the output to a file."
                        )
                    )
                )
                sys.exit(1)
            write_xlsx([(importer.sheet_title(), headers, rows)], stream=_Unseekable(out))
        else:
            for chunk in write_csv_stream(headers, rows):
                out.write(chunk)
        out.flush()


class _Unseekable:
    """Standard output as zipfile sees a pipe: it writes data descriptors instead of seeking back."""

    def __init__(self, raw):
        self.raw = raw

    def write(self, data):
        self.raw.write(data)
        return len(data)

    def flush(self):
        self.raw.flush()
