"""The screens a clerk and a manager use most, at 1,366 × 768 and at a phone's width: nothing falls off the
side, project names get room, filters stay compact. Screenshots of each are kept as test artefacts in
test-artefacts/screens/ (git-ignored) for a person to look at."""

import re
from pathlib import Path

import pytest

from projects.models import Project
from tests.browser.test_dashboard import charts_drawn, log_in
from tests.conftest import make_agreement, make_project
from tests.projects import dashboard_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = Path(__file__).resolve().parents[2] / "test-artefacts" / "screens"
SIZES = {"desktop": (1366, 768), "phone": (390, 844)}
LONG_NAME = "和田地区职工服务中心暨户外劳动者服务站点建设（一期）"


def _data():
    dashboard_data.build()
    agreement = make_agreement("BJ-2021-01", recipient="653200", pledged="5000000.00")
    for number in range(1, 6):
        make_project(
            f"BJ-2021-01-00{number}", agreement, category="A01", recipient="653201", budget="350000.00"
        )
    Project.objects.filter(code__startswith="BJ-2021-01-").update(name=LONG_NAME)


def _shoot(page, name):
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def _overflow(page):
    """How many pixels the page is wider than the window (0 when nothing falls off the side)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("size", SIZES)
def test_overview_province_page_and_project_list_fit_the_screen(browser_page, live_server, national, size):
    _data()
    page = browser_page
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, live_server.url, "national")

    page.goto(f"{live_server.url}/dashboard/")
    charts_drawn(page, "chart-province", "chart-category")
    _shoot(page, f"overview-{size}")
    assert _overflow(page) <= 0

    page.goto(f"{live_server.url}/dashboard/provinces/110000/")
    charts_drawn(page, "chart-agreements", "chart-category")
    _shoot(page, f"province-{size}")
    assert _overflow(page) <= 0

    page.goto(f"{live_server.url}/admin/projects/project/")
    page.wait_for_selector("#result_list")
    _shoot(page, f"project-changelist-{size}")
    if size == "desktop":
        # Every column is on screen, and a long name has room: at least 10 characters a line, not 4–5.
        table = page.locator("#result_list").bounding_box()
        assert table["x"] + table["width"] <= width
        name = page.locator("#result_list td.field-name", has_text=LONG_NAME).first
        characters_a_line = name.evaluate(
            "el => (el.clientWidth - 10) / parseFloat(getComputedStyle(el).fontSize)"
        )
        assert characters_a_line >= 10
    assert page.problems == []


def test_a_drop_down_filter_opens_its_list(browser_page, live_server, national):
    _data()
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server.url, "national")
    page.goto(f"{live_server.url}/admin/projects/project/")
    page.select_option("select.filter-dropdown-select[aria-label='受援单位']", value="?recipient=653201")
    page.wait_for_url(re.compile(r".*recipient=653201.*"))
    assert page.locator("#result_list tbody tr").count() == 6  # P1 and the five long-named projects
    assert page.problems == []
