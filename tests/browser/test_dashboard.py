"""The dashboard in a real browser: Debian's Chromium driven by Playwright, logged in as `manager`."""

import re

import pytest

from tests.conftest import PASSWORD
from tests.projects import dashboard_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base, username):
    page.goto(f"{base}/admin/login/?next=/dashboard/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/dashboard/$"))


def charts_drawn(page, *ids):
    for chart_id in ids:
        page.wait_for_selector(f"#{chart_id}[data-drawn=true] canvas", state="attached")


def figure_in_row(page, row_name, column):
    """The text of `column` (1-based, counting the row header) in the row headed `row_name`."""
    row = page.locator("table.figures tbody tr", has=page.locator("th", has_text=row_name)).first
    return row.locator("th, td").nth(column - 1)


def test_manager_reads_the_dashboard_and_drills_down(browser_page, live_server, manager):
    dashboard_data.build()
    page = browser_page
    base = live_server.url
    log_in(page, base, "manager")

    # Overview, in Chinese, with its charts drawn from the vendored ECharts.
    assert page.locator("html").get_attribute("lang").startswith("zh")
    assert "北京市" in page.locator("table.figures").first.inner_text()
    charts_drawn(page, "chart-province", "chart-category", "chart-year", "chart-facilities")

    # A filter, applied through the form, ends up in the URL.
    page.select_option("select[name=category]", "A")
    page.click(".filters button[type=submit]")
    page.wait_for_url(re.compile(r".*category=A.*"))
    charts_drawn(page, "chart-province")
    cell = figure_in_row(page, "北京市", 4)  # name, agreements, pledged, projects
    figure = int(cell.inner_text())
    assert figure == 1
    link = cell.locator("a")
    assert "category=A" in link.get_attribute("href") and "province=110000" in link.get_attribute("href")

    # The drill-down lands on the admin changelist with exactly that many rows.
    link.click()
    page.wait_for_url(re.compile(r".*/admin/projects/project/\?.*"))
    assert page.locator("#result_list tbody tr").count() == figure

    # A province page and a category page.
    page.goto(f"{base}/dashboard/provinces/110000/")
    assert "北京市" in page.locator("h1").inner_text()
    assert "BJ-1" in page.locator("table.figures").first.inner_text()
    charts_drawn(page, "chart-agreements", "chart-category", "chart-recipient", "chart-quarter")
    page.goto(f"{base}/dashboard/categories/B/")
    assert "B" in page.locator("h1").inner_text()
    charts_drawn(page, "chart-province", "chart-subcategory")

    # Printed on A4: the tables, the filters in force and the date; no navigation, form or charts.
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.locator(".charts").is_visible()
    assert not page.locator("form.filters").is_visible()
    assert page.locator(".filters-in-force").is_visible()
    assert page.locator("table.figures").first.is_visible()

    assert page.problems == []
