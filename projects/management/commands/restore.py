from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from projects import backups


class Command(BaseCommand):
    help = (
        "Restore a backup (aidtracker-….dump, and its -media.tar.gz beside it) into the empty database "
        "DATABASE_URL names, then print the per-province totals it holds."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .dump file written by `make backup`.")

    def handle(self, *args, file, **options):
        try:
            media, written, skipped = backups.restore(file)
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(_("Restored %(path)s.") % {"path": file})
        if media:
            self.stdout.write(
                _("Uploaded files restored from %(path)s: %(written)s written, %(skipped)s already there.")
                % {"path": media, "written": written, "skipped": skipped}
            )
        for row in backups.province_totals():
            self.stdout.write("\t".join(row))
