"""The command-line entry points, as an operator would run them."""

import io
import sys

import pytest
from django.core.management import call_command

from projects.models import Project
from spreadsheets.models import ImportRecord
from tests.conftest import make_agreement
from tests.spreadsheets.helpers import (
    AGREEMENT_HEADERS,
    PROJECT_HEADERS,
    csv_bytes,
    project_row,
    xlsx,
)

RESOURCE = "projects.resources.ProjectResource"


class _Stdin:
    def __init__(self, data):
        self.buffer = io.BytesIO(data)

    def read(self, *args):  # a prompt would read here
        raise AssertionError("the command prompted")

    def readline(self, *args):
        raise AssertionError("the command prompted")


def run_import_stdin(monkeypatch, data, *args):
    monkeypatch.setattr(sys, "stdin", _Stdin(data))
    err = io.StringIO()
    code = 0
    try:
        call_command("import", RESOURCE, "-", *args, stdout=io.StringIO(), stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, err.getvalue()


@pytest.fixture
def bj(db):
    return make_agreement("BJ-1")


@pytest.mark.django_db
def test_stdin_with_a_bad_row_exits_1_records_and_writes_nothing(monkeypatch, bj):
    data = csv_bytes(
        [PROJECT_HEADERS, project_row("BJ-1-001"), project_row("BJ-1-002", **{"项目类别": "QQ"})]
    )
    code, err = run_import_stdin(monkeypatch, data, "--format", "CSV")
    assert code == 1
    assert "Traceback" not in err
    assert "3" in err and "项目类别" in err
    assert not Project.objects.exists()
    assert ImportRecord.objects.get().outcome == ImportRecord.Outcome.REJECTED


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xef\xbb\xbf",
        b"\r\n\r\n",
        b"PK\x03\x04garbage",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
    ],
)
def test_stdin_bad_files_exit_1_with_a_chinese_message(monkeypatch, bj, data):
    monkeypatch.setattr(sys, "stdin", _Stdin(data))
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as raised:
        call_command("import", RESOURCE, "-", "--format", "CSV", stdout=io.StringIO(), stderr=io.StringIO())
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(raised.value)), raised.value
    record = ImportRecord.objects.get()
    assert record.file_name == "<stdin>"
    assert record.outcome == ImportRecord.Outcome.REJECTED


@pytest.mark.django_db
def test_import_workbook_in_any_sheet_order_with_references_between_sheets(tmp_path, db):
    data = xlsx(
        {
            "资金拨付": [
                ["项目编号", "拨付日期", "拨付金额（万元）", "凭证号"],
                ["N-1-001", "2022/8/19", "1.5", "V1"],
            ],
            "Projects": [PROJECT_HEADERS, project_row("N-1-001", agreement="N-1")],
            "说明": [["随便写"], ["N-1-999"]],
            "协议": [
                AGREEMENT_HEADERS,
                ["N-1", "新协议", "北京市", None, "653200", "2021-05-01", None, None, 100, "已签订"],
            ],
        }
    )
    path = tmp_path / "book.xlsx"
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_workbook", str(path), stdout=out, stderr=err)
    project = Project.objects.get(code="N-1-001")
    assert project.disbursements.get().amount == 15000
    # the same file again changes nothing
    call_command("import_workbook", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    record = ImportRecord.objects.order_by("-pk").first()
    assert record.totals()["new"] == 0 and record.totals()["updated"] == 0, record.counts


@pytest.mark.django_db
def test_import_workbook_with_errors_exits_1_without_traceback(tmp_path, bj):
    data = xlsx({"项目": [PROJECT_HEADERS, project_row("BJ-1-001", **{"项目名称": "长" * 100_000})]})
    path = tmp_path / "book.xlsx"
    path.write_bytes(data)
    from django.core.management.base import CommandError

    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_workbook", str(path), stdout=io.StringIO(), stderr=err)
    assert len(err.getvalue()) < 2000


@pytest.mark.django_db
def test_command_refusals_speak_chinese(tmp_path):
    from django.core.management.base import CommandError

    refusals = []
    for args in (
        ("import", RESOURCE, str(tmp_path / "missing.csv"), "--no-input"),
        ("import", RESOURCE, str(tmp_path), "--no-input"),
        ("export", "csv", RESOURCE, "--encoding", "gbk"),
    ):
        with pytest.raises(CommandError) as raised:
            call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
        refusals.append(str(raised.value))
    for message in refusals:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message
        assert "Errno" not in message and "UTF-8 with" not in message, message
