"""The library's `import` command speaks Chinese like every other command: its summary, its dry-run notice,
its question before reading a file and its answer when the question is declined (zh-hans by default)."""

import io
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from tests.crawl import english_words
from tests.spreadsheets.helpers import PROJECT_HEADERS, csv_bytes, project_row
from tests.spreadsheets.test_entry_points import _Stdin, bj_agreement  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db
RESOURCE = "projects.resources.ProjectResource"


def run(*args):
    printed = io.StringIO()
    call_command("import", RESOURCE, *args, stdout=printed, stderr=printed)
    return printed.getvalue()


def test_the_summary_is_in_chinese(bj_agreement, monkeypatch):  # noqa: F811
    monkeypatch.setattr(sys, "stdin", _Stdin(csv_bytes([PROJECT_HEADERS, project_row("P-1")])))
    with translation.override("zh-hans"):  # the default (LANGUAGE_CODE); other tests may leave another active
        printed = run("-", "--format", "CSV")
    assert "导入完成：新增 1，更新 0，删除 0，跳过 0（援助项目）。" in printed
    assert english_words(printed) == []


def test_a_dry_run_says_so_in_traditional_chinese(bj_agreement, monkeypatch):  # noqa: F811
    monkeypatch.setattr(sys, "stdin", _Stdin(csv_bytes([PROJECT_HEADERS, project_row("P-1")])))
    with translation.override("zh-hant"):
        printed = run("-", "--dry-run")
    assert "試運行" in printed and "導入完成" in printed
    assert english_words(printed) == []


def test_the_question_before_reading_a_file_is_chinese(bj_agreement, monkeypatch, tmp_path):  # noqa: F811
    path = tmp_path / "项目.csv"
    path.write_bytes(csv_bytes([PROJECT_HEADERS, project_row("P-1")]))
    asked = []
    monkeypatch.setattr("builtins.input", lambda question: asked.append(question) or "no")
    with translation.override("zh-hans"), pytest.raises(CommandError) as refused:
        run(str(path))
    assert "确定" in asked[0] and english_words(asked[0], {"yes", "no"}) == []
    assert english_words(str(refused.value)) == [] and "取消" in str(refused.value)
