"""prune_imports: old uploaded files go, the records stay; previews never confirmed are cancelled."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from spreadsheets.models import ImportRecord

pytestmark = pytest.mark.django_db


def record(outcome, *, age, file=b"xlsx bytes", staged=None):
    created = ImportRecord.objects.create(
        file_name="projects.xlsx",
        sha256="0" * 64,
        target="projects",
        outcome=outcome,
        file=file,
        staged=staged,
    )
    ImportRecord.objects.filter(pk=created.pk).update(created_at=timezone.now() - age)
    return created.pk


def prune(*args):
    out = StringIO()
    call_command("prune_imports", *args, stdout=out)
    return out.getvalue()


def test_files_of_old_imports_are_dropped_and_the_records_kept(settings):
    settings.AIDTRACKER_IMPORT_FILE_DAYS = 90
    old = record(ImportRecord.Outcome.IMPORTED, age=timedelta(days=91))
    young = record(ImportRecord.Outcome.REJECTED, age=timedelta(days=89))
    prune("--days", "90")
    old_record = ImportRecord.objects.get(pk=old)
    assert old_record.file is None
    assert old_record.sha256 == "0" * 64 and old_record.outcome == ImportRecord.Outcome.IMPORTED
    assert bytes(ImportRecord.objects.get(pk=young).file) == b"xlsx bytes"


def test_the_number_of_days_is_configurable(settings):
    pk = record(ImportRecord.Outcome.IMPORTED, age=timedelta(days=8))
    prune("--days", "30")
    assert ImportRecord.objects.get(pk=pk).file is not None
    prune("--days", "7")
    assert ImportRecord.objects.get(pk=pk).file is None


def test_previews_left_unconfirmed_a_day_are_cancelled_and_their_rows_dropped():
    stale = record(ImportRecord.Outcome.PREVIEWED, age=timedelta(hours=25), staged=b"rows")
    fresh = record(ImportRecord.Outcome.PREVIEWED, age=timedelta(hours=2), staged=b"rows")
    output = prune()
    stale_record = ImportRecord.objects.get(pk=stale)
    assert stale_record.outcome == ImportRecord.Outcome.CANCELLED
    assert stale_record.staged is None and stale_record.finished_at is not None
    fresh_record = ImportRecord.objects.get(pk=fresh)
    assert fresh_record.outcome == ImportRecord.Outcome.PREVIEWED and bytes(fresh_record.staged) == b"rows"
    assert "1" in output


def test_a_cancelled_preview_can_no_longer_be_confirmed(client, staff_bj):
    pk = record(ImportRecord.Outcome.PREVIEWED, age=timedelta(hours=25), staged=b"rows")
    from projects.models import Project
    from spreadsheets.registry import importer_for_model

    target = importer_for_model(Project).label()
    ImportRecord.objects.filter(pk=pk).update(user=staff_bj, target=target)
    prune()
    client.force_login(staff_bj)
    response = client.post(f"/admin/projects/project/import/{pk}/", {"confirm": "1"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain, "sent back to the preview with a message"
    assert ImportRecord.objects.get(pk=pk).outcome == ImportRecord.Outcome.CANCELLED
