"""History pages that read like the rest of the admin: a blank value (an empty link too) shows as —, a choice
by its label, a moment in local time formatted like the change form, a link to a deleted row in Chinese."""

import datetime
import decimal

from django.contrib.admin.utils import display_for_value
from django.db import models
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper

EMPTY = "—"


class ReadableChanges(HistoricalRecordContextHelper):
    """The old → new values of a change as a person reads them (never `None`, never a stored code)."""

    def prepare_delta_change_value(self, change, value):
        value = super().prepare_delta_change_value(change, value)
        if isinstance(value, DeletedObject):
            if value.pk is None:  # an empty link, not a deleted row
                return EMPTY
            return _("deleted %(type)s (number %(pk)s)") % {
                "type": value.model._meta.verbose_name,
                "pk": value.pk,
            }
        if value is None or value == "":
            return EMPTY
        field = self.model._meta.get_field(change.field)
        if field.choices:
            return dict(field.flatchoices).get(value, value)
        if isinstance(field, models.BooleanField):
            return _("Yes") if value else _("No")
        if isinstance(value, datetime.date | datetime.time | decimal.Decimal | float):
            return display_for_value(value, EMPTY)  # local time, the admin's formats
        return value


class ReadableHistoryAdmin(SimpleHistoryAdmin):
    """SimpleHistoryAdmin whose history pages show values as a person reads them (for unversioned models)."""

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableChanges(self.model, historical_record)
