"""The staging of a preview, kept in the database until its confirm: the normalised rows, what the preview
resolved them to, the versions it saw, and a stamp of everything else the rows depend on.

A confirm on any app server reads the rows back a chunk at a time. When the stamp is unchanged (the user's
rights and scope, the reference tables, the referred records, the closed quarters), it writes what the
preview resolved without resolving and checking the rows again; it still looks up every key, locks the
stored records and compares their versions with the preview's. Otherwise it validates everything again.
"""

import hashlib
import json
import struct
import uuid
import zlib
from datetime import date, datetime
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Max

from spreadsheets import registry
from spreadsheets.cells import Pending
from spreadsheets.pg_copy import CopyLine, NewRows

STAGED_CHUNK = 1 << 16
STAGING_FORMAT = 2  # raised whenever what a staged line holds changes

# --------------------------------------------------------------------------------------------------
# What the rows depend on


def _table_state(model):
    """A value that changes whenever a row of `model` does: its history's last id when it keeps a history
    (every change through the application writes one), else a digest of the whole (small) table."""
    history = getattr(model, "history", None)
    if history is not None and hasattr(history, "model"):
        return history.model._default_manager.aggregate(last=Max("pk"))["last"]
    digest = hashlib.sha256()
    names = [f.attname for f in model._meta.concrete_fields]
    for row in model._default_manager.order_by("pk").values_list(*names).iterator():
        digest.update(repr(row).encode())
    return digest.hexdigest()


