"""No lost edits: every versioned record carries a `version`, raised by 1 on each save, and a save based on an
older version than the stored one is refused, with nothing of it written.

The check lives here and only here. It locks the stored row (`SELECT … FOR UPDATE`, in id order for several
rows) before comparing, so under PostgreSQL's READ COMMITTED two saves racing from the same version queue on
the row lock and the second one sees the first one's committed version: exactly one wins. Every path reaches
it: `VersionedModel.save()` (admin forms and inlines, services, commands) and `check_versions()` (bulk
actions, deletes and spreadsheet confirms, which hold the versions they were shown).

To version a model: give it `version = models.PositiveIntegerField(default=1)`, make `VersionedModel` its
first base, and put `VersionedAdminMixin` (aidtracker.versioning_admin) first among its admin's bases.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import connections, models, router, transaction
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from simple_history.models import HistoricalRecords

# Fields never listed as someone's change: the counter itself and what the history adds.
NOT_SHOWN = {"version"}


class StaleVersionError(Exception):
    """A save or a set-wise write based on versions older than the stored ones; `rows` are `StaleRow`s."""

    def __init__(self, rows):
        self.rows = list(rows)
        super().__init__(stale_rows_message(self.rows))


@dataclass
class FieldChange:
    """One field someone else changed: its label and the old and new values, as a person reads them."""

    name: str
    label: str
    old: str
    new: str
    old_raw: object = None
    new_raw: object = None


@dataclass
class StaleRow:
    """A record whose stored version is not the one the user's page or preview was based on.

    `stored` is None when the record has been deleted since. `changes` and `users` are filled from the
    history by `describe()` (only where a page shows them).
    """

    model: type
    pk: object
    label: str
    expected: int
    stored: int | None
    changes: list = field(default_factory=list)
    users: list = field(default_factory=list)
    history_known: bool = True

    @property
    def deleted(self):
        return self.stored is None

    @property
    def title(self):
        return f"{capfirst(self.model._meta.verbose_name)} {self.label}"


def _lock(queryset, using):
    # FOR UPDATE needs a transaction; outside one (a plain read) the caller's own save locks again.
    if connections[using].in_atomic_block:
        return queryset.select_for_update()
    return queryset


def locked_versions(model, pks, *, using=None):
    """The stored versions of the rows `pks` of `model`, locked until the transaction ends (id order, so
    two writers locking overlapping sets never deadlock). Rows deleted since are absent."""
    using = using or router.db_for_write(model)
    queryset = model._base_manager.db_manager(using).filter(pk__in=list(pks)).order_by("pk")
    return dict(_lock(queryset, using).values_list("pk", "version"))


def check_versions(model, expected, *, labels=None, using=None):
    """Lock the rows of `model` named in `expected` ({pk: version the user saw}) and raise `StaleVersionError`
    naming every row whose stored version differs (or that has been deleted). Call it inside the transaction
    that then writes them; it returns the stored versions."""
    expected = {_pk(model, pk): int(version) for pk, version in expected.items()}
    stored = locked_versions(model, expected, using=using)
    stale = [
        StaleRow(model, pk, (labels or {}).get(pk) or str(pk), version, stored.get(pk))
        for pk, version in expected.items()
        if stored.get(pk) != version
    ]
    if stale:
        if labels is None:
            _label_rows(model, stale, using)
        raise StaleVersionError(stale)
    return stored


def _pk(model, value):
    return model._meta.pk.to_python(value)


def _label_rows(model, rows, using):
    existing = model._base_manager.db_manager(using or router.db_for_read(model)).in_bulk(
        [r.pk for r in rows]
    )
    for row in rows:
        if row.pk in existing:
            row.label = str(existing[row.pk])


class AuditHistory(HistoricalRecords):
    """The history of a model, indexed for how it is read: a record's rows by its id (then a handful sorted by
    date), the rows a user wrote when the user is deleted. Not a copy of every index of the tracked table
    (codes, references, dates), which each history row written by an import or a save would pay for.

    Like the references the history copies from the tracked table (simple_history writes them without a
    database constraint), the user who made the change is not a database-checked foreign key: a history row
    is a record of what happened, written by the application with the user of the request, and checking it
    again cost a lookup and a row lock on the user per history row — a third of the history rows' cost in a
    50,000-row import. Deleting a user still sets their history rows' user to empty (Django's `SET_NULL`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("user_db_constraint", False)
        super().__init__(*args, **kwargs)

    def copy_fields(self, model):
        fields = super().copy_fields(model)
        for copied in fields.values():
            if copied.name != model._meta.pk.name:
                copied.db_index = False
        return fields


