"""django-import-export's own `import` command, reading a CSV in whatever encoding Excel wrote it.

The library opens a CSV in text mode with the locale's encoding (its `--encoding` option is not applied to
the file), so a GB18030 file saved by Excel on Chinese Windows ends in a traceback. DESIGN section 5 says CSV
is read without the user naming the encoding: this command keeps the library's arguments and behaviour and
only hands it the CSV's text decoded the way every other import decodes it. It takes precedence because
`import_export` is listed after this app in INSTALLED_APPS.
"""

import importlib
import io
import sys
from pathlib import Path

from django.core.management.base import CommandError

from agreements.spreadsheets import SpreadsheetError, decode_text

library = importlib.import_module("import_export.management.commands.import")


class Command(library.Command):
    def handle(self, *args, **options):
        file_name = options.get("import_file_name")
        if file_name == "-" or options.get("format") or not file_name.lower().endswith(".csv"):
            return super().handle(*args, **options)
        try:
            text = decode_text(Path(file_name).read_bytes())
        except (OSError, SpreadsheetError) as exc:
            raise CommandError(str(exc)) from exc
        stdin = sys.stdin
        sys.stdin = io.StringIO(text)
        try:
            return super().handle(*args, **{**options, "import_file_name": "-", "format": "CSV"})
        finally:
            sys.stdin = stdin
