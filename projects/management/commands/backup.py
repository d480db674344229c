from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from projects import backups


class Command(BaseCommand):
    help = (
        "Write a pg_dump custom-format backup aidtracker-YYYYMMDD-HHMMSS.dump, and an archive of the "
        "uploaded files, into BACKUP_DIR (default backups/)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dir", help="Folder for the files (default: BACKUP_DIR or backups/).")

    def handle(self, *args, dir=None, **options):
        try:
            dump, media = backups.backup(dir)
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(_("Database: %(path)s") % {"path": dump})
        if media:
            self.stdout.write(_("Uploaded files: %(path)s") % {"path": media})
        else:
            self.stdout.write(_("Uploaded files are in an object store: its own backup applies."))
