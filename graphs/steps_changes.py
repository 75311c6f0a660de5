"""Changing what was said by chatting: rename a client, change its contact, move a due date,
finish a task, delete a mistaken record.

Changes to clients (a name, a contact, deleting one) show old → new and ask first
(graphs/confirm.py); small changes to work items (a due date, done, deleting a task or a
deliverable) just happen and say what changed. Every change is written to the ledger with the
row as it was (store/changes.py), so "undo" (graphs/steps_undo.py) can put it back.
"""

from __future__ import annotations

from typing import Any

from graphs.approvals import is_address
from graphs.confirm import ask_to_confirm, confirmed
from graphs.deps import Deps
from graphs.intents import ChangeContact, DeleteRecord, MoveDue, RenameClient, TaskDone, intent_from_dict
from graphs.step_kit import StepFn, StepResult, resolve_client, today_for, unknown_client
from store.clients import name_key
from store.models import Client, Deliverable, Task
from store.revisions import deliverable_key

UNDO_HINT = " (say “undo” to put it back)"
_TABLE = {"deliverable": "deliverables", "task": "tasks"}


# -- clients: asked first ---------------------------------------------------------------------


def rename_client(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, RenameClient) and intent.client_name and intent.new_name
    client, candidates = resolve_client(deps, intent.client_name, None)
    if client is None:
        return unknown_client(intent.client_name, candidates)
    new = intent.new_name.strip().strip("\"'“”")
    if new == client.name:
        return StepResult(notes=[f"Nothing changed: the client is already called {new}."], client_id=client.id)
    taken = [c for c in deps.store.clients.find(new, None) if c.id != client.id and name_key(c.name) == name_key(new)]
    if taken:
        return StepResult(
            notes=[f"There is already a client called {taken[0].name}; {client.name} keeps its name."],
            client_id=client.id,
            stop=True,
        )
    if not confirmed(deps, state, "rename_client", client.id):
        question = (
            f"Rename the client {client.name}?\n  Name: {client.name} → {new}\n"
            "  Invoices and e-mails already sent keep the name they were sent with."
        )
        return ask_to_confirm(deps, state, question, {"client_id": client.id})
    with deps.store.db.transaction() as tx:
        deps.store.clients.rename(tx, client.id, new)
        deps.store.changes.record(
            tx,
            state["run_id"],
            "rename_client",
            "client_renamed",
            f"renamed {client.name} to {new}",
            table="clients",
            row_id=client.id,
            before={"name": client.name, "name_key": name_key(client.name)},
            after={"name": new, "name_key": name_key(new)},
            extra={"undo_note": f"{new} is called {client.name} again."},
        )
    return StepResult(notes=[f"Renamed {client.name} to {new}.{UNDO_HINT}"], client_id=client.id)


def change_contact(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, ChangeContact) and intent.client_name and intent.contact_email
    client, candidates = resolve_client(deps, intent.client_name, None)
    if client is None:
        return unknown_client(intent.client_name, candidates)
    email = intent.contact_email.strip().strip("<>.,")
    if not is_address(email):
        return StepResult(notes=[f"“{email}” is not an e-mail address; nothing changed."], stop=True)
    if (client.contact_email or "").lower() == email.lower():
        return StepResult(
            notes=[f"Nothing changed: {client.name}'s contact e-mail is already {email}."], client_id=client.id
        )
    old = client.contact_email or "none"
    if not confirmed(deps, state, "change_contact", client.id):
        rows = [f"Change {client.name}'s contact e-mail?", f"  E-mail: {old} → {email}"]
        if intent.contact_name and intent.contact_name != client.contact_name:
            rows.append(f"  Contact: {client.contact_name or 'none'} → {intent.contact_name}")
        rows.append("  E-mails from now on go to the new address.")
        return ask_to_confirm(deps, state, "\n".join(rows), {"client_id": client.id})
    with deps.store.db.transaction() as tx:
        deps.store.clients.set_contact(tx, client.id, email, intent.contact_name)
        deps.store.changes.record(
            tx,
            state["run_id"],
            "change_contact",
            "contact_changed",
            f"{client.name}'s contact e-mail changed from {old} to {email}",
            table="clients",
            row_id=client.id,
            before={"contact_email": client.contact_email, "contact_name": client.contact_name},
            after={"contact_email": email, "contact_name": intent.contact_name or client.contact_name},
            extra={"undo_note": f"{client.name}'s contact e-mail is {old} again."},
        )
    return StepResult(
        notes=[f"{client.name}'s contact e-mail is now {email} (was {old}).{UNDO_HINT}"], client_id=client.id
    )


