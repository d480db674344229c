"""Running imports: preview, confirm, cancel and one-go runs, each recorded as an ImportRecord.

Every entry point (the admin, `import_workbook`, the library's `import` command from a file or standard
input, a resource's `import_data`) calls these functions, so every import is read, checked, written and
recorded the same way — written, refused, failed or cancelled.
"""

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import DataError, IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from spreadsheets import registry
from spreadsheets.cells import ERROR_HEADER, SpreadsheetError, display, excerpt
from spreadsheets.importer import KEEP, ROWS_PER_CHUNK, ImportContext
from spreadsheets.reading import open_file, sha256
from spreadsheets.staging import (
    Staged,
    StagedSheet,
    Staging,
    dependency_stamp,
    load_staged,
    save_with_blobs,
    staged_versions,
)
from spreadsheets.writing import write_xlsx

__all__ = ["load_staged"]  # the staging's reader, for tests and tools
PREVIEW_ROWS = KEEP


class ImportConflict(Exception):
    """A concurrent import or edit wrote some of the same records first (a unique key, a deadlock)."""

    def message(self):
        return _(
            "Nothing was imported: another import or edit wrote some of the same records at the same moment. "
            "Preview the file again."
        )


class ImportRefused(ImportConflict):
    """The database refused a value the checks let through (a staging made for a table that has changed since,
    by a server of another release)."""

    def message(self):
        return _("Nothing was imported: the database refused the rows. Preview the file again.")


# --------------------------------------------------------------------------------------------------
# Running an import: rows streamed from the file (or the staging) a chunk at a time — parsed, validated and,
# on a confirm, written — all in one transaction, rolled back when any row of any chunk has an error.


@dataclass
class ImportOutcome:
    """What an import found: per-sheet counts and every error."""

    counts: dict = field(default_factory=dict)  # sheet title -> counts
    errors: list = field(default_factory=list)  # [RowError]
    actions: dict = field(default_factory=dict)  # sheet title -> {row: action} (the first rows)
    importers: list = field(default_factory=list)  # the validated SheetImporters
    stale: list = field(default_factory=list)  # [(sheet, key)] changed since the preview
    written: bool = False
    revalidated: bool = True  # False when a confirm wrote what its preview resolved, unchanged since

    @property
    def ok(self):
        return not self.errors

    def totals(self):
        total = {"new": 0, "updated": 0, "unchanged": 0, "errors": 0}
        for counts in self.counts.values():
            for key in total:
                total[key] += counts[key]
        return total


def select_sheets(raw_sheets, importers=None):
    """Pair the file's sheets with importers.

    With one importer (an admin page or a resource), a file of one sheet is that sheet whatever its name;
    otherwise sheets are matched by name (Chinese or English), and other sheets (a template's 说明 and 代码)
    are left alone. Two sheets for one table (项目 and Projects) are an error: one of them would be left
    unread without a word.
    """
    importers = importers or registry.importer_classes()
    if len(importers) == 1:
        cls = importers[0]
        named = _named_sheet(cls, raw_sheets)
        if named:
            return [(cls, named)]
        if len(raw_sheets) == 1:
            return [(cls, raw_sheets[0])]
        raise SpreadsheetError(
            _("No sheet named %(names)s was found.") % {"names": " / ".join(cls.sheet_names)}
        )
    pairs = []
    for cls in importers:
        named = _named_sheet(cls, raw_sheets)
        if named:
            pairs.append((cls, named))
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


def _named_sheet(cls, raw_sheets):
    """The one sheet named for an importer, None, or a SpreadsheetError when several are."""
    named = [raw for raw in raw_sheets if cls.matches_sheet(raw.title)]
    if len(named) > 1:
        raise SpreadsheetError(
            _("The workbook has more than one sheet for %(table)s: %(sheets)s. Put its rows in one sheet.")
            % {"table": cls.sheet_title(), "sheets": "、".join(excerpt(raw.title, 40) for raw in named)}
        )
    return named[0] if named else None


