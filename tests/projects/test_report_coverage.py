"""Report coverage on the dashboards: the `reporting` block of summary.json and summary.xlsx, the overview's
table with its drill-downs, and the province page's list of projects needing attention."""

import datetime
import html
import re
from io import BytesIO

import pytest
from openpyxl import load_workbook

from projects.models import ProgressReport
from tests.conftest import make_agreement, make_project

pytestmark = pytest.mark.django_db

AS_OF = "2026-11-30"  # the reporting quarter is 2026 Q3
D = datetime.date


def report(project, status, percent=50, year=2026, quarter=3):
    return ProgressReport.objects.create(
        project=project, year=year, quarter=quarter, status=status, percent_complete=percent
    )


@pytest.fixture
def data(db):
    """Beijing: five projects due for 2026 Q3 (one per state, one with nothing), a planned one, a completed
    one that ended in 2026 Q2 (not due) and one that ended in Q3 (due); Hubei: one due, missing."""
    bj = make_agreement("BJ-R", province="110000", recipient="653200")
    hb = make_agreement("HB-R", province="420000", recipient="652700")
    p = {}
    for code, state in [
        ("R-APP", "approved"),
        ("R-SUB", "submitted"),
        ("R-RET", "returned"),
        ("R-DRA", "draft"),
        ("R-MIS", None),
    ]:
        p[code] = make_project(code, bj, category="A01", start_date=D(2025, 5, 1))
        if state:
            report(p[code], state, percent=60)
    p["R-APP"].reports.create(year=2026, quarter=2, status="approved", percent_complete=40)
    p["R-MIS"].reports.create(year=2026, quarter=1, status="approved", percent_complete=30)
    p["R-PLN"] = make_project("R-PLN", bj, status="planned")
    p["R-LATE"] = make_project("R-LATE", bj, start_date=D(2026, 10, 1))  # starts after Q3
    p["R-END2"] = make_project("R-END2", bj, status="completed", end_date=D(2026, 6, 30))
    p["R-END3"] = make_project("R-END3", bj, status="completed", end_date=D(2026, 9, 30), category="B01")
    report(p["R-END3"], "approved", percent=100)
    p["H-MIS"] = make_project("H-MIS", hb, category="A05")
    return p


def test_summary_json_has_the_reporting_block_for_the_reporting_quarter(client, manager, data):
    client.force_login(manager)
    body = client.get(f"/dashboard/summary.json?as_of={AS_OF}").json()
    block = body["reporting"]
    assert (block["year"], block["quarter"]) == (2026, 3)
    assert [row["code"] for row in block["provinces"]][:2] == ["110000", "120000"]
    assert len(block["provinces"]) == 19
    beijing = block["provinces"][0]
    assert beijing == {
        "code": "110000",
        "name": "北京市",
        "due": 6,
        "approved": 2,
        "submitted": 1,
        "returned": 1,
        "draft": 1,
        "missing": 1,
    }
    hubei = next(row for row in block["provinces"] if row["code"] == "420000")
    assert (hubei["due"], hubei["missing"]) == (1, 1)
    assert block["provinces"][1]["due"] == 0


def test_the_reporting_block_follows_the_filters_and_as_of(client, manager, data):
    client.force_login(manager)
    beijing = client.get(f"/dashboard/summary.json?as_of={AS_OF}&category=B").json()["reporting"]
    assert beijing["provinces"][0]["due"] == 1 and beijing["provinces"][0]["approved"] == 1
    block = client.get("/dashboard/summary.json?as_of=2026-09-30").json()["reporting"]
    assert (block["year"], block["quarter"]) == (2026, 3)  # the quarter's last day counts
    block = client.get("/dashboard/summary.json?as_of=2026-09-29").json()["reporting"]
    assert (block["year"], block["quarter"]) == (2026, 2)
    assert block["provinces"][0]["due"] == 6  # R-END2 ended in Q2, R-END3 had not
    assert block["provinces"][0]["approved"] == 1  # R-APP's Q2 report
    block = client.get(f"/dashboard/summary.json?as_of={AS_OF}&status=planned").json()["reporting"]
    assert sum(row["due"] for row in block["provinces"]) == 0


