"""The SheetImporter framework: parse a sheet once, validate it set-wise, write it in bulk.

Importing is set-wise, never a query per row: a `SheetImporter` parses the cells of a sheet once into
normalised values (JSON-able, so a preview can keep them in the database and another app server can
confirm), then validates the whole sheet with lookup maps and a few `IN` queries, then writes with COPY or
`bulk_create`/`bulk_update` and django-simple-history's bulk helpers, skipping unchanged rows. Any error
anywhere means nothing is written.
"""

from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from spreadsheets import registry
from spreadsheets.cells import (
    ERROR_HEADER,
    FORMULA_WITHOUT_VALUE,
    CellError,
    Column,
    LongText,
    RawSheet,
    RowError,
    SpreadsheetError,
    display,
    excerpt,
    normalise_header,
    normalise_sheet_name,
    parse_choice,
    parse_date,
    parse_int,
    parse_wan,
    text_value,
    yuan_to_wan,
)
from spreadsheets.pg_copy import insert_with_history
from spreadsheets.queries import keyset  # noqa: F401  (importers read their exports with it)

CHUNK = 2000

# --------------------------------------------------------------------------------------------------
# Importing


class Pending:
    """A reference to a record that an earlier sheet of the same file creates; resolved when written."""

    __slots__ = ("model", "code")

    def __init__(self, model, code):
        self.model = model
        self.code = code

    def __eq__(self, other):
        return isinstance(other, Pending) and (self.model, self.code) == (other.model, other.code)

    def __hash__(self):
        return hash((self.model, self.code))


class ImportContext:
    """What every sheet of one import shares: the user, their scope and the records earlier sheets add."""

    def __init__(self, user=None):
        self.user = user
        # No user (the django-import-export commands) means national scope.
        self.national = user is None or registry.access("sees_everything")(user)
        self.province = None if self.national else registry.access("user_province")(user)
        self.pending = {}  # model label -> {code: info}
        self.lock = False  # a confirm locks the rows it reads until it commits

    @cached_property
    def province_id(self):
        return self.province.pk if self.province else None

    def in_province(self, province_id) -> bool:
        return self.national or (self.province_id is not None and province_id == self.province_id)

    def scoped(self, queryset):
        if self.user is None:
            return queryset
        return registry.access("scope_queryset")(self.user, queryset)


def code_or_name_map(queryset, code_field="code", name_field="name"):
    """{code: id, exact name: id}; a name shared by several rows maps to None (ambiguous)."""
    by_code, by_name = {}, {}
    for pk, code, name in queryset.values_list("pk", code_field, name_field):
        by_code[code] = pk
        by_name[name] = None if name in by_name else pk
    return by_code, by_name


