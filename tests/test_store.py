"""Store conformance: the same behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest

from store.billing import NewLine
from store.db import Database
from store.facade import Store
from store.migrations import MIGRATIONS, migrate


@pytest.fixture
def store(db_url: str, clock) -> Store:
    s = Store.open(db_url, clock)
    yield s
    s.close()


def test_migrations_are_versioned_and_idempotent(store: Store):
    assert migrate(store.db) == len(MIGRATIONS)
    assert migrate(store.db) == len(MIGRATIONS)
    versions = [r["version"] for r in store.db.fetchall("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == list(range(1, len(MIGRATIONS) + 1))


def test_ledger_is_append_only_in_the_database(store: Store):
    assert store.ledger.append("r-1", "intake", "intent_received", {"text": "hi"})
    assert not store.ledger.append("r-1", "intake", "intent_received", {"text": "hi"})  # replay: once
    for sql in ("UPDATE ledger SET kind = 'forged'", "DELETE FROM ledger"):
        with pytest.raises(Exception, match="append-only"):
            with store.db.transaction() as tx:
                tx.execute(sql)
    [event] = store.ledger.events("r-1")
    assert event.kind == "intent_received" and event.payload == {"text": "hi"}


def test_invoice_numbers_are_gapless_under_concurrency(store: Store):
    with store.db.transaction() as tx:
        client, _ = store.clients.upsert(tx, "Acme", None, "jane@acme.example")
    errors: list[BaseException] = []

    def make(i: int) -> None:
        try:
            with store.db.transaction() as tx:
                store.billing.create_invoice(
                    tx,
                    client.id,
                    [NewLine(description="work", quantity=Decimal(1), unit_price=Decimal("10"))],
                    "USD",
                    date(2026, 11, 25),
                    date(2026, 12, 9),
                    f"r-{i}",
                )
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=make, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = sorted(r["seq"] for r in store.db.fetchall("SELECT seq FROM invoices"))
    assert numbers == list(range(1, 13))


def test_a_rolled_back_invoice_gives_its_number_back(store: Store):
    with store.db.transaction() as tx:
        client, _ = store.clients.upsert(tx, "Acme", None, None)
    with pytest.raises(RuntimeError):
        with store.db.transaction() as tx:
            store.billing.create_invoice(
                tx,
                client.id,
                [NewLine(description="x", quantity=Decimal(1), unit_price=Decimal(5))],
                "USD",
                date(2026, 11, 25),
                date(2026, 12, 9),
                "r-a",
            )
            raise RuntimeError("crash before commit")
    with store.db.transaction() as tx:
        invoice = store.billing.create_invoice(
            tx,
            client.id,
            [NewLine(description="x", quantity=Decimal(1), unit_price=Decimal(5))],
            "USD",
            date(2026, 11, 25),
            date(2026, 12, 9),
            "r-b",
        )
    assert invoice.number == "INV-0001"


def test_client_lookup_is_forgiving_but_not_ambiguous(store: Store):
    with store.db.transaction() as tx:
        store.clients.upsert(tx, "Acme Studio", "Jane Doe", "jane@acme.example")
        store.clients.upsert(tx, "Acme Labs", None, None)
        store.clients.upsert(tx, "Bob Lee", None, None)
    assert [c.name for c in store.clients.find("acme studio")] == ["Acme Studio"]
    assert sorted(c.name for c in store.clients.find("Acme")) == ["Acme Labs", "Acme Studio"]
    assert [c.name for c in store.clients.find(None, "JANE@acme.example")] == ["Acme Studio"]
    assert [c.name for c in store.clients.find("bob lee")] == ["Bob Lee"]
    assert store.clients.find("Globex") == []


def test_constraints_supersede_old_facts(store: Store):
    with store.db.transaction() as tx:
        client, _ = store.clients.upsert(tx, "Acme", None, None)
        store.clients.set_constraints(tx, client.id, "run r-1", revision_limit=3)
    with store.db.transaction() as tx:
        changes = store.clients.set_constraints(tx, client.id, "run r-2", revision_limit=2)
    assert changes == ["revision_limit: 3 → 2"]
    facts = store.clients.facts(client.id)
    assert [f.fact for f in facts] == ["revision_limit = 2"]
    assert store.clients.get(client.id).revision_limit == 2


def test_unreachable_postgres_is_a_clear_error():
    from store.errors import StoreUnavailable

    db = Database("postgresql://postgres@127.0.0.1:1/nope?connect_timeout=1", pool_timeout=2)
    with pytest.raises(StoreUnavailable, match="cannot reach PostgreSQL at postgresql://postgres@127.0.0.1:1/nope"):
        with db.transaction():
            pass
    db.close()


def test_a_pooled_postgres_connection_the_server_closed_is_replaced_without_a_failed_read(pg_url):
    """The pool's check costs no round trip on a quiet connection, yet a connection the server
    ended (a restart, pg_terminate_backend) is found when it is handed out and replaced: the next
    read and write succeed."""
    import time

    import psycopg

    db = Database(pg_url)
    try:
        pid = db.scalar("SELECT pg_backend_pid() AS pid")
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            deadline = time.monotonic() + 10  # the backend exits (and closes the socket) just after
            while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
                assert time.monotonic() < deadline, "the backend did not end"
                time.sleep(0.05)
        assert db.scalar("SELECT 1 AS one") == 1
        assert db.scalar("SELECT pg_backend_pid() AS pid") != pid
        with db.transaction() as tx:
            assert tx.scalar("SELECT 2 AS two") == 2
    finally:
        db.close()


def test_a_client_found_by_part_of_its_name_is_found_without_reading_every_client(store: Store):
    """The fuzzy look-up reads only clients whose name holds the name's first word, and finds
    exactly what comparing every client's name would (non-ASCII names included)."""
    from store.clients import name_key

    names = ["Acme Studio", "Acme Studio North", "ACME-Labs", "Globex", "Café Lumen", "İstanbul Tiles", "Big Acme Co"]
    with store.db.transaction() as tx:
        for name in names:
            store.clients.upsert(tx, name)
    everyone = store.clients.all()

    def by_scan(name: str) -> set[str]:
        key = name_key(name)
        if [c for c in everyone if name_key(c.name) == key]:
            return {c.name for c in everyone if name_key(c.name) == key}
        words = key.split()
        return {
            c.name
            for c in everyone
            if name_key(c.name).startswith(key + " ")
            or key.startswith(name_key(c.name) + " ")
            or (words and all(w in name_key(c.name).split() for w in words))
        }

    for asked in ("acme", "Acme Studio North East", "acme labs", "lumen", "café", "tiles", "stanbul", "co", "nobody"):
        assert {c.name for c in store.clients.find(asked)} == by_scan(asked), asked
    # ("Acme Studio North" was read as Acme Studio, so it is no client of its own)
    assert {c.name for c in store.clients.find("acme")} == {"Acme Studio", "ACME-Labs", "Big Acme Co"}


