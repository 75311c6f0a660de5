"""One portable snapshot of everything coo knows: `coo export FILE` / `coo import FILE`.

Format (documented in the README, versioned by ``FORMAT_VERSION``)::

    {"format": "coo-snapshot", "version": 1, "exported_at": "…Z", "source": {"dialect": …, "schema": N},
     "tables": {"clients": {"columns": [...], "rows": [[...], ...]}, ...},
     "notes": [...]}

Values are portable JSON: timestamps as ISO 8601 with offset (UTC), dates as ISO dates,
JSON columns as JSON, money as integer cents. Tables are listed parents first, so an import
inserts them in order; ids are kept, so references and invoice numbers survive exactly.
LangGraph checkpoints are not exported: they are working state of unfinished runs, and
the ledger (which is exported) is the record. Tables other modules add register themselves
with :func:`register_table`.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from store.atomic_file import replacing, write_chunks
from store.db import Database, Tx
from store.errors import StoreError
from store.migrations import MIGRATIONS
from store.storable import storable, storable_text

FORMAT = "coo-snapshot"
FORMAT_VERSION = 1
WRITE_CHUNK = 1 << 20  # characters per write


class TableSpec(BaseModel):
    name: str
    json_columns: tuple[str, ...] = ()
    serial: bool = True  # has an integer id backed by a sequence (PostgreSQL) to move forward
    order_by: str = "id"
    derived: tuple[str, ...] = ()  # columns this database fills in itself (left out of a snapshot)


TABLES: list[TableSpec] = [
    TableSpec(name="clients", derived=("names_version",)),  # the names counter's (store/clients.py)
    TableSpec(name="client_facts"),
    TableSpec(name="retainers"),
    TableSpec(name="deliverables"),
    TableSpec(name="tasks"),
    TableSpec(name="counters", serial=False, order_by="name"),
    TableSpec(name="invoices"),
    TableSpec(name="invoice_lines"),
    TableSpec(name="payments"),
    TableSpec(name="credit_applications"),
    TableSpec(name="credit_notes"),
    TableSpec(name="invoice_reminders", serial=False, order_by="key"),
    TableSpec(name="artifacts", json_columns=("meta",)),
    TableSpec(name="intents", json_columns=("intent",)),
    TableSpec(name="runs", serial=False),
    TableSpec(name="approvals", json_columns=("card", "draft")),
    TableSpec(name="messages", json_columns=("payload",)),
    TableSpec(name="clarifications", json_columns=("intent", "fields"), serial=False, order_by="thread_key"),
    TableSpec(name="side_effects", json_columns=("receipt",), serial=False, order_by="key"),
    TableSpec(name="model_cache", serial=False, order_by="key"),
    TableSpec(name="ledger", json_columns=("payload", "receipt")),
    TableSpec(name="deliveries"),
    TableSpec(name="inbound_refs", serial=False, order_by="event_key"),
    TableSpec(name="payment_imports"),
    TableSpec(name="memory_pruned", serial=False, order_by="source_kind, source_id"),
    TableSpec(name="revisions"),
    TableSpec(name="agent_policies", serial=False, order_by="agent"),
    TableSpec(name="recurring_work", serial=False, order_by="key"),
    TableSpec(name="autonomy_rules", serial=False, order_by="agent, kind, client_id"),
    TableSpec(name="policy_settings", serial=False, order_by="key"),
    # saved requests not processed yet travel too: a migration loses nothing accepted
    TableSpec(name="inbox", json_columns=("payload",)),
]

# Tables a snapshot leaves out on purpose: bookkeeping of this database, LangGraph's working
# state, and search indexes that are rebuilt from the exported rows.
NOT_EXPORTED_PREFIXES = (
    "schema_migrations",
    "checkpoint",
    "writes",
    "sqlite_",
    "memory_vec",
    "memory_fts",
    "memory_config",
    "memory_tokens",
    "memory_changes",  # the indexing queue: the import's own inserts fill it again
    "memory_sketches",  # the audit's sketches: made again from the texts at the next audit
    "client_names_version",  # this database's change counter: the import's inserts bump it
)


def unlisted_tables(db: Database) -> list[str]:
    """Tables in the database that no snapshot would carry (a test keeps this empty)."""
    with db.transaction() as tx:
        present = _existing_tables(tx, db.dialect)
    listed = {t.name for t in TABLES}
    return sorted(t for t in present if t not in listed and not t.startswith(NOT_EXPORTED_PREFIXES))


def register_table(spec: TableSpec) -> None:
    """Add a table (parents must already be listed) to every snapshot."""
    if all(t.name != spec.name for t in TABLES):
        TABLES.append(spec)


# Memories travel without their embeddings (and without the full-text and exact-token indexes):
# `coo memory sync` (or `coo memory reembed`) after `coo import` embeds and indexes them again.
register_table(TableSpec(name="memory_items", json_columns=("meta",)))
MEMORY_NOTE = (
    "Memories (memory_items) are exported without their embeddings, full-text or exact-token "
    "indexes: they are re-embedded on import — run `coo memory sync` (or `coo memory reembed`) "
    "after `coo import`."
)


class Snapshot(BaseModel):
    format: str = FORMAT
    version: int = FORMAT_VERSION
    exported_at: str
    source: dict[str, Any]
    tables: dict[str, dict[str, Any]]
    # Playbook definitions in force when exported: {"file", "builtin", "yaml"}; the operator's
    # own are restored by `coo import`, the built-in ones are there for the record.
    playbooks: list[dict[str, Any]] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class SnapshotError(StoreError):
    """The snapshot cannot be imported; the message says why."""


def _portable(value: Any, is_json: bool) -> Any:
    if value is None:
        return None
    if is_json:
        # storable(): rows written before secrets were masked leave masked (store/redaction.py)
        return storable(json.loads(value) if isinstance(value, str) else value)
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        raise SnapshotError("binary columns are not portable; register the table without them")
    return value


def _existing_tables(tx: Tx, dialect: str) -> set[str]:
    if dialect == "sqlite":
        rows = tx.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        rows = tx.fetchall("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'")
    return {r["name"] for r in rows}


def _columns(tx: Tx, dialect: str, table: str) -> list[str]:
    if dialect == "sqlite":
        return [r["name"] for r in tx.fetchall(f"PRAGMA table_info({table})")]
    rows = tx.fetchall(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ?"
        " AND is_generated = 'NEVER' ORDER BY ordinal_position",  # generated columns (tsv) are derived
        (table,),
    )
    return [r["column_name"] for r in rows]


def export_snapshot(db: Database, now: datetime) -> Snapshot:
    """Everything in the database, as one portable snapshot."""
    tables: dict[str, dict[str, Any]] = {}
    with db.transaction() as tx:
        present = _existing_tables(tx, db.dialect)
        for spec in TABLES:
            if spec.name not in present:
                continue
            columns = [c for c in _columns(tx, db.dialect, spec.name) if c not in spec.derived]
            rows = tx.fetchall(f"SELECT {', '.join(columns)} FROM {spec.name} ORDER BY {spec.order_by}")
            tables[spec.name] = {
                "columns": columns,
                "rows": [[_portable(row[c], c in spec.json_columns) for c in columns] for row in rows],
            }
    return Snapshot(
        exported_at=now.astimezone(UTC).isoformat(),
        source={"dialect": db.dialect, "schema": len(MIGRATIONS)},
        tables=tables,
        notes=[
            "LangGraph checkpoints are not included: `coo import` re-plans the runs waiting for approval from "
            "their intents (nothing is made twice) and shows their cards again.",
            MEMORY_NOTE,
        ],
    )


def write_snapshot(snapshot: Snapshot, path: Path) -> None:
    """Write the snapshot to a temporary file beside ``path`` and rename it over ``path``: an
    export killed halfway never destroys the previous one."""
    text = snapshot.model_dump_json(indent=None)
    write_chunks(path, (text[i : i + WRITE_CHUNK] for i in range(0, len(text), WRITE_CHUNK)))


def read_snapshot(path: Path) -> Snapshot:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SnapshotError(f"{path} is not a coo snapshot")
    if data.get("version") != FORMAT_VERSION:
        raise SnapshotError(f"{path} is snapshot format v{data.get('version')}; this coo reads v{FORMAT_VERSION}")
    return Snapshot.model_validate(data)


def import_snapshot(db: Database, snapshot: Snapshot) -> dict[str, int]:
    """Restore a snapshot into an empty (freshly migrated) database; returns rows per table."""
    if snapshot.source.get("schema", 0) > len(MIGRATIONS):
        raise SnapshotError("the snapshot comes from a newer coo; upgrade coo before importing it")
    counts: dict[str, int] = {}
    specs = {t.name: t for t in TABLES}
    with db.transaction() as tx:
        present = _existing_tables(tx, db.dialect)
        for name in snapshot.tables:
            if name not in specs or name not in present:
                raise SnapshotError(f"the snapshot has a table this coo does not know: {name}")
        for spec in TABLES:
            if spec.name in snapshot.tables and spec.name != "counters":
                if tx.scalar(f"SELECT COUNT(*) AS n FROM {spec.name}"):
                    raise SnapshotError(f"the database is not empty ({spec.name} has rows); import into a new one")
        for spec in TABLES:
            table = snapshot.tables.get(spec.name)
            if table is None:
                continue
            columns: list[str] = table["columns"]
            if spec.name == "counters":  # the migration seeds them; the snapshot's values win
                tx.execute("DELETE FROM counters")
            marks = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {spec.name} ({', '.join(columns)}) VALUES ({marks})"
            for row in table["rows"]:
                tx.execute(sql, row)  # Tx adapts JSON values per dialect
            counts[spec.name] = len(table["rows"])
            if spec.serial and db.dialect == "postgres" and table["rows"]:
                # explicit ids leave the sequence behind; move it past the highest id
                tx.execute(
                    f"SELECT setval(pg_get_serial_sequence('{spec.name}', 'id'), (SELECT MAX(id) FROM {spec.name}))"
                )
    return counts


# -- streaming: `coo export` / `coo import` hold one row at a time, whatever the books' size ------


def export_to(db: Database, path: Path, now: datetime, playbooks: list[dict[str, Any]]) -> dict[str, int]:
    """Write the snapshot of everything to ``path`` row by row (the same format and content as
    :func:`export_snapshot` + :func:`write_snapshot`); returns rows per table."""
    counts: dict[str, int] = {}
    head = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "exported_at": now.astimezone(UTC).isoformat(),
        "source": {"dialect": db.dialect, "schema": len(MIGRATIONS)},
    }
    # Written beside ``path`` and renamed over it (store/atomic_file.py): a killed export never
    # destroys the earlier one.
    with replacing(path) as tmp, db.read() as tx, tmp.open("w", encoding="utf-8") as out:
        out.write(json.dumps(head)[:-1] + ', "tables": {')
        present = _existing_tables(tx, db.dialect)
        first = True
        for spec in TABLES:
            if spec.name not in present:
                continue
            columns = [c for c in _columns(tx, db.dialect, spec.name) if c not in spec.derived]
            out.write(("" if first else ", ") + json.dumps(spec.name) + ': {"columns": ' + json.dumps(columns))
            out.write(', "rows": [')
            first, n = False, 0
            sql = f"SELECT {', '.join(columns)} FROM {spec.name} ORDER BY {spec.order_by}"
            for row in tx.stream(sql):
                values = [_portable(row[c], c in spec.json_columns) for c in columns]
                out.write(("" if n == 0 else ", ") + json.dumps(values, ensure_ascii=False))
                n += 1
            out.write("]}")
            counts[spec.name] = n
        notes = [
            "LangGraph checkpoints are not included: unfinished runs restart from their last ledger step.",
            MEMORY_NOTE,
        ]
        out.write('}, "playbooks": ' + json.dumps(playbooks, ensure_ascii=False) + ', "notes": ' + json.dumps(notes))
        out.write("}")
    return counts


IMPORT_BATCH = 1000


def import_file(db: Database, path: Path) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Restore the snapshot at ``path`` into an empty (freshly migrated) database, reading it as
    a stream (ijson) and inserting ``IMPORT_BATCH`` rows at a time, in one transaction; returns
    (rows per table, the snapshot's playbooks). Same checks and messages as :func:`import_snapshot`."""
    import ijson
    from ijson.common import ObjectBuilder

    specs = {t.name: t for t in TABLES}
    counts: dict[str, int] = {}
    playbooks: list[dict[str, Any]] = []
    head: dict[str, Any] = {}
    try:
        source = path.open("rb")
    except OSError as exc:
        raise SnapshotError(f"cannot read {path}: {exc}") from exc
    with source, db.transaction() as tx:
        present = _existing_tables(tx, db.dialect)
        table: str | None = None
        columns: list[str] = []
        batch: list[list[Any]] = []
        builder: Any = None
        depth = 0

        def flush() -> None:
            if table is not None and batch:
                marks = ", ".join("?" for _ in columns)
                tx.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", batch)
                counts[table] = counts.get(table, 0) + len(batch)
                batch.clear()

        def finish_table() -> None:
            flush()
            if table is not None and specs[table].serial and db.dialect == "postgres" and counts.get(table):
                tx.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")

        try:
            for prefix, event, value in ijson.parse(source, use_float=True):
                if builder is not None:  # inside a row (or a playbook): build it whole
                    builder.event(event, value)
                    depth += {"start_array": 1, "start_map": 1, "end_array": -1, "end_map": -1}.get(event, 0)
                    if depth == 0:
                        if table is not None:
                            batch.append(builder.value)
                            if len(batch) >= IMPORT_BATCH:
                                flush()
                        else:
                            playbooks.append(builder.value)
                        builder = None
                    continue
                if prefix in ("format", "version") or prefix.startswith("source"):
                    if prefix == "format" or prefix == "version":
                        head[prefix] = value
                    elif prefix == "source.schema":
                        head["schema"] = value
                    continue
                parts = prefix.split(".")
                if parts[0] == "tables" and len(parts) == 2 and event == "map_key" and value == "columns":
                    _check_head(head, path)
                    finish_table()
                    table, columns = parts[1], []
                    if table not in specs or table not in present:
                        raise SnapshotError(f"the snapshot has a table this coo does not know: {table}")
                    if table == "counters":  # the migration seeds them; the snapshot's values win
                        tx.execute("DELETE FROM counters")
                    elif tx.scalar(f"SELECT COUNT(*) AS n FROM {table}"):
                        raise SnapshotError(f"the database is not empty ({table} has rows); import into a new one")
                    counts[table] = 0
                elif len(parts) == 4 and parts[2] == "columns" and parts[3] == "item":
                    columns.append(str(value))
                elif len(parts) == 4 and parts[2] == "rows" and parts[3] == "item" and event == "start_array":
                    builder, depth = ObjectBuilder(), 1
                    builder.event(event, value)
                elif prefix == "playbooks.item" and event == "start_map":
                    finish_table()
                    table = None
                    builder, depth = ObjectBuilder(), 1
                    builder.event(event, value)
            finish_table()
        except ijson.JSONError as exc:
            raise SnapshotError(f"{path} is not a coo snapshot (not valid JSON: {exc})") from exc
        _check_head(head, path)
    return counts, playbooks


def _check_head(head: dict[str, Any], path: Path) -> None:
    if head.get("format") != FORMAT:
        raise SnapshotError(f"{path} is not a coo snapshot")
    if head.get("version") != FORMAT_VERSION:
        raise SnapshotError(f"{path} is snapshot format v{head.get('version')}; this coo reads v{FORMAT_VERSION}")
    if int(head.get("schema") or 0) > len(MIGRATIONS):
        raise SnapshotError("the snapshot comes from a newer coo; upgrade coo before importing it")