def dependency_stamp(classes, user) -> str:
    """A digest of what the validation of these sheets reads besides the rows' own records: the user's
    rights and scope, and the state of every model they refer to (see SheetImporter.dependency_models)."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return uuid.uuid4().hex  # without history rows a change cannot be seen: never trusted
    classes = sorted(classes, key=lambda cls: cls.label())
    # The staging's form and the columns of the tables its COPY lines are for: a preview staged before a
    # release that changed either is checked again from the file.
    parts = [
        STAGING_FORMAT,
        [(cls.label(), [f.column for f in cls.model._meta.concrete_fields]) for cls in classes],
    ]
    if user is not None:
        parts.append((user.pk, user.is_active, user.is_superuser, sorted(user.get_all_permissions())))
        scope = registry.access("scope_queryset")
        for cls in classes:
            try:
                parts.append(str(scope(user, cls.model._default_manager.all()).query))
            except EmptyResultSet:
                parts.append(None)
    models = {model for cls in classes for model in cls.dependency_models()}
    for model in sorted(models, key=lambda m: m._meta.label_lower):
        parts.append((model._meta.label_lower, _table_state(model)))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


# --------------------------------------------------------------------------------------------------
# Writing and reading the staging


def _json_default(value):
    if isinstance(value, Pending):
        return {"pending": [value.model._meta.label_lower, value.code]}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be staged")


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default).encode
_string = json.encoder.encode_basestring  # a str as JSON (ensure_ascii=False), in C


def _line(value) -> bytes:
    return _encode(value).encode() + b"\n"


class Staging:
    """JSON lines, compressed as the chunks are validated (no copy of the file's rows is ever built): a
    stamp line, then per sheet a line naming it and a line per valid row, holding what the preview resolved
    the row to — [row number, null, the stored record's version, key, field values] — or, for a new record
    PostgreSQL will take by COPY, `+[row number, key]<TAB>` and the record's row already in COPY's format.

    The parsed cells are not staged: a confirm that cannot trust what the preview resolved (something the
    rows depend on changed since, see `dependency_stamp`) reads the uploaded file again."""

    def __init__(self, classes, user):
        self.user = user
        self.compressor = zlib.compressobj(1)  # fastest: the staging lives a day at most
        self.parts = []
        self._add({"stamp": dependency_stamp(classes, user), "sheets": [cls.label() for cls in classes]})
        self.new_rows = {}

    def _add(self, value):
        self._write(_line(value))

    def _write(self, data: bytes):
        part = self.compressor.compress(data)
        if part:
            self.parts.append(part)

    def sheet(self, cls):
        self._add({"sheet": cls.label()})

    def _formatter(self, model):
        """`NewRows.lines` of the model's new records when they can be staged as COPY lines, else None."""
        if model not in self.new_rows:
            new_rows = NewRows.for_model(model, self.user)
            self.new_rows[model] = new_rows.lines if new_rows is not None and new_rows.stageable else None
        return self.new_rows[model]

    def rows(self, rows, importer):
        versions, created = importer.versions, importer.created_numbers
        resolved = importer.resolved_rows
        formatter = self._formatter(importer.model)
        ready = {}
        if formatter is not None and created:
            new = [row for row in resolved if row[0] in created]
            numbers = [number for number, _key, _values in new]
            ready = dict(zip(numbers, formatter([values for _n, _k, values in new]), strict=True))
        lines = []
        for number, key, values in resolved:
            copy_line = ready.get(number)
            if key.__class__ is str:  # a code: its own text
                if copy_line is not None:
                    lines.append(f"+[{number},{_string(key)}]\t{copy_line}")  # as _encode([number, key])
                else:
                    lines.append(_encode([number, None, versions.get(number), key, values]))
                continue
            # A key of several parts (a project's id and a reference) is staged with its text as the clerk
            # wrote it, for the confirm's messages.
            text = importer.key_text(number)
            if copy_line is not None:
                lines.append(f"+{_encode([number, key, text])}\t{copy_line}")
            else:
                lines.append(_encode([number, None, versions.get(number), key, values, text]))
        if lines:
            self._write(("\n".join(lines) + "\n").encode())

    def blob(self) -> bytes:
        self.parts.append(self.compressor.flush())
        return b"".join(self.parts)


class StagedSheet:
    """A staged sheet's rows, decoded as they are read. `expected` holds the versions of the rows read so
    far, `resolved` what the preview resolved them to (still encoded); the run clears both after each chunk."""

    def __init__(self, cls, rows, expected):
        self.cls = cls
        self.rows = rows
        self.expected = expected
        self.resolved = {}

    def take_resolved(self, rows):
        """[(row number, key, field values)] of the rows, as the preview resolved them, or None when the
        staging does not hold them (an earlier version's)."""
        decode = _decoder(self.cls.model)
        out = []
        for number, _row in rows:
            staged = self.resolved.get(number)
            if staged is None:
                return None
            key, values = staged
            out.append((number, _key(key), values if values.__class__ is CopyLine else decode(values)))
        self.resolved.clear()
        return out


def _pending(value):
    label, code = value["pending"]
    return Pending(apps.get_model(label), code)


def _key(key):
    if key.__class__ is list:
        return tuple(_pending(part) if part.__class__ is dict else part for part in key)
    return key


def _decoder(model):
    """Field values as staged (JSON) back to what the importer resolved: amounts, dates and times from their
    text, references to records an earlier sheet adds from their {"pending": …} form."""
    convert = []
    for field in model._meta.concrete_fields:
        kind = field.get_internal_type()
        if kind == "DecimalField":
            convert.append((field.attname, Decimal))
        elif kind == "DateField":
            convert.append((field.attname, date.fromisoformat))
        elif kind == "DateTimeField":
            convert.append((field.attname, datetime.fromisoformat))
        elif field.is_relation:
            convert.append((field.attname, _pending))

    def decode(values):
        # Only the fields that need it are looked at: this runs for every staged row of a confirm.
        for name, function in convert:
            value = values.get(name)
            if value is None:
                continue
            if value.__class__ is dict:
                values[name] = _pending(value)
            elif function is not _pending:
                values[name] = function(value)
        return values

    return decode


class Staged:
    """A preview's staging as a confirm reads it: the stamp and sheet labels (None from an earlier version),
    the versions an earlier version kept apart ({label: {row: version}}, or None), and the sheets, read in
    turn — each sheet's rows to the end before the next sheet's."""

    def __init__(self, blob: bytes):
        self.stamp = self.labels = self.versions = None
        by_label = {cls.label(): cls for cls in registry.importer_classes()}
        self.by_label = by_label
        if zlib.decompressobj().decompress(blob[:STAGED_CHUNK], 1) == b"[":  # staged as one JSON document
            payload = json.loads(zlib.decompress(blob).decode())
            self.sheets = iter(
                [
                    StagedSheet(by_label[label], [(n, by_label[label].make_row(row)) for n, row in rows], {})
                    for label, rows in payload
                ]
            )
            self.versions = {}
            return
        self.lines = _staged_lines(blob)
        self.header = json.loads(next(self.lines, "{}"))
        if "stamp" in self.header:
            self.stamp, self.labels = self.header["stamp"], self.header["sheets"]
            self.header = None
        elif "versions" in self.header:
            self.versions = self.header["versions"]
            self.header = None
        self.sheets = self._sheets()

    def classes(self):
        return [self.by_label[label] for label in self.labels or ()]

    def _sheets(self):
        while True:
            if self.header is None:
                line = next(self.lines, None)
                if line is None:
                    return
                self.header = json.loads(line)
            cls = self.by_label[self.header["sheet"]]
            self.header = None
            sheet = StagedSheet(cls, None, {})
            sheet.rows = self._rows(cls, sheet)
            yield sheet

    def _rows(self, cls, sheet):
        row_class, loads, scan = cls.row_class(), json.loads, _SCAN
        expected, resolved = sheet.expected, sheet.resolved
        for line in self.lines:
            start = line[:1]
            if start == "+":  # a new record, ready to COPY
                head, copy_line = line[1:].split("\t", 1)
                number, key, *text = scan(head, 0)[0]
                resolved[number] = (key, CopyLine(copy_line))
                yield number, text[0] if text else None  # the key's text stands for the cells
                continue
            if start != "[":
                self.header = loads(line)
                return
            item = scan(line, 0)[0]  # one JSON value a line: the scanner alone, without loads' checks
            number, values = item[0], item[1]
            if len(item) > 2 and item[2] is not None:
                expected[number] = item[2]
            if len(item) > 4 and item[4] is not None:
                resolved[number] = (item[3], item[4])
            if values is None:  # the cells are not staged (see Staging): the key's text stands for them
                yield number, item[5] if len(item) > 5 else None
            else:
                yield number, row_class(values) if values.__class__ is list else cls.make_row(values)


def _staged_lines(blob):
    """The staging's lines, as text."""
    decompressor = zlib.decompressobj()
    pending = b""
    for start in range(0, len(blob), STAGED_CHUNK):
        pending += decompressor.decompress(blob[start : start + STAGED_CHUNK])
        *lines, pending = pending.split(b"\n")
        if lines:
            # Decoded a piece at a time (a line never splits a character), not a line at a time.
            yield from b"\n".join(lines).decode().split("\n")
    yield from (line for line in (pending + decompressor.flush()).decode().split("\n") if line)


_SCAN = json.JSONDecoder().scan_once


def load_staged(blob: bytes):
    """Every staged sheet [(importer class, [(row number, key, what the preview resolved the row to)])] and the
    versions the preview saw ({label: {row: version}}). A record ready to COPY is its `CopyLine`; a staging
    of an earlier version gives (row number, None, parsed row)."""
    staged = Staged(blob)
    out, seen = [], {}
    for sheet in staged.sheets:
        rows = []
        for number, row in sheet.rows:
            key, values = sheet.resolved.pop(number, (None, row))
            rows.append((number, key, values))
        out.append((sheet.cls, rows))
        if sheet.expected:
            seen[sheet.cls.label()] = dict(sheet.expected)
    return out, staged.versions if staged.versions is not None else seen


def staged_versions(blob: bytes):
    """The versions of the stored records a preview saw, {label: {row: version}}, read without keeping the
    rows (a confirm that checks the file again compares them)."""
    staged = Staged(blob)
    seen = {}
    for sheet in staged.sheets:
        for number, _row in sheet.rows:
            sheet.resolved.pop(number, None)
        if sheet.expected:
            seen[sheet.cls.label()] = dict(sheet.expected)
    return staged.versions if staged.versions is not None else seen


# --------------------------------------------------------------------------------------------------
# Large binary fields


def save_with_blobs(record, **blobs):
    """Save the record with its large binary fields (the file, the staged rows).

    On PostgreSQL they are streamed in by COPY, in its binary format a slice at a time, then set in one
    UPDATE: psycopg2 would build each into the query text, escaped, and that costs eight times their size in
    memory (130 MB for the staging and the file of a 200,000-row import). The record's columns do not
    compress what they are given again (migration 0002): an xlsx and the staging are compressed already, and
    a CSV arrives compressed from the temporary table."""
    if connection.vendor != "postgresql":
        for name, value in blobs.items():
            setattr(record, name, value)
        record.save()
        return
    for name in blobs:
        setattr(record, name, None)
    with transaction.atomic(), connection.cursor() as cursor:
        record.save()
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS spreadsheets_blob (name text, data bytea) ON COMMIT DELETE ROWS"
        )
        cursor.execute("DELETE FROM spreadsheets_blob")
        # A slice a read (positional: Django's debug cursor passes no keyword arguments on).
        cursor.copy_expert(
            "COPY spreadsheets_blob (name, data) FROM STDIN WITH (FORMAT binary)",
            _BinaryRows(blobs),
            _BinaryRows.SLICE,
        )
        quote = connection.ops.quote_name
        fields = [record._meta.get_field(name) for name in blobs]
        assignments = ", ".join(
            f"{quote(f.column)} = (SELECT data FROM spreadsheets_blob WHERE name = %s)" for f in fields
        )
        cursor.execute(
            f"UPDATE {quote(record._meta.db_table)} SET {assignments} WHERE {quote(record._meta.pk.column)} = %s",
            [*blobs, record.pk],
        )
    for name, value in blobs.items():
        setattr(record, name, value)


class _BinaryRows:
    """The blobs as COPY's binary format — rows (name, data), NULL for None — read a slice at a time: the
    bytes go as they are, where the text format would send each byte as two hex digits for the server to
    decode."""

    SLICE = 1 << 20

    def __init__(self, blobs):
        self.parts = self._parts(blobs)
        self.buffer = b""

    def _parts(self, blobs):
        yield b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)  # signature, flags, no extension
        for name, value in blobs.items():
            label = name.encode()
            yield struct.pack("!hi", 2, len(label)) + label
            if value is None:
                yield struct.pack("!i", -1)
                continue
            yield struct.pack("!i", len(value))
            view = memoryview(value)
            for start in range(0, len(view), self.SLICE):
                yield bytes(view[start : start + self.SLICE])
        yield struct.pack("!h", -1)

    def read(self, size=-1):
        while size < 0 or len(self.buffer) < size:
            part = next(self.parts, None)
            if part is None:
                break
            self.buffer += part
        if size < 0:
            size = len(self.buffer)
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        return out

    readline = read
