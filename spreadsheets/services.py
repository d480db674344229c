"""Running imports: preview, confirm, cancel and one-go runs, each recorded as an ImportRecord.

Every entry point (the admin, `import_workbook`, the library's `import` command, a resource's
`import_data`) calls these functions, so every import is read, checked, written and recorded the same way.
"""

import json
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import transaction
from django.utils.translation import gettext as _

from spreadsheets import registry
from spreadsheets.cells import ERROR_HEADER, SpreadsheetError
from spreadsheets.importer import ImportContext
from spreadsheets.reading import read_file, sha256
from spreadsheets.writing import write_xlsx

# --------------------------------------------------------------------------------------------------
# Running an import: parse once, validate (again on confirm), write all in one transaction


@dataclass
class ImportOutcome:
    """What an import found: per-sheet counts, every error, and the normalised rows for a confirm."""

    sheets: list = field(default_factory=list)  # [(importer class, parsed rows)]
    counts: dict = field(default_factory=dict)  # sheet title -> counts
    errors: list = field(default_factory=list)  # [RowError]
    actions: dict = field(default_factory=dict)  # sheet title -> {row: action}
    written: bool = False

    @property
    def ok(self):
        return not self.errors

    def totals(self):
        total = {"new": 0, "updated": 0, "unchanged": 0, "errors": 0}
        for counts in self.counts.values():
            for key in total:
                total[key] += counts[key]
        return total

    def staged(self) -> bytes:
        """The normalised rows, compressed, for a confirm on any app server."""
        payload = [[cls.label(), rows] for cls, rows in self.sheets]
        return zlib.compress(json.dumps(payload, ensure_ascii=False).encode(), 3)


def select_sheets(raw_sheets, importers=None):
    """Pair the file's sheets with importers.

    With one importer (an admin page or a resource), a file of one sheet is that sheet whatever its name;
    otherwise sheets are matched by name (Chinese or English) and unknown sheets are an error.
    """
    importers = importers or registry.importer_classes()
    if len(importers) == 1:
        cls = importers[0]
        named = [raw for raw in raw_sheets if cls.matches_sheet(raw.title)]
        if named:
            return [(cls, named[0])]
        if len(raw_sheets) == 1:
            return [(cls, raw_sheets[0])]
        raise SpreadsheetError(
            _("No sheet named %(names)s was found.") % {"names": " / ".join(cls.sheet_names)}
        )
    pairs = []
    for cls in importers:
        for raw in raw_sheets:
            if cls.matches_sheet(raw.title):
                pairs.append((cls, raw))
                break
    if not pairs and len(raw_sheets) == 1:
        # A csv (or a sheet named otherwise): recognise it by its header.
        for cls in importers:
            positions, problems = cls(ImportContext()).map_columns(raw_sheets[0].header)
            if not problems:
                pairs.append((cls, raw_sheets[0]))
                break
    if not pairs:
        names = "、".join(cls.sheet_title() for cls in importers)
        raise SpreadsheetError(_("No sheet named %(names)s was found.") % {"names": names})
    return pairs


def parse_sheets(pairs, context=None):
    """Parse every selected sheet; cell errors are collected, not raised."""
    outcome = ImportOutcome()
    for cls, raw in pairs:
        importer = cls(context or ImportContext())
        rows = importer.parse(raw)
        outcome.sheets.append((cls, rows))
        outcome.errors.extend(importer.errors)
    if not any(rows for _cls, rows in outcome.sheets):
        raise SpreadsheetError(_("The file holds no data rows."))
    return outcome


def run(sheets, user=None, *, dry_run=False, parse_errors=()):
    """Validate parsed sheets in dependency order and, unless dry_run or any error, write them all.

    `sheets` is [(importer class, parsed rows)]; nothing is written when any sheet has an error.
    """
    context = ImportContext(user)
    order = {path: index for index, path in enumerate(registry.importer_classes())}
    sheets = sorted(sheets, key=lambda pair: order.get(pair[0], 0))
    outcome = ImportOutcome(sheets=sheets)
    importers = []
    parse_error_rows = {}
    for error in parse_errors:
        parse_error_rows.setdefault(error.sheet, set()).add(error.row)
    for cls, rows in sheets:
        importer = cls(context)
        importer.error_rows |= parse_error_rows.get(cls.sheet_title(), set())
        importer.validate(rows)
        importers.append(importer)
        counts = importer.counts()
        outcome.counts[cls.sheet_title()] = counts
        outcome.actions[cls.sheet_title()] = importer.actions
    outcome.errors = list(parse_errors) + [e for importer in importers for e in importer.errors]
    for importer in importers:
        rows_with_errors = {e.row for e in outcome.errors if e.sheet == importer.sheet_title()}
        outcome.counts[importer.sheet_title()]["errors"] = len(rows_with_errors)
    if outcome.errors or dry_run:
        return outcome
    with transaction.atomic():
        for importer in importers:
            importer.write()
    outcome.written = True
    return outcome


def import_file(data: bytes, filename: str, user=None, *, dry_run=False, importers=None):
    """Read, parse, validate and (unless dry_run or any error) write a file. Raises SpreadsheetError."""
    pairs = select_sheets(read_file(data, filename), importers)
    parsed = parse_sheets(pairs)
    return run(parsed.sheets, user, dry_run=dry_run, parse_errors=parsed.errors)


