"""Form widgets of the access layer."""

import os

from django.contrib.admin.widgets import AdminFileWidget
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
