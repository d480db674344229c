"""What the engine stores: every import (ImportRecord)."""

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ImportRecord(models.Model):
    """One spreadsheet import, from the admin or the command line: who, when, which file, what it did.

    A preview keeps the normalised rows (`staged`) so the confirm — on any app server — writes exactly what
    was previewed without parsing the file again; the uploaded file is kept for the error report (the sheet
    with an error column).
    """

    class Outcome(models.TextChoices):
        PREVIEWED = "previewed", _("previewed")
        DRY_RUN = "dry_run", _("dry run")
        IMPORTED = "imported", _("imported")
        REJECTED = "rejected", _("rejected")
        CANCELLED = "cancelled", _("cancelled")
        FAILED = "failed", _("failed")

    class Source(models.TextChoices):
        ADMIN = "admin", _("admin")
        COMMAND = "command", _("command line")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="import_records",
    )
    created_at = models.DateTimeField(_("started at"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.ADMIN)
    target = models.CharField(_("imported into"), max_length=100)
    file_name = models.CharField(_("file name"), max_length=255)
    file_size = models.PositiveBigIntegerField(_("file size (bytes)"), default=0)
    sha256 = models.CharField(_("SHA-256 checksum"), max_length=64)
    counts = models.JSONField(_("counts per sheet"), default=dict, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    message = models.TextField(_("message"), blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    preview = models.JSONField(_("preview rows"), default=list, blank=True)
    file = models.BinaryField(_("uploaded file"), null=True, blank=True, editable=False)
    staged = models.BinaryField(_("normalised rows"), null=True, blank=True, editable=False)

    class Meta:
        # The table it has always had (the model moved here from agreements with its data).
        db_table = "agreements_importrecord"
        ordering = ["-created_at"]
        verbose_name = _("spreadsheet import")
        verbose_name_plural = _("spreadsheet imports")

    def __str__(self):
        return f"{self.file_name} ({self.get_outcome_display()})"

    @property
    def error_count(self):
        return len(self.errors or [])

    @staticmethod
    def target_name(target):
        """The Chinese name of what a file was imported into (`target` is a model label; empty for a whole
        workbook)."""
        if not target:
            return gettext("whole workbook")
        try:
            return capfirst(apps.get_model(target)._meta.verbose_name)
        except (LookupError, ValueError):
            return target

    def counts_lines(self):
        """One line per sheet: 资金拨付：新增 1，更新 0，未变 0，错误 1 (with the columns updates change)."""
        lines = []
        for sheet, counts in (self.counts or {}).items():
            line = gettext(
                "%(sheet)s: %(new)s new, %(updated)s updated, %(unchanged)s unchanged, %(errors)s errors"
            ) % {
                "sheet": sheet,
                **{key: counts.get(key, 0) for key in ("new", "updated", "unchanged", "errors")},
            }
            columns = counts.get("columns") or {}
            if columns:
                changed = "、".join(
                    gettext("%(column)s %(rows)s rows") % {"column": column, "rows": rows}
                    for column, rows in columns.items()
                )
                line += gettext(" (columns changed: %(columns)s)") % {"columns": changed}
            lines.append(line)
        return lines

    def totals(self):
        total = {"new": 0, "updated": 0, "unchanged": 0, "errors": 0}
        for counts in (self.counts or {}).values():
            for key in total:
                total[key] += counts.get(key, 0)
        return total
