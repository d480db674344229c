from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from projects import rollup_sql
from projects.rollups import rollup_differences


class Command(BaseCommand):
    help = (
        "Compare the dashboard rollups with a fresh rebuild from the base tables, in one snapshot; print the "
        "differences and exit 1 if there are any (run it on a schedule)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")

    def handle(self, *args, database, **options):
        differences = rollup_differences(using=database)
        if not differences:
            self.stdout.write(self.style.SUCCESS(_("Dashboard rollups agree with the base tables.")))
            return
        for table, key, kept, rebuilt in differences:
            columns, _select = rollup_sql.rebuild_selects("postgresql")[table]
            names = [name.strip() for name in columns.split(",")]
            self.stdout.write(
                f"{table} {dict(zip(names, key, strict=False))}: "
                + _("kept %(kept)s, rebuilt %(rebuilt)s") % {"kept": kept, "rebuilt": rebuilt}
            )
        raise CommandError(
            _("%(count)d rollup rows differ from the base tables: run rebuild_rollups.")
            % {"count": len(differences)},
            returncode=1,
        )
