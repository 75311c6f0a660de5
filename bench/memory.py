"""`coo bench-memory`: the recall benchmark and memory query latency.

1. Recall: a year of a studio's back office (bench/memory_data.py) is written through the
   real store (clients, forwarded e-mails, proposals, invoices, notes) and indexed by the real
   sweep (store/memory_sync.py); each labelled question is asked three ways — vector only,
   keyword only, combined (reciprocal rank fusion) — with the client filter a recall would use.
   Prints recall@5 and MRR per method for each installed embedder, on SQLite and PostgreSQL.
2. Latency: synthetic filler memories (bulk loaded: COPY on PostgreSQL, executemany on SQLite)
   at each size; p50/p99 of the combined query (the one recall runs) and of vector-only search.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from agents.embedders import Embedder, available, get_embedder
from bench.memory_data import History, build, filler
from graphs.memory_search import search_memory, topic_of
from store.billing import NewLine
from store.clock import FixedClock
from store.facade import Store
from store.memory import NewMemory, embedding_input
from store.memory_sync import sync

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
METHODS = ("vector", "keyword", "combined")


def _say(line: str) -> None:
    print(line, flush=True)


# -- databases ---------------------------------------------------------------------------------


class Databases:
    """Temporary databases: SQLite files in a temp dir, PostgreSQL databases created and dropped."""

    def __init__(self, pg_url: str | None) -> None:
        self.pg_url = pg_url
        self.tmp = tempfile.TemporaryDirectory(prefix="coo-bench-memory-")
        self.pg_names: list[str] = []

    def sqlite(self, name: str) -> str:
        return f"sqlite:///{Path(self.tmp.name) / f'{name}.sqlite3'}"

    def postgres(self) -> str:
        import psycopg

        assert self.pg_url
        name = f"coo_bench_mem_{secrets.token_hex(4)}"
        with psycopg.connect(self.pg_url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        self.pg_names.append(name)
        base, _, _ = self.pg_url.rpartition("/")
        return f"{base}/{name}"

    def close(self) -> None:
        if self.pg_names and self.pg_url:
            import psycopg

            with psycopg.connect(self.pg_url, autocommit=True) as admin:
                for name in self.pg_names:
                    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.tmp.cleanup()


# -- recall quality ----------------------------------------------------------------------------


def load_history(store: Store, history: History) -> dict[str, tuple[str, int]]:
    """Write the history through the real store; doc key → memory source pointer."""
    clients: dict[str, int] = {}
    pointers: dict[str, tuple[str, int]] = {}
    from bench.memory_data import CLIENTS

    with store.db.transaction() as tx:
        for spec in CLIENTS:
            c, _ = store.clients.upsert(tx, spec.name, spec.contacts[0].name, spec.contacts[0].email)
            clients[spec.name] = c.id
        for doc in history.docs:
            cid = clients[doc.client]
            run = f"bench-{doc.key}"
            if doc.kind == "email_in":
                assert doc.sender
                a = store.artifacts.create(
                    tx,
                    "email_in",
                    doc.title,
                    doc.text,
                    run,
                    cid,
                    {"from": {"name": doc.sender.name, "address": doc.sender.email}, "date": doc.when.isoformat()},
                )
                pointers[doc.key] = ("artifact", a.id)
            elif doc.kind == "proposal":
                a = store.artifacts.create(tx, "proposal", doc.title, doc.text, run, cid, {"status": "sent"})
                pointers[doc.key] = ("artifact", a.id)
            elif doc.kind == "invoice":
                lines = _invoice_lines(doc.text)
                inv = store.billing.create_invoice(tx, cid, lines, "USD", doc.when.date(), doc.when.date(), run)
                assert inv.number == doc.number, (inv.number, doc.number)
                pointers[doc.key] = ("invoice", inv.id)
            else:
                store.clients.add_fact(tx, cid, doc.text.split(": ", 1)[1], run)
                fid = tx.scalar("SELECT MAX(id) AS m FROM client_facts")
                pointers[doc.key] = ("fact", int(fid))
    return pointers


def _invoice_lines(text: str) -> list[NewLine]:
    items = text.split(": ", 1)[1].split("; ")
    out = []
    for item in items:
        desc, amount = item.rsplit(" ($", 1)
        out.append(
            NewLine(description=desc, quantity=Decimal(1), unit_price=Decimal(amount.rstrip(")").replace(",", "")))
        )
    return out


def evaluate(
    store: Store, history: History, pointers: dict[str, tuple[str, int]], embedder: Embedder, k: int = 5
) -> dict[str, dict[str, float]]:
    """recall@k and MRR per method. Each question is asked as recall asks it: with its client's
    filter, and without the client's name in the ranked query (graphs/memory_search.py); the
    combined method is recall's own search function."""
    clients = {c.name: c.id for c in store.clients.all()}
    item_of: dict[int, str] = {}
    for key, (kind, sid) in pointers.items():
        item = store.memory.get(kind, sid)
        assert item is not None, key
        item_of[item.id] = key
    topics = [topic_of(q.text, q.client) for q in history.questions]
    vectors = embedder.embed(topics)
    scores = {m: {"recall": 0.0, "mrr": 0.0} for m in METHODS}
    for q, topic, vector in zip(history.questions, topics, vectors, strict=True):
        cid = clients.get(q.client) if q.client else None
        results = {
            "vector": store.memory.search(vector, k, client_id=cid),
            "keyword": store.memory.keyword(topic, k, client_id=cid),
            "combined": search_memory(store, embedder, q.text, name=q.client, client_id=cid, k=k),
        }
        for method, hits in results.items():
            keys = [item_of.get(h.item.id) for h in hits]
            found = [i for i, key in enumerate(keys, 1) if key in q.answers]
            scores[method]["recall"] += len(found) / min(len(q.answers), k)
            scores[method]["mrr"] += 1.0 / found[0] if found else 0.0
    n = len(history.questions)
    return {m: {"recall": v["recall"] / n, "mrr": v["mrr"] / n} for m, v in scores.items()}