def test_summary_xlsx_has_the_coverage_sheet(client, manager, data):
    client.force_login(manager)
    workbook = load_workbook(BytesIO(client.get(f"/dashboard/summary.xlsx?as_of={AS_OF}").content))
    assert "季度报告" in workbook.sheetnames
    rows = list(workbook["季度报告"].iter_rows(values_only=True))
    assert rows[0] == ("省市代码", "援助省市", "应报项目数", "已审核", "已提交", "已退回", "草稿", "未报")
    assert rows[1] == ("110000", "北京市", 6, 2, 1, 1, 1, 1)
    assert rows[-1][0] == "合计" and rows[-1][2] == 7
    filters = dict(workbook["筛选条件"].iter_rows(min_row=2, values_only=True))
    assert filters["报告季度"] == "2026年第3季度"


COVERAGE_LINK = re.compile(
    r'<a class="drill rows" href="(/admin/projects/project/\?[^"]*due=[^"]+)">([\d,]+)</a>'
)


@pytest.mark.parametrize("page", ["/dashboard/", "/dashboard/provinces/110000/"])
def test_every_coverage_figure_links_to_exactly_its_projects(client, national, data, page):
    client.force_login(national)
    links = COVERAGE_LINK.findall(client.get(f"{page}?as_of={AS_OF}").content.decode())
    assert len(links) >= 6
    seen = set()
    for url, figure in set(links):
        response = client.get(html.unescape(url))
        assert response.status_code == 200, url
        assert response.context["cl"].result_count == int(figure), url
        seen.add(html.unescape(url))
    # as_of rides along (it selects no fewer projects): the list is the figure's, under the same filters
    assert (
        f"/admin/projects/project/?province=110000&as_of={AS_OF}&due=2026Q3&reporting=missing&live=1" in seen
    )


def test_the_changelist_reporting_filter_selects_the_projects(client, national, data):
    client.force_login(national)
    response = client.get("/admin/projects/project/?due=2026Q3&reporting=missing")
    assert {p.code for p in response.context["cl"].result_list} == {"R-MIS", "H-MIS"}
    response = client.get("/admin/projects/project/?province=110000&due=2026Q3")
    assert response.context["cl"].result_count == 6
    assert client.get("/admin/projects/project/?due=2026Q5").status_code == 400
    assert client.get("/admin/projects/project/?due=2026Q3&reporting=lost").status_code == 400
    assert client.get("/admin/projects/project/?reporting=missing").status_code == 400


def _listed_codes(page):
    return re.findall(r'<tr class="reporting-(\w+)">\s*<th scope="row">([\w-]+)</th>', page)


def test_province_page_lists_projects_needing_attention_first_with_their_percent(client, staff_bj, data):
    client.force_login(staff_bj)
    page = client.get(f"/dashboard/provinces/110000/?as_of={AS_OF}").content.decode()
    listed = _listed_codes(page)
    assert listed == [
        ("missing", "R-MIS"),
        ("returned", "R-RET"),
        ("draft", "R-DRA"),
        ("submitted", "R-SUB"),
        ("approved", "R-APP"),
        ("approved", "R-END3"),
    ]
    rows = dict(
        re.findall(
            r'<th scope="row">([\w-]+)</th>\s*<td>[^<]*</td>\s*<td>[^<]*</td>\s*<td class="num">([^<]+)</td>',
            page,
        )
    )
    assert rows["R-APP"] == "60%"  # its latest approved report (Q3), not Q2's 40
    assert rows["R-MIS"] == "30%"  # nothing for Q3: Q1's approved report
    assert rows["R-SUB"] == "–"  # never approved
    assert f"/admin/projects/project/?province=110000&amp;as_of={AS_OF}&amp;due=2026Q3&amp;live=1" in page


def test_another_provinces_staff_get_the_aggregates_without_the_list(client, staff_hb, data):
    client.force_login(staff_hb)
    response = client.get(f"/dashboard/provinces/110000/?as_of={AS_OF}")
    assert response.status_code == 200
    page = response.content.decode()
    assert _listed_codes(page) == []
    assert "R-MIS" not in page
    assert response.context["data"]["province_reporting"]["row"]["due"] == 6


