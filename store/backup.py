"""`coo backup FILE`: a consistent copy of the whole database, written beside FILE and renamed
over it (store.atomic_file), so a failed backup never destroys an earlier one.

* SQLite: SQLite's online backup API copies every page as of one moment, while coo keeps
  running; the result is an ordinary SQLite file.
* PostgreSQL: ``pg_dump --format=custom`` (one transaction-consistent snapshot); restored with
  ``pg_restore``. The password is handed over in PGPASSWORD, never on the command line.

The README's "Backups" section has the restore steps for both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlparse, urlunparse

from pydantic import BaseModel

from store.atomic_file import replacing
from store.db import Database, sqlite_path
from store.errors import StoreError

try:  # the same SQLite coo runs on (store.db)
    import pysqlite3.dbapi2 as sqlite3
except ImportError:  # pragma: no cover - platforms without the wheel
    import sqlite3

# Pages copied per step: small steps let coo's own writers in between.
PAGES_PER_STEP = 1024


class BackupError(StoreError):
    """The backup could not be made; the message says why and what to do."""


class Backup(BaseModel):
    path: Path
    kind: Literal["sqlite", "pg_dump"]
    size: int

    def restore_hint(self) -> str:
        if self.kind == "sqlite":
            return (
                "Restore: stop coo, then copy it over the database file (COO_DATABASE_URL; by default "
                "COO_DATA_DIR/coo.sqlite3) and delete any coo.sqlite3-wal/-shm files beside it."
            )
        return "Restore: createdb NEW && pg_restore --no-owner -d postgresql://…/NEW " + str(self.path)


def backup(db: Database, target: Path) -> Backup:
    """Back the database up to ``target`` (replaced only once the backup is complete)."""
    if db.dialect == "sqlite":
        _sqlite(db.url, target)
        kind: Literal["sqlite", "pg_dump"] = "sqlite"
    else:
        _pg_dump(db.url, target)
        kind = "pg_dump"
    return Backup(path=target, kind=kind, size=target.stat().st_size)


def _sqlite(url: str, target: Path) -> None:
    source_path = sqlite_path(url)
    if not source_path.exists():
        raise BackupError(f"there is no SQLite database at {source_path} yet (nothing to back up)")
    if source_path.resolve() == target.expanduser().resolve():
        raise BackupError("the backup file cannot be the database itself")
    with replacing(target) as temp:
        source = sqlite3.connect(str(source_path), timeout=30)
        dest = sqlite3.connect(str(temp))
        try:
            source.backup(dest, pages=PAGES_PER_STEP)
            # A standalone file: no write-ahead log to carry beside it.
            dest.execute("PRAGMA journal_mode=DELETE")
            check = dest.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dest.close()
            source.close()
        if check != "ok":
            raise BackupError(f"the backup failed SQLite's integrity check: {check}")


def pg_dump_binary() -> str | None:
    """pg_dump on PATH (COO_PG_DUMP may name another), or None."""
    return shutil.which(os.environ.get("COO_PG_DUMP") or "pg_dump")


def _without_password(url: str) -> tuple[str, str | None]:
    parsed = urlparse(url)
    if parsed.password is None:
        return url, None
    host = parsed.hostname or ""
    netloc = (unquote(parsed.username or "") + "@" if parsed.username else "") + host
    if parsed.port:
        netloc += f":{parsed.port}"
    return urlunparse(parsed._replace(netloc=netloc)), unquote(parsed.password)


def _pg_dump(url: str, target: Path) -> None:
    binary = pg_dump_binary()
    if binary is None:
        raise BackupError(
            "pg_dump is not installed here: install the PostgreSQL client tools (Debian/Ubuntu: "
            "apt-get install postgresql-client; macOS: brew install libpq), matching your server's "
            "major version or newer, or set COO_PG_DUMP to its path"
        )
    bare, password = _without_password(url)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    with replacing(target) as temp:
        result = subprocess.run(
            [binary, "--format=custom", "--no-owner", f"--file={temp}", f"--dbname={bare}"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if result.returncode != 0:
            detail = (result.stderr or "").strip().splitlines()
            why = detail[-1] if detail else f"exit code {result.returncode}"
            if password:
                why = why.replace(password, "***")
            raise BackupError(f"pg_dump failed: {why}")