def _chunks(rows, size):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextmanager
def _cycle_collection_paused():
    """Python's cycle collector paused while the rows of an import are handled: they are hundreds of thousands
    of small lists, tuples and dicts, and the collector would walk them again and again as they pile up
    (a third of the time spent parsing, checking and staging them, measured); they hold no reference cycles
    to reclaim. Only a pause this import made is ended: another thread's import may still be running."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


@_cycle_collection_paused()
def run(
    sheets, user=None, *, dry_run=False, expected_versions=None, progress=None, staging=None, trusted=False
):
    """Validate sheets in dependency order and, unless dry_run or any error, write them all.

    `sheets` is [(importer class, RawSheet)] — parsed here as the rows stream — or, for a confirm, the
    StagedSheets of a preview, already in order. Rows go a chunk at a time: validated (into `staging` when
    given), and written at once unless dry_run; nothing is kept when any row of any sheet has an error (the
    transaction is rolled back). A confirm passes the versions its preview saw (in the StagedSheets, or
    `expected_versions` {label: {row: version}} from an earlier staging): a record changed since then makes
    the whole file an error. When nothing the preview's stamp covers has changed, it passes `trusted`: the
    rows are then not resolved and checked again (see SheetImporter.validate_chunk). Validation and writing share one transaction, the rows read locked, so
    nothing changes between the check and the write. A concurrent writer that gets there first raises
    ImportConflict.
    """
    context = ImportContext(user)
    context.lock = not dry_run
    if isinstance(sheets, list):
        order = {cls: index for index, cls in enumerate(registry.importer_classes())}
        sheets = sorted(sheets, key=lambda pair: order.get(pair[0], 0))
        # Every header is checked before any row is read.
        for cls, raw in sheets:
            cls(context).check_header(raw)
    outcome = ImportOutcome()
    total = 0
    try:
        with transaction.atomic():
            outcome.revalidated = not trusted
            for item in sheets:
                cls, source = (item.cls, item) if isinstance(item, StagedSheet) else item
                importer = cls(context)
                staged = isinstance(source, StagedSheet)
                if staged:
                    importer.expected_versions = (
                        source.expected
                        if expected_versions is None
                        else expected_versions.get(cls.label(), {})
                    )
                    rows = source.rows
                else:
                    if expected_versions is not None:
                        importer.expected_versions = expected_versions.get(cls.label(), {})
                    rows = importer.parse_rows(source, keep=PREVIEW_ROWS)
                if staging is not None:
                    staging.sheet(cls)
                outcome.importers.append(importer)
                for chunk in _chunks(rows, ROWS_PER_CHUNK):
                    resolved = source.take_resolved(chunk) if staged and trusted else None
                    outcome.revalidated |= staged and resolved is None
                    importer.validate_chunk(chunk, resolved)
                    if staged:
                        source.expected.clear()
                        source.resolved.clear()
                    total += len(chunk)
                    if staging is not None:
                        staging.rows(chunk, importer)
                    if not dry_run and not any(i.errors for i in outcome.importers):
                        importer.write()
                    if progress:
                        progress(cls.sheet_title(), importer.rows)
                if not dry_run and not any(i.errors for i in outcome.importers):
                    importer.finish()
                else:
                    importer.name_taken()
                outcome.counts[cls.sheet_title()] = importer.counts()
                outcome.actions[cls.sheet_title()] = importer.actions
                outcome.stale += [(cls.sheet_title(), key) for key in importer.stale_keys]
            if not total:
                raise SpreadsheetError(_("The file holds no data rows."))
            outcome.errors = [error for importer in outcome.importers for error in importer.errors]
            if outcome.errors or dry_run:
                transaction.set_rollback(True)
                return outcome
    except (IntegrityError, OperationalError) as exc:
        raise ImportConflict(str(exc)) from exc
    except DataError as exc:
        raise ImportRefused(str(exc)) from exc
    outcome.written = True
    return outcome


def import_file(data: bytes, filename: str, user=None, *, dry_run=False, importers=None):
    """Read, parse, validate and (unless dry_run or any error) write a file, unrecorded (tests, benchmarks).
    Raises SpreadsheetError."""
    return run(select_sheets(open_file(data, filename), importers), user, dry_run=dry_run)


# --------------------------------------------------------------------------------------------------
# Recorded imports: what every entry point calls


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


def _counts(outcome):
    counts = {title: dict(c) for title, c in outcome.counts.items()}
    for importer in outcome.importers:
        columns = importer.changed_column_counts()
        if columns:
            counts[importer.sheet_title()]["columns"] = columns
    return counts


def _fill(record, outcome, pairs):
    """Counts (with how many rows change each column), errors, and the first rows with what they change."""
    record.counts = _counts(outcome)
    record.errors = [error.as_dict() for error in outcome.errors]
    importers = {importer.sheet_title(): importer for importer in outcome.importers}
    preview = []
    for cls, raw in pairs:
        importer = importers.get(cls.sheet_title())
        actions = outcome.actions.get(cls.sheet_title(), {})
        positions, _problems = cls(ImportContext()).map_columns(raw.header)
        order = [positions.get(column.name) for column in cls.columns]
        shown = []
        for number, values in raw.kept:
            if len(preview) >= PREVIEW_ROWS:
                break
            preview.append(
                {
                    "sheet": cls.sheet_title(),
                    "row": number,
                    "action": actions.get(number, "error"),
                    "values": [
                        display(values[i]) if i is not None and i < len(values) else "" for i in order
                    ],
                }
            )
            shown.append(number)
        if importer is not None:
            changes = importer.describe_changes([n for n in shown if actions.get(n) == "updated"])
            for entry in preview:
                if entry["sheet"] == cls.sheet_title() and entry["row"] in changes:
                    entry["changes"] = changes[entry["row"]]
    record.preview = preview


def _stale_message(stale):
    names = "、".join(f"{sheet} {key}" for sheet, key in stale[:20])
    return ngettext(
        "Nothing was imported: %(count)s record was changed by someone else after the preview (%(rows)s). "
        "Preview the file again.",
        "Nothing was imported: %(count)s records were changed by someone else after the preview (%(rows)s). "
        "Preview the file again.",
        len(stale),
    ) % {"count": len(stale), "rows": names}


def _rejected_message(outcome):
    return _("Nothing was imported: %(count)s rows have errors.") % {
        "count": sum(c["errors"] for c in outcome.counts.values())
    }


def preview_import(data, filename, user, *, importers=None, source="admin", target=""):
    """Read, parse and validate a file without writing; a clean preview keeps the rows for confirm."""
    from spreadsheets.models import ImportRecord

    record = _new_record(data, filename, user, source, target)
    try:
        pairs = select_sheets(open_file(data, filename), importers)
        staging = Staging([cls for cls, _raw in pairs], user)
        outcome = run(pairs, user, dry_run=True, staging=staging)
    except SpreadsheetError as exc:
        record.outcome = ImportRecord.Outcome.REJECTED
        record.message = exc.message
        record.finished_at = timezone.now()
        save_with_blobs(record, file=data)
        return record
    _fill(record, outcome, pairs)
    if outcome.ok:
        record.outcome = ImportRecord.Outcome.PREVIEWED
        save_with_blobs(record, file=data, staged=staging.blob())
    else:
        record.outcome = ImportRecord.Outcome.REJECTED
        record.message = _rejected_message(outcome)
        record.finished_at = timezone.now()
        save_with_blobs(record, file=data)
    return record


def confirm_import(record, user):
    """Write a previewed import, validating again against the data as it is now; all or nothing.

    Returns (record, outcome); outcome is None when the import could not run at all (already confirmed or
    cancelled, or beaten by a concurrent write) — the record's message says why."""
    from spreadsheets.models import ImportRecord

    with transaction.atomic():
        # Two confirms of one preview: the second waits here, then finds it done.
        record = ImportRecord.objects.select_for_update().defer("file").get(pk=record.pk)
        if record.outcome != ImportRecord.Outcome.PREVIEWED or not record.staged:
            record.message = record.message or _("This import cannot be confirmed.")
            return record, None
        staged = Staged(bytes(record.staged))
        outcome = None
        try:
            if staged.stamp is None:  # staged by an earlier version, with the parsed rows
                outcome = run(staged.sheets, user, expected_versions=staged.versions)
            elif staged.stamp == dependency_stamp(staged.classes(), user):
                outcome = run(staged.sheets, user, trusted=True)
            else:
                # Something the rows depend on changed since the preview: the file is read and checked again,
                # against the versions the preview saw.
                outcome = _confirm_from_file(record, staged, user)
                if outcome is None:
                    return record, None
        except ImportConflict as exc:
            record.outcome = ImportRecord.Outcome.FAILED
            record.message = exc.message()
        else:
            record.counts = _counts(outcome)
            record.errors = [error.as_dict() for error in outcome.errors]
            if outcome.written:
                record.outcome = ImportRecord.Outcome.IMPORTED
            else:
                record.outcome = ImportRecord.Outcome.FAILED
                record.message = (
                    _stale_message(outcome.stale)
                    if outcome.stale
                    else _("The data changed since the preview; nothing was imported.")
                )
        record.finished_at = timezone.now()
        record.staged = None
        record.save()
    return record, outcome


