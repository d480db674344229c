from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from projects import demo
from projects.models import Project


class Command(BaseCommand):
    help = "Fill an empty database with the deterministic demo of the published 2022 figures, and demo users."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset", action="store_true", help="Delete existing agreements and projects first."
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing (and succeed) when data already exists."
        )

    def handle(self, *args, reset=False, if_empty=False, **options):
        if not settings.DEBUG:
            raise CommandError(
                _("load_demo refuses to run with DEBUG off: it is for demonstration databases.")
            )
        if not demo.is_empty():
            if if_empty:
                self.stdout.write(_("The database already holds data; the demo was not loaded."))
                return
            if not reset:
                raise CommandError(
                    _("The database already holds agreements or projects. Run with --reset to replace them.")
                )
            demo.clear()
        count = demo.load()
        cancelled = Project.objects.filter(status=Project.Status.CANCELLED).count()
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo loaded: %(count)d projects, of which %(cancelled)d cancelled (%(live)d live).")
                % {"count": count, "cancelled": cancelled, "live": count - cancelled}
            )
        )
        self.stdout.write(_("Demo logins (password %(password)s):") % {"password": demo.DEMO_PASSWORD})
        for username, role, *_rest in demo.USERS:
            self.stdout.write(f"  {username:<14} {role}")
