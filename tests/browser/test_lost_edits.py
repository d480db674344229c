"""Chromium: a province staff member saves a project someone else changed since they opened it. The page
refuses, shows the other person's change (old → new) and keeps what they typed; saving again keeps both."""

from decimal import Decimal

import pytest
from django.test import Client

from projects.models import Project
from tests.browser.test_import_flow import log_in
from tests.conftest import make_agreement, make_project
from tests.forms_html import form_data
from tests.test_lost_edits import staff_bj2  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_stale_save_shows_both_changes_and_keeps_the_input(
    browser_page,
    live_server,
    staff_bj,
    staff_bj2,  # noqa: F811
):
    page = browser_page
    project = make_project("BJ-2021-01-001", make_agreement("BJ-2021-01"), budget="100000.00")
    url = f"{live_server.url}/admin/projects/project/{project.pk}/change/"
    log_in(page, live_server, staff_bj)
    page.goto(url)

    # Meanwhile a colleague of the same province renames it.
    colleague = Client()
    colleague.force_login(staff_bj2)
    path = url.removeprefix(live_server.url)
    data = form_data(colleague.get(path), "project_form")
    assert colleague.post(path, {**data, "name": "同事改的名称"}).status_code == 302

    page.fill("#id_budget", "25")
    page.click("input[name=_save]")
    page.wait_for_selector("#version-conflicts")
    conflicts = page.inner_text("#version-conflicts")
    assert "保存未完成" in conflicts
    assert "项目名称" in conflicts and "项目 BJ-2021-01-001" in conflicts and "同事改的名称" in conflicts
    assert page.input_value("#id_budget") == "25"  # what the user typed
    assert page.input_value("#id_name") == "同事改的名称"  # the field they left alone, as it is now
    assert Project.objects.get(pk=project.pk).budget == Decimal("100000.00")

    page.click("input[name=_save]")
    page.wait_for_url(lambda u: u.rstrip("/").endswith("/admin/projects/project"))
    stored = Project.objects.get(pk=project.pk)
    assert (stored.name, stored.budget, stored.version) == ("同事改的名称", Decimal("250000.00"), 3)
    assert page.problems == []
