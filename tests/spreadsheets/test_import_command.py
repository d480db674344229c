"""django-import-export's own `import` and `export` commands with our resources, on the sample files."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from agreements.models import Agreement
from projects.models import Project
from spreadsheets.models import ImportRecord
from tests.conftest import SAMPLES

pytestmark = pytest.mark.django_db


def _import(resource, path):
    """Run the library's command as a user would; returns what it printed."""
    printed = io.StringIO()  # the library reports on stderr
    with translation.override("zh-hans"):  # the default language (LANGUAGE_CODE)
        call_command("import", resource, str(path), "--no-input", stdout=io.StringIO(), stderr=printed)
    return printed.getvalue()


@pytest.fixture
def samples():
    return SAMPLES


def test_the_library_command_reads_a_gb18030_csv_without_being_told(samples):
    _import("agreements.resources.AgreementResource", samples / "agreements.xlsx")
    printed = _import("projects.resources.ProjectResource", samples / "projects_gb18030.csv")
    assert Agreement.objects.count() == 42
    assert Project.objects.count() == 595
    assert "新增 595" in printed
    # the same file again changes nothing
    assert "跳过 595" in _import("projects.resources.ProjectResource", samples / "projects_gb18030.csv")


def test_the_library_command_round_trips_its_own_csv_export(samples, tmp_path):
    _import("agreements.resources.AgreementResource", samples / "agreements.xlsx")
    _import("projects.resources.ProjectResource", samples / "projects.xlsx")
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # the library writes to stdout's buffer
    call_command("export", "CSV", "projects.resources.ProjectResource", stdout=out)
    out.flush()
    exported = tmp_path / "projects.csv"
    exported.write_bytes(out.buffer.getvalue())
    assert "新增 0，更新 0" in _import("projects.resources.ProjectResource", exported)


def test_an_unreadable_csv_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x81\x30\xff\xff\xfe")
    with pytest.raises(CommandError):
        _import("projects.resources.ProjectResource", bad)
    assert not Project.objects.exists()


def test_the_library_command_records_the_import_and_names_the_bad_row(samples):
    import hashlib

    _import("agreements.resources.AgreementResource", samples / "agreements.xlsx")
    record = ImportRecord.objects.get()
    assert record.file_name == "agreements.xlsx" and record.source == "command"
    assert record.sha256 == hashlib.sha256((samples / "agreements.xlsx").read_bytes()).hexdigest()
    assert record.outcome == "imported" and record.counts["协议"]["new"] == 42

    printed = io.StringIO()
    with pytest.raises(SystemExit) as exit_code:
        call_command(
            "import", "projects.resources.ProjectResource", str(samples / "projects_bad_last_row.xlsx"),
            "--no-input", stdout=io.StringIO(), stderr=printed,
        )  # fmt: skip
    assert exit_code.value.code == 1
    assert "401" in printed.getvalue() and "一百万" in printed.getvalue()
    assert not Project.objects.exists()
    assert ImportRecord.objects.filter(outcome="rejected", file_name="projects_bad_last_row.xlsx").exists()
