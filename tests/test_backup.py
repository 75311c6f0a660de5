"""`coo export` never destroys an earlier export, and `coo backup` makes a copy that restores
to the same data (SQLite backup API; pg_dump/pg_restore on PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from store.facade import Store
from store.snapshot import export_snapshot
from tests.conftest import REPO

pytestmark = pytest.mark.slow  # coo commands, a killed process, pg_dump

SETUP = "new client: Northwind, contact ops@northwind.example\ninvoice Northwind for 3 hours of design at $120/h\n"


def _tables(url: str, clock) -> dict:
    store = Store.open(url, clock)
    try:
        return export_snapshot(store.db, clock.now()).tables
    finally:
        store.close()


def test_an_export_that_fails_midway_leaves_the_earlier_one_whole(coo, coo_env, tmp_path, monkeypatch):
    assert coo(["chat"], stdin=SETUP).returncode == 0
    target = tmp_path / "backup.json"
    assert coo(["export", str(target)]).returncode == 0
    earlier = target.read_bytes()
    assert json.loads(earlier)["format"] == "coo-snapshot"

    import store.snapshot

    # The export streams row by row: the disk fills up after some rows are written.
    portable, written = store.snapshot._portable, []

    def fill_the_disk(value, is_json):
        written.append(value)
        if len(written) > 20:
            raise OSError(28, "No space left on device")
        return portable(value, is_json)

    monkeypatch.setattr(store.snapshot, "_portable", fill_the_disk)
    failed = coo(["export", str(target)])
    assert failed.returncode == 1 and "No space left on device" in failed.stderr
    assert "earlier file there is unchanged" in failed.stderr
    assert target.read_bytes() == earlier
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".backup")) == []  # no debris


KILLED_WRITER = """
import sys, time
from pathlib import Path
from store.atomic_file import write_chunks

def slow():
    for i in range(1000):
        yield "x" * 100_000
        if i == 5:
            print("writing", flush=True)
            time.sleep(60)

write_chunks(Path(sys.argv[1]), slow())
"""


def test_a_killed_export_never_destroys_the_earlier_file(tmp_path):
    target = tmp_path / "backup.json"
    target.write_text('{"the": "earlier export"}')
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(target)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    assert target.read_text() == '{"the": "earlier export"}'


def test_sqlite_backup_restores_to_the_same_data(coo, coo_env, clock, tmp_path):
    assert coo(["chat"], stdin=SETUP).returncode == 0
    out = coo(["backup", str(tmp_path / "coo-backup.sqlite3")])
    assert out.returncode == 0, out.stderr
    assert "Backed up the SQLite database (backup API)" in out.stdout and "Restore:" in out.stdout
    # The README's restore: copy the file where COO_DATABASE_URL points.
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    (restored_dir / "coo.sqlite3").write_bytes((tmp_path / "coo-backup.sqlite3").read_bytes())
    original = _tables(f"sqlite:///{Path(coo_env['COO_DATA_DIR']) / 'coo.sqlite3'}", clock)
    assert original["clients"]["rows"] and original["invoices"]["rows"]
    assert _tables(f"sqlite:///{restored_dir / 'coo.sqlite3'}", clock) == original
    listing = coo(
        ["chat"], {"COO_DATABASE_URL": f"sqlite:///{restored_dir / 'coo.sqlite3'}"}, stdin="list my clients\n"
    )
    assert "Northwind" in listing.stdout


def test_postgres_backup_restores_to_the_same_data(coo, clock, pg_url, tmp_path):
    env = {"COO_DATABASE_URL": pg_url}
    assert coo(["chat"], env, stdin=SETUP).returncode == 0
    dump = tmp_path / "coo.dump"
    out = coo(["backup", str(dump)], env)
    assert out.returncode == 0, out.stderr
    assert "Backed up the PostgreSQL database (pg_dump)" in out.stdout and "pg_restore" in out.stdout
    base, _, name = pg_url.rpartition("/")
    restored = f"{base}/{name}_restored"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}_restored")
    try:
        # The README's restore steps.
        subprocess.run(["pg_restore", "--no-owner", "-d", restored, str(dump)], check=True, capture_output=True)
        assert _tables(restored, clock) == _tables(pg_url, clock)
        listing = coo(["chat"], {"COO_DATABASE_URL": restored}, stdin="list my clients\n")
        assert "Northwind" in listing.stdout
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}_restored WITH (FORCE)")


def test_without_pg_dump_the_backup_says_what_to_install(coo, pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("COO_PG_DUMP", "no-such-pg-dump")
    target = tmp_path / "coo.dump"
    target.write_bytes(b"an earlier backup")
    out = coo(["backup", str(target)], {"COO_DATABASE_URL": pg_url})
    assert out.returncode == 1
    assert "pg_dump is not installed" in out.stderr and "postgresql-client" in out.stderr
    assert target.read_bytes() == b"an earlier backup"