class VersionedModel(models.Model):
    """Saving an existing record checks its `version` against the stored one and raises it by 1.

    The version compared is the one the instance holds: the version it was loaded with, or the one a form
    posted. A stale instance raises `StaleVersionError` and writes nothing. New records start at 1.
    """

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding or self.pk is None:
            return super().save(*args, **kwargs)
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            stored = locked_versions(type(self), [self.pk], using=using).get(self.pk)
            if stored != self.version:
                raise StaleVersionError([StaleRow(type(self), self.pk, str(self), self.version, stored)])
            self.version = stored + 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
            try:
                return super().save(*args, **kwargs)
            except BaseException:
                self.version = stored
                raise


def save_versioned(obj, expected_version, **save_kwargs):
    """Save `obj` (changed in memory) only if its stored version is still `expected_version`, the one the
    user's page or request was based on; raise `StaleVersionError` otherwise. For services handed a version
    by a view (e.g. a state change from a button) rather than an instance loaded with it."""
    obj.version = int(expected_version)
    obj.save(**save_kwargs)
    return obj


# -- what the other person changed ---------------------------------------------------------------------


def describe(row, using=None):
    """Fill `row.changes` (field by field, old → new) and `row.users` from the record's history: from the
    version the user saw to the stored one."""
    if row.deleted:
        return row
    history = getattr(row.model, row.model._meta.simple_history_manager_attribute, None)
    if history is None:
        row.history_known = False
        return row
    records = (
        history.filter(**{row.model._meta.pk.attname: row.pk})
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    seen = records.filter(version=row.expected).last()
    current = records.last()
    row.users = _unique(str(r.history_user or _("someone")) for r in records.filter(version__gt=row.expected))
    if seen is None or current is None:
        row.history_known = False
        return row
    for model_field in row.model._meta.concrete_fields:
        if model_field.primary_key or not model_field.editable or model_field.name in NOT_SHOWN:
            continue
        try:
            old, new = getattr(seen, model_field.attname), getattr(current, model_field.attname)
        except AttributeError:
            continue  # a field the history does not keep (e.g. an uploaded document)
        if old != new:
            row.changes.append(
                FieldChange(
                    name=model_field.name,
                    label=capfirst(model_field.verbose_name),
                    old=display_value(model_field, old),
                    new=display_value(model_field, new),
                    old_raw=old,
                    new_raw=new,
                )
            )
    return row


def _unique(items):
    return list(dict.fromkeys(items))


def display_value(model_field, value):
    """A stored value as the admin shows it: the Chinese label of a choice, the name of a related record."""
    if value is None or value == "":
        return "—"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.is_relation:
        related = model_field.related_model._base_manager.filter(pk=value).first()
        return str(related) if related is not None else f"#{value}"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def stale_rows_message(rows):
    """ "Nothing was saved: X, Y changed since …", naming every row (for messages and exceptions)."""
    changed = [r.title for r in rows if not r.deleted]
    deleted = [r.title for r in rows if r.deleted]
    parts = []
    if changed:
        parts.append(
            ngettext(
                "%(rows)s was changed by someone else after you opened this page.",
                "%(rows)s were changed by someone else after you opened this page.",
                len(changed),
            )
            % {"rows": "、".join(changed)}
        )
    if deleted:
        parts.append(
            ngettext(
                "%(rows)s was deleted by someone else after you opened this page.",
                "%(rows)s were deleted by someone else after you opened this page.",
                len(deleted),
            )
            % {"rows": "、".join(deleted)}
        )
    return " ".join(parts)
