"""Bounded work per message (issue 15): status replies summarise big books, the memory sweep
reads only what changed, and `coo bench scale` runs as a smoke test."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from bench import scale_data
from bench.scale_data import Volumes
from tests.conftest import ChatDriver

SMALL = Volumes(clients=5, invoices=300, ledger=80, memories=340)


@pytest.fixture
def books(coo, make_runtime, db_url: str, clock, tmp_path: Path) -> tuple[ChatDriver, dict]:
    """A studio's books (30 open invoices, about half overdue, in two currencies) restored with
    `coo import` into a fresh database, and a chat on it."""
    runtime = make_runtime(database_url=db_url, embedder="hashing")  # migrates the empty database
    path = tmp_path / "books.json"
    scale_data.write(SMALL, clock.today(), path)
    out = coo(["import", str(path)], {"COO_DATABASE_URL": db_url})
    assert out.returncode == 0, out.stderr
    return ChatDriver(runtime), scale_data.build(SMALL, clock.today())


def _owed(tables: dict, today: str, overdue: bool) -> tuple[int, dict[str, int]]:
    inv = tables["invoices"]
    col = {c: i for i, c in enumerate(inv.columns)}
    currency = {r[0]: r[5] for r in tables["clients"].rows}
    totals: dict[str, int] = defaultdict(int)
    count = 0
    for r in inv.rows:
        if r[col["status"]] == "sent" and (not overdue or r[col["due_date"]] < today):
            count += 1
            totals[currency[r[col["client_id"]]]] += r[col["total_cents"]] - r[col["paid_cents"]]
    return count, totals


def _money(cents: int, symbol: str) -> str:
    return f"{symbol}{cents // 100:,}.{cents % 100:02d}"


def test_status_replies_summarise_and_point_at_the_full_list(books, clock):
    chat, tables = books
    today = clock.today().isoformat()
    count, owed = _owed(tables, today, overdue=True)
    assert count > 10 and set(owed) == {"EUR", "USD"}
    shown = chat.say("what's overdue?")
    # counts and totals per currency, never one sum across them; the most overdue first
    head = f"Overdue invoices ({count}, {_money(owed['EUR'], '€')} + {_money(owed['USD'], '$')} outstanding)"
    assert head + ", most overdue first:" in shown
    listed = re.findall(r"• (INV-\d+) .*— (\d+) days overdue", shown)
    assert len(listed) == 10
    days = [int(d) for _, d in listed]
    assert days == sorted(days, reverse=True)
    assert f"…and {count - 10} more: say “show overdue invoices” for the full list." in shown
    full = chat.say("show overdue invoices")
    assert len(re.findall(r"• INV-\d+", full)) == count

    open_count, open_owed = _owed(tables, today, overdue=False)
    shown = chat.say("who owes me money?")
    assert (
        f"Open invoices ({open_count}, {_money(open_owed['EUR'], '€')} + {_money(open_owed['USD'], '$')} "
        f"outstanding, {count} overdue), most urgent first:"
    ) in shown
    assert f"…and {open_count - 10} more: say “show all open invoices” for the full list." in shown
    assert len(re.findall(r"• INV-\d+", chat.say("show all open invoices"))) == open_count
    assert len(shown.encode()) < 2000  # the reply stays short however big the books are


def test_the_memory_sweep_reads_only_what_changed(books, coo):
    chat, _ = books
    store = chat.runtime.store
    queued = store.db.scalar("SELECT COUNT(*) AS n FROM memory_changes")
    assert queued >= SMALL.memories  # the import's inserts queued every source
    out = coo(["memory", "sync"], {"COO_DATABASE_URL": chat.runtime.settings.database, "COO_EMBEDDER": "hashing"})
    assert out.returncode == 0 and f"({SMALL.memories} in all)" in out.stdout, out.stdout + out.stderr
    assert store.db.scalar("SELECT COUNT(*) AS n FROM memory_changes") == 0
    from store.memory_sync import backlog

    assert backlog(store) == 0
    # an edited e-mail is re-indexed, and only it
    with store.db.transaction() as tx:
        tx.execute("UPDATE artifacts SET body = body || ' Also: the launch moves to Friday.' WHERE id = 3")
    assert backlog(store) == 1
    chat.say("remember that Acme Studio likes Fridays")  # any run sweeps the queue when it ends
    assert store.db.scalar("SELECT COUNT(*) AS n FROM memory_changes") == 0  # the run's sweep took it
    item = store.memory.get("artifact", 3)
    assert item is not None and "the launch moves to Friday" in item.text


@pytest.mark.slow  # `coo export` runs as a process
def test_bench_scale_smoke(coo, monkeypatch):
    monkeypatch.delenv("COO_TEST_DATABASE_URL", raising=False)  # SQLite only: keep it quick
    out = coo(
        ["bench", "scale", "--factor", "1,2", "--clients", "3", "--invoices", "60", "--ledger", "40"]
        + ["--memories", "80", "--repeats", "1", "--no-startup"]
    )
    assert out.returncode == 0, out.stdout + out.stderr
    for label in ("what's overdue?", "who owes me money?", "what do we know about X?", "new client: …"):
        assert re.search(rf"\| {re.escape(label)} \| [\d.]+ m?s \| [\d.]+ m?s \| [\d.]+× \|", out.stdout), out.stdout
    assert "`coo export` peak memory" in out.stdout and '"bench_scale"' in out.stdout.splitlines()[-1]


def test_export_and_import_stream_the_same_snapshot(books, clock, tmp_path, make_runtime):
    """`coo export` writes row by row exactly what the in-memory snapshot holds, and `coo import`
    reads it back as a stream into another database."""
    import json

    from store.snapshot import export_snapshot, export_to, import_file

    chat, tables = books
    db = chat.runtime.store.db
    path = tmp_path / "streamed.json"
    counts = export_to(db, path, clock.now(), [{"file": "x.yaml", "builtin": False, "yaml": "name: x"}])
    streamed = json.loads(path.read_text())
    whole = export_snapshot(db, clock.now()).model_dump(mode="json")
    assert streamed["tables"] == whole["tables"] and streamed["source"] == whole["source"]
    assert counts["invoices"] == len(tables["invoices"].rows) and counts["ledger"] == len(tables["ledger"].rows)
    other = make_runtime(database_url=f"sqlite:///{tmp_path / 'other.sqlite3'}", data_dir=str(tmp_path / "other"))
    restored, playbooks = import_file(other.store.db, path)
    assert restored == {name: n for name, n in counts.items() if n or name in restored}
    assert playbooks == [{"file": "x.yaml", "builtin": False, "yaml": "name: x"}]
    again = export_snapshot(other.store.db, clock.now()).model_dump(mode="json")
    assert again["tables"]["invoice_lines"] == whole["tables"]["invoice_lines"]


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_large_memory_backlog_is_loaded_without_the_hnsw_index_and_the_index_built_once(books, monkeypatch):
    """`coo memory sync` after `coo import` on PostgreSQL: a backlog at least as large as what is
    indexed is loaded with the HNSW index dropped, which is built once at the end (and again by
    the next sync if a sync died without building it). Vectors travel by binary COPY."""
    chat, _ = books
    store = chat.runtime.store
    from agents.embedders import get_embedder
    from store import memory
    from store.memory_sync import sync

    monkeypatch.setattr(memory, "HNSW_REBUILD_MIN", 50)  # the SMALL books' backlog counts as large
    present = "SELECT to_regclass('memory_vectors_hnsw') IS NOT NULL AS present"
    seen: list[bool] = []
    bulk = memory.MemoryStore.bulk_insert

    def watched(self, items, vectors):
        seen.append(bool(self.db.scalar(present)))
        return bulk(self, items, vectors)

    monkeypatch.setattr(memory.MemoryStore, "bulk_insert", watched)
    embedder = get_embedder("hashing")
    assert sync(store, embedder) == SMALL.memories
    assert seen and not any(seen)  # every batch went in without the index
    assert store.db.scalar(present) is True
    # the vectors are the embedder's, to half precision: each is its own nearest neighbour
    item = store.memory.get("invoice", 7)
    assert item is not None
    vector = embedder.embed([memory.embedding_input(item.title, item.text)])[0]
    hits = store.memory.search(vector, k=1)
    assert hits[0].item.id == item.id and hits[0].score > 0.999
    assert store.db.scalar(
        "SELECT embedding <=> ?::halfvec AS d FROM memory_vectors WHERE item_id = ?",
        (memory._pg_vector(vector), item.id),
    ) == pytest.approx(0.0, abs=1e-3)

    # a sync killed with the index dropped and a large backlog left: another process (a run's
    # sweep) leaves the index to the sync that drains the backlog, which builds it at its end
    with store.db.transaction() as tx:
        tx.execute("DROP INDEX memory_vectors_hnsw")
        for n in range(60):
            tx.execute("INSERT INTO memory_changes (source_kind, source_id) VALUES ('item', ?)", (10**6 + n,))
    from store.facade import Store

    again = Store.open(store.db.url, store.clock)
    try:
        assert again.memory.restore_vector_index() is False
        assert store.db.scalar(present) is False
        assert sync(again, embedder) == 0
        assert again.db.scalar(present) is True
        assert again.memory.vector_index_deferred is False
    finally:
        again.close()
    # a small backlog against a large index goes in with the index in place
    monkeypatch.setattr(memory, "HNSW_REBUILD_MIN", 1)
    seen.clear()
    with store.db.transaction() as tx:
        tx.execute(
            "INSERT INTO client_facts (client_id, fact, source, created_at) VALUES (1, 'likes teal', 'test', ?)",
            (store.clock.now(),),
        )
    assert sync(store, embedder) == 1
    assert seen == [True]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_client_profile_says_imported_for_rows_that_came_without_a_run(books):
    """Invoices restored by `coo import` have no run id: the profile says so instead of "run None"."""
    chat, tables = books
    inv = tables["invoices"]
    col = {c: i for i, c in enumerate(inv.columns)}
    clients = {c: i for i, c in enumerate(tables["clients"].columns)}
    name = next(
        r[clients["name"]]
        for r in tables["clients"].rows
        if any(i[col["client_id"]] == r[clients["id"]] and i[col["status"]] == "sent" for i in inv.rows)
    )
    assert chat.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM invoices WHERE run_id IS NOT NULL") == 0
    shown = chat.say(f"what do we know about {name}?")
    assert "Open invoices" in shown and "None" not in shown
    assert re.search(r"• INV-\d+ .* — imported, no run", shown), shown
    # a row a run made still names its run
    from agents.client_profile import _run

    assert _run("r-123") == "run r-123"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux carries the peak across fork and exec")
def test_a_measured_child_reports_its_own_peak_memory_not_the_benchmarks():
    """`coo bench scale` measures `coo export` through bench.peak: a child started straight from
    a large process reports that process's peak as its own (which made the export look as if it
    grew with the books)."""
    import os

    from bench.scale import ROOT, _measured

    held = bytearray(300 * 1024 * 1024)
    held[::4096] = b"\x01" * len(held[::4096])  # resident, not just reserved
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    seconds, peak = _measured(
        [sys.executable, "-c", "x = bytearray(40 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096])"], env
    )
    assert 40 <= peak < 150 and seconds > 0
    # what the kernel reports for the same child started from here
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    _, _, usage = os.wait4(proc.pid, 0)
    assert usage.ru_maxrss / 1024 > 300
    del held


def test_bench_scale_no_books_takes_no_book_figures(coo):
    """`--no-books` skips building and timing the books (process start and throughput only)."""
    import json

    out = coo(["bench", "scale", "--no-books", "--no-startup"])
    assert out.returncode == 0, out.stdout + out.stderr
    result = json.loads(out.stdout.splitlines()[-1])["bench_scale"]
    assert result["databases"] == {} and "startup" not in result and "## SQLite" not in out.stdout


def test_throughput_requests_each_name_a_new_client():
    """The throughput bench measures new clients, not one client updated again and again: the
    parser reads each request's whole name, and no two are the same."""
    from datetime import date

    from bench.throughput import _word
    from graphs.offline_parser import OfflineParser

    parser = OfflineParser(None)
    names = set()
    for n in range(0, 2000, 7):
        text = f"new client: Scale Client {_word(n)}, contact ops{n}@scale{n}.example"
        intent = parser.parse(text, date(2026, 11, 30)).intent
        assert intent.kind == "new_client" and intent.client_name == f"Scale Client {_word(n)}", text
        names.add(intent.client_name)
    assert len(names) == len(range(0, 2000, 7))