# -- work items: just done, and said --------------------------------------------------------


Item = Deliverable | Task


def _label(deps: Deps, item: Item) -> str:
    """ "the deliverable “Logo” (Acme)" / "the task “call Bob”"."""
    if isinstance(item, Deliverable):
        return f"the deliverable “{item.title}” ({deps.store.clients.get(item.client_id).name})"
    return f"the task “{item.title}”"


def _candidates(deps: Deps, kind: str | None, client: Client | None) -> list[Item]:
    items: list[Item] = []
    for what in ("deliverable", "task"):
        if kind in (None, what):
            items.extend(deps.store.work.live_items(_TABLE[what]))
    if client is not None:
        items = [i for i in items if i.client_id == client.id]
    return items


def _matching(items: list[Item], title: str) -> list[Item]:
    """Items meant by ``title``: the same words, else every one containing them; open ones
    before done ones."""
    key = deliverable_key(title)
    if not key:
        return []
    exact = [i for i in items if deliverable_key(i.title) == key]
    found = exact or [i for i in items if key in deliverable_key(i.title) or deliverable_key(i.title) in key]
    open_ = [i for i in found if i.status == "open"]
    return open_ or found


def _find_item(
    deps: Deps, kind: str | None, item_id: int | None, title: str | None, client_name: str | None, verb: str
) -> Item | StepResult:
    """The one deliverable or task meant, or the reply that says why not."""
    if item_id is not None:
        kinds = [kind] if kind else ["deliverable", "task"]
        for what in kinds:
            found = deps.store.work.deliverable(item_id) if what == "deliverable" else deps.store.work.task(item_id)
            if found is not None and found.status != "deleted":
                return found
        return StepResult(notes=[f"There is no {kind or 'deliverable or task'} {item_id}."], stop=True)
    client = None
    if client_name:
        client, candidates = resolve_client(deps, client_name, None)
        if client is None:
            return unknown_client(client_name, candidates)
    items = _candidates(deps, kind, client)
    matches = _matching(items, title or "")
    if len(matches) == 1:
        return matches[0]
    what = kind or "deliverable or task"
    if matches:
        listed = "; ".join(
            f"{'deliverable' if isinstance(i, Deliverable) else 'task'} {i.id} “{i.title}”" for i in matches[:8]
        )
        return StepResult(
            notes=[f"“{title}” could be more than one {what}: {listed}. Which one should I {verb}?"], stop=True
        )
    open_items = [i for i in items if i.status == "open"][:8]
    listed = "; ".join(f"“{i.title}”" for i in open_items)
    whose = f" for {client.name}" if client else ""
    return StepResult(
        notes=[f"No {what}{whose} matches “{title}”; nothing changed." + (f" Open: {listed}." if listed else "")],
        stop=True,
    )


def _table(item: Item) -> str:
    return "deliverables" if isinstance(item, Deliverable) else "tasks"


def move_due(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, MoveDue) and intent.due_date is not None
    found = _find_item(deps, intent.item, intent.item_id, intent.title, intent.client_name, "move")
    if isinstance(found, StepResult):
        return found
    label = _label(deps, found)
    new = intent.due_date
    if new < today_for(deps):
        return StepResult(
            notes=[f"{new.isoformat()} is in the past; when should {label} be due? Nothing changed."], stop=True
        )
    if found.due_date == new:
        return StepResult(notes=[f"Nothing changed: {label} is already due {new.isoformat()}."])
    old = found.due_date.isoformat() if found.due_date else "no due date"
    with deps.store.db.transaction() as tx:
        deps.store.work.set_due(tx, _table(found), found.id, new)
        deps.store.changes.record(
            tx,
            state["run_id"],
            "move_due",
            "due_moved",
            f"moved {label} from {old} to {new.isoformat()}",
            table=_table(found),
            row_id=found.id,
            before={"due_date": found.due_date},
            after={"due_date": new},
            extra={"undo_note": f"{label[0].upper()}{label[1:]} is due {old} again."},
        )
    return StepResult(
        notes=[f"Moved {label} to {new.isoformat()} (was {old}).{UNDO_HINT}"],
        client_id=found.client_id,
    )


