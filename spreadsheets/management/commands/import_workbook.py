"""Import a workbook holding any of the sheets 协议, 项目, 资金拨付, 建设成果, all or nothing."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from spreadsheets.services import import_recorded


class Command(BaseCommand):
    help = (
        "Import a workbook (xlsx, or a csv of one sheet) holding any of the sheets 协议, 项目, 资金拨付 and "
        "建设成果 (English sheet names accepted) in dependency order, in one transaction: one bad row and "
        "nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx (or .csv) file")
        parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
        parser.add_argument(
            "--user", help="username: imports only within this user's scope and records the history as them"
        )

    def handle(self, *args, file, dry_run=False, user=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": file})
        account = None
        if user:
            try:
                account = get_user_model()._default_manager.get_by_natural_key(user)
            except get_user_model().DoesNotExist as exc:
                raise CommandError(_("No such user: %(user)s") % {"user": user}) from exc
        # Progress per sheet on a terminal; nothing extra when the output goes to a file or a pipe.
        progress = None
        if self.stderr.isatty():
            self.stderr.write(_("Reading %(file)s…") % {"file": path.name})

            def progress(sheet, rows):
                self.stderr.write(
                    _("Sheet %(sheet)s: %(rows)s rows checked…") % {"sheet": sheet, "rows": rows}
                )

        record, outcome = import_recorded(
            path.read_bytes(),
            path.name,
            account,
            dry_run=dry_run,
            source="command",
            target="workbook",
            progress=progress,
        )
        if outcome is None:
            raise CommandError(record.message)
        header = f"{_('Sheet'):<12}{_('new'):>10}{_('updated'):>10}{_('unchanged'):>10}{_('errors'):>10}"
        self.stdout.write(header)
        for sheet, counts in outcome.counts.items():
            self.stdout.write(
                f"{sheet:<12}{counts['new']:>10}{counts['updated']:>10}"
                f"{counts['unchanged']:>10}{counts['errors']:>10}"
            )
        for error in outcome.errors:
            self.stderr.write(
                _("%(sheet)s row %(row)s, column %(column)s, value “%(value)s”: %(message)s")
                % error.as_dict()
            )
        if outcome.errors:
            raise CommandError(_("Nothing was imported: %(count)s errors.") % {"count": len(outcome.errors)})
        if dry_run:
            self.stdout.write(self.style.NOTICE(_("Dry run: nothing was written.")))
        else:
            self.stdout.write(self.style.SUCCESS(_("Imported.")))
