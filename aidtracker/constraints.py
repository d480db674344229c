"""Database rules that explain themselves next to the field they are about.

Django puts a CheckConstraint's message, and a UniqueConstraint's over several fields, at the top of the form
("约束 … 是无效的"). These constraints carry the field their message belongs to, so a form shows the sentence
beside that field ("结束日期不能早于开始日期。"), and an import names the column.
"""

from django.core.exceptions import ValidationError
from django.db import models


class FieldConstraintMixin:
    """A constraint whose violation is reported on `field` (one of the fields it checks)."""

    non_db_attrs = (*models.BaseConstraint.non_db_attrs, "field")

    def __init__(self, *args, field, **kwargs):
        self.field = field
        super().__init__(*args, **kwargs)

    def validate(self, model, instance, exclude=None, using=None):
        try:
            super().validate(model, instance, exclude=exclude, using=using)
        except ValidationError as error:
            raise ValidationError({self.field: error.error_list}) from error

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        kwargs["field"] = self.field
        return f"{__name__}.{type(self).__name__}", args, kwargs

    def __eq__(self, other):
        return super().__eq__(other) and self.field == getattr(other, "field", None)


class FieldCheckConstraint(FieldConstraintMixin, models.CheckConstraint):
    """A CheckConstraint reported on one field."""


class FieldUniqueConstraint(FieldConstraintMixin, models.UniqueConstraint):
    """A UniqueConstraint over several fields reported on one of them (the one a person would change)."""
