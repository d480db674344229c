"""The dashboard pages, summary.json and summary.xlsx, as the users of DESIGN section 3 see them."""

import html
import re
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from aidtracker import money
from tests.conftest import make_agreement, make_project
from tests.projects import dashboard_data

pytestmark = pytest.mark.django_db

PAGES = [
    "/dashboard/",
    "/dashboard/provinces/110000/",
    "/dashboard/categories/A/",
    "/dashboard/categories/B01/",
]


@pytest.fixture
def data(db):
    return dashboard_data.build()


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


def test_root_goes_to_the_dashboard(client):
    assert client.get("/")["Location"] == "/dashboard/"


@pytest.mark.parametrize("url", [*PAGES, "/dashboard/summary.json", "/dashboard/summary.xlsx"])
def test_anonymous_users_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.parametrize("persona", ["manager", "national", "staff_bj", "staff_hb", "recipient_ks"])
@pytest.mark.parametrize("url", PAGES)
def test_every_role_sees_the_pages(request, client, data, persona, url):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "北京市" in html
    assert 'id="dashboard-charts"' in html
    assert "<script>" not in html  # no inline script: CSP script-src 'self'


def test_overview_shows_the_figures_in_wan_and_yi(as_manager, data):
    html = as_manager.get("/dashboard/").content.decode()
    assert "30.00" in html  # Beijing's budget 300,000.10 yuan in 万元
    assert "0.01" in html  # the total aid amount in 亿元 (600,000.10 yuan)
    assert "/admin/projects/project/?province=110000&amp;live=1" in html


def test_drill_down_links_carry_the_filters(as_manager, data):
    html = as_manager.get("/dashboard/?category=A&start_year=2022").content.decode()
    assert "/admin/projects/project/?province=110000&amp;category=A&amp;start_year=2022&amp;live=1" in html
    assert "/admin/agreements/agreement/?province=110000&amp;counted=1" in html
    html = as_manager.get("/dashboard/?status=planned").content.decode()
    assert "status=planned" in html and "live=1" not in html
    assert "status=completed" not in html  # no "completed" rows among planned projects


def test_drill_down_count_equals_the_figure(as_manager, national, data):
    as_manager.force_login(national)
    response = as_manager.get("/admin/projects/project/?province=110000&category=A&live=1")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_province_page_lists_only_agreements_in_the_users_scope(client, data, staff_bj, staff_hb):
    client.force_login(staff_bj)
    html = client.get("/dashboard/provinces/110000/").content.decode()
    assert "BJ-1" in html and "BJ-3" in html
    client.force_login(staff_hb)
    html = client.get("/dashboard/provinces/110000/").content.decode()
    assert "BJ-1" not in html
    assert "30.00" in html  # the aggregates are still shown
    workbook = load_workbook(BytesIO(client.get("/dashboard/provinces/110000/?format=xlsx").content))
    assert workbook["协议"].max_row == 1  # the header only


def test_unknown_province_or_category_in_the_path_is_404(as_manager, data):
    assert as_manager.get("/dashboard/provinces/999999/").status_code == 404
    assert as_manager.get("/dashboard/categories/Q9/").status_code == 404


@pytest.mark.parametrize(
    "query, field",
    [
        ("province=999999", "province"),
        ("category=A99", "category"),
        ("recipient=nowhere", "recipient"),
        ("status=lost", "status"),
        ("start_year=twenty", "start_year"),
        ("start_year=20222", "start_year"),
        ("as_of=2022-13-01", "as_of"),
    ],
)
def test_bad_filters_are_answered_with_400_and_the_errors(as_manager, data, query, field):
    response = as_manager.get(f"/dashboard/summary.json?{query}")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert as_manager.get(f"/dashboard/summary.xlsx?{query}").status_code == 400
    page = as_manager.get(f"/dashboard/?{query}")
    assert page.status_code == 400
    assert 'class="errors"' in page.content.decode()  # named by their labels: test_plain_screens


def test_summary_json_follows_the_contract(as_manager, data):
    response = as_manager.get("/dashboard/summary.json?province=110000&start_year=2022")
    assert response.status_code == 200
    body = response.json()
    assert body["filters"] == {
        "province": "110000",
        "category": None,
        "recipient": None,
        "status": None,
        "start_year": 2022,
        "as_of": None,
    }
    assert body["totals"] == {
        "agreements": 2,
        "pledged": "4000000.50",
        "projects": 1,
        "budget": "100000.10",
        "disbursed": "35000.55",
        "completed": 0,
        "beneficiaries": 10,
    }
    assert len(body["by_province"]) == 19
    assert body["by_province"][0]["code"] == "110000" and body["by_province"][0]["name"] == "北京市"
    assert [c["code"] for c in body["by_category"]] == ["A", "B", "C", "D", "Z"]
    assert len(body["facilities"]) == 9 and body["facilities"][0] == {
        "code": "F01",
        "name": "模范职工之家",
        "quantity": 0,
    }


