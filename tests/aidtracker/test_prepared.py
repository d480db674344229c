"""aidtracker.prepared: statements planned once per connection answer as a plain query does, with the data
as it is at each run."""

import datetime
import re

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from aidtracker import prepared
from projects.models import ProgressReport
from tests.conftest import make_agreement, make_project

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared on PostgreSQL only")

SQL = "SELECT code, budget FROM projects_project WHERE code LIKE %s ORDER BY code"


def _plain(params):
    with connection.cursor() as cursor:
        cursor.execute(SQL, params)
        return cursor.fetchall()


@pytest.fixture
def projects(db):
    agreement = make_agreement("BJ-P", province="110000", recipient="653200")
    return [make_project(f"P-{n}", agreement, budget=1000 * n) for n in (1, 2, 3)]


def test_the_rows_are_those_of_the_plain_query_and_follow_the_data(projects):
    assert prepared.fetchall("default", SQL, ["P-%"]) == _plain(["P-%"])
    assert len(prepared.fetchall("default", SQL, ["P-%"])) == 3
    agreement = projects[0].agreement
    make_project("P-4", agreement)
    projects[0].delete()
    assert prepared.fetchall("default", SQL, ["P-%"]) == _plain(["P-%"])
    assert [code for code, _budget in prepared.fetchall("default", SQL, ["P-%"])] == ["P-2", "P-3", "P-4"]


def test_values_with_percent_signs_and_quotes_are_passed_as_they_are(projects):
    for pattern in ["P-1%", "it's 100%", "%%", "P-_"]:
        assert prepared.fetchall("default", SQL, [pattern]) == _plain([pattern])


@postgresql_only
def test_a_statement_is_prepared_once_then_run_by_name(projects):
    prepared.fetchall("default", SQL, ["P-2%"])  # prepared on this connection if not yet
    with CaptureQueriesContext(connection) as queries:
        rows = prepared.fetchall("default", SQL, ["P-2%"])
        other = prepared.fetchall("default", SQL, ["P-3%"])  # other values: another statement
    assert rows == _plain(["P-2%"]) and other == _plain(["P-3%"])
    assert len(queries) == 2  # one round trip each, preparing included
    assert re.fullmatch(r"EXECUTE aidtracker_\d+_[0-9a-f]{32}", queries[0]["sql"])
    assert queries[1]["sql"].startswith("PREPARE ")


@postgresql_only
def test_past_the_limit_the_statements_are_dropped_and_made_again(projects, monkeypatch):
    monkeypatch.setattr(prepared, "LIMIT", 3)
    patterns = [f"P-{n}" for n in (1, 2, 3, 1, 2, 3, 1)] + ["P-%3"] * 2  # texts no other test asks
    for pattern in patterns:
        assert prepared.fetchall("default", SQL, [pattern]) == _plain([pattern])
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        names = cursor.fetchall()
        assert len(names) <= 3, names


@postgresql_only
def test_a_new_session_prepares_again(projects):
    prepared.fetchall("default", SQL, ["P-%"])
    connection._aidtracker_prepared.raw = (
        None  # as after a reconnection: the statements were the old session's
    )
    with CaptureQueriesContext(connection) as queries:
        assert prepared.fetchall("default", SQL, ["P-%"]) == _plain(["P-%"])
    assert queries[0]["sql"].startswith("DEALLOCATE ALL; PREPARE ")


@postgresql_only
def test_a_name_stands_for_one_text_in_every_process(projects):
    # Two processes handed the same server session (a pooler): each runs only the statement it asked for.
    first = prepared.fetchall("default", SQL, ["P-1%"])
    connection._aidtracker_prepared = None  # the other process knows nothing of this session's statements
    connection._aidtracker_prepared = prepared._held(connection)
    connection._aidtracker_prepared.fresh = False  # and does not drop them
    assert prepared.fetchall("default", SQL, ["P-2%"]) == _plain(["P-2%"]) != first
    with transaction.atomic():
        # Made by "the other process" under the same name, within a transaction: refused, never another answer.
        connection._aidtracker_prepared.names.clear()
        with pytest.raises(DatabaseError), transaction.atomic():
            prepared.fetchall("default", SQL, ["P-1%"])
    assert prepared.fetchall("default", SQL, ["P-1%"]) == first


@postgresql_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_migration_changing_a_returned_column_is_followed(projects):
    def widen(length):
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE projects_project ALTER COLUMN code TYPE varchar({length})")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT character_maximum_length FROM information_schema.columns"
            " WHERE table_name = 'projects_project' AND column_name = 'code'"
        )
        length = cursor.fetchone()[0]
    assert prepared.fetchall("default", SQL, ["P-%"]) == _plain(["P-%"])
    widen(length + 10)
    try:
        assert prepared.fetchall("default", SQL, ["P-%"]) == _plain(["P-%"])
        assert prepared.fetchall("default", SQL, ["P-%"]) == _plain(["P-%"])
    finally:
        widen(length)


@postgresql_only
def test_statements_dropped_on_the_server_are_made_again(projects):
    prepared.fetchall("default", SQL, ["P-%"])
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    # Within a transaction the failed run has ended it: the error is the caller's, as for any failed query.
    with pytest.raises(DatabaseError), transaction.atomic():
        prepared.fetchall("default", SQL, ["P-%"])
    assert prepared.fetchall("default", SQL, ["P-%"]) == _plain(["P-%"])


@postgresql_only
def test_nothing_is_prepared_behind_a_transaction_pooler(projects, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    with CaptureQueriesContext(connection) as queries:
        assert prepared.fetchall("default", SQL, ["P-%"]) == _plain(["P-%"])
    assert not any(q["sql"].startswith(("PREPARE", "EXECUTE")) for q in queries)


def test_the_attention_list_shows_a_new_report_at_the_next_request(client, staff_bj, projects):
    """The list's statement is planned once per connection; its rows are read afresh at every request."""
    for project in projects:
        project.status = "in_progress"
        project.start_date = datetime.date(2025, 1, 1)
        project.save()
    client.force_login(staff_bj)
    url = "/dashboard/provinces/110000/?as_of=2026-11-30"
    assert client.get(url).content.decode().count('class="reporting-missing"') == 3
    assert client.get(url).content.decode().count('class="reporting-missing"') == 3
    ProgressReport.objects.create(
        project=projects[1], year=2026, quarter=3, status="submitted", percent_complete=5
    )
    page = client.get(url).content.decode()
    assert page.count('class="reporting-missing"') == 2
    assert page.count('class="reporting-submitted"') == 1


@pytest.mark.parametrize("value,expected", [("1", True), ("0", False)])
def test_behind_a_transaction_pooler_is_set_from_the_environment(value, expected):
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'aidtracker.settings'); "
        "from django.conf import settings; "
        "print(json.dumps([bool(d.get('DISABLE_SERVER_SIDE_CURSORS')) for d in settings.DATABASES.values()]))"
    )
    env = {
        **os.environ,
        "DATABASE_TRANSACTION_POOLER": value,
        "DATABASE_URL": "postgres://u@pgbouncer:6432/aid",
        "DATABASE_REPLICA_URL": "postgres://u@pgbouncer:6432/aid_replica",
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [expected, expected]
