"""Django's migrate, one at a time: app servers started together (or a deploy run twice) never migrate the
same PostgreSQL database concurrently. The lock is a session-level advisory lock, released when done."""

from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connections

# Any constant shared by every app server; "aidtrack" in ASCII.
LOCK_KEY = 0x6169647472616B


class Command(MigrateCommand):
    def handle(self, *args, **options):
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            return super().handle(*args, **options)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        try:
            return super().handle(*args, **options)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
