"""The backup drill: `make backup`, then `make restore FILE=…` into an empty database; the restored figures
and documents must be the source's."""

import hashlib
import subprocess
import sys

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from projects import backups
from tests.conftest import make_agreement
from tests.operations.servers import ROOT, database_url, server_environment
from tests.projects import dashboard_data

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n" + bytes(range(256)) * 10


def make(target, env, *args):
    result = subprocess.run(
        ["make", "--no-print-directory", target, f"VENV={sys.prefix}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def empty_database():
    """A new, empty database beside the test database; dropped afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("backups are pg_dump files; set DATABASE_URL=postgres://… (CI does)")
    settings_dict = {**connection.settings_dict, "NAME": connection.settings_dict["NAME"] + "_restore"}
    name = settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield database_url(settings_dict)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_restore_drill_gives_back_the_figures_and_the_documents(settings, tmp_path, empty_database):
    settings.MEDIA_ROOT = tmp_path / "media"
    dashboard_data.build()
    agreement = make_agreement("BJ-DOC")
    agreement.document.save("协议.pdf", ContentFile(PDF))
    source_totals = backups.province_totals()
    assert any(row[4] != "0" for row in source_totals[1:-1]), "the source has projects"

    env = server_environment(tmp_path, BACKUP_DIR=str(tmp_path / "backups"))
    output = make("backup", env)
    dumps = sorted((tmp_path / "backups").glob("aidtracker-*.dump"))
    assert len(dumps) == 1 and str(dumps[0]) in output
    assert dumps[0].name.removeprefix("aidtracker-").removesuffix(".dump").replace("-", "").isdigit()
    assert backups.media_archive_for(dumps[0]).exists()

    restored_media = tmp_path / "restored-media"
    env = server_environment(tmp_path, DATABASE_URL=empty_database, MEDIA_ROOT=str(restored_media))
    output = make("restore", env, f"FILE={dumps[0]}")
    printed = [line.split("\t") for line in output.splitlines() if line.count("\t") >= 3]
    # Header and total label are in the command's language; the figures must be the source's, row for row.
    assert printed[1:-1] == source_totals[1:-1]
    assert printed[-1][2:] == source_totals[-1][2:]
    restored = restored_media / agreement.document.name
    assert hashlib.sha256(restored.read_bytes()).hexdigest() == hashlib.sha256(PDF).hexdigest()

    # A second restore into the now full database is refused and changes nothing.
    result = subprocess.run(
        [sys.executable, "manage.py", "restore", str(dumps[0])],
        cwd=ROOT,
        env={**env, "LANGUAGE_CODE": "en"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "is not empty" in result.stderr


def test_a_restore_in_the_same_checkout_skips_the_identical_uploads(settings, tmp_path, empty_database):
    """Only DATABASE_URL changes: the uploads folder already holds the very files the backup has."""
    settings.MEDIA_ROOT = tmp_path / "media"
    dashboard_data.build()
    agreement = make_agreement("BJ-DOC")
    agreement.document.save("协议.pdf", ContentFile(PDF))
    source_totals = backups.province_totals()
    env = server_environment(tmp_path, BACKUP_DIR=str(tmp_path / "backups"))
    make("backup", env)
    second = make("backup", env)  # at once: a second file, not a collision
    dumps = sorted((tmp_path / "backups").glob("aidtracker-*.dump"))
    assert len(dumps) == 2 and str(dumps[1]) in second

    env = {**env, "DATABASE_URL": empty_database}
    output = make("restore", env, f"FILE={dumps[0]}")
    printed = [line.split("\t") for line in output.splitlines() if line.count("\t") >= 3]
    assert printed[1:-1] == source_totals[1:-1]
    assert (tmp_path / "media" / agreement.document.name).read_bytes() == PDF


def test_a_different_upload_in_the_way_refuses_the_restore_before_the_database(
    settings, tmp_path, empty_database
):
    settings.MEDIA_ROOT = tmp_path / "media"
    agreement = make_agreement("BJ-DOC")
    agreement.document.save("协议.pdf", ContentFile(PDF))
    env = server_environment(tmp_path, BACKUP_DIR=str(tmp_path / "backups"))
    make("backup", env)
    (dump,) = (tmp_path / "backups").glob("aidtracker-*.dump")
    in_the_way = tmp_path / "media" / agreement.document.name
    in_the_way.write_bytes(b"another document")
    env = {**env, "DATABASE_URL": empty_database}
    result = subprocess.run(
        ["make", "--no-print-directory", "restore", f"VENV={sys.prefix}", f"FILE={dump}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert str(in_the_way) in result.stderr and "Traceback" not in result.stderr
    assert in_the_way.read_bytes() == b"another document"
    # The database was not touched: the same restore works once the file is moved away.
    in_the_way.unlink()
    make("restore", env, f"FILE={dump}")
    assert in_the_way.read_bytes() == PDF


def test_make_restore_without_a_file_says_how(tmp_path):
    result = subprocess.run(
        ["make", "--no-print-directory", "restore", f"VENV={sys.prefix}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "FILE=" in result.stdout + result.stderr
