"""A confirm that trusts its preview leaves the codes new at the preview to their unique constraint: a code
another transaction takes meanwhile is named once it commits, a code taken since is named even when another
row of the file is refused too, and a refused INSERT leaves the session able to import again."""

import threading
import time

import psycopg2
import pytest
from django.db import connection, connections

from projects.importers import ProjectImporter
from projects.models import Project
from spreadsheets.models import ImportRecord
from spreadsheets.services import confirm_import, preview_import
from tests.conftest import make_agreement, make_project
from tests.spreadsheets.helpers import PROJECT_HEADERS, project_row, xlsx

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="staged COPY lines need PostgreSQL")


def preview(rows, user):
    book = xlsx({"项目": [PROJECT_HEADERS, *rows]})
    return preview_import(book, "p.xlsx", user, importers=[ProjectImporter], target="projects.project")


@pytest.mark.django_db
def test_a_stale_update_and_a_code_taken_since_are_both_named(national):
    """Before this session's change both rows were named (the taken code was looked up); now `finish` is not
    run once a row has an error, so the taken code goes unnamed and the clerk learns of it on the next try."""
    agreement = make_agreement("BJ-1", province="110000", recipient="653200")
    make_project("P-0", agreement)
    record = preview([project_row("P-0", **{"项目名称": "改过"}), project_row("P-1")], national)
    assert record.outcome == "previewed", record.errors
    Project.objects.filter(code="P-0").update(version=7)
    make_project("P-1", agreement)
    record, outcome = confirm_import(record, national)
    assert not outcome.written
    assert sorted(error["row"] for error in record.errors) == [2, 3], record.errors


@pytest.mark.django_db
def test_after_a_refused_insert_the_same_session_imports_again(national):
    agreement = make_agreement("BJ-1", province="110000", recipient="653200")
    first = preview([project_row("P-1"), project_row("P-2")], national)
    make_project("P-2", agreement)
    first, outcome = confirm_import(first, national)
    assert first.outcome == "failed" and [e["row"] for e in first.errors] == [3]
    second = preview([project_row("P-3"), project_row("P-4")], national)
    second, outcome = confirm_import(second, national)
    assert second.outcome == "imported", (second.message, second.errors)
    assert sorted(Project.objects.values_list("code", flat=True)) == ["P-2", "P-3", "P-4"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_code_another_transaction_holds_uncommitted_is_named_once_it_commits(national):
    """The confirm's INSERT waits on the other transaction's row; once it commits, the code is named."""
    agreement = make_agreement("BJ-1", province="110000", recipient="653200")
    record = preview([project_row("P-1"), project_row("P-2")], national)
    settings = connection.settings_dict
    other = psycopg2.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"]
    )
    make_project("P-X", agreement)  # a row to copy the references from, committed
    columns = [f.column for f in Project._meta.concrete_fields if not f.primary_key and f.column != "code"]
    listed = ", ".join(columns)
    cursor = other.cursor()
    cursor.execute(
        f"INSERT INTO projects_project (code, {listed}) SELECT 'P-2', {listed} FROM projects_project"
        " WHERE code = 'P-X'"
    )
    result = []

    def confirm():
        try:
            result.append(confirm_import(ImportRecord.objects.get(pk=record.pk), national))
        except BaseException as exc:  # noqa: BLE001
            result.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=confirm)
    thread.start()
    time.sleep(1.5)
    other.commit()
    other.close()
    thread.join(30)
    (done,) = result
    assert not isinstance(done, BaseException), done
    record, outcome = done
    assert record.outcome == "failed" and [e["row"] for e in record.errors] == [3], (
        record.message,
        record.errors,
    )
    assert "P-2" in record.message
