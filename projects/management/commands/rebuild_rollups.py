from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from projects.rollups import rebuild_rollups


class Command(BaseCommand):
    help = "Recompute the dashboard rollups from the base tables (after loads that bypass the triggers)."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")

    def handle(self, *args, database, **options):
        rebuild_rollups(using=database)
        self.stdout.write(self.style.SUCCESS(_("Dashboard rollups rebuilt.")))
