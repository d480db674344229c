"""The SheetImporter framework: parse a sheet once, validate it set-wise, write it in bulk.

Importing is set-wise, never a query per row: a `SheetImporter` parses the cells of a sheet once into
normalised values (JSON-able, so a preview can keep them in the database and another app server can
confirm), then validates the whole sheet with lookup maps and a few `IN` queries, then writes with COPY or
`bulk_create`/`bulk_update` and django-simple-history's bulk helpers, skipping unchanged rows. Any error
anywhere means nothing is written.
"""

from datetime import datetime
from functools import partial
from itertools import compress
from operator import is_, is_not, itemgetter

from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from spreadsheets import registry
from spreadsheets.calamine_rows import converted, raw_memorable
from spreadsheets.cells import (
    ERROR_HEADER,
    FORMULA_WITHOUT_VALUE,
    LEADING_SPACES,
    MEMO_LIMIT,
    SPACES,
    CellError,
    Column,
    LongText,
    ParsedRow,
    RawSheet,
    RowError,
    SpreadsheetError,
    excerpt,
    memorable,
    normalise_header,
    normalise_sheet_name,
    parse_choice,
    parse_date,
    parse_int,
    parse_wan,
    text_value,
)
from spreadsheets.changes import ChangeDescription
from spreadsheets.pg_copy import CopyLine
from spreadsheets.queries import keyset, many  # noqa: F401  (importers read their exports with keyset)
from spreadsheets.references import code_or_name_map, dates_in_order, reference_id  # noqa: F401
from spreadsheets.sheet_writes import SheetWrites

ROWS_PER_CHUNK = 10_000  # rows validated (and, on a confirm, written) at a time: memory is one chunk's
KEEP = 100  # rows per sheet whose action and changes are kept for the preview
_MISSING = object()  # what a column's memo answers for a cell it has not seen: no parse is this

# --------------------------------------------------------------------------------------------------
# Importing


class ImportContext:
    """What every sheet of one import shares: the user, their scope and the records earlier sheets add."""

    def __init__(self, user=None):
        self.user = user
        # No user (the django-import-export commands) means national scope.
        self.national = user is None or registry.access("sees_everything")(user)
        self.province = None if self.national else registry.access("user_province")(user)
        self.pending = {}  # model label -> {code: info}
        self.lock = False  # a confirm locks the rows it reads until it commits
        self.started = timezone.now()  # the history date of every record the import adds

    @cached_property
    def province_id(self):
        return self.province.pk if self.province else None

    def in_province(self, province_id) -> bool:
        return self.national or (self.province_id is not None and province_id == self.province_id)

    def scoped(self, queryset):
        if self.user is None:
            return queryset
        return registry.access("scope_queryset")(self.user, queryset)


def _drained(rows):
    """The items of `rows`; a list's are let go as they are handed out."""
    if not isinstance(rows, list):
        yield from rows
        return
    for position in range(len(rows)):
        item = rows[position]
        rows[position] = None
        yield item


_ROW_CLASSES = {}


