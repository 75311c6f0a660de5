"""The books of a busy studio after a few years, as a coo snapshot (`coo import` reads it).

At factor 1 (the issue's 1×): 50 clients, 5,000 invoices with two lines each, their payments,
52,000 ledger events in 6,500 runs, and 10,000 memories (every invoice, two facts per client
and forwarded client e-mails for the rest). Factor 10 is everything times ten. Deterministic:
the same volumes and day give the same snapshot. About a tenth of the invoices are open and
half of those overdue, as in a real studio's books, so a status question has real work to do.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bench.memory_data import TOPICS
from store.migrations import MIGRATIONS
from store.snapshot import FORMAT, FORMAT_VERSION

_FIRST = ("Acme", "Northwind", "Kestrel", "Lumen", "Halcyon", "Bluebird", "Orchid", "Summit", "Copper", "Willow")
_SECOND = ("Studio", "Labs", "Traders", "Health", "Coffee", "Works", "Partners", "Group", "Foods", "Media")
_PEOPLE = ("Jane Doe", "Tom Becker", "Priya Raman", "Marco Silva", "Aisha Okafor", "Sam Whitfield", "Nora Lind")
_WORK = ("design work", "retainer", "photo retouching", "copywriting", "web development", "brand workshop")
_FACTS = (
    "prefers e-mail over calls",
    "pays by bank transfer at the end of the month",
    "wants two revision rounds at most",
    "their finance team needs a PO number on every invoice",
)


@dataclass(frozen=True)
class Volumes:
    clients: int = 50
    invoices: int = 5_000
    ledger: int = 52_000
    memories: int = 10_000

    def times(self, factor: float) -> Volumes:
        return Volumes(*(max(1, round(n * factor)) for n in (self.clients, self.invoices, self.ledger, self.memories)))


def client_name(i: int) -> str:
    base = f"{_FIRST[i % len(_FIRST)]} {_SECOND[(i // len(_FIRST)) % len(_SECOND)]}"
    return base if i < len(_FIRST) * len(_SECOND) else f"{base} {i // (len(_FIRST) * len(_SECOND)) + 1}"


def contact(i: int) -> tuple[str, str]:
    person = _PEOPLE[i % len(_PEOPLE)]
    return person, f"{person.split()[0].lower()}@client{i}.example"


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


class _Table:
    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        self.rows: list[list[Any]] = []

    def add(self, **values: Any) -> None:
        self.rows.append([values.get(c) for c in self.columns])


def build(volumes: Volumes, today: date, seed: int = 7) -> dict[str, _Table]:
    """Every table's rows (ids kept, parents first) for ``volumes`` of books ending ``today``."""
    rnd = random.Random(seed)
    start = today - timedelta(days=3 * 365)
    span = (today - start).days
    t: dict[str, _Table] = {
        "clients": _Table(
            ["id", "name", "name_key", "contact_name", "contact_email", "currency", "created_at", "updated_at"]
        ),
        "client_facts": _Table(["id", "client_id", "fact", "source", "created_at"]),
        "deliverables": _Table(["id", "client_id", "title", "due_date", "status", "created_at"]),
        "invoices": _Table(
            [
                "id",
                "seq",
                "number",
                "client_id",
                "status",
                "currency",
                "issue_date",
                "due_date",
                "total_cents",
                "paid_cents",
                "created_at",
                "sent_at",
            ]
        ),  # fmt: skip
        "invoice_lines": _Table(
            ["id", "invoice_id", "position", "description", "quantity", "unit", "unit_price_cents", "total_cents"]
        ),
        "payments": _Table(
            ["id", "client_id", "invoice_id", "amount_cents", "currency", "received_on", "reference", "created_at"]
        ),
        "artifacts": _Table(["id", "kind", "client_id", "title", "body", "meta", "created_at"]),
        "runs": _Table(
            [
                "id",
                "kind",
                "status",
                "channel",
                "thread_id",
                "user_id",
                "summary",
                "created_at",
                "updated_at",
                "finished_at",
            ]
        ),
        "ledger": _Table(["id", "run_id", "step", "actor", "kind", "payload", "dedupe_key", "created_at"]),
    }
    created = datetime.combine(start, time(9), UTC)
    for c in range(1, volumes.clients + 1):
        name = client_name(c - 1)
        person, email = contact(c - 1)
        currency = "EUR" if c % 5 == 0 else "USD"  # a few clients pay in euros: totals per currency
        t["clients"].add(id=c, name=name, name_key=name.lower(), contact_name=person, contact_email=email,
                         currency=currency, created_at=_ts(created), updated_at=_ts(created))  # fmt: skip
        for k in range(2):
            fid = (c - 1) * 2 + k + 1
            t["client_facts"].add(id=fid, client_id=c, fact=f"{name} {_FACTS[(c + k) % len(_FACTS)]}",
                                  source="operator", created_at=_ts(created))  # fmt: skip
        for k in range(3):
            did = (c - 1) * 3 + k + 1
            due = today + timedelta(days=rnd.randint(-20, 40))
            t["deliverables"].add(id=did, client_id=c, title=f"{_WORK[(c + k) % len(_WORK)].capitalize()} for {name}",
                                  due_date=due.isoformat(), status="open", created_at=_ts(created))  # fmt: skip
    currencies = {row[0]: row[5] for row in t["clients"].rows}
    pay_id = 0
    for n in range(1, volumes.invoices + 1):
        client = (n - 1) % volumes.clients + 1
        age = span * (volumes.invoices - n) // volumes.invoices  # oldest first
        issued = today - timedelta(days=age)
        due = issued + timedelta(days=30)
        lines = [rnd.randint(4, 40) * 5000, rnd.randint(1, 12) * 2500]
        total = sum(lines)
        # the newest tenth is still open (half of it past due); everything older is paid
        open_ = n > volumes.invoices * 0.9
        status = "sent" if open_ else "paid"
        number = f"INV-{n:06d}"
        moment = datetime.combine(issued, time(10), UTC)
        t["invoices"].add(id=n, seq=n, number=number, client_id=client, status=status, currency=currencies[client],
                          issue_date=issued.isoformat(), due_date=due.isoformat(), total_cents=total,
                          paid_cents=0 if open_ else total, created_at=_ts(moment), sent_at=_ts(moment))  # fmt: skip
        for pos, cents in enumerate(lines, 1):
            t["invoice_lines"].add(id=(n - 1) * 2 + pos, invoice_id=n, position=pos,
                                   description=_WORK[(n + pos) % len(_WORK)].capitalize(), quantity="1", unit=None,
                                   unit_price_cents=cents, total_cents=cents)  # fmt: skip
        if not open_:
            pay_id += 1
            paid_on = min(today, due - timedelta(days=rnd.randint(0, 20)))
            t["payments"].add(id=pay_id, client_id=client, invoice_id=n, amount_cents=total,
                              currency=currencies[client], received_on=paid_on.isoformat(), reference=number,
                              created_at=_ts(datetime.combine(paid_on, time(12), UTC)))  # fmt: skip
    emails = max(0, volumes.memories - volumes.invoices - volumes.clients * 2)
    for a in range(1, emails + 1):
        client = rnd.randint(1, volumes.clients)
        topic = TOPICS[a % len(TOPICS)]
        person, address = contact(client - 1)
        day = start + timedelta(days=rnd.randrange(span))
        body = rnd.choice(topic.bodies).format(client=client_name(client - 1), me="Alex", day=day.isoformat())
        meta = {"from": {"name": person, "address": address}, "date": day.isoformat()}
        t["artifacts"].add(id=a, kind="email_in", client_id=client, title=rnd.choice(topic.subjects), body=body,
                           meta=meta, created_at=_ts(datetime.combine(day, time(8), UTC)))  # fmt: skip
    events_per_run = 8
    steps = ("intent", "plan", "load_context", "route", "step", "step", "reply", "done")
    for e in range(volumes.ledger):
        r = e // events_per_run
        run_id = f"{r:08x}-5ca1-4e00-8000-{r:012x}"
        moment = datetime.combine(start + timedelta(days=r * span // max(1, volumes.ledger // events_per_run)),
                                  time(11), UTC) + timedelta(seconds=e % events_per_run)  # fmt: skip
        if e % events_per_run == 0:
            t["runs"].add(id=run_id, kind="status_query", status="done", channel="console", thread_id=f"t{r % 97}",
                          user_id="operator", summary="answered", created_at=_ts(moment), updated_at=_ts(moment),
                          finished_at=_ts(moment))  # fmt: skip
        step = steps[e % events_per_run]
        t["ledger"].add(id=e + 1, run_id=run_id, step=step, actor="supervisor", kind=step,
                        payload={"n": e}, dedupe_key=f"{run_id}:{e}", created_at=_ts(moment))  # fmt: skip
    return t


def _chunks(tables: dict[str, _Table]) -> Iterator[str]:
    for i, (name, table) in enumerate(tables.items()):
        yield ("" if i == 0 else ", ") + json.dumps(name) + ': {"columns": ' + json.dumps(table.columns)
        yield ', "rows": ['
        for j, row in enumerate(table.rows):
            yield ("" if j == 0 else ", ") + json.dumps(row, ensure_ascii=False)
        yield "]}"


def write(volumes: Volumes, today: date, path: Path) -> int:
    """Write the snapshot to ``path``; returns the number of rows."""
    tables = build(volumes, today)
    head = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "exported_at": _ts(datetime.combine(today, time(6), UTC)),
        "source": {"dialect": "sqlite", "schema": len(MIGRATIONS), "generator": "bench.scale_data"},
    }
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(head)[:-1] + ', "tables": {')
        for chunk in _chunks(tables):
            out.write(chunk)
        out.write('}, "playbooks": [], "notes": []}')
    return sum(len(tb.rows) for tb in tables.values())