def mark_task_done(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, TaskDone)
    found = _find_item(deps, "task", intent.task_id, intent.title, None, "mark done")
    if isinstance(found, StepResult):
        return found
    label = _label(deps, found)
    with deps.store.db.transaction() as tx:
        changed = deps.store.work.mark_task_done(tx, found.id)
        if changed:
            deps.store.changes.record(
                tx,
                state["run_id"],
                "mark_task_done",
                "task_done",
                f"marked {label} done",
                table="tasks",
                row_id=found.id,
                before={"status": found.status, "done_at": found.done_at},
                after={"status": "done"},
                extra={"undo_note": f"{label[0].upper()}{label[1:]} is open again."},
            )
    if not changed:
        return StepResult(notes=[f"Nothing changed: {label} was already done."])
    return StepResult(notes=[f"Marked {label} done.{UNDO_HINT}"], client_id=found.client_id)


def delete_record(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, DeleteRecord) and intent.record is not None
    if intent.record == "client":
        return _delete_client(deps, state, intent)
    found = _find_item(deps, intent.record, intent.record_id, intent.title, intent.client_name, "delete")
    if isinstance(found, StepResult):
        return found
    label = _label(deps, found)
    with deps.store.db.transaction() as tx:
        if deps.store.work.delete_item(tx, _table(found), found.id):
            deps.store.changes.record(
                tx,
                state["run_id"],
                "delete_record",
                "record_deleted",
                f"deleted {label}",
                table=_table(found),
                row_id=found.id,
                before={"status": found.status},
                after={"status": "deleted"},
                extra={"undo_note": f"{label[0].upper()}{label[1:]} is back ({found.status})."},
            )
    return StepResult(notes=[f"Deleted {label}.{UNDO_HINT}"], client_id=found.client_id)


def _references(refs: dict[str, int]) -> str:
    return ", ".join(f"{n} {what}{'s' if n != 1 else ''}" for what, n in refs.items())


def _delete_client(deps: Deps, state: dict[str, Any], intent: DeleteRecord) -> StepResult:
    client, candidates = resolve_client(deps, intent.client_name, None)
    if client is None:
        return unknown_client(intent.client_name, candidates)
    with deps.store.db.transaction() as tx:
        refs = deps.store.changes.client_references(tx, client.id)
    if refs:
        books = "invoice" in refs or "payment" in refs
        why = "invoices and payments stay in the books for good" if books else "delete those first, or keep the client"
        return StepResult(
            notes=[f"I can't delete {client.name}: it has {_references(refs)} ({why}). Nothing changed."],
            client_id=client.id,
            stop=True,
        )
    if not confirmed(deps, state, "delete_client", client.id):
        contact = f", contact {client.contact_email}" if client.contact_email else ""
        question = (
            f"Delete the client {client.name}{contact}?\n  Nothing in the books refers to it; its facts go with it."
        )
        return ask_to_confirm(deps, state, question, {"client_id": client.id})
    with deps.store.db.transaction() as tx:
        rows = deps.store.changes.delete_client(tx, client.id)
        deps.store.changes.record(
            tx,
            state["run_id"],
            "delete_record",
            "client_deleted",
            f"deleted the client {client.name}",
            table="clients",
            row_id=client.id,
            before=None,
            after=None,
            extra={"rows": rows, "undo_note": f"The client {client.name} is back, with its facts."},
        )
    return StepResult(notes=[f"Deleted the client {client.name}.{UNDO_HINT}"])


CHANGE_STEPS: dict[str, StepFn] = {
    "rename_client": rename_client,
    "change_contact": change_contact,
    "move_due": move_due,
    "mark_task_done": mark_task_done,
    "delete_record": delete_record,
}
