"""django-import-export's own `import` command, run through our import pipeline and recorded.

Same name, arguments and messages as the library's command (`python manage.py import <resource> <file>`), with
what DESIGN section 5 asks of every import: a CSV is read in whatever encoding Excel wrote it (the library
opens it in text mode with the locale's encoding and ends in a traceback on GB18030), one bad row fails the
whole file with every bad row listed, and the import is recorded (file name, checksum, counts, outcome) like
one from the admin. It takes precedence because `import_export` is listed after this app in INSTALLED_APPS.
Reading from standard input (`-`) or with `--format` is left to the library.
"""

import importlib
import sys
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from import_export.command_utils import get_resource_class

from spreadsheets.services import import_recorded

library = importlib.import_module("import_export.management.commands.import")


class Command(library.Command):
    def handle(self, *args, **options):
        file_name = options["import_file_name"]
        resource = get_resource_class(options["resource"])()
        importer = getattr(resource, "importer", None)
        if file_name == "-" or options.get("format") or importer is None:
            return super().handle(*args, **options)
        if options["interactive"] and input("Are you sure you want to import the data? [yes/no]: ") != "yes":
            raise CommandError("Import cancelled.")
        try:
            data = Path(file_name).read_bytes()
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        record, outcome = import_recorded(
            data, Path(file_name).name, None, dry_run=options["dry_run"], importers=[importer],
            target=importer.label(),
        )  # fmt: skip
        if outcome is None:
            raise CommandError(record.message)
        if options["dry_run"]:
            self.stderr.write(
                self.style.NOTICE("You have activated the --dry-run option so no data will be modified.")
            )
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
                f"Import finished: {totals['new']} new, {totals['updated']} updated, 0 deleted and "
                f"{totals['unchanged']} skipped {resource._meta.model._meta.verbose_name_plural}."
            )
        )