class SheetImporter(SheetWrites, ChangeDescription):
    """Parse, validate and write one sheet. Subclasses declare the columns and the references."""

    model = None
    sheet_names = ()  # Chinese first (canonical), then English
    columns: list[Column] = []
    key_column = "code"  # the column named in a duplicate-key error
    key_columns = ("code",)  # the columns whose values name a record
    # Labels of stored status values: {value: (Chinese label, English label)}
    choices: dict = {}
    extra_dependencies = ()  # models the validation reads beyond the referred ones (see dependency_models)

    def __init__(self, context: ImportContext):
        self.context = context
        self.errors: list[RowError] = []
        self.creates = []  # the current chunk's new records (field values), until written
        self.updates = []  # the current chunk's changed records, until written
        self.new = self.updated = self.unchanged = 0
        self.rows = 0  # rows validated
        self.seen = {}  # key -> the row that names it first, over the whole sheet
        self.actions = {}  # row number -> "new" / "updated" / "unchanged", for the first KEEP rows
        self.error_rows = set()
        self.changes = {}  # row number -> {attname: (old, new)}, for the first KEEP updated rows
        self.column_changes = {}  # attname -> how many rows change it
        self.versions = {}  # the current chunk's row number -> its stored record's version
        self.expected_versions = None  # at a confirm: the versions the preview saw
        self.stale = []  # rows whose record changed since the preview
        self.stale_keys = []  # their keys as the clerk wrote them
        self.parsed = {}  # the current chunk's rows by number
        self.update_attnames = []
        self.update_fields = []
        self.resolved_rows = []  # the current chunk's valid rows: (row number, key, {attname: value})
        self.created_numbers = set()  # the current chunk's rows that add a record
        self.new_rows = None  # PostgreSQL: the new records gathered until `finish` (see pg_copy.NewRows)
        self.unchecked = {}  # a trusted confirm's keys new at the preview, not looked up (see validate_chunk)

    # -- declarations -------------------------------------------------------------------------------

    @classmethod
    def sheet_title(cls):
        return cls.sheet_names[0]

    @classmethod
    def row_class(cls):
        """The ParsedRow class of this sheet's columns."""
        key = (cls, tuple(column.name for column in cls.columns))
        row_class = _ROW_CLASSES.get(key)
        if row_class is None:
            index = {name: position for position, name in enumerate(key[1])}
            row_class = _ROW_CLASSES[key] = type(
                f"{cls.__name__}Row", (ParsedRow,), {"__slots__": (), "index": index}
            )
        return row_class

    @classmethod
    def make_row(cls, values):
        """A parsed row from its values in column order (a list), or from a dict staged by an earlier version."""
        if isinstance(values, dict):
            values = [values.get(column.name) for column in cls.columns]
        return cls.row_class()(values)

    @classmethod
    def label(cls):
        return cls.model._meta.label_lower

    @classmethod
    def matches_sheet(cls, title) -> bool:
        return normalise_sheet_name(title) in {normalise_sheet_name(n) for n in cls.sheet_names}

    @property
    def header_of(self):
        return {column.name: column.header for column in self.columns}

    def error(self, row, column_name, value, message):
        self.error_rows.add(row)
        self.errors.append(
            RowError(
                self.sheet_title(),
                row,
                self.header_of.get(column_name, column_name),
                "" if value is None else str(value),
                str(message),
            )
        )

    # -- parsing ------------------------------------------------------------------------------------

    def map_columns(self, header):
        """Column index per column name, or file-level errors for missing, unknown or repeated columns."""
        accepted = {}
        for column in self.columns:
            for form in column.accepted_headers():
                accepted[form] = column
        positions, problems = {}, []
        for index, title in enumerate(header):
            if title is None:
                continue
            column = accepted.get(normalise_header(title))
            if column is None:
                if normalise_header(title) == normalise_header(ERROR_HEADER):
                    continue  # an error report sent back after fixing the rows
                problems.append(_("Unknown column: %(header)s.") % {"header": excerpt(title)})
            elif column.name in positions:
                problems.append(_("Repeated column: %(header)s.") % {"header": excerpt(title)})
            else:
                positions[column.name] = index
        for column in self.columns:
            if column.name not in positions:
                problems.append(_("Missing column: %(header)s.") % {"header": column.header})
        return positions, problems

    def check_header(self, raw: RawSheet):
        """{column name: index} of the sheet's header, or a SpreadsheetError naming what is wrong with it."""
        positions, problems = self.map_columns(raw.header)
        if problems:
            raise SpreadsheetError(
                _("Sheet %(sheet)s: %(problems)s")
                % {"sheet": excerpt(raw.title, 40), "problems": " ".join(problems)}
            )
        return positions

    def parse_rows(self, raw: RawSheet, keep=0):
        """Yield the normalised rows (row number, ParsedRow of JSON-able values) as the sheet's rows are
        read; cell errors go to self.errors. The first `keep` raw rows are kept in `raw.kept` (for the
        preview); the others are let go as they are parsed, so the file's rows are never held twice.

        A column's cells repeat (codes, statuses, dates, amounts): each column remembers the parse of up to
        MEMO_LIMIT distinct cells (see `cells.memorable`), so a repeated cell is parsed once. A cell that does
        not parse is never remembered: it is reported on every row that holds it. A sheet calamine reads is
        parsed from its raw rows (see `_parse_raw`), each cell converted only when its column has not seen it."""
        positions = self.check_header(raw)
        indexes = [positions[column.name] for column in self.columns]
        own = (
            type(self).parse_cell is SheetImporter.parse_cell
            and type(self).cell_parser is SheetImporter.cell_parser
        )
        limit = MEMO_LIMIT if own else 0  # a sheet that reads its cells its own way: nothing is remembered
        parsers = [(column.name, self.cell_parser(column), {}) for column in self.columns]
        raw.kept = []
        given = {"indexes": indexes, "parsers": parsers, "raw": raw, "keep": keep}
        parse = partial(self._parse_values, limit=limit, **given)
        rows = None
        if own and raw.fuse is not None:
            rows = raw.fuse(raw, partial(self._parse_raw, parse=parse, **given))
        yield from rows if rows is not None else parse(_drained(raw.rows))

    def _parse_values(self, rows, indexes, parsers, raw, keep, limit):
        """The parsed rows of rows of values as read (see `parse_rows`)."""
        width = max(indexes) + 1
        pick = itemgetter(*indexes) if len(indexes) > 1 else lambda values: (values[indexes[0]],)
        row_class, missing = self.row_class(), _MISSING
        for number, values in rows:
            if len(raw.kept) < keep:
                raw.kept.append((number, values))
            if len(values) < width:
                values = [*values, *[None] * (width - len(values))]
            row = []
            for value, (name, parse, memo) in zip(pick(values), parsers, strict=True):
                key = value if value.__class__ is str else (value.__class__, value)
                parsed = memo.get(key, missing)
                if parsed is missing:
                    try:
                        parsed = parse(value)
                    except CellError as exc:
                        self.error(number, name, value, exc.args[0])
                        parsed = None
                    else:
                        if len(memo) < limit and memorable(value):
                            memo[key] = parsed
                row.append(parsed)
            yield number, row_class(row)

    def _parse_raw(self, source, indexes, parsers, parse, raw, keep):
        """The parsed rows of calamine's raw rows (a CalamineRows): each row's cells looked up in C in their
        columns' memos, keyed by the raw cell; a cell not found is converted as our reader gives it, parsed
        and remembered (see `calamine_rows.raw_memorable`). The rows kept for the preview and those with a
        cell given by position are parsed from their values as read (`parse`); so is every row when a
        column lies outside calamine's range. A row whose parsed values are all None may have no value: it
        is looked at as read, and its errors are reported only if it has one."""
        pick = source.picker(indexes)
        if pick is None:
            yield from parse(source)
            return
        kept, special, limit = raw.kept, source.special, MEMO_LIMIT
        memos = [{} for _parser in parsers]
        missings = [_MISSING] * len(parsers)
        columns = range(len(parsers))
        row_class, get, width = self.row_class(), dict.get, len(parsers)
        number = source.header_row
        for number, row in source.numbered():
            if len(kept) < keep or number in special:
                values = source.values(number, row)
                if values is not None:
                    yield from parse([(number, values)])
                continue
            cells = pick(row)
            parsed = list(map(get, memos, cells, missings))
            errors = None
            if not all(map(is_not, parsed, missings)):
                errors = []
                for position in compress(columns, map(is_, parsed, missings)):
                    cell = cells[position]
                    value = converted(cell)
                    name, parse_cell, _memo = parsers[position]
                    try:
                        parsed[position] = parse_cell(value)
                    except CellError as exc:
                        errors.append((name, value, exc.args[0]))
                        parsed[position] = None
                    else:
                        if len(memos[position]) < limit and raw_memorable(cell):
                            memos[position][cell] = parsed[position]
            if parsed.count(None) == width and source.values(number, row) is None:
                continue
            for name, value, message in errors or ():
                self.error(number, name, value, message)
            yield number, row_class(parsed)
        yield from parse(source.trailing(number))

    def cell_parser(self, column: Column):
        """`parse_cell` for one column, with a shortcut for the cells most sheets are made of: a plain text
        in a text or code column, a date cell in a date column. Anything else goes through `parse_cell`."""
        parse_cell = self.parse_cell
        if type(self).parse_cell is not SheetImporter.parse_cell:
            return lambda value: parse_cell(column, value)  # a sheet that reads its cells its own way
        if column.kind in ("text", "code"):
            limit = column.max_length

            def parse_text(value):
                if value.__class__ is str:
                    text = value.lstrip(LEADING_SPACES).rstrip(SPACES)
                    if text and not (limit and len(text) > limit):
                        return text
                return parse_cell(column, value)

            return parse_text
        if column.kind == "date":

            def parse_date_cell(value):
                if value.__class__ is datetime:
                    return parse_date(value)
                return parse_cell(column, value)

            return parse_date_cell
        return lambda value: parse_cell(column, value)

    def parse(self, raw: RawSheet, keep=0):
        """Every normalised row of the sheet at once (see `parse_rows`); the kept rows stay in `raw.rows`."""
        rows = list(self.parse_rows(raw, keep))
        raw.rows = raw.kept
        return rows

    def parse_cell(self, column: Column, value):
        if value is FORMULA_WITHOUT_VALUE:
            raise CellError(
                _(
                    "The cell holds a formula whose result was not saved in the file. Open the file in Excel "
                    "or WPS, save it, and import it again."
                )
            )
        if isinstance(value, LongText):
            raise CellError(
                _("The text is too long (at most %(max)d characters).")
                % {"max": column.max_length or len(value)}
            )
        if value is None:
            if column.required:
                raise CellError(_("This field is required."))
            return None
        if column.kind == "amount":
            return parse_wan(value)
        if column.kind == "date":
            return parse_date(value)
        if column.kind == "int":
            return parse_int(value)
        if column.kind == "status":
            return parse_choice(value, self.choices)
        text = text_value(value)
        if column.max_length and len(text) > column.max_length:
            raise CellError(
                _("The text is too long (at most %(max)d characters).") % {"max": column.max_length}
            )
        return text

    # -- validation ---------------------------------------------------------------------------------

    def resolve(self, rows):
        """Model field values per row: [(row number, key, {attname: value})]. Subclasses implement."""
        raise NotImplementedError

    def existing(self, numbers):
        """{key: instance} for the keys (given as {key: row number}) already stored.

        A key held by a record outside the user's scope is reported as an error by the subclass."""
        raise NotImplementedError

    def register_pending(self, resolved):
        """Tell later sheets about the records this sheet adds or changes."""

    def check_rows(self, staged):
        """Row errors of a rule a sheet adds to its references and scope (e.g. a closed quarter).

        `staged` is [(row number, key, {attname: value}, stored instance or None)] for the rows without an
        error so far; the user is `self.context.user`. Return [(row number, column name, value, message)].
        """
        return []

    def objects(self):
        """The model's rows as a confirm reads them: locked against a concurrent write until it commits."""
        manager = self.model._default_manager
        return manager.select_for_update(of=("self",)) if self.context.lock else manager.all()

    @classmethod
    def dependency_models(cls):
        """The models whose rows a sheet's validation reads besides the records it writes (their versions are
        compared row by row): the models it refers to and, in turn, the models those refer to — whose scope a
        record is in follows them (a payment's project's agreement's province) —, and `extra_dependencies`
        (e.g. the closed quarters)."""
        from django.contrib.auth import get_user_model

        skip = {cls.model, get_user_model()}
        found, queue = [], [cls.model]
        while queue:
            for f in queue.pop()._meta.concrete_fields:
                if f.is_relation and f.related_model not in skip:
                    skip.add(f.related_model)
                    found.append(f.related_model)
                    queue.append(f.related_model)
        return [*found, *cls.extra_dependencies]

    @classmethod
    def unique_key(cls) -> bool:
        """Whether the key is one field the database keeps unique (a code), so an INSERT of a taken key fails."""
        if len(cls.key_columns) != 1:
            return False
        field = next((f for f in cls.model._meta.concrete_fields if f.name == cls.key_columns[0]), None)
        return field is not None and field.unique

    @classmethod
    def versioned(cls) -> bool:
        return any(f.name == "version" for f in cls.model._meta.concrete_fields)

    def validate(self, rows):
        """Set-wise validation of all the parsed rows of a sheet at once (see `validate_chunk`)."""
        self.validate_chunk(rows)
        return self

    def validate_chunk(self, rows, resolved=None):
        """Set-wise validation of the next parsed rows of the sheet: a few queries per chunk, whatever its size.

        Counts the new, updated and unchanged rows and collects errors over the whole sheet (a key repeated in
        any earlier chunk is a duplicate); leaves this chunk's records to write in `creates` and `updates`, and
        the rows' keys and field values in `resolved_rows`. A confirm passes `resolved` — what its preview
        resolved — when nothing those values depend on has changed since (see `dependency_models`): the rows
        are then neither resolved nor checked again, only their keys looked up (the stored records locked) and
        those records' versions compared with the preview's."""
        parsed = dict(rows)
        self.parsed = parsed
        self.creates, self.updates, self.versions, self.created_numbers = [], [], {}, set()
        trusted = resolved is not None
        if not trusted:
            # Rows with a bad cell are resolved too, so every problem of a row is reported at once.
            resolved = self.resolve(rows)
        seen = self.seen
        unique = []
        for number, key, values in resolved:
            if number in self.error_rows:
                continue
            if key in seen:
                self.error(
                    number,
                    self.key_column,
                    self.key_cell(number, key),
                    _("Duplicate key: the same record is also in row %(row)s.") % {"row": seen[key]},
                )
                continue
            seen[key] = number
            unique.append((number, key, values))
        keys = {key: number for number, key, _values in unique}
        if trusted and self.unique_key():
            # New at the preview and staged ready to COPY: not looked up again. The key's unique constraint
            # refuses the INSERT should a record have taken it since, and `finish` then names it.
            for _number, key, values in unique:
                if values.__class__ is CopyLine:
                    self.unchecked[key] = keys.pop(key)
        existing = self.existing(keys)
        staged = [
            (number, key, values, existing.get(key))
            for number, key, values in unique
            if number not in self.error_rows
        ]
        if not trusted:
            for number, column, value, message in self.check_rows(staged):
                self.error(number, column, value, message)
        versioned = self.versioned()
        stale = []
        for number, key, values, instance in staged:
            if number in self.error_rows:
                continue
            if versioned:
                # Only stored records are noted; a row noted as nothing was new at the preview.
                current = instance.version if instance is not None else None
                if current is not None:
                    self.versions[number] = current
                if self.expected_versions is not None:
                    expected = self.expected_versions.get(str(number), self.expected_versions.get(number))
                    if expected != current:
                        stale.append((number, key))
            if instance is None:
                self.creates.append(values)
                self.created_numbers.add(number)
                self.new += 1
                self.note(number, "new")
                continue
            if values.__class__ is CopyLine:
                # New at the preview, which staged it ready to COPY; someone has added the record since.
                if not stale or stale[-1][0] != number:
                    stale.append((number, key))
                continue
            changed = {}
            for attname, value in values.items():
                old = getattr(instance, attname)
                if old != value:
                    changed[attname] = (old, value)
                    setattr(instance, attname, value)
            if changed:
                self.updates.append(instance)
                self.updated += 1
                self.note(number, "updated")
                if len(self.changes) < KEEP:
                    self.changes[number] = changed
                for attname in changed:
                    self.column_changes[attname] = self.column_changes.get(attname, 0) + 1
                if not self.update_attnames:
                    self.update_attnames = list(values)
                    self.update_fields = [self.model._meta.get_field(f).name for f in self.update_attnames]
                    if versioned:
                        self.update_fields.append("version")
            else:
                self.unchanged += 1
                self.note(number, "unchanged")
        for number, key in stale:
            self.changed_since_preview(number, key)
        self.rows += len(rows)
        # The good rows are known to the sheets that follow even when another row is bad, so a bad project
        # does not make every disbursement of the good ones an "unknown project" as well.
        self.resolved_rows = [row for row in unique if row[0] not in self.error_rows]
        self.register_pending(self.resolved_rows)

    def changed_since_preview(self, number, key):
        self.stale.append(number)
        self.stale_keys.append(self.key_text(number, key))
        self.error(
            number,
            self.key_column,
            self.key_text(number, key),
            _("Someone changed this record after the preview; preview the file again."),
        )

    def note(self, number, action):
        if len(self.actions) < KEEP:
            self.actions[number] = action

    def pending_codes(self, model):
        """The codes of `model` this import adds or changes so far (for the sheets that follow)."""
        return self.context.pending.setdefault(model, set())

    def key_text(self, number, key=None):
        """The key of a row as the clerk wrote it (e.g. "BJ-2021-01-001 / PZ-1"). A confirm that writes what
        the preview resolved has no cells: it has the text the preview staged for a key of several parts,
        and a one-part key (a code) is its own text."""
        row = self.parsed.get(number)
        if row is None or row.__class__ is str:
            return row if row is not None else str(key if key is not None else "")
        return " / ".join(str(row.get(name) or "") for name in self.key_columns)

    def key_cell(self, number, key):
        """The key column's cell of a row, as the clerk wrote it (see `key_text`)."""
        row = self.parsed.get(number)
        if row is None or row.__class__ is str:
            return self.key_text(number, key)
        return row.get(self.key_column)

    def counts(self):
        return {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": len(self.error_rows),
        }

    # -- exporting ----------------------------------------------------------------------------------

    def export_rows(self, queryset):
        """Rows of cell values (codes as text, statuses as Chinese labels, amounts in 万元) for export."""
        raise NotImplementedError

    @classmethod
    def example_row(cls):
        return [column.example for column in cls.columns]

    @classmethod
    def headers(cls):
        return [column.header for column in cls.columns]