def load_staged(blob: bytes):
    by_label = {cls.label(): cls for cls in registry.importer_classes()}
    return [
        (by_label[label], [(number, row) for number, row in rows])
        for label, rows in json.loads(zlib.decompress(blob).decode())
    ]


# --------------------------------------------------------------------------------------------------
# Recorded imports: what the admin and the command line call

PREVIEW_ROWS = 100


def _display(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if not value.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return format(value, ".15g")
    return str(value)


def _new_record(data, filename, user, source, target):
    from spreadsheets.models import ImportRecord

    return ImportRecord(
        user=user if getattr(user, "pk", None) else None,
        file_name=(filename or "")[-255:],
        file_size=len(data),
        sha256=sha256(data),
        source=source,
        target=target,
    )


def _fill(record, outcome, pairs):
    record.counts = outcome.counts
    record.errors = [error.as_dict() for error in outcome.errors]
    preview = []
    for cls, raw in pairs:
        actions = outcome.actions.get(cls.sheet_title(), {})
        positions, _problems = cls(ImportContext()).map_columns(raw.header)
        order = [positions.get(column.name) for column in cls.columns]
        for number, values in raw.rows:
            if len(preview) >= PREVIEW_ROWS:
                break
            preview.append(
                {
                    "sheet": cls.sheet_title(),
                    "row": number,
                    "action": actions.get(number, "error"),
                    "values": [
                        _display(values[i]) if i is not None and i < len(values) else "" for i in order
                    ],
                }
            )
    record.preview = preview


def preview_import(data, filename, user, *, importers=None, source="admin", target=""):
    """Read, parse and validate a file without writing; a clean preview keeps the rows for confirm."""
    from django.utils import timezone

    from spreadsheets.models import ImportRecord

    record = _new_record(data, filename, user, source, target)
    record.file = data
    try:
        pairs = select_sheets(read_file(data, filename), importers)
        parsed = parse_sheets(pairs)
        outcome = run(parsed.sheets, user, dry_run=True, parse_errors=parsed.errors)
    except SpreadsheetError as exc:
        record.outcome = ImportRecord.Outcome.REJECTED
        record.message = exc.message
        record.finished_at = timezone.now()
        record.save()
        return record
    _fill(record, outcome, pairs)
    if outcome.ok:
        record.outcome = ImportRecord.Outcome.PREVIEWED
        record.staged = outcome.staged()
    else:
        record.outcome = ImportRecord.Outcome.REJECTED
        record.message = _("Nothing was imported: %(count)s rows have errors.") % {
            "count": sum(c["errors"] for c in outcome.counts.values())
        }
        record.finished_at = timezone.now()
    record.save()
    return record


def confirm_import(record, user):
    """Write a previewed import, validating again against the data as it is now; all or nothing."""
    from django.utils import timezone

    from spreadsheets.models import ImportRecord

    sheets = load_staged(bytes(record.staged))
    outcome = run(sheets, user)
    record.counts = outcome.counts
    record.errors = [error.as_dict() for error in outcome.errors]
    record.finished_at = timezone.now()
    record.staged = None
    if outcome.written:
        record.outcome = ImportRecord.Outcome.IMPORTED
    else:
        record.outcome = ImportRecord.Outcome.REJECTED
        record.message = _("The data changed since the preview; nothing was imported.")
    record.save()
    return record, outcome


def import_recorded(data, filename, user, *, dry_run=False, importers=None, source="command", target=""):
    """Read, validate and write in one go (the command line); recorded like an admin import."""
    from django.utils import timezone

    from spreadsheets.models import ImportRecord

    record = _new_record(data, filename, user, source, target)
    outcome = None
    try:
        pairs = select_sheets(read_file(data, filename), importers)
        parsed = parse_sheets(pairs)
        outcome = run(parsed.sheets, user, dry_run=dry_run, parse_errors=parsed.errors)
    except SpreadsheetError as exc:
        record.outcome = ImportRecord.Outcome.REJECTED
        record.message = exc.message
    else:
        record.counts = outcome.counts
        record.errors = [error.as_dict() for error in outcome.errors]
        if outcome.errors:
            record.outcome = ImportRecord.Outcome.REJECTED
            record.file = data
        elif dry_run:
            record.outcome = ImportRecord.Outcome.DRY_RUN
        else:
            record.outcome = ImportRecord.Outcome.IMPORTED
    record.finished_at = timezone.now()
    record.save()
    return record, outcome


def error_report(record) -> bytes:
    """The uploaded sheets as xlsx with an error column holding every problem of each row."""
    sheets = select_sheets(
        read_file(bytes(record.file), record.file_name), registry.importers_for(record.target)
    )
    by_row = {}
    for error in record.errors:
        text = f"{error['column']}: {error['message']}" if error["column"] else error["message"]
        by_row.setdefault((error["sheet"], error["row"]), []).append(text)
    out = []
    for cls, raw in sheets:
        title = cls.sheet_title()
        rows = [
            list(values[: len(raw.header)])
            + [None] * (len(raw.header) - len(values))
            + ["；".join(by_row.get((title, number), []))]
            for number, values in raw.rows
        ]
        out.append((title, list(raw.header) + [ERROR_HEADER], rows))
    return write_xlsx(out)