def test_a_pinned_block_shares_one_connection_and_replaces_one_that_broke(pg_url):
    """A job's statements share one pooled connection (Database.pinned): one-statement calls and
    transactions alike, a failed transaction rolls back without spoiling it, and a connection
    the server ended is replaced for the next statement; it goes back to the pool at the end."""
    import psycopg

    db = Database(pg_url)
    try:
        with db.pinned():
            pid = db.scalar("SELECT pg_backend_pid() AS pid")
            db.execute("CREATE TEMP TABLE pins (n INTEGER)")  # lives with its connection
            with db.transaction() as tx:
                tx.execute("INSERT INTO pins VALUES (1)")
                assert tx.scalar("SELECT pg_backend_pid() AS pid") == pid
            with pytest.raises(psycopg.errors.DivisionByZero):
                with db.transaction() as tx:
                    tx.execute("INSERT INTO pins VALUES (2)")
                    tx.execute("SELECT 1 / 0")
            assert db.scalar("SELECT COUNT(*) AS n FROM pins") == 1  # the failed one rolled back
            with psycopg.connect(pg_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            with pytest.raises(psycopg.OperationalError):
                db.scalar("SELECT 1 AS one")  # the statement it was running when the server ended it
            assert db.scalar("SELECT 1 AS one") == 1  # the next takes another connection
            assert db.scalar("SELECT pg_backend_pid() AS pid") != pid
        assert db._pool.get_stats()["pool_available"] >= 1  # given back
        with db.transaction() as tx:  # transactional again, as the pool hands them out
            tx.execute("CREATE TEMP TABLE after_pin (n INTEGER)")
            assert tx.scalar("SELECT COUNT(*) AS n FROM after_pin") == 0
    finally:
        db.close()


def test_a_runs_events_written_together_are_each_recorded_once(store: Store):
    store.ledger.append_many("r-9", [("load_context", "context_loaded", {"a": 1}), ("plan", "planned", {})])
    with store.db.transaction() as tx:  # a replayed step: nothing twice
        store.ledger.append_many("r-9", [("load_context", "context_loaded", {"a": 1}), ("plan", "planned", {})], tx=tx)
    events = store.ledger.events("r-9")
    assert [(e.step, e.kind, e.actor) for e in events] == [
        ("load_context", "context_loaded", "coo"),
        ("plan", "planned", "coo"),
    ]
    assert events[0].payload == {"a": 1}


def test_a_client_known_to_be_new_is_inserted_at_once_and_one_made_meanwhile_is_found(store: Store):
    with store.db.transaction() as tx:
        made, created = store.clients.upsert(tx, "Northwind", None, "ops@northwind.example", known_new=True)
    assert created and made.name == "Northwind"
    with store.db.transaction() as tx:  # "known" new, yet made meanwhile: the same client, updated
        again, created = store.clients.upsert(tx, "Northwind", "Ana", None, known_new=True)
    assert not created and again.id == made.id and again.contact_name == "Ana"
    assert store.db.scalar("SELECT COUNT(*) AS n FROM clients") == 1


def test_client_names_after_new_clients_are_read_as_far_as_they_changed(store: Store, db_url: str, clock):
    """Another process's new clients: only their names are read; after a rename, every name."""
    other = Store.open(db_url, clock)
    try:
        with other.db.transaction() as tx:
            other.clients.upsert(tx, "Globex")
        assert store.clients.names() == ("Globex",)
        reads: list[str] = []
        fetchall = store.db.fetchall

        def spy(sql: str, params=()):  # type: ignore[no-untyped-def]
            reads.append(sql)
            return fetchall(sql, params)

        store.db.fetchall = spy  # type: ignore[method-assign]
        with other.db.transaction() as tx:
            initech, _ = other.clients.upsert(tx, "Initech")
            other.clients.upsert(tx, "Acme")
        assert sorted(store.clients.names()) == ["Acme", "Globex", "Initech"]
        assert reads == ["SELECT name FROM clients WHERE names_version > ?"]
        assert store.clients.names() == store.clients.names() and len(reads) == 1  # nothing moved
        with other.db.transaction() as tx:
            other.clients.rename(tx, initech.id, "Initrode")
        assert sorted(store.clients.names()) == ["Acme", "Globex", "Initrode"]
        assert reads[-1] == "SELECT name FROM clients ORDER BY name_key"
    finally:
        other.close()