# -- latency -----------------------------------------------------------------------------------


def fill(
    store: Store,
    embedder: Embedder,
    size: int,
    seed: int = 11,
    batch: int = 5000,
    progress: Callable[[str], None] = _say,
) -> None:
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    done = 0
    while done < size:
        n = min(batch, size - done)
        items = []
        for i in range(n):
            title, text, client = filler(rng)
            items.append(
                NewMemory(
                    source_kind="note",
                    source_id=done + i + 1,
                    kind="note",
                    client_id=client,
                    title=title,
                    text=text,
                    created_at=start,
                )
            )
        vectors = embedder.embed([embedding_input(m.title, m.text) for m in items])
        store.memory.bulk_insert(items, vectors)
        done += n
        if size >= 20000 and (done % 20000 == 0 or done == size):
            progress(f"    loaded {done:,}/{size:,}")


def latency(store: Store, embedder: Embedder, queries: list[str], n: int) -> dict[str, tuple[float, float]]:
    rng = random.Random(5)
    picked = [rng.choice(queries) for _ in range(n)]
    vectors = embedder.embed(picked)
    for i, (text, vector) in enumerate(zip(picked[:10], vectors, strict=False)):  # warm-up, not timed: a new
        store.memory.hybrid(text, vector, 5, client_id=(i % 40) + 1 if i % 2 else None)  # connection's caches
    out: dict[str, tuple[float, float]] = {}
    for method in ("combined", "vector"):
        times = []
        for i, (text, vector) in enumerate(zip(picked, vectors, strict=True)):
            client = (i % 40) + 1 if i % 2 else None  # half the queries carry a client filter
            t0 = time.perf_counter()
            if method == "combined":
                store.memory.hybrid(text, vector, 5, client_id=client)
            else:
                store.memory.search(vector, 5, client_id=client)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        out[method] = (statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))])
    return out