def chunked(items, size=CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ParsedRow(tuple):
    """A parsed row: its values in column order, read by column name (`row["code"]`, `row.get("code")`).

    A tuple takes a fifth of the memory of a dict per row, which counts at 200,000 rows; it is written to
    the staging as a JSON list."""

    __slots__ = ()
    index: dict = {}

    def __getitem__(self, key):
        if key.__class__ is str:
            return tuple.__getitem__(self, self.index[key])
        return tuple.__getitem__(self, key)

    def get(self, key, default=None):
        position = self.index.get(key)
        return default if position is None else tuple.__getitem__(self, position)

    def as_dict(self):
        return {name: tuple.__getitem__(self, position) for name, position in self.index.items()}


_ROW_CLASSES = {}


class SheetImporter:
    """Parse, validate and write one sheet. Subclasses declare the columns and the references."""

    model = None
    sheet_names = ()  # Chinese first (canonical), then English
    columns: list[Column] = []
    key_column = "code"  # the column named in a duplicate-key error
    key_columns = ("code",)  # the columns whose values name a record
    # Labels of stored status values: {value: (Chinese label, English label)}
    choices: dict = {}

    def __init__(self, context: ImportContext):
        self.context = context
        self.errors: list[RowError] = []
        self.creates = []
        self.updates = []
        self.unchanged = 0
        self.actions = {}  # row number -> "new" / "updated" / "unchanged"
        self.error_rows = set()
        self.changes = {}  # row number -> {attname: (old, new)}
        self.versions = {}  # row number -> the stored record's version (None for a new one)
        self.expected_versions = None  # at a confirm: the versions the preview saw
        self.stale = []  # rows whose record changed since the preview
        self.parsed = {}

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
                problems.append(_("Unknown column: %(header)s.") % {"header": title})
            elif column.name in positions:
                problems.append(_("Repeated column: %(header)s.") % {"header": title})
            else:
                positions[column.name] = index
        for column in self.columns:
            if column.name not in positions:
                problems.append(_("Missing column: %(header)s.") % {"header": column.header})
        return positions, problems

    def parse(self, raw: RawSheet, keep=0):
        """Normalised rows [(row number, {column: JSON-able value})]; cell errors go to self.errors.

        The raw rows are let go as they are parsed, so the file's rows are never held twice; the first
        `keep` stay in `raw.rows` (for the preview)."""
        positions, problems = self.map_columns(raw.header)
        if problems:
            raise SpreadsheetError(
                _("Sheet %(sheet)s: %(problems)s") % {"sheet": raw.title, "problems": " ".join(problems)}
            )
        parsed = []
        columns = [(column, positions[column.name]) for column in self.columns]
        row_class = self.row_class()
        rows = raw.rows
        raw.rows = rows[:keep]
        for position in range(len(rows)):
            number, values = rows[position]
            rows[position] = None
            row = []
            for column, index in columns:
                value = values[index] if index < len(values) else None
                try:
                    row.append(self.parse_cell(column, value))
                except CellError as exc:
                    self.error(number, column.name, value, exc.args[0])
                    row.append(None)
            parsed.append((number, row_class(row)))
        return parsed

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
    def versioned(cls) -> bool:
        return any(f.name == "version" for f in cls.model._meta.concrete_fields)

    def validate(self, rows):
        """Set-wise validation of the parsed rows; fills creates/updates/unchanged and errors."""
        parsed = dict(rows)
        self.parsed = parsed
        # Rows with a bad cell are resolved too, so every problem of a row is reported at once.
        resolved = self.resolve(rows)
        seen = {}
        unique = []
        for number, key, values in resolved:
            if number in self.error_rows:
                continue
            if key in seen:
                self.error(
                    number,
                    self.key_column,
                    parsed[number].get(self.key_column),
                    _("Duplicate key: the same record is also in row %(row)s.") % {"row": seen[key]},
                )
                continue
            seen[key] = number
            unique.append((number, key, values))
        existing = self.existing({key: number for number, key, _values in unique})
        staged = [
            (number, key, values, existing.get(key))
            for number, key, values in unique
            if number not in self.error_rows
        ]
        for number, column, value, message in self.check_rows(staged):
            self.error(number, column, value, message)
        versioned = self.versioned()
        fields = None
        for number, _key, values, instance in staged:
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
                        self.stale.append(number)
            if instance is None:
                self.creates.append(values)
                self.actions[number] = "new"
                continue
            changed = {}
            for attname, value in values.items():
                old = getattr(instance, attname)
                if old != value:
                    changed[attname] = (old, value)
                    setattr(instance, attname, value)
            if changed:
                self.updates.append(instance)
                self.actions[number] = "updated"
                self.changes[number] = changed
                fields = fields or list(values)
            else:
                self.unchanged += 1
                self.actions[number] = "unchanged"
        self.update_attnames = list(fields or [])
        self.update_fields = [self.model._meta.get_field(f).name for f in self.update_attnames]
        if versioned and self.updates:
            self.update_fields.append("version")
        for number in self.stale:
            self.error(
                number,
                self.key_column,
                self.key_text(number),
                _("Someone changed this record after the preview; preview the file again."),
            )
        # The good rows are known to the sheets that follow even when another row is bad, so a bad project
        # does not make every disbursement of the good ones an "unknown project" as well.
        self.register_pending([row for row in unique if row[0] not in self.error_rows])

    def column_of_attname(self):
        """{model attname: column} for the columns that fill a model field."""
        names = {f.attname for f in self.model._meta.concrete_fields}
        out = {}
        for column in self.columns:
            for attname in column.attnames():
                if attname in names:
                    out[attname] = column
                    break
        return out

    def changed_column_counts(self):
        """{column header: how many rows change it} over every updated row of the sheet."""
        columns = self.column_of_attname()
        counts = {}
        for changed in self.changes.values():
            for attname in changed:
                column = columns.get(attname)
                if column is not None:
                    counts[column.header] = counts.get(column.header, 0) + 1
        return {column.header: counts[column.header] for column in self.columns if column.header in counts}

    def describe_changes(self, numbers):
        """{row number: [{"column", "old", "new"}]} of the given updated rows, values as a sheet shows them
        (codes for references, one query per referenced model, Chinese labels, amounts in 万元)."""
        columns = self.column_of_attname()
        references = {}
        for number in numbers:
            for attname, pair in self.changes.get(number, {}).items():
                related = getattr(
                    self.model._meta.get_field(attname.removesuffix("_id")), "related_model", None
                )
                if related is not None:
                    references.setdefault(related, set()).update(v for v in pair if isinstance(v, int))
        codes = {}
        for related, ids in references.items():
            code = "code" if any(f.name == "code" for f in related._meta.fields) else "pk"
            for chunk in chunked(ids):
                codes.update(
                    {
                        (related, pk): c
                        for pk, c in related._default_manager.filter(pk__in=chunk).values_list("pk", code)
                    }
                )
        out = {}
        for number in numbers:
            lines = []
            for attname, (old, new) in self.changes.get(number, {}).items():
                column = columns.get(attname)
                if column is None:
                    continue
                related = getattr(
                    self.model._meta.get_field(attname.removesuffix("_id")), "related_model", None
                )
                lines.append(
                    {
                        "column": column.header,
                        "old": self.show(column, old, related, codes),
                        "new": self.show(column, new, related, codes),
                    }
                )
            out[number] = lines
        return out

    def show(self, column, value, related=None, codes=None):
        """A stored value as the sheet writes it."""
        if value is None or value == "":
            return ""
        if isinstance(value, Pending):
            return excerpt(value.code)
        if related is not None:
            return excerpt(codes.get((related, value), value))
        if column.kind == "amount":
            return str(yuan_to_wan(value))
        if column.kind == "status":
            return self.choices.get(value, (value,))[0]
        return display(value)

    def key_text(self, number):
        """The key of a row as the clerk wrote it (e.g. "BJ-2021-01-001 / PZ-1")."""
        row = self.parsed.get(number, {})
        return " / ".join(str(row.get(name) or "") for name in self.key_columns)

    # -- writing ------------------------------------------------------------------------------------

    def resolve_pending(self, values):
        """Replace references to records created by an earlier sheet with their ids, now they exist.

        `values` are dicts of field values; one query per referenced model, whatever the number of rows."""
        pending = {(v.model, v.code) for row in values for v in row.values() if isinstance(v, Pending)}
        if not pending:
            return
        ids = {}
        for model in {m for m, _code in pending}:
            codes = [c for m, c in pending if m is model]
            for chunk in chunked(codes):
                ids.update(
                    {
                        (model, c): pk
                        for c, pk in model._default_manager.filter(code__in=chunk).values_list("code", "pk")
                    }
                )
        for row in values:
            for attname, value in row.items():
                if isinstance(value, Pending):
                    row[attname] = ids[(value.model, value.code)]

    def write(self):
        from simple_history.utils import bulk_create_with_history, bulk_update_with_history

        user = self.context.user
        self.resolve_pending(self.creates)
        if self.updates:
            # The updated records' references to records this workbook adds, resolved set-wise too.
            attnames = self.update_attnames
            rows = [{name: vars(instance).get(name) for name in attnames} for instance in self.updates]
            self.resolve_pending(rows)
            bump = "version" in self.update_fields
            for instance, row in zip(self.updates, rows, strict=True):
                for name, value in row.items():
                    setattr(instance, name, value)
                if bump:
                    instance.version = (instance.version or 0) + 1
        if self.creates and not insert_with_history(self.model, self.creates, user, _("spreadsheet import")):
            bulk_create_with_history(
                [self.model(**values) for values in self.creates],
                self.model,
                batch_size=1000,
                default_user=user,
                default_change_reason=_("spreadsheet import"),
            )
        if self.updates:
            bulk_update_with_history(
                self.updates,
                self.model,
                fields=self.update_fields,
                batch_size=1000,
                default_user=user,
                default_change_reason=_("spreadsheet import"),
            )

    def counts(self):
        return {
            "new": len(self.creates),
            "updated": len(self.updates),
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


def reference_id(importer, row_number, column, value, maps, *, unknown, ambiguous=None):
    """The id of a code or exact name in (by_code, by_name) maps; reports an error and returns None."""
    if value is None:
        return None  # blank or unreadable: already reported by the parser
    by_code, by_name = maps
    if value in by_code:
        return by_code[value]
    if value in by_name:
        if by_name[value] is None:
            importer.error(
                row_number, column, value, ambiguous or _("Several records have this name; use the code.")
            )
            return None
        return by_name[value]
    importer.error(row_number, column, value, unknown)
    return None


def dates_in_order(importer, number, start_column, end_column, values, start, end):
    if values.get(start) and values.get(end) and values[end] < values[start]:
        importer.error(number, end_column, values[end], _("The end date is before the start date."))
