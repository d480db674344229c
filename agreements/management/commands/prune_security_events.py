"""Delete security-log rows older than the retention period (never fewer than six months)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from agreements import security


class Command(BaseCommand):
    help = "Delete security events older than --days (default AIDTRACKER_SECURITY_LOG_DAYS; at least 183)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=getattr(settings, "AIDTRACKER_SECURITY_LOG_DAYS", 400)
        )

    def handle(self, *args, days, **options):
        deleted = security.prune(older_than_days=days)
        kept = max(days, security.MIN_RETENTION_DAYS)
        self.stdout.write(f"{deleted} security events older than {kept} days deleted.")
