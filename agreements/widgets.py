"""Form widgets of the access layer."""

import os

from django.contrib.admin.widgets import AdminFileWidget, AutocompleteSelect
from django.core.exceptions import ValidationError
from django.urls import reverse


class StoredFileLink:
    """What the file widget shows for a stored file: its name, linking to the scoped download view."""

    def __init__(self, field_file, url):
        self.field_file = field_file
        self.url = url

    def __str__(self):
        return os.path.basename(self.field_file.name)

    def __bool__(self):
        return bool(self.field_file)


class ScopedFileInput(AdminFileWidget):
    """The admin's file input, linking the current file to the scoped download view, not to MEDIA_URL."""

    def __init__(self, attrs=None, *, field_name):
        super().__init__(attrs)
        self.field_name = field_name

    def format_value(self, value):
        value = super().format_value(value)
        instance = getattr(value, "instance", None)
        if value and instance is not None and instance.pk is not None:
            opts = instance._meta
            url = reverse(
                "agreements:scoped_file",
                args=[opts.app_label, opts.model_name, instance.pk, self.field_name],
            )
            return StoredFileLink(value, url)
        return value


class SafeAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget, which redisplays a posted value that is no id at all (`1\x00`, `abc`)
    as no choice: Django's own looks it up in the database and fails with a server error."""

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        to_field = remote.model._meta.get_field(
            getattr(remote, "field_name", None) or remote.model._meta.pk.name
        )
        return super().optgroups(name, [v for v in value if _is_value_of(to_field, v)], attr)


def _is_value_of(field, value):
    try:
        field.to_python(value)
    except (ValidationError, ValueError, TypeError):
        return False
    return "\x00" not in str(value)
