import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from projects import reminders


class Command(BaseCommand):
    help = (
        "Mail every active report author what is missing, in draft or returned for the reporting quarter; "
        "at most one mail per user a day. Meant for a daily schedule (cron or a systemd timer)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="The day to act as (YYYY-MM-DD); default today in Asia/Shanghai.")
        parser.add_argument("--dry-run", action="store_true", help="List who would be mailed; send nothing.")

    def handle(self, *args, date=None, dry_run=False, **options):
        day = None
        if date:
            try:
                day = datetime.date.fromisoformat(date)
            except ValueError as exc:
                raise CommandError(_("Give the date as YYYY-MM-DD.")) from exc
        result = reminders.remind(day=day, dry_run=dry_run)
        for user, email in result.sent:
            line = _("Would mail %(user)s <%(email)s>") if dry_run else _("Mailed %(user)s <%(email)s>")
            self.stdout.write(line % {"user": user.username, "email": email})
        if result.already:
            self.stdout.write(
                _("Already reminded today: %(users)s")
                % {"users": ", ".join(u.username for u in result.already)}
            )
        if result.without_email:
            self.stdout.write(
                self.style.WARNING(
                    _("Users with reports waiting but no e-mail address: %(users)s")
                    % {"users": ", ".join(u.username for u in result.without_email)}
                )
            )
        for user, error in result.failed:
            self.stderr.write(
                _("Could not mail %(user)s: %(error)s") % {"user": user.username, "error": error}
            )
        self.stdout.write(
            _("%(sent)d reminders sent, %(nothing)d users with nothing waiting.")
            % {"sent": 0 if dry_run else len(result.sent), "nothing": result.nothing}
        )
        if result.failed:
            raise CommandError(_("Some reminders could not be sent."))
