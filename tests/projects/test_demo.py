"""`load_demo` reproduces the published mid-2022 figures (DESIGN section 1) through the one selector."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from projects import demo, selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_summary(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the demo's generated photos
    settings.DEBUG = True  # pytest-django runs with DEBUG off; the demo refuses that
    call_command("load_demo")
    return selectors.summary()


def test_demo_shows_the_published_programme(demo_summary, is_postgres):
    totals = demo_summary["totals"]
    assert totals["agreements"] == 31
    assert 1601 <= totals["projects"] <= 1699
    assert Decimal("370000000") <= totals["budget"] < Decimal("371000000")
    assert 39000 <= totals["beneficiaries"] < 40000
    if is_postgres:  # SQLite keeps decimals as floating point; exact sums are asserted on PostgreSQL
        assert totals["budget"] == Decimal("370500000.00")
        assert totals["pledged"] == Decimal("412000000.00")


def test_demo_categories_match_the_article(demo_summary):
    rows = {row["code"]: row for row in demo_summary["by_category"]}
    assert rows["A"]["projects"] == 762
    assert Decimal("110000000") <= rows["A"]["budget"] < Decimal("111000000")
    assert rows["B"]["projects"] == 622
    assert Decimal("97000000") < rows["B"]["budget"] < Decimal("98000000")
    assert rows["C"]["projects"] == 266
    assert Decimal("63000000") < rows["C"]["budget"] < Decimal("64000000")
    assert rows["D"]["projects"] + rows["Z"]["projects"] <= 49
    assert rows["C"]["beneficiaries"] > rows["B"]["beneficiaries"] + rows["D"]["beneficiaries"]


def test_demo_facilities_match_the_article(demo_summary):
    built = {row["code"]: row["quantity"] for row in demo_summary["facilities"]}
    assert [built[f"F0{i}"] for i in range(1, 7)] == [257, 10, 54, 107, 26, 23]


def test_demo_has_every_province_and_ten_odd_big_pledgers(demo_summary):
    provinces = demo_summary["by_province"]
    assert len(provinces) == 19 and all(row["agreements"] >= 1 for row in provinces)
    big = {row["name"] for row in provinces if row["pledged"] > Decimal("20000000")}
    assert len(big) >= 11
    assert {"北京市", "山西省", "辽宁省", "福建省"} <= big


def test_demo_tells_the_article_examples_and_users_exist(demo_summary):
    from django.contrib.auth import get_user_model

    from projects.models import Project

    assert Project.objects.filter(name__contains="点亮微心愿", agreement__province__code="310000").exists()
    assert Project.objects.filter(name__contains="高原职工氧吧", agreement__province__code="440300").exists()
    assert Project.objects.filter(
        name__contains="双河市职工服务中心", agreement__province__code="420000"
    ).exists()
    assert Project.objects.filter(name__contains="一户一产业工人", recipient__code="650400").exists()
    users = get_user_model().objects.filter(
        username__in=["national", "manager", "staff_bj", "staff_hb", "recipient_ks"]
    )
    assert users.count() == 5
    assert all(user.check_password(demo.DEMO_PASSWORD) for user in users)


def test_demo_is_deterministic(demo_summary):
    from projects.models import Project

    first = list(Project.objects.order_by("code").values_list("code", "budget", "status", "recipient__code"))
    call_command("load_demo", "--reset")
    assert (
        list(Project.objects.order_by("code").values_list("code", "budget", "status", "recipient__code"))
        == first
    )


def test_it_refuses_a_database_with_data_and_a_production_setting(demo_summary, settings):
    with pytest.raises(CommandError, match="--reset"):
        call_command("load_demo")
    call_command("load_demo", "--if-empty")  # succeeds, changes nothing
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("load_demo", "--reset")


def test_the_readme_tells_the_demo_as_the_screens_show_it(settings):
    from io import StringIO
    from pathlib import Path

    from aidtracker import money
    from projects.models import Project

    settings.DEBUG = True
    out = StringIO()
    call_command("load_demo", stdout=out)
    total = Project.objects.count()
    cancelled = Project.objects.filter(status=Project.Status.CANCELLED).count()
    totals = selectors.summary()["totals"]
    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    assert (total, cancelled, totals["projects"]) == (1698, 9, 1689)
    for figure in ("1,698", "1,689", "9 个已取消", "9\nare cancelled"):
        assert figure in readme, figure
    assert money.yi(totals["budget"]) == "3.71"  # 370,500,000 yuan, rounded half up
    assert "3.71 亿元" in readme and "3.705 亿元" not in readme
    assert "1698" in out.getvalue() and "1689" in out.getvalue()  # what `make run` prints, explained


def test_demo_walks_the_whole_reporting_cycle(demo_summary):
    from PIL import Image

    from projects.models import ClosedPeriod, ProgressReport, ReportPhoto
    from projects.reporting import reporting_quarter

    year, quarter = reporting_quarter()
    quarters = set(ProgressReport.objects.values_list("year", "quarter").distinct())
    expected = {(year, quarter)}
    y, q = year, quarter
    for _ in range(3):
        y, q = (y, q - 1) if q > 1 else (y - 1, 4)
        expected.add((y, q))
    assert quarters == expected
    latest = ProgressReport.objects.filter(year=year, quarter=quarter)
    assert set(latest.values_list("status", flat=True)) == {"draft", "submitted", "returned", "approved"}
    beijing = latest.filter(project__agreement__province__code="110000")
    assert set(beijing.values_list("status", flat=True)) == {"draft", "submitted", "returned", "approved"}
    assert all(r.author.username == "staff_bj" for r in beijing.select_related("author"))
    assert all(r.review_note for r in latest.filter(status="returned"))
    assert not latest.filter(status="approved", reviewed_by__isnull=True).exists()
    photo = ReportPhoto.objects.select_related("report").first()
    assert photo is not None and photo.report.year == year
    with Image.open(photo.image) as image:
        assert max(image.size) <= 1920 and not image.getexif()
    assert ClosedPeriod.objects.filter(year=2021, quarter=4, reopened_at__isnull=True).exists()
    from projects.report_coverage import reporting

    beijing_row = reporting(selectors.SummaryFilters())["provinces"][0]
    assert beijing_row["missing"] > 0 and beijing_row["approved"] > 0  # staff_bj has reports to write