def _sizes(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip().lower()
        if part:
            out.append(int(float(part[:-1]) * 1000) if part.endswith("k") else int(part))
    return out


def _venv_size() -> str:
    import sys

    prefix = Path(sys.prefix)
    total = sum(f.stat().st_size for f in prefix.rglob("*") if f.is_file())
    return f"{total / 1e6:,.0f} MB"


# -- main --------------------------------------------------------------------------------------


def main(args: argparse.Namespace) -> int:
    quick = bool(getattr(args, "quick", False))
    names = args.embedders.split(",") if args.embedders else (["hashing"] if quick else available())
    sizes = (
        _sizes(args.sizes)
        if args.sizes and not (quick and args.sizes == "1000,10000,100000")
        else ([1000] if quick else [1000, 10000, 100000])
    )
    queries_n = min(args.queries, 50) if quick else args.queries
    pg_url = args.postgres or os.environ.get("COO_BENCH_POSTGRES_URL") or _admin_url()
    dbs = Databases(pg_url)
    clock = FixedClock(datetime(2026, 11, 25, 15, 0, tzinfo=UTC), "UTC")
    history = build()
    targets = [("sqlite", lambda n: dbs.sqlite(n))] if not args.no_sqlite else []
    targets.append(("postgres", lambda n: dbs.postgres()))
    try:
        _say(
            f"Recall benchmark: {len(history.questions)} labelled questions over {len(history.docs)} artifacts "
            f"(6 clients, 12 months: e-mails, proposals, invoices, notes)"
        )
        timings: dict[str, dict[str, float]] = {}
        results: list[tuple[str, str, dict[str, dict[str, float]]]] = []
        for name in names:
            t0 = time.perf_counter()
            embedder = get_embedder(name)
            embedder.embed(["warm-up"])  # an embedder may load its model on first use
            load_s = time.perf_counter() - t0
            sample = [embedding_input(d.title, d.text) for d in history.docs] * 2
            t0 = time.perf_counter()
            embedder.embed(sample)
            rate = len(sample) / (time.perf_counter() - t0)
            timings[name] = {"load": load_s, "rate": rate, "dim": embedder.dim}
            for db_name, url_for in targets:
                store = Store.open(url_for(f"recall-{name}"), clock)
                try:
                    pointers = load_history(store, history)
                    sync(store, embedder)
                    scores = evaluate(store, history, pointers, embedder)
                finally:
                    store.close()
                results.append((name, db_name, scores))
                _say(
                    f"  {name:<12} {db_name:<8} "
                    + "  ".join(f"{m} recall@5 {s['recall']:.3f} MRR {s['mrr']:.3f}" for m, s in scores.items())
                )
        _say("")
        _say(f"{'embedder':<13}{'db':<10}{'method':<10}{'recall@5':>9}{'MRR':>8}")
        for name, db_name, scores in results:
            for method in METHODS:
                _say(
                    f"{name:<13}{db_name:<10}{method:<10}{scores[method]['recall']:>9.3f}{scores[method]['mrr']:>8.3f}"
                )
        _say("")
        _say(f"{'embedder':<13}{'dim':>5}{'load':>9}{'texts/s':>10}   install")
        for name, t in timings.items():
            install = {
                "hashing": "pure Python, no extra packages",
                "minilm-onnx": "onnxruntime (~80 MB) + 23 MB int8 model shipped with coo; no torch",
                "m2v": "model2vec + 15 MB model shipped with coo; no torch",
            }.get(name, "extra [minilm]: torch CPU + sentence-transformers + model (~1.4 GB)")
            _say(f"{name:<13}{int(t['dim']):>5}{t['load']:>8.2f}s{t['rate']:>10,.0f}   {install}")
        _say(f"(this venv: {_venv_size()})")
        _say("")
        lat_embedder = get_embedder(args.latency_embedder or ("hashing" if "hashing" in names else names[0]))
        _say(f"Latency ({lat_embedder.name}, {queries_n} queries per size, half with a client filter, k=5):")
        rows = []
        for db_name, url_for in targets:
            for size in sizes:
                _say(f"  {db_name}: loading {size:,} memories …")
                url = url_for(f"lat-{size}")
                store = Store.open(url, clock)
                try:
                    store.memory.ensure(lat_embedder)
                    t0 = time.perf_counter()
                    if store.db.dialect == "postgres":
                        with store.db.transaction() as tx:
                            tx.execute("DROP INDEX IF EXISTS memory_vectors_hnsw")
                    fill(store, lat_embedder, size)
                    if store.db.dialect == "postgres":
                        _say("    building the HNSW index …")
                        with store.db.transaction() as tx:
                            tx.execute("SET LOCAL maintenance_work_mem = '512MB'")
                            tx.execute(
                                "CREATE INDEX memory_vectors_hnsw ON memory_vectors"
                                " USING hnsw (embedding halfvec_cosine_ops)"
                            )
                        # What autovacuum does to a loaded table: statistics, and the visibility map
                        # that lets a client's exact vector search be an index-only scan.
                        import psycopg

                        with psycopg.connect(url, autocommit=True) as conn:
                            for table in ("memory_items", "memory_vectors", "memory_tokens"):
                                conn.execute(f"VACUUM ANALYZE {table}")
                            # The load's WAL written out now, not as a checkpoint stall mid-timing.
                            conn.execute("CHECKPOINT")
                    load_s = time.perf_counter() - t0
                    lat = latency(store, lat_embedder, [q.text for q in history.questions], queries_n)
                finally:
                    store.close()
                rows.append((db_name, size, load_s, lat))
                _say(
                    f"    {db_name} {size:>7,}: combined p50 {lat['combined'][0]:.2f} ms p99 "
                    f"{lat['combined'][1]:.2f} ms · vector p50 {lat['vector'][0]:.2f} ms p99 "
                    f"{lat['vector'][1]:.2f} ms (load {load_s:.1f}s)"
                )
        _say("")
        _say(f"{'db':<10}{'memories':>9}{'combined p50':>14}{'p99':>9}{'vector p50':>12}{'p99':>9}{'load':>8}")
        for db_name, size, load_s, lat in rows:
            _say(
                f"{db_name:<10}{size:>9,}{lat['combined'][0]:>11.2f} ms{lat['combined'][1]:>6.2f} ms"
                f"{lat['vector'][0]:>9.2f} ms{lat['vector'][1]:>6.2f} ms{load_s:>7.1f}s"
            )
    finally:
        dbs.close()
    return 0


def _admin_url() -> str:
    url = os.environ.get("COO_TEST_DATABASE_URL")
    if url:
        base, _, _ = url.rpartition("/")
        return f"{base}/postgres"
    return DEFAULT_PG
