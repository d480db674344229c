"""Housekeeping of spreadsheet imports: old uploaded files, and previews nobody confirmed."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from spreadsheets.housekeeping import prune_imports


class Command(BaseCommand):
    help = (
        "Drop the uploaded files of imports older than --days (default AIDTRACKER_IMPORT_FILE_DAYS, 90), "
        "keeping the records, and cancel previews not confirmed within 24 hours, dropping their staged rows."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.AIDTRACKER_IMPORT_FILE_DAYS)
        parser.add_argument("--preview-hours", type=int, default=24)

    def handle(self, *args, days, preview_hours, **options):
        files, previews = prune_imports(file_days=days, preview_hours=preview_hours)
        self.stdout.write(
            _(
                "%(files)s uploaded files older than %(days)s days dropped; %(previews)s unconfirmed previews cancelled."
            )
            % {"files": files, "days": days, "previews": previews}
        )
