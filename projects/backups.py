"""Backups of a PostgreSQL deployment: `pg_dump` custom-format files and an archive of the uploads, the
restore into an empty database, and the per-province totals a restore drill is checked with.

`make backup` / `make restore FILE=…` call the `backup` and `restore` commands, which call these.
"""

import hashlib
import os
import subprocess
import tarfile
import time
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext as _

from projects import selectors

DUMP_PREFIX = "aidtracker-"
MEDIA_SUFFIX = "-media.tar.gz"


class BackupError(Exception):
    pass


def backup_dir() -> Path:
    return Path(os.environ.get("BACKUP_DIR") or settings.BASE_DIR / "backups")


def _libpq(alias="default"):
    """Arguments and environment for pg_dump/pg_restore naming the database of `alias`."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        raise BackupError(_("Backups and restores need PostgreSQL (DATABASE_URL=postgres://…)."))
    db = connection.settings_dict
    args = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", db["HOST"]]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _run(command, env):
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]}: {result.stderr.strip() or result.returncode}")


def uploads_folder() -> Path | None:
    """The folder of the uploads when they are on local (or mounted) disk; None for an object store."""
    storage = storages["default"]
    if isinstance(storage, FileSystemStorage):
        return Path(storage.location)
    return None


def backup(directory: Path | None = None) -> tuple[Path, Path | None]:
    """Write aidtracker-YYYYMMDD-HHMMSS.dump (pg_dump custom format) and, for uploads on disk, the matching
    -media.tar.gz; returns both paths. A file is complete once it has its final name."""
    directory = Path(directory or backup_dir())
    directory.mkdir(parents=True, exist_ok=True)
    dump, partial = _claim_name(directory)
    args, env = _libpq()
    try:
        _run(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(partial), *args],
            env,
        )
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.rename(dump)
    stem = dump.name.removesuffix(".dump")

    folder = uploads_folder()
    if folder is None:
        return dump, None  # an object store: its own versioning/replication is the backup (docs/deploy.md)
    media = directory / f"{stem}{MEDIA_SUFFIX}"
    partial = media.with_name(media.name + ".partial")
    with tarfile.open(partial, "w:gz") as archive:
        if folder.exists():
            archive.add(folder, arcname=".")
    partial.rename(media)
    return dump, media


def _claim_name(directory: Path, attempts=5) -> tuple[Path, Path]:
    """The next free aidtracker-YYYYMMDD-HHMMSS.dump and its `.partial`, created here so that two backups
    started in the same second (or one still running) never write the same file: the later one waits for
    the next second."""
    for _attempt in range(attempts):
        stem = DUMP_PREFIX + timezone.localtime().strftime("%Y%m%d-%H%M%S")
        dump = directory / f"{stem}.dump"
        partial = dump.with_name(dump.name + ".partial")
        if not dump.exists():
            try:
                partial.open("x").close()
            except FileExistsError:
                pass
            else:
                if not dump.exists():  # a backup of that second may have finished in between
                    return dump, partial
                partial.unlink()
        time.sleep(1.05 - time.time() % 1)  # into the next second
    raise BackupError(
        _("Another backup is writing into %(folder)s at the same time; try again in a moment.")
        % {"folder": directory}
    )


def media_archive_for(dump: Path) -> Path:
    return dump.with_name(dump.name.removesuffix(".dump") + MEDIA_SUFFIX)


def database_is_empty(alias="default") -> bool:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        return cursor.fetchone()[0] == 0


def _sha256(fileobj) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: fileobj.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def uploads_to_restore(archive: Path, folder: Path) -> list[tarfile.TarInfo]:
    """The members of an uploads archive still to write into `folder`: a file already there with the same
    content (SHA-256) is skipped; a different file in its place refuses the restore (BackupError), before
    anything is written, rather than overwrite it."""
    wanted, different = [], []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            target = folder / member.name
            if not target.exists() and not target.is_symlink():
                wanted.append(member)
            elif member.isdir():
                if not target.is_dir():
                    different.append(target)
            elif not member.isfile() or not target.is_file() or target.is_symlink():
                different.append(target)
            else:
                with tar.extractfile(member) as stored, target.open("rb") as present:
                    if _sha256(stored) != _sha256(present):
                        different.append(target)
    if different:
        shown = "、".join(str(path) for path in different[:5])
        if len(different) > 5:
            shown += _(" and %(count)s more") % {"count": len(different) - 5}
        raise BackupError(
            _(
                "Nothing was restored: the uploads folder %(folder)s already holds %(count)s different "
                "file(s) where the backup has its own (%(files)s). Restore into an empty uploads folder "
                "(MEDIA_ROOT), or move these files away first."
            )
            % {"folder": folder, "count": len(different), "files": shown}
        )
    return wanted


def restore(dump: Path) -> tuple[Path | None, int, int]:
    """Restore a dump into the empty database DATABASE_URL names, and its uploads archive (when there is
    one beside it) into the uploads folder, skipping files already there with the same content. Everything
    that would refuse the restore is checked before the database is touched. Returns the archive restored
    (if any), how many files were written and how many were already there."""
    dump = Path(dump)
    if not dump.is_file():
        raise BackupError(_("No such file: %(path)s") % {"path": dump})
    if not database_is_empty():
        raise BackupError(
            _("The database %(name)s is not empty; restore into a new, empty database.")
            % {"name": connections["default"].settings_dict["NAME"]}
        )
    archive = media_archive_for(dump)
    folder = uploads_folder()
    if folder is None or not archive.exists():
        archive = None
    else:
        to_write = uploads_to_restore(archive, folder)
    args, env = _libpq()
    connections["default"].close()
    _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", *args, str(dump)], env)
    if archive is None:
        return None, 0, 0
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        skipped = sum(1 for member in tar.getmembers() if member.isfile()) - sum(m.isfile() for m in to_write)
        tar.extractall(folder, members=to_write, filter="data")
    return archive, sum(m.isfile() for m in to_write), skipped


def province_totals() -> list[list[str]]:
    """Per-province figures read from the base tables (not the rollups), a header row first and a total
    row last: what a restore drill compares with the source."""
    result = selectors.summary(from_base=True)
    keys = selectors.TOTAL_KEYS

    def cells(row):
        return [str(row[key]) for key in keys]

    rows = [[_("code"), _("province"), *keys]]
    rows += [[row["code"], row["name"], *cells(row)] for row in result["by_province"]]
    rows.append(["", _("total"), *cells(result["totals"])])
    return rows
