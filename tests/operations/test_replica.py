"""Dashboard reads on a read replica: the alias "replica" points at the primary's test database here, and
the queries each connection ran show where every read went."""

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import DatabaseError, connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aidtracker import replica
from projects.models import Project
from tests.conftest import make_agreement
from tests.projects import dashboard_data
from tests.spreadsheets.helpers import PROJECT_HEADERS, project_row, xlsx

pytestmark = pytest.mark.django_db(
    transaction=True, serialized_rollback=True, databases=["default", replica.REPLICA]
)

DASHBOARDS = [
    "/dashboard/",
    "/dashboard/provinces/110000/",
    "/dashboard/categories/A/",
    "/dashboard/summary.json",
]


@pytest.fixture
def replica_alias(settings):
    if connection.vendor != "postgresql":
        pytest.skip("the lag check is PostgreSQL's; set DATABASE_URL=postgres://… (CI does)")
    settings.DATABASE_REPLICA_URL = "the primary's test database (tests/conftest.py)"
    settings.DATABASE_REPLICA_MAX_LAG = 5
    assert connections[replica.REPLICA].settings_dict["NAME"] == connection.settings_dict["NAME"]
    yield connections[replica.REPLICA]
    # Its own connection to the test database: closed, so the database can be dropped at the end of the run.
    connections[replica.REPLICA].close()


@pytest.fixture
def data(db):
    return dashboard_data.build()


def reads(client, url):
    """(response, queries on the primary, queries on the replica)."""
    with CaptureQueriesContext(connections["default"]) as primary:
        with CaptureQueriesContext(connections[replica.REPLICA]) as standby:
            response = client.get(url)
    return response, [q["sql"] for q in primary], [q["sql"] for q in standby]


def rollup_queries(queries):
    return [sql for sql in queries if "rollup" in sql]


@pytest.mark.parametrize("url", DASHBOARDS)
def test_dashboard_figures_are_read_from_the_replica(client, manager, data, replica_alias, url):
    client.force_login(manager)
    response, primary, standby = reads(client, url)
    assert response.status_code == 200
    assert rollup_queries(standby), "the figures came from the replica"
    assert not rollup_queries(primary), "and not from the primary"
    assert response["X-Data-As-Of"]


def test_the_replica_gives_the_same_figures(client, manager, data, replica_alias, settings):
    client.force_login(manager)
    from_replica = client.get("/dashboard/summary.json").json()
    settings.DATABASE_REPLICA_URL = ""
    from_primary = client.get("/dashboard/summary.json").json()
    assert from_replica == from_primary


def test_pages_show_the_time_their_data_is_as_of(client, manager, data, replica_alias):
    client.force_login(manager)
    with mock.patch.object(replica, "replica_as_of", return_value=timezone.now() - timedelta(seconds=3)):
        response = client.get("/dashboard/")
    as_of = timezone.localtime(timezone.now() - timedelta(seconds=3))
    html = response.content.decode()
    assert 'id="data-as-of"' in html
    assert as_of.strftime("%Y-%m-%d %H:%M") in html


def test_a_replica_lagging_past_the_limit_is_not_read(client, manager, data, replica_alias, settings):
    client.force_login(manager)
    settings.DATABASE_REPLICA_MAX_LAG = 5
    with mock.patch.object(replica, "replica_as_of", return_value=timezone.now() - timedelta(seconds=6)):
        response, primary, standby = reads(client, "/dashboard/")
    assert response.status_code == 200
    assert rollup_queries(primary) and not rollup_queries(standby)


def test_a_replica_that_does_not_answer_is_not_read(client, manager, data, replica_alias):
    client.force_login(manager)
    broken = mock.Mock(side_effect=DatabaseError("replica down"))
    with mock.patch.object(connections[replica.REPLICA], "cursor", broken):
        response, primary, _standby = reads(client, "/dashboard/")
    assert response.status_code == 200
    assert rollup_queries(primary)


def test_the_lag_is_measured_on_the_replica(replica_alias):
    # The alias points at a primary (not in recovery): its data is as of now.
    as_of = replica.replica_as_of()
    assert abs((timezone.now() - as_of).total_seconds()) < 2


def test_a_user_who_wrote_in_the_last_minute_reads_the_primary(client, staff_bj, replica_alias):
    make_agreement("BJ-1", province="110000", recipient="653200")
    client.force_login(staff_bj)
    data = xlsx({"项目": [PROJECT_HEADERS, project_row("P-1")]})
    with CaptureQueriesContext(connections[replica.REPLICA]) as standby:
        preview = client.post("/admin/projects/project/import/", {"import_file": _upload(data)})
        assert preview.status_code == 302
        assert client.post(preview["Location"], {"confirm": "1"}).status_code == 302
    assert not standby.captured_queries, "writes and the admin never touch the replica"
    assert Project.objects.filter(code="P-1").exists()

    response, primary, standby = reads(client, "/dashboard/provinces/110000/")
    assert rollup_queries(primary) and not standby
    assert response.status_code == 200

    # A minute later the replica serves them again.
    session = client.session
    session[replica.SESSION_LAST_WRITE] = int(time.time()) - 61
    session.save()
    _response, primary, standby = reads(client, "/dashboard/provinces/110000/")
    assert rollup_queries(standby) and not rollup_queries(primary)


def test_the_admin_reads_the_primary(client, national, data, replica_alias):
    client.force_login(national)
    for url in [
        "/admin/projects/project/",
        "/admin/agreements/agreement/",
        "/admin/projects/project/export/csv/",
    ]:
        response, primary, standby = reads(client, url)
        assert response.status_code == 200
        assert primary and not standby


def test_without_a_replica_everything_reads_the_primary(client, manager, data, replica_alias, settings):
    settings.DATABASE_REPLICA_URL = ""
    client.force_login(manager)
    response, primary, standby = reads(client, "/dashboard/")
    assert response.status_code == 200
    assert rollup_queries(primary) and not standby
    assert 'id="data-as-of"' in response.content.decode()


def _upload(data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("projects.xlsx", data)
