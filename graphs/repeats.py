"""A request for work that is already on the list: the same client's open deliverable or task for
the same thing. A second e-mail (or message) asking for it refers to the first and, when it
names a new date, moves that one's due date — never a second item with its own alerts.

"The same thing" is judged on the words that name it: "send Acme Studio the brand guidelines"
(a task) and "brand guidelines" (a deliverable Acme asks for) are one thing; articles, the
verbs of asking and delivering, and the client's own name do not count. Different words are
different things ("homepage mockups" is not "revised homepage mockups").
"""

from __future__ import annotations

import re
from datetime import date

from graphs.deps import Deps
from graphs.step_kit import StepResult
from store.facade import Store
from store.models import Client, Deliverable, Task

_FILLER = frozenset(
    "the a an our their your my new to for of and with by please me us them him her "
    "send deliver share provide prepare finish finalise finalize get make do complete draft submit "
    "over across through".split()
)


def thing_words(title: str | None, client: Client | None = None) -> frozenset[str]:
    """The words that say what a piece of work is."""
    words = re.sub(r"[^a-z0-9 ]+", " ", (title or "").lower()).split()
    own = set(re.sub(r"[^a-z0-9 ]+", " ", client.name.lower()).split()) if client else set()
    return frozenset(w for w in words if w not in _FILLER and w not in own)


def _mentions(title: str, client: Client) -> bool:
    return bool(re.search(rf"\b{re.escape(client.name)}\b", title, re.I))


def same_open_work(store: Store, client: Client | None, title: str, run_id: str) -> Deliverable | Task | None:
    """The open deliverable or task that is this request again (made by another run: a replay of
    this run finds its own row and is not a repeat)."""
    wanted = thing_words(title, client)
    if not wanted:
        return None
    work = store.work
    if client is not None:
        for d in work.open_deliverables(client.id):
            if d.run_id != run_id and thing_words(d.title, client) == wanted:
                return d
    for t in work.open_tasks():
        if t.run_id == run_id:
            continue
        same_client = (
            t.client_id == client.id or _mentions(t.title, client) if client is not None else t.client_id is None
        )
        if same_client and thing_words(t.title, client) == wanted:
            return t
    return None


def repeated(deps: Deps, item: Deliverable | Task, client: Client | None, due: date | None) -> StepResult:
    """Refer to the item already on the list; a new date moves it (said so)."""
    kind = "deliverable" if isinstance(item, Deliverable) else "task"
    table = "deliverables" if kind == "deliverable" else "tasks"
    where = f" for {client.name}" if client is not None and kind == "deliverable" else ""
    was = item.due_date.isoformat() if item.due_date else "no due date"
    on_list = f"“{item.title}”{where} is already on the list ({kind} {item.id}"
    if due is not None and due != item.due_date:
        with deps.store.db.transaction() as tx:
            deps.store.work.set_due(tx, table, item.id, due)
        note = f"{on_list}); I moved its due date from {was} to {due.isoformat()} instead of adding it again."
    else:
        note = f"{on_list}, {was}); nothing added."
    facts = {f"{kind}_id": item.id, "repeat": True}
    return StepResult(notes=[note], client_id=client.id if client else None, facts=facts)


def on_the_list(item: Deliverable | Task, due: date | None) -> str:
    """What a proposal says about a request that is already on the list."""
    kind = "deliverable" if isinstance(item, Deliverable) else "task"
    was = f", due {item.due_date.isoformat()}" if item.due_date else ""
    head = f"“{item.title}” is already on the list ({kind} {item.id}{was})"
    if due is not None and due != item.due_date:
        return f"Proposed: {head}: move its due date to {due.isoformat()} instead of adding it again."
    return f"Proposed: {head}: nothing new to add."
