"""`coo export` / `coo import`: one portable snapshot, exact round trips SQLite ⇄ PostgreSQL."""

from __future__ import annotations

import json

import pytest

from store.facade import Store
from store.snapshot import SnapshotError, export_snapshot, import_snapshot, read_snapshot, write_snapshot
from tests.conftest import ChatDriver

pytestmark = pytest.mark.clock  # scripts/test runs these again with the process time shifted


def _business(chat: ChatDriver) -> None:
    chat.say(
        "Acme Studio signed the retainer: $4,000 a month, 3 design rounds, bill on the 1st, contact jane@acme.example"
    )
    chat.say("/approve 1")
    chat.say("invoice Bob Lee for 12 hours of logo work at $95/h, due in 14 days")
    chat.say("/edit 2 to=bob@lee.example")
    chat.say("/approve 2")
    chat.say("Bob Lee paid $1,140")
    chat.say("remember that Acme Studio prefers Slack")
    chat.say("Acme Studio needs the homepage mockups by 2026-12-03")
    chat.say("invoice Acme Studio $4,000 for december retainer")  # left waiting for approval


def _tables(snapshot) -> dict:
    return snapshot.tables


@pytest.mark.parametrize("direction", ["sqlite_to_postgres", "postgres_to_sqlite"])
def test_round_trip_is_exact_both_ways(direction, make_runtime, sqlite_url, pg_url, smtp, clock, tmp_path):
    source_url, target_url = (sqlite_url, pg_url) if direction == "sqlite_to_postgres" else (pg_url, sqlite_url)
    chat = ChatDriver(make_runtime(database_url=source_url, smtp_url=smtp.url))
    _business(chat)
    first = export_snapshot(chat.runtime.store.db, clock.now())
    path = tmp_path / "coo-snapshot.json"
    write_snapshot(first, path)

    target = Store.open(target_url, clock)
    counts = import_snapshot(target.db, read_snapshot(path))
    assert counts["invoices"] == 2 and counts["ledger"] > 20
    second = export_snapshot(target.db, clock.now())
    assert _tables(second) == _tables(first)  # every row, every column

    # the restored database keeps working: numbering continues, the waiting approval is there
    assert target.billing.get("INV-0002").status == "draft"
    assert [a.id for a in target.runs.pending_approvals()] == [3]
    from datetime import date
    from decimal import Decimal

    from store.billing import NewLine

    client = target.clients.find("Bob Lee")[0]
    with target.db.transaction() as tx:
        invoice = target.billing.create_invoice(
            tx,
            client.id,
            [NewLine(description="x", quantity=Decimal(1), unit_price=Decimal(1))],
            "USD",
            date(2026, 11, 25),
            date(2026, 12, 1),
            "r-after-import",
        )
        tx.execute(
            "INSERT INTO clients (name, name_key, created_at, updated_at) VALUES ('New', 'new', ?, ?)",
            (clock.now(), clock.now()),
        )
    assert invoice.number == "INV-0003"
    target.close()


def test_import_refuses_a_database_that_is_not_empty(chat, clock, tmp_path):
    chat.say("new client: Northwind, contact ops@northwind.example")
    path = tmp_path / "s.json"
    write_snapshot(export_snapshot(chat.runtime.store.db, clock.now()), path)
    with pytest.raises(SnapshotError, match="not empty"):
        import_snapshot(chat.runtime.store.db, read_snapshot(path))


def test_not_a_snapshot_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hello": 1}))
    with pytest.raises(SnapshotError, match="is not a coo snapshot"):
        read_snapshot(bad)
    bad.write_text("{not json")
    with pytest.raises(SnapshotError, match="cannot read"):
        read_snapshot(bad)


@pytest.mark.slow  # starts `coo` as a process
def test_export_and_import_commands(coo_env, tmp_path):
    from tests.test_cli import run

    run(["chat"], coo_env, stdin="new client: Northwind, contact ops@northwind.example\n")
    out = run(["export", str(tmp_path / "snap.json")], coo_env)
    assert out.returncode == 0 and "Exported" in out.stdout and "coo snapshot v1" in out.stdout
    other = {**coo_env, "COO_DATA_DIR": str(tmp_path / "other")}
    out = run(["import", str(tmp_path / "snap.json")], other)
    assert out.returncode == 0 and "Imported" in out.stdout
    assert "Northwind <ops@northwind.example>" in run(["chat"], other, stdin="list my clients\n").stdout
    again = run(["import", str(tmp_path / "snap.json")], other)
    assert again.returncode == 1 and "is not empty" in again.stderr


@pytest.mark.slow  # starts `coo` as a process
def test_snapshot_carries_playbooks_and_restores_the_operators_own(coo_env, tmp_path):
    from tests.test_cli import run

    own = tmp_path / "my-playbooks"
    own.mkdir()
    (own / "new_client.v2.yaml").write_text(  # the operator's newer version of a built-in playbook
        "name: new_client\nversion: 2\ndescription: Record a new client, my way.\ntrigger: new_client\n"
        "lead: intake\nsteps: [record_client]\nmigration: Nothing changes for runs under v1.\n"
    )
    env = {**coo_env, "COO_PLAYBOOKS_DIR": str(own)}
    assert run(["playbooks"], env).returncode == 0
    run(["chat"], env, stdin="new client: Northwind, contact ops@northwind.example\n")
    assert run(["export", str(tmp_path / "snap.json")], env).returncode == 0
    snapshot = json.loads((tmp_path / "snap.json").read_text())
    files = {p["file"]: p["builtin"] for p in snapshot["playbooks"]}
    assert files["retainer.v2.yaml"] is True and files["new_client.v2.yaml"] is False
    other = {**coo_env, "COO_DATA_DIR": str(tmp_path / "other")}
    restored = run(["import", str(tmp_path / "snap.json")], other)
    assert "1 playbook file(s) of your own restored" in restored.stdout
    listing = run(["playbooks"], other).stdout
    assert "Record a new client, my way." in listing and "runs: 1 total" in listing


def test_every_table_is_in_the_snapshot_or_deliberately_left_out(db_url, clock):
    from store.snapshot import unlisted_tables

    store = Store.open(db_url, clock)
    try:
        assert unlisted_tables(store.db) == []
    finally:
        store.close()
