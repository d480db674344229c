"""Backup files never collide and a restore never fails half-way over the uploads: two backups in the same
second get two names; uploads already in place with the same content are skipped; a different file in the
way refuses the restore before the database is touched, naming the file."""

import io
import tarfile
from pathlib import Path

import pytest

from projects import backups


@pytest.fixture
def fake_postgres(monkeypatch):
    """pg_dump / pg_restore stand-ins: the calls are recorded; a dump writes a small file."""
    calls = []

    def run(command, env):
        calls.append(command[0])
        if command[0] == "pg_dump":
            Path(command[command.index("--file") + 1]).write_bytes(b"PGDMP")

    monkeypatch.setattr(backups, "_libpq", lambda alias="default": ([], {}))
    monkeypatch.setattr(backups, "_run", run)
    monkeypatch.setattr(backups, "database_is_empty", lambda alias="default": True)
    return calls


def archive_of(path, files):
    with tarfile.open(path, "w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))


def test_two_backups_in_the_same_second_get_two_names(fake_postgres, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    first, _ = backups.backup(tmp_path / "backups")
    second, _ = backups.backup(tmp_path / "backups")
    assert first != second and first.exists() and second.exists()
    assert sorted(p.name for p in (tmp_path / "backups").glob("*.dump")) == sorted([first.name, second.name])
    assert not list((tmp_path / "backups").glob("*.partial"))


def test_a_backup_waits_while_another_of_the_same_second_is_being_written(fake_postgres, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    folder = tmp_path / "backups"
    folder.mkdir()
    first, _ = backups.backup(folder)
    first.rename(first.with_name(first.name + ".partial"))  # as if still being written
    second, _ = backups.backup(folder)
    assert second.name != first.name


def test_identical_uploads_are_skipped_and_missing_ones_written(fake_postgres, settings, tmp_path):
    media = tmp_path / "media"
    (media / "reports").mkdir(parents=True)
    (media / "reports" / "a.jpg").write_bytes(b"photo A")
    settings.MEDIA_ROOT = media
    dump = tmp_path / "aidtracker-20261130-073152.dump"
    dump.write_bytes(b"PGDMP")
    archive_of(backups.media_archive_for(dump), {"reports/a.jpg": b"photo A", "reports/b.jpg": b"photo B"})
    archive, written, skipped = backups.restore(dump)
    assert (written, skipped) == (1, 1) and archive is not None
    assert (media / "reports" / "b.jpg").read_bytes() == b"photo B"
    assert fake_postgres == ["pg_restore"]


def test_a_different_file_in_the_way_refuses_before_the_database_is_touched(
    fake_postgres, settings, tmp_path
):
    media = tmp_path / "media"
    (media / "reports").mkdir(parents=True)
    (media / "reports" / "a.jpg").write_bytes(b"someone else's photo")
    settings.MEDIA_ROOT = media
    dump = tmp_path / "aidtracker-20261130-073152.dump"
    dump.write_bytes(b"PGDMP")
    archive_of(backups.media_archive_for(dump), {"reports/a.jpg": b"photo A", "reports/b.jpg": b"photo B"})
    with pytest.raises(backups.BackupError) as refused:
        backups.restore(dump)
    assert str(media / "reports" / "a.jpg") in str(refused.value)
    assert "MEDIA_ROOT" in str(refused.value)  # what to do about it
    assert fake_postgres == []  # the database was not touched
    assert (media / "reports" / "a.jpg").read_bytes() == b"someone else's photo"
    assert not (media / "reports" / "b.jpg").exists()
