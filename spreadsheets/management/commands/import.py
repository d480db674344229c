"""django-import-export's own `import` command, run through the engine and recorded.

Same name and arguments as the library's, its messages in Chinese, (`python manage.py import <resource> <file>`, `-` for
standard input), with what DESIGN section 5 asks of every import: the format is told from the content (a CSV
in whatever encoding Excel wrote it), one bad row fails the whole file with every bad row listed, and the
import is recorded (file name — `<stdin>` for standard input — checksum, counts, outcome) like one from the
admin. Reading standard input never prompts: the prompt would read the data's first line. It takes
precedence over the library's because `spreadsheets` comes before `import_export` in INSTALLED_APPS.
"""

import importlib
import sys
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from import_export.command_utils import get_resource_class

from spreadsheets.services import import_recorded

library = importlib.import_module("import_export.management.commands.import")
STDIN_NAME = "<stdin>"


class Command(library.Command):
    def handle(self, *args, **options):
        file_name = options["import_file_name"]
        resource = get_resource_class(options["resource"])()
        importer = getattr(resource, "importer", None)
        if importer is None:
            return super().handle(*args, **options)
        fmt = (options.get("format") or "").lower().rsplit(".", 1)[-1]
        if file_name == "-":
            data = sys.stdin.buffer.read()
            # The format is told from the content; `--format` only names it when the content could be either.
            name, read_as = STDIN_NAME, f"{STDIN_NAME}.{fmt}" if fmt in ("csv", "xlsx") else ""
        else:
            if (
                options["interactive"]
                and input(_("Are you sure you want to import the data? [yes/no]: ")) != "yes"
            ):
                raise CommandError(_("Import cancelled."))
            try:
                data = Path(file_name).read_bytes()
            except FileNotFoundError as exc:
                raise CommandError(_("No such file: %(path)s") % {"path": file_name}) from exc
            except OSError as exc:
                raise CommandError(_("The file %(path)s could not be read.") % {"path": file_name}) from exc
            name, read_as = Path(file_name).name, None
        record, outcome = import_recorded(
            data,
            name,
            None,
            dry_run=options["dry_run"],
            importers=[importer],
            target=importer.label(),
            read_as=read_as,
        )
        if outcome is None:
            raise CommandError(record.message)
        if options["dry_run"]:
            self.stderr.write(self.style.NOTICE(_("Dry run: nothing will be written.")))
        if outcome.errors:
            self.stderr.write(self.style.ERROR(_("Import errors: nothing was written.")))
            for error in outcome.errors:
                self.stderr.write(
                    _("Row %(row)s, column %(column)s, value “%(value)s”: %(message)s") % error.as_dict()
                )
            sys.exit(1)
        totals = outcome.totals()
        self.stderr.write(
            self.style.NOTICE(
                _(
                    "Import finished: %(new)s new, %(updated)s updated, 0 deleted and %(skipped)s skipped "
                    "(%(rows)s)."
                )
                % {
                    "new": totals["new"],
                    "updated": totals["updated"],
                    "skipped": totals["unchanged"],
                    "rows": resource._meta.model._meta.verbose_name_plural,
                }
            )
        )
