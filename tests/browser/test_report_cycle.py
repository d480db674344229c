"""Chromium walks the reporting cycle with the demo personas: staff_bj writes a report with a photo and
submits it; the national office returns it with a note; staff_bj reads the note, fixes the report and
submits again; the national office approves it; the province page then shows the new percent complete."""

import io

import pytest
from PIL import Image

from projects import reporting
from projects.models import ProgressReport
from tests.conftest import PASSWORD, make_agreement, make_project

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser_page):
    return browser_page


def log_in(page, live_server, user):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto(f"{live_server.url}/admin/")


def photo_file(tmp_path):
    path = tmp_path / "现场.jpg"
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (37.0, 7.0, 0.0)}
    Image.new("RGB", (2400, 1600), (90, 140, 200)).save(buffer, "JPEG", exif=exif.tobytes())
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.django_db(transaction=True)
def test_the_reporting_cycle_in_chromium(page, live_server, staff_bj, national, tmp_path):
    agreement = make_agreement("BJ-2021-01", province="110000", recipient="653200")
    make_project("BJ-2021-01-001", agreement, recipient="653201", status="in_progress")
    year, quarter = reporting.reporting_quarter()

    # 1. staff_bj finds the missing report among their tasks, writes it with a photo and submits it.
    log_in(page, live_server, staff_bj)
    page.click("#tasks-due a")
    page.fill("#id_percent_complete", "40")
    page.fill("#id_narrative", "主体工程完成百分之四十。")
    page.set_input_files("#id_photos-0-image", str(photo_file(tmp_path)))
    page.fill("#id_photos-0-caption", "施工现场")
    page.click("input[name=_submit]")
    page.wait_for_url(lambda url: url.rstrip("/").endswith("/progressreport"))
    report = ProgressReport.objects.get()
    assert (report.year, report.quarter, report.status) == (year, quarter, "submitted")
    assert report.photos.count() == 1

    # 2. The national office opens the review queue from its tasks and returns the report with a note.
    log_in(page, live_server, national)
    page.click("#tasks-review a")
    page.click(f"a[href$='/progressreport/{report.pk}/change/?_changelist_filters=status%3Dsubmitted']")
    page.fill("#id_review_note", "请补充竣工验收照片。")
    page.click("input[name=_return]")
    page.wait_for_url(lambda url: "/change/" not in url)
    report.refresh_from_db()
    assert (report.status, report.review_note) == ("returned", "请补充竣工验收照片。")

    # 3. staff_bj sees the note, fixes the report and submits it again.
    log_in(page, live_server, staff_bj)
    assert "请补充竣工验收照片。" in page.inner_text("#tasks-returned")
    page.click("#tasks-returned a")
    assert "请补充竣工验收照片。" in page.inner_text("#review-note-box")
    assert page.locator("img.report-thumbnail").count() == 1
    page.fill("#id_percent_complete", "45")
    page.click("input[name=_submit]")
    page.wait_for_url(lambda url: "/change/" not in url)
    report.refresh_from_db()
    assert (report.status, report.percent_complete) == ("submitted", 45)

    # 4. The national office approves it.
    log_in(page, live_server, national)
    page.goto(f"{live_server.url}/admin/projects/progressreport/{report.pk}/change/")
    page.click("input[name=_approve]")
    page.wait_for_url(lambda url: "/change/" not in url)
    report.refresh_from_db()
    assert report.status == "approved"

    # 5. The province page shows the approved percent complete on the project's row.
    page.goto(f"{live_server.url}/dashboard/provinces/110000/")
    row = page.locator("table.report-projects tbody tr", has_text="BJ-2021-01-001")
    assert row.locator("td.num").inner_text() == "45%"
    assert "已审核" in row.inner_text()
    assert page.problems == []
