"""Payment-reminder cards that no longer apply are taken back.

A reminder waiting for approval is about invoices that were open when it was drafted. Once one of
them is paid or voided, sending it would ask a client for money it does not owe: the card is
withdrawn (approval status ``withdrawn``, its run cancelled, so nothing can send it) and its
thread is told why. Called after anything that may settle an invoice (a run finishing, a CSV
import); it looks at the waiting reminders only, so it is cheap and safe to call again.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from store.models import Approval

if TYPE_CHECKING:
    from store.facade import Store

_SETTLED = {"paid": "is paid", "void": "was voided"}


def _reminder_invoices(store: Store, approval: Approval) -> list[str]:
    """The invoice numbers the reminder was drafted about (its drafting step's record)."""
    row = store.db.fetchone(
        "SELECT payload FROM ledger WHERE run_id = ? AND step = 'prepare_reminder' AND kind = 'step_done'"
        " ORDER BY id DESC",
        (approval.run_id,),
    )
    if row is None:
        return []
    payload = row["payload"]
    numbers = (json.loads(payload) if isinstance(payload, str) else payload).get("invoices")
    return [str(n) for n in numbers] if isinstance(numbers, list) else []


def withdraw_settled_reminders(store: Store) -> list[int]:
    """Withdraw every waiting reminder card about an invoice now paid or void; the ids withdrawn."""
    withdrawn: list[int] = []
    # Every run's finish calls this: read the waiting reminder cards only, not every card.
    for approval in store.runs.pending_approvals("send_reminder"):
        numbers = _reminder_invoices(store, approval)
        invoices = [i for i in (store.billing.get(n) for n in numbers) if i is not None]
        settled = [i for i in invoices if i.status in _SETTLED]
        if not settled:
            continue
        why = "paid" if all(i.status == "paid" for i in settled) else "void"
        run = store.runs.get(approval.run_id)
        said = " and ".join(f"{i.number} {_SETTLED[i.status]}" for i in settled)
        still = [i.number for i in invoices if i.status not in _SETTLED]
        with store.db.transaction() as tx:
            if not store.runs.withdraw(tx, approval.id, why):
                continue  # decided meanwhile
            rest = f" {', '.join(still)} is still open: ask me to nudge again for it." if still else ""
            store.conversations.post(
                run.channel,
                run.thread_id,
                f"Withdrew the payment reminder (card #{approval.id}): {said} now, so it won't be sent.{rest}",
                run_id=approval.run_id,
                dedupe=f"reminder-withdrawn:{approval.id}",
                tx=tx,
            )
            store.ledger.append(
                approval.run_id,
                "send_reminder",
                "approval_withdrawn",
                {"approval_id": approval.id, "why": why, "invoices": [i.number for i in settled]},
                tx=tx,
            )
        withdrawn.append(approval.id)
    return withdrawn
