"""The writing half of a SheetImporter: a chunk's new and changed records in bulk, then the sheet's new
records inserted at once on PostgreSQL (see `pg_copy.NewRows`), with their history rows."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from spreadsheets.cells import Pending, chunked
from spreadsheets.pg_copy import CopyLine, NewRows
from spreadsheets.queries import many


class SheetWrites:
    """Mixed into SheetImporter: `write` after each validated chunk, `finish` after the sheet's last."""

    def resolve_pending(self, values):
        """Replace references to records created by an earlier sheet with their ids, now they exist.

        `values` are dicts of field values; one query per referenced model, whatever the number of rows."""
        values = [row for row in values if row.__class__ is not CopyLine]  # staged ready, nothing pending
        pending = {(v.model, v.code) for row in values for v in row.values() if isinstance(v, Pending)}
        if not pending:
            return
        ids = {}
        for model in {m for m, _code in pending}:
            codes = [c for m, c in pending if m is model]
            for chunk in chunked(codes):
                found = model._default_manager.filter(code__in=many(chunk)).values_list("code", "pk")
                ids.update({(model, c): pk for c, pk in found})
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
        reason = _("spreadsheet import")
        if self.creates and self.new_rows is None:
            self.new_rows = NewRows.for_model(self.model, user) or False
        if self.creates and self.new_rows:
            self.new_rows.add(self.creates)
        elif self.creates:
            bulk_create_with_history(
                [self.model(**values) for values in self.creates],
                self.model,
                batch_size=1000,
                default_user=user,
                default_change_reason=reason,
                default_date=self.context.started,
            )
        if self.updates:
            bulk_update_with_history(
                self.updates,
                self.model,
                fields=self.update_fields,
                batch_size=1000,
                default_user=user,
                default_change_reason=reason,
                default_date=self.context.started,
            )
        self.creates, self.updates = [], []

    def finish(self):
        """After the sheet's last chunk is written: insert the new records gathered on PostgreSQL, with their
        history rows, in one statement (the sheets that follow may refer to them)."""
        if not self.new_rows:
            return
        if not self.unchecked:
            self.new_rows.insert(self.context.user, _("spreadsheet import"), self.context.started)
            return
        try:
            with transaction.atomic():
                self.new_rows.insert(self.context.user, _("spreadsheet import"), self.context.started)
        except IntegrityError:
            errors = len(self.errors)
            self.name_taken()
            if len(self.errors) == errors:
                raise

    def name_taken(self):
        """The keys a trusted confirm did not look up (new at the preview, see `validate_chunk`) that a record
        has taken since: each named, as a looked-up one would be — when the INSERT failed on one, or when the
        sheet is not written for another row's error."""
        if self.unchecked:
            for key in self.existing(self.unchecked):
                self.changed_since_preview(self.unchecked[key], key)