def test_summary_xlsx_has_a_sheet_per_table_in_wan_with_a_total_row(as_manager, data):
    response = as_manager.get("/dashboard/summary.xlsx?category=A")
    assert response.status_code == 200
    workbook = load_workbook(BytesIO(response.content))
    assert workbook.sheetnames == ["筛选条件", "按省市", "按类别", "建设成果", "季度报告"]
    provinces = workbook["按省市"]
    header = [c.value for c in provinces[1]]
    assert "援助金额（万元）" in header
    rows = list(provinces.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 20 and rows[-1][0] == "合计"
    budget = header.index("援助金额（万元）")
    beijing = rows[0]
    assert beijing[0] == "110000"
    assert Decimal(str(beijing[budget])) == Decimal("10.00001")
    assert isinstance(rows[-1][budget], float | int)
    assert Decimal(str(rows[-1][budget])) == Decimal("40.00001")
    assert list(workbook["建设成果"].iter_rows(min_row=11, values_only=True))[0][0] == "合计"


def test_pages_link_to_their_downloads_with_the_filter_applied(as_manager, data):
    html = as_manager.get("/dashboard/provinces/110000/?start_year=2022").content.decode()
    assert "/dashboard/summary.xlsx?start_year=2022&amp;province=110000" in html
    assert "/dashboard/summary.json?start_year=2022&amp;province=110000" in html


def _grow(n, suffix):
    agreement = make_agreement(f"GROW-{suffix}", province="130000", recipient="652800")
    for i in range(n):
        project = make_project(f"G{suffix}-{i}", agreement, category="B02")
        dashboard_data.pay(project, "10.00", project.start_date, "A")
        dashboard_data.pay(project, "20.00", project.start_date, "B")


@pytest.mark.parametrize("url", [*PAGES, "/dashboard/summary.json", "/dashboard/summary.xlsx"])
def test_query_count_does_not_grow_with_the_data(as_manager, data, django_assert_max_num_queries, url):
    with django_assert_max_num_queries(30) as small:
        as_manager.get(url)
    _grow(30, "x")
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert as_manager.get(url).status_code == 200


def test_province_and_category_pages_download_what_they_show(as_manager, data):
    response = as_manager.get("/dashboard/provinces/110000/?format=xlsx")
    assert response.status_code == 200
    workbook = load_workbook(BytesIO(response.content))
    assert {"协议", "按受援单位", "按季度拨付"} <= set(workbook.sheetnames)
    agreements = list(workbook["协议"].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in agreements] == ["BJ-1", "BJ-2", "BJ-3"]
    quarters = list(workbook["按季度拨付"].iter_rows(min_row=2, values_only=True))
    assert quarters[-1][0] == "合计" and Decimal(str(quarters[-1][1])) == Decimal("23.500055")
    response = as_manager.get("/dashboard/categories/A/?format=xlsx")
    subcategories = list(
        load_workbook(BytesIO(response.content))["按二级类别"].iter_rows(min_row=2, values_only=True)
    )
    assert [row[0] for row in subcategories][:6] == ["A01", "A02", "A03", "A04", "A05", "A06"]
    assert subcategories[-1][0] == "合计" and subcategories[-1][2] == 2


DRILL = re.compile(
    r'<a class="drill rows" href="(/admin/(?:projects/project|agreements/agreement)/\?[^"]+)">([\d,]+)</a>'
)


@pytest.mark.parametrize(
    "page",
    [
        "/dashboard/",
        "/dashboard/?category=A",
        "/dashboard/?category=B01",
        "/dashboard/?province=420000",
        "/dashboard/?status=cancelled",
        "/dashboard/?start_year=2022&recipient=653200",
        "/dashboard/provinces/110000/",
        "/dashboard/categories/A/",
        "/dashboard/categories/A05/",
        "/dashboard/?as_of=2022-06-30",
        "/dashboard/?as_of=2022-06-30&province=110000",
        "/dashboard/?as_of=2021-12-31&start_year=2021",
        "/dashboard/provinces/110000/?as_of=2022-04-30",
        "/dashboard/categories/A/?as_of=2022-06-30",
    ],
)
def test_every_count_links_to_a_changelist_with_that_many_rows(client, national, data, page):
    client.force_login(national)
    content = client.get(page).content.decode()
    links = DRILL.findall(content)
    assert links
    as_of = re.search(r"as_of=([\d-]+)", page)
    for url, figure in set(links):
        response = client.get(html.unescape(url))
        assert response.status_code == 200, url
        assert response.context["cl"].result_count == int(figure.replace(",", "")), url
        assert not as_of or f"as_of={as_of[1]}" in url
    # Each disbursed figure links to the disbursements it sums, and only those (dated on or before as_of).
    paid = DISBURSED.findall(content)
    assert paid
    for url, figure in set(paid):
        assert not as_of or f"as_of={as_of[1]}" in url
        response = client.get(html.unescape(url))
        assert response.status_code == 200, url
        listed = list(response.context["cl"].queryset)
        assert figure in (
            money.wan(sum(d.amount for d in listed)),
            money.yi(sum(d.amount for d in listed)),
        ), url
        assert not as_of or all(d.date.isoformat() <= as_of[1] for d in listed)


DISBURSED = re.compile(r'<a class="drill" href="(/admin/projects/disbursement/\?[^"]+)">([\d,.]+)</a>')


def test_changelists_take_as_of_and_count_only_disbursements_up_to_it(client, national, data):
    """The disbursement list lists those dated on or before as_of; the project and agreement lists keep their
    rows and sum only those in their disbursed columns; a bad as_of is a 400 with the error."""
    client.force_login(national)
    response = client.get("/admin/projects/disbursement/?as_of=2022-06-30&province=110000")
    assert response.status_code == 200
    dates = sorted(d.date.isoformat() for d in response.context["cl"].queryset)
    assert dates == ["2021-07-01", "2021-10-01", "2022-03-05", "2022-04-01", "2022-05-05"]
    response = client.get("/admin/projects/project/?as_of=2022-04-30&province=110000")
    assert response.status_code == 200
    disbursed = {p.code: p._disbursed for p in response.context["cl"].result_list}
    everything = client.get("/admin/projects/project/?province=110000").context["cl"].result_list
    assert set(disbursed) == {p.code for p in everything}
    assert disbursed["P1"] == Decimal("10000.00")  # not the 20,000.00 of 5 May
    response = client.get("/admin/agreements/agreement/?as_of=2022-04-30&province=110000&counted=1")
    assert response.status_code == 200
    agreements = {a.code: a._disbursed_cents for a in response.context["cl"].result_list}
    assert Decimal(agreements["BJ-1"]) == Decimal("1000000")  # P1's 10,000.00 yuan, in fen; P3 is cancelled
    for url in ("/admin/projects/disbursement/", "/admin/projects/project/", "/admin/agreements/agreement/"):
        response = client.get(f"{url}?as_of=2022-02-30")
        assert response.status_code == 400
        assert 'class="errors"' in response.content.decode() or "errors" in response.context


@pytest.mark.parametrize(
    "persona, page, linked",
    [
        ("staff_bj", "/dashboard/", True),  # its own province's row only
        ("staff_bj", "/dashboard/provinces/420000/", False),
        ("staff_bj", "/dashboard/provinces/110000/", True),
        ("staff_bj", "/dashboard/?province=110000&category=A", True),
        ("recipient_ks", "/dashboard/", False),
        ("recipient_ks", "/dashboard/?recipient=653100", True),
    ],
)
def test_scoped_users_get_links_only_where_the_list_holds_every_row(
    request, client, data, persona, page, linked
):
    """Aggregates are shown to everyone; a link is drawn only where the user's changelist shows the figure."""
    client.force_login(request.getfixturevalue(persona))
    links = DRILL.findall(client.get(page).content.decode())
    assert bool(links) == linked
    for url, figure in set(links):
        response = client.get(html.unescape(url))
        assert response.status_code == 200, url
        assert response.context["cl"].result_count == int(figure.replace(",", "")), url


def test_a_filter_given_twice_is_a_400_not_the_last_value(as_manager, data):
    response = as_manager.get("/dashboard/summary.json?province=110000&province=420000")
    assert response.status_code == 400
    assert "province" in response.json()["errors"]


def test_the_overview_downloads_what_it_shows_at_its_own_url(as_manager, data):
    response = as_manager.get("/dashboard/?format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    workbook = load_workbook(BytesIO(response.content))
    assert {"总体情况", "按省市", "按类别", "按开始年份", "建设成果", "季度报告"} <= set(workbook.sheetnames)
    headline = {row[0]: row[1] for row in workbook["总体情况"].iter_rows(min_row=2, values_only=True)}
    totals = as_manager.get("/dashboard/summary.json").json()["totals"]
    assert headline["项目数"] == totals["projects"]
    assert Decimal(str(headline["援助金额"])) == Decimal(totals["budget"]) / 10000
    years = list(workbook["按开始年份"].iter_rows(min_row=2, values_only=True))
    assert years[-1][0] == "合计" and years[-1][1] == totals["projects"]


@pytest.mark.parametrize("url", [*PAGES, "/dashboard/summary.json", "/dashboard/summary.xlsx"])
def test_an_unknown_format_is_refused_not_ignored(as_manager, data, url):
    response = as_manager.get(f"{url}?format=csv")
    assert response.status_code == 400
    if url.startswith("/dashboard/summary."):
        assert "format=" in response.json()["errors"]["format"][0]
    else:
        page = response.content.decode()
        assert "下载格式" in page and "csv" in page


def test_the_export_of_a_disbursement_list_as_of_a_date_holds_only_those(client, national, data):
    client.force_login(national)
    response = client.get("/admin/projects/disbursement/export/csv/?as_of=2021-12-31")
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 1 + 2  # the header and P2's two payments of 2021
    response = client.get("/admin/projects/disbursement/export/csv/?as_of=2021-12-32")
    assert response.content.decode("utf-8-sig").strip().count("\n") == 0  # the header only