def _confirm_from_file(record, staged, user):
    """Run a confirm on the uploaded file read again (see confirm_import); None, with the record failed and
    its message saying why, when the file is no longer kept or can no longer be read."""
    from spreadsheets.models import ImportRecord

    data = ImportRecord.objects.values_list("file", flat=True).get(pk=record.pk)
    try:
        if data is None:
            raise SpreadsheetError(_("The uploaded file is no longer kept."))
        pairs = select_sheets(open_file(bytes(data), record.file_name), staged.classes())
        return run(pairs, user, expected_versions=staged_versions(bytes(record.staged)))
    except SpreadsheetError as exc:
        record.outcome = ImportRecord.Outcome.FAILED
        record.message = _("%(problem)s Upload the file again.") % {"problem": exc.message}
        record.finished_at = timezone.now()
        record.staged = None
        record.save()
        return None


def cancel_import(record):
    """Cancel a previewed import: nothing is written and the staged rows go."""
    from spreadsheets.models import ImportRecord

    updated = ImportRecord.objects.filter(pk=record.pk, outcome=ImportRecord.Outcome.PREVIEWED).update(
        outcome=ImportRecord.Outcome.CANCELLED, staged=None, finished_at=timezone.now()
    )
    return bool(updated)


def import_recorded(
    data,
    filename,
    user,
    *,
    dry_run=False,
    importers=None,
    source="command",
    target="",
    sheets=None,
    read_as=None,
    progress=None,
):
    """Read, validate and write in one go (the command line, a resource); recorded like an admin import.

    `sheets` gives the raw sheets when they were read elsewhere (a resource's dataset); `data` is then what
    the checksum is taken of. `read_as` is the name the format is told from when the file's own name says
    nothing (standard input). Returns (record, outcome); outcome is None when the file could not be read or
    a concurrent write got there first (the record's message says why)."""
    from spreadsheets.models import ImportRecord

    record = _new_record(data, filename, user, source, target)
    outcome = None
    try:
        raw = sheets if sheets is not None else open_file(data, filename if read_as is None else read_as)
        outcome = run(select_sheets(raw, importers), user, dry_run=dry_run, progress=progress)
    except SpreadsheetError as exc:
        record.outcome = ImportRecord.Outcome.REJECTED
        record.message = exc.message
    except ImportConflict as exc:
        outcome = None
        record.outcome = ImportRecord.Outcome.FAILED
        record.message = exc.message()
    else:
        record.counts = _counts(outcome)
        record.errors = [error.as_dict() for error in outcome.errors]
        if outcome.errors:
            record.outcome = ImportRecord.Outcome.REJECTED
            record.message = _rejected_message(outcome)
            record.finished_at = timezone.now()
            save_with_blobs(record, file=data)
            return record, outcome
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
        open_file(bytes(record.file), record.file_name), registry.importers_for(record.target)
    )
    by_row = {}
    for error in record.errors:
        text = f"{error['column']}: {error['message']}" if error["column"] else error["message"]
        by_row.setdefault((error["sheet"], error["row"]), []).append(text)
    out = []
    for cls, raw in sheets:
        title = cls.sheet_title()
        rows = (
            list(values[: len(raw.header)])
            + [None] * (len(raw.header) - len(values))
            + ["；".join(by_row.get((title, number), []))]
            for number, values in raw.rows
        )
        out.append((title, list(raw.header) + [ERROR_HEADER], rows))
    return write_xlsx(out)
