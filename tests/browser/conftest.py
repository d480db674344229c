"""One Chromium for the browser tests: Debian's, driven by Playwright, in a Chinese locale.

Skips with the reason shown when /usr/bin/chromium is missing, unless CI is set: then it fails.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _drop_rollups_of_flushed_rows():
    """On SQLite, the flush after a browser test deletes the rollup tables before the projects, whose delete
    triggers then write rows for agreements that are gone; the next test's dashboard would trip over them."""
    from agreements.models import Agreement
    from projects import models

    # The fine rollups first: their delete triggers carry the deletion into the coarse twins.
    for rollup in (
        models.ProjectRollup,
        models.FacilityRollup,
        models.DisbursementRollup,
        models.ReportCoverageRollup,
        models.AgreementProjectRollup,
        models.AgreementFacilityRollup,
        models.AgreementDisbursementRollup,
        models.AgreementQuarterRollup,
        models.AgreementReportRollup,
    ):
        rollup.objects.exclude(agreement_id__in=Agreement.objects.values("pk")).delete()


@pytest.fixture
def browser_page(live_server, settings):
    """A page whose console errors, page errors and failed responses collect in `page.problems`."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing (apt-get install chromium fonts-wqy-microhei)")
        pytest.skip("/usr/bin/chromium is missing: install chromium to run the browser tests")
    settings.AXES_ENABLED = False
    _drop_rollups_of_flushed_rows()
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(
            locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        page.problems = []
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and page.problems.append(f"{message.text} {message.location.get('url', '')}")
            ),
        )
        page.on("pageerror", lambda error: page.problems.append(str(error)))
        page.on("response", lambda response: response.status >= 400 and page.problems.append(response.url))
        page.set_default_timeout(20_000)
        yield page
        context.close()
        browser.close()
