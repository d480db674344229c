"""Every admin and dashboard page speaks Chinese, on screen and to screen readers, in zh-hans and zh-hant,
for the national office and for a province's staff: a crawl finds no English word that is not data."""

import datetime

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.utils import timezone

from agreements.models import SecurityEvent
from projects.models import Disbursement, FacilityOutput, FacilityType, ProgressReport
from spreadsheets.models import ImportRecord
from tests.conftest import make_agreement, make_project
from tests.crawl import admin_urls, data_words, english_words

pytestmark = pytest.mark.django_db

DASHBOARD = [
    "/dashboard/",
    "/dashboard/provinces/110000/",
    "/dashboard/categories/A/",
    "/dashboard/categories/B01/",
    "/dashboard/?province=999999",  # a bad filter's page
    "/dashboard/provinces/999999/",  # not found
    "/admin/projects/project/?province=999999",  # a bad filter on a changelist
]


@pytest.fixture
def programme(db, national, staff_bj):
    agreement = make_agreement("BJ-2021-01", ends_on=datetime.date(2025, 12, 31))
    project = make_project("BJ-2021-01-001", agreement, end_date=datetime.date(2023, 1, 1))
    Disbursement.objects.create(
        project=project, date=datetime.date(2022, 4, 1), amount=1000, reference="PZ-1"
    )
    FacilityOutput.objects.create(
        project=project, facility_type=FacilityType.objects.get(code="F01"), quantity=2
    )
    report = ProgressReport.objects.create(
        project=project, year=2022, quarter=2, percent_complete=40, narrative="进展顺利。", author=staff_bj
    )
    report.status, report.submitted_by = "submitted", staff_bj
    report.save()
    report.status, report.reviewed_by, report.reviewed_at = "approved", national, timezone.now()
    report.save()  # its history: links from empty to a person, a moment
    SecurityEvent.objects.create(
        kind=SecurityEvent.Kind.FORBIDDEN, user=staff_bj, username="staff_bj", method="GET", path="/admin/"
    )
    ImportRecord.objects.create(
        user=staff_bj,
        source="command",
        target="projects.disbursement",
        file_name="拨付.csv",
        sha256="ab" * 32,
        outcome="rejected",
        counts={
            "资金拨付": {"new": 1, "errors": 1, "updated": 1, "unchanged": 0, "columns": {"金额（元）": 1}}
        },
        errors=[
            {"sheet": "资金拨付", "row": 3, "column": "金额（元）", "value": "", "message": "不能为空。"}
        ],
    )
    AccessAttempt.objects.create(
        username="intruder", ip_address="10.0.0.1", user_agent="curl", failures_since_start=3
    )
    AccessLog.objects.create(username="national", ip_address="10.0.0.2", user_agent="Firefox")
    AccessFailureLog.objects.create(
        username="intruder", ip_address="10.0.0.1", user_agent="curl", locked_out=True
    )
    return {"national": national, "staff_bj": staff_bj, "agreement": agreement}


@pytest.mark.parametrize("language", ["zh-hans", "zh-hant"])
@pytest.mark.parametrize("persona", ["national", "staff_bj"])
def test_no_english_word_on_any_admin_or_dashboard_page(client, programme, persona, language):
    user = programme[persona]
    client.force_login(user)
    allowed = data_words()
    found = {}
    for url in admin_urls(user) + DASHBOARD:
        response = client.get(url, headers={"accept-language": language})
        assert response.status_code in (200, 400, 404), url
        words = english_words(response.content.decode(), allowed)
        if words:
            found[url] = words
    assert found == {}


@pytest.mark.parametrize("language", ["zh-hans", "zh-hant"])
def test_the_login_page_and_error_pages_are_in_chinese(client, programme, language):
    headers = {"accept-language": language}
    assert english_words(client.get("/admin/login/", headers=headers).content.decode()) == []
    client.force_login(programme["staff_bj"])
    # Province staff may not delete agreements: Django answers 403.
    response = client.get(f"/admin/agreements/agreement/{programme['agreement'].pk}/delete/", headers=headers)
    assert response.status_code == 403
    assert english_words(response.content.decode()) == []
    response = client.get("/dashboard/provinces/999999/", headers=headers)
    assert response.status_code == 404
    assert english_words(response.content.decode()) == []


def test_the_admin_scripts_speak_chinese_too(client, national):
    """The permission pickers' buttons and hints come from the admin's script catalogue."""
    client.force_login(national)
    for language, text in (("zh-hans", "全选 %s"), ("zh-hant", "選取全部 %s")):
        script = client.get("/admin/jsi18n/", headers={"accept-language": language}).content.decode()
        assert text in script or text.encode("unicode_escape").decode() in script, language
        assert '"Choose all %s"' not in script.split("catalog")[0]


@pytest.mark.parametrize("language", ["zh-hans", "zh-hant"])
def test_import_previews_are_in_chinese(client, programme, language):
    """A preview of a good file (updates shown old → new) and of a bad one (errors listed), as province staff."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.spreadsheets.helpers import PROJECT_HEADERS, project_row, xlsx

    headers = {"accept-language": language}
    client.force_login(programme["staff_bj"])
    url = "/admin/projects/project/import/"
    good = xlsx({"项目": [PROJECT_HEADERS, project_row("BJ-2021-01-001", "BJ-2021-01", 项目名称="新名称")]})
    bad = xlsx({"项目": [PROJECT_HEADERS, project_row("BJ-2021-01-002", "NOWHERE", 项目类别="Q9")]})
    for name, content in (("good.xlsx", good), ("bad.xlsx", bad)):
        upload = SimpleUploadedFile(name, content)
        response = client.post(url, {"import_file": upload}, headers=headers, follow=True)
        assert response.status_code == 200, name
        allowed = data_words() | {"NOWHERE", "Q"}  # now with the file's name and checksum
        assert english_words(response.content.decode(), allowed) == [], name
