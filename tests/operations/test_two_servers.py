"""Two app servers (`make serve` twice, gunicorn, production settings) in front of one PostgreSQL:
nothing a request needs lives on one server."""

import hashlib

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection

from agreements import services
from agreements.models import Agreement, Province, RecipientUnit
from projects.models import Project
from spreadsheets.models import ImportRecord
from tests.conftest import PASSWORD, make_agreement
from tests.operations.servers import Client, Server, location_path, server_environment
from tests.spreadsheets.helpers import PROJECT_HEADERS, project_row, xlsx

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n" + bytes(range(256)) * 40


@pytest.fixture
def two_servers(tmp_path):
    """Started after the test's database is in place (their `migrate` then has nothing to do)."""
    if connection.vendor != "postgresql":
        pytest.skip("app servers share PostgreSQL; set DATABASE_URL=postgres://… (CI does)")
    env = server_environment(tmp_path)
    servers = [Server(env, tmp_path / f"server-{n}.log") for n in (1, 2)]
    try:
        for server in servers:
            server.wait_until_up()
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def staff_bj_real_password(settings):
    # The servers check passwords with the production hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    assert make_password("x").startswith("pbkdf2")
    return services.create_staff_user(
        username="staff_bj",
        password=PASSWORD,
        role=services.ROLE_PROVINCE,
        province=Province.objects.get(code="110000"),
    )


def test_two_servers_share_logins_imports_and_documents(two_servers, staff_bj_real_password):
    """One pair of servers for the three checks: starting them is the slow part."""
    check_a_login_on_one_server_is_valid_on_the_other(*two_servers)
    check_an_import_previewed_on_one_server_is_confirmed_on_the_other(*two_servers)
    check_a_document_uploaded_through_one_server_is_served_by_both(*two_servers)


def check_a_login_on_one_server_is_valid_on_the_other(first, second):
    on_first = Client(first).login("staff_bj", PASSWORD)
    on_second = Client(second, on_first.cookies)
    status, _headers, body = on_second.get("/admin/projects/project/")
    assert status == 200
    assert b"staff_bj" in body
    # And a stranger without the cookie is sent to the login page by either server.
    assert Client(second).get("/admin/projects/project/")[0] == 302


def check_an_import_previewed_on_one_server_is_confirmed_on_the_other(first, second):
    make_agreement("BJ-1", province="110000", recipient="653200")
    data = xlsx({"项目": [PROJECT_HEADERS, project_row("P-1"), project_row("P-2")]})
    on_first = Client(first).login("staff_bj", PASSWORD)
    import_url = "/admin/projects/project/import/"
    status, headers, body = on_first.post(import_url, {}, files={"import_file": ("projects.xlsx", data)})
    assert status == 302, body[:2000]
    preview_url = location_path(headers)
    assert Project.objects.count() == 0

    on_second = Client(second, on_first.cookies)
    status, headers, body = on_second.post(preview_url, {"confirm": "1"})
    assert status == 302, body[:2000]
    assert sorted(Project.objects.values_list("code", flat=True)) == ["P-1", "P-2"]
    assert ImportRecord.objects.get().outcome == ImportRecord.Outcome.IMPORTED
    # The first server lists what the second wrote.
    status, _headers, body = on_first.get("/admin/projects/project/")
    assert status == 200 and b"P-2" in body


def check_a_document_uploaded_through_one_server_is_served_by_both(first, second):
    on_first = Client(first).login("staff_bj", PASSWORD)
    fields = {
        "code": "BJ-DOC",
        "title": "北京协议",
        "province": str(Province.objects.get(code="110000").pk),
        "donor_unit": "",
        "recipient": str(RecipientUnit.objects.get(code="653200").pk),
        "status": "signed",
        "signed_on": "",
        "starts_on": "",
        "ends_on": "",
        "pledged": "1000",
        "notes": "",
        "_save": "1",
    }
    status, _headers, body = on_first.post(
        "/admin/agreements/agreement/add/", fields, files={"document": ("协议.pdf", PDF)}
    )
    assert status == 302, body[:3000].decode(errors="replace")
    agreement = Agreement.objects.get(code="BJ-DOC")
    url = f"/files/agreements/agreement/{agreement.pk}/document/"
    on_second = Client(second, on_first.cookies)
    for client in (on_first, on_second):
        status, headers, body = client.get(url)
        assert status == 200
        assert headers["Content-Type"] == "application/pdf"
        assert hashlib.sha256(body).hexdigest() == hashlib.sha256(PDF).hexdigest()