def test_recipient_staff_see_only_their_subtree_in_the_list(client, recipient_ks, data):
    client.force_login(recipient_ks)
    page = client.get(f"/dashboard/provinces/110000/?as_of={AS_OF}").content.decode()
    assert _listed_codes(page) == []  # Beijing's projects are in 和田, not 喀什


def test_the_province_list_stops_at_fifty(client, national, data):
    bj = make_agreement("BJ-MANY", province="110000", recipient="653200")
    for i in range(55):
        make_project(f"M-{i:02d}", bj)
    client.force_login(national)
    page = client.get(f"/dashboard/provinces/110000/?as_of={AS_OF}").content.decode()
    listed = _listed_codes(page)
    assert len(listed) == 50
    assert all(state == "missing" for state, _code in listed)


def _grow(n, suffix):
    agreement = make_agreement(f"GROW-{suffix}", province="130000", recipient="652800")
    for i in range(n):
        project = make_project(f"G{suffix}-{i}", agreement, category="B02")
        if i % 2:
            report(project, "approved")
            project.reports.create(year=2025, quarter=4, status="approved", percent_complete=10)


@pytest.mark.parametrize(
    "url",
    ["/dashboard/", "/dashboard/provinces/130000/", "/dashboard/summary.json", "/dashboard/summary.xlsx"],
)
def test_coverage_costs_the_same_queries_at_two_data_sizes(
    client, national, data, django_assert_max_num_queries, url
):
    client.force_login(national)
    url = f"{url}?as_of={AS_OF}"
    with django_assert_max_num_queries(40) as small:
        assert client.get(url).status_code == 200
    _grow(40, "x")
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


def test_the_province_download_has_the_coverage_and_the_list(client, staff_bj, staff_hb, data):
    client.force_login(staff_bj)
    response = client.get(f"/dashboard/provinces/110000/?as_of={AS_OF}&format=xlsx")
    workbook = load_workbook(BytesIO(response.content))
    assert list(workbook["季度报告"].iter_rows(min_row=2, max_row=2, values_only=True))[0][2] == 6
    listed = list(workbook["应报项目"].iter_rows(min_row=2, values_only=True))
    assert listed[0] == ("R-MIS", "项目 R-MIS", "未填报", 30)
    assert len(listed) == 6
    client.force_login(staff_hb)
    workbook = load_workbook(
        BytesIO(client.get(f"/dashboard/provinces/110000/?as_of={AS_OF}&format=xlsx").content)
    )
    assert "应报项目" not in workbook.sheetnames


def test_the_list_read_by_index_is_the_list_sorted_by_attention(national, staff_bj, recipient_ks, data):
    """On PostgreSQL the province page's list is read state by state, per agreement in code order by index
    (report_coverage.attention_projects); it is the same list, in the same order, as sorting every due project
    by attention and code — for each user, with and without the coverage counts, up to the limit and past it."""
    from agreements.access import scope_queryset
    from agreements.models import Province
    from projects import report_coverage
    from projects.models import Project
    from projects.selectors import SummaryFilters

    bj = make_agreement("BJ-MORE", province="110000", recipient="653200")
    for i, state in enumerate(["returned", "draft", None, "submitted", "approved"] * 14):
        project = make_project(
            f"Q-{i:02d}", bj if i % 2 else data["R-APP"].agreement, start_date=D(2024, 1, 1)
        )
        if state:
            report(project, state)
    filters = SummaryFilters(province=Province.objects.get(code="110000"), as_of=D(2026, 11, 30))
    block = report_coverage.reporting(filters)
    row = next(r for r in block["provinces"] if r["code"] == "110000")
    counts = {s: row[s] for s in report_coverage.KEYS[1:]}
    for user in (national, staff_bj, recipient_ks):
        selected = scope_queryset(user, report_coverage.filter_projects(Project.objects.all(), filters))
        expected = [
            (p.code, p.reporting_status, p.percent_complete)
            for p in report_coverage._attention_sorted(selected, year=2026, quarter=3)
        ]
        for given in (counts, None):
            listed = report_coverage.attention_projects(filters, user, year=2026, quarter=3, counts=given)
            assert [(p.code, p.reporting_status, p.percent_complete) for p in listed] == expected
