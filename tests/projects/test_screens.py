"""Screens that fit: compact changelist filters, one colour per meaning, no misleading pledge card, downloads
named for what they hold. (What only a browser shows is in tests/browser/test_screens.py.)"""

import json
import re

import pytest

from tests.projects import dashboard_data

pytestmark = pytest.mark.django_db

PAGES = [
    "/dashboard/",
    "/dashboard/provinces/110000/",
    "/dashboard/categories/A/",
    "/dashboard/categories/B01/",
]


@pytest.fixture
def as_manager(client, manager):
    dashboard_data.build()
    client.force_login(manager)
    return client


def _charts(html):
    return json.loads(
        re.search(r'<script id="dashboard-charts" type="application/json">(.*?)</script>', html, re.S).group(
            1
        )
    )


def test_each_meaning_has_one_colour_on_every_chart(as_manager):
    colours = {}
    for url in PAGES:
        for chart in _charts(as_manager.get(url).content.decode()):
            for series in chart["series"]:
                colours.setdefault(series["name"], set()).add(series["color"])
    assert {"已拨付", "未拨付", "援助金额"} <= set(colours)
    assert all(len(found) == 1 for found in colours.values()), colours
    # …and different meanings never share a colour.
    assert len({next(iter(found)) for found in colours.values()}) == len(colours)


def test_pledges_show_only_where_they_belong(as_manager):
    assert 'id="card-pledged"' in as_manager.get("/dashboard/").content.decode()
    assert 'id="card-pledged"' in as_manager.get("/dashboard/provinces/110000/").content.decode()
    for url in [
        "/dashboard/categories/A/",
        "/dashboard/categories/B01/",
        "/dashboard/?category=A",
        "/dashboard/?status=completed",
        "/dashboard/provinces/110000/?start_year=2022",
    ]:
        html = as_manager.get(url).content.decode()
        assert 'id="card-pledged"' not in html and 'id="card-agreements"' not in html, url


def test_downloads_are_named_for_what_they_hold(as_manager):
    html = as_manager.get("/dashboard/provinces/110000/").content.decode()
    page = re.search(r'class="download-page"[^>]*>([^<]+)<', html).group(1)
    summary = re.search(r'class="download-summary"[^>]*>([^<]+)<', html).group(1)
    assert page == "下载本页全部表格（xlsx）"
    assert summary == "下载汇总表：按省市、按类别、建设成果（xlsx）"
    assert "下载本页（xlsx）" not in html and "下载 Excel（xlsx）" not in html


def test_the_project_changelist_has_compact_filters(as_manager):
    html = as_manager.get("/admin/projects/project/").content.decode()
    sidebar = re.search(
        r'<div id="changelist-filter"(.*?)</nav>|<nav id="changelist-filter"(.*?)</nav>', html, re.S
    )
    sidebar = next(group for group in sidebar.groups() if group)
    assert sidebar.count('class="filter-dropdown-select"') == 3  # province, category, recipient unit
    assert "喀什地区" in sidebar  # the recipient tree, as options of a drop-down…
    assert not re.search(r'<a href="\?recipient=', sidebar)  # …not as a column of links
