"""The list of imports and an import's page read as Chinese: the sheet a file went into by its name, the counts
as words (never a model label or raw JSON with English keys), the errors one per line."""

import pytest
from django.urls import reverse

from spreadsheets.models import ImportRecord
from tests.crawl import readable_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(national):
    return ImportRecord.objects.create(
        user=national,
        source="command",
        target="projects.disbursement",
        file_name="拨付.csv",
        sha256="ab" * 32,
        outcome="rejected",
        counts={
            "资金拨付": {
                "new": 1,
                "errors": 1,
                "updated": 2,
                "unchanged": 0,
                "columns": {"金额（元）": 2},
            }
        },
        errors=[
            {"sheet": "资金拨付", "row": 3, "column": "金额（元）", "value": "abc", "message": "不是数字。"}
        ],
    )


def text_of(client, url, language="zh-hans"):
    return " ".join(
        readable_text(client.get(url, headers={"accept-language": language}).content.decode()).split()
    )


def test_an_import_page_names_the_sheet_and_counts_in_words(client, national, record):
    client.force_login(national)
    page = text_of(client, reverse("admin:spreadsheets_importrecord_change", args=[record.pk]))
    assert "projects.disbursement" not in page and '"new"' not in page and "{" not in page
    assert "导入对象: 资金拨付" in page
    assert "资金拨付：新增 1，更新 2，未变 0，错误 1（改动的列：金额（元） 2 行）" in page
    assert "资金拨付 第 3 行" in page
    hant = text_of(client, reverse("admin:spreadsheets_importrecord_change", args=[record.pk]), "zh-hant")
    assert "资金拨付：新增 1，更新 2，未變 0，錯誤 1" in hant  # the sheet name is data


def test_the_list_of_imports_names_the_sheet(client, national, record):
    client.force_login(national)
    page = text_of(client, reverse("admin:spreadsheets_importrecord_changelist"))
    assert "projects.disbursement" not in page
    assert "资金拨付" in page
