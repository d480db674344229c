"""Housekeeping of spreadsheet imports: old uploaded files, and previews nobody confirmed."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from spreadsheets.models import ImportRecord


@transaction.atomic
def prune_imports(*, file_days: int, preview_hours: int = 24) -> tuple[int, int]:
    """Drop the uploaded file (not the record) of imports older than `file_days`, and cancel previews left
    unconfirmed for `preview_hours`, dropping their staged rows. Returns (files dropped, previews cancelled).

    The record — who, when, which file (name, size, SHA-256), counts and errors — is kept; only the error
    report, which needs the file, is no longer available for a pruned import.
    """
    now = timezone.now()
    previews = ImportRecord.objects.filter(
        outcome=ImportRecord.Outcome.PREVIEWED, created_at__lt=now - timedelta(hours=preview_hours)
    ).update(outcome=ImportRecord.Outcome.CANCELLED, staged=None, finished_at=now)
    files = ImportRecord.objects.filter(
        created_at__lt=now - timedelta(days=file_days), file__isnull=False
    ).update(file=None)
    return files, previews
