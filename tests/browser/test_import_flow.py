"""Chromium drives the admin import: upload → preview → confirm, and a bad file → errors → error report."""

from pathlib import Path

import pytest

from projects.models import Project
from tests.conftest import PASSWORD, make_agreement
from tests.spreadsheets.helpers import PROJECT_HEADERS, project_row, read_xlsx, xlsx

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser_page):
    return browser_page


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def upload(page, live_server, tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    page.goto(f"{live_server.url}/admin/projects/project/")
    page.click("a.spreadsheet-import")
    page.set_input_files("#id_import_file", str(path))
    page.click("#import-submit")
    page.wait_for_selector("#import-counts")


@pytest.mark.django_db(transaction=True)
def test_import_preview_confirm_and_error_report_in_chromium(page, live_server, staff_bj, tmp_path):
    make_agreement("BJ-1", province="110000", recipient="653200")
    log_in(page, live_server, staff_bj)

    good = xlsx({"项目": [PROJECT_HEADERS, project_row("P-1"), project_row("P-2")]})
    upload(page, live_server, tmp_path, "good.xlsx", good)
    assert page.inner_text("#import-counts .count-new") == "2"
    assert page.locator("#import-preview tbody tr").count() == 2
    assert Project.objects.count() == 0
    page.click("#confirm-import")
    page.wait_for_url(lambda url: url.rstrip("/").endswith("/admin/projects/project"))
    assert Project.objects.filter(code__in=["P-1", "P-2"]).count() == 2
    assert "P-2" in page.content()

    bad = xlsx({"项目": [PROJECT_HEADERS, project_row("P-3"), project_row("P-4", 项目状态="进行")]})
    upload(page, live_server, tmp_path, "bad.xlsx", bad)
    assert page.locator("#confirm-import").count() == 0
    errors = page.inner_text("#import-errors")
    assert "项目状态" in errors and "进行" in errors
    with page.expect_download() as download_info:
        page.click("#download-errors")
    report = read_xlsx(Path(download_info.value.path()).read_bytes())["项目"]
    assert report[0][-1] == "错误" and "项目状态" in report[2][-1]
    assert not Project.objects.filter(code="P-3").exists()
