"""`coo retry RUN`: a failed run again, from its last good checkpoint.

Two ways a run fails. A step raised until the queue gave up: the run is continued from its
last checkpoint (or re-planned from its intent when it stopped before one; steps are keyed by
the run, so nothing is made twice) and an approval it already got is not asked again. Or the
approved e-mail did not go out: it is sent again under the same idempotency key, so what did
go out is never sent twice — and a send whose outcome is unknown (the server may have taken
it) is not repeated unless the operator says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel

from graphs.actions import idempotency_key
from graphs.sending import approved_action, settle
from graphs.supervisor import Supervisor
from store.errors import NotFound
from store.models import Approval


class RetryOutcome(BaseModel):
    status: Literal["retried", "refused", "asked"]
    said: str  # what the operator is told
    run_id: str | None = None


def _unsent_approval(supervisor: Supervisor, run_id: str) -> tuple[Approval, str | None] | None:
    """The run's approved side effect that did not go out, with its claim's state."""
    store = supervisor.deps.store
    rows = store.db.fetchall("SELECT id FROM approvals WHERE run_id = ? AND status = 'approved' ORDER BY id", (run_id,))
    for row in rows:
        approval = store.runs.approval(int(row["id"]))
        assert approval is not None
        state = store.side_effects.status(idempotency_key(run_id, approval.step))
        if state != "done":
            return approval, state
    return None


def _latest_decided(supervisor: Supervisor, run_id: str) -> int | None:
    row = supervisor.deps.store.db.fetchone(
        "SELECT MAX(id) AS id FROM approvals WHERE run_id = ? AND status <> 'pending'", (run_id,)
    )
    return int(row["id"]) if row and row["id"] is not None else None


def retry_run(supervisor: Supervisor, ref: str, *, by: str, confirm: Callable[[str], bool]) -> RetryOutcome:
    """Retry the failed run ``ref`` (a unique prefix is enough). ``confirm`` is asked before an
    e-mail that may already have gone out is sent again."""
    store = supervisor.deps.store
    run = store.runs.find(ref)
    if run is None:
        return RetryOutcome(status="refused", said=f"There is no run {ref}. `coo ledger` lists the runs.")
    if run.status not in ("failed", "sent_uncertain"):  # an uncertain send is retried only after a yes
        hint = {
            "waiting_approval": " It waits for your decision on its card.",
            "queued": " It is queued; a worker will run it.",
            "running": " It is running.",
            "resuming": " It is resuming after your decision.",
        }.get(run.status, "")
        return RetryOutcome(
            status="refused",
            said=f"Run {run.id} is {run.status}; only a failed run (or one whose e-mail may not have gone out) can be retried.{hint}",
            run_id=run.id,
        )
    tries = sum(1 for e in store.ledger.events(run.id) if e.kind == "retry_requested") + 1
    unsent = _unsent_approval(supervisor, run.id)
    if unsent is not None:
        approval, state = unsent
        key = idempotency_key(run.id, approval.step)
        if state == "sending":
            question = (
                f"An earlier attempt to send approval #{approval.id} ({approval.card.get('title', approval.action)}) "
                "was interrupted and may have gone out. Send it again anyway?"
            )
            if not confirm(question):
                return RetryOutcome(
                    status="asked",
                    said=f"{question}\nNothing was sent. Check the recipient's inbox or your mail log; "
                    f"`coo retry {run.id} --yes` sends it again.",
                    run_id=run.id,
                )
            store.side_effects.release(key, f"sent again at the operator's word ({by})")
            store.ledger.append(
                run.id,
                approval.step,
                "uncertain_send_released",
                {"approval_id": approval.id},
                actor=by,
                dedupe=f"retry-{tries}",
            )
        store.ledger.append(
            run.id,
            "retry",
            "retry_requested",
            {"approval_id": approval.id, "send": True},
            actor=by,
            dedupe=str(tries),
        )
        result = settle(supervisor.deps, approval, approved_action(approval))
        store.conversations.post(
            run.channel, run.thread_id, result.note, run_id=run.id, dedupe=f"{run.id}:retry:{tries}"
        )
        return RetryOutcome(status="retried", said=result.note, run_id=run.id)

    store.ledger.append(run.id, "retry", "retry_requested", {"send": False}, actor=by, dedupe=str(tries))
    decided = _latest_decided(supervisor, run.id)
    try:
        if decided is not None:
            # Past its gate: resume with the decision it has (re-planned when it has no checkpoint).
            store.runs.set_status(run.id, "resuming")
            supervisor.resume(run.id, decided)
        else:
            store.runs.set_status(run.id, "queued")
            supervisor.start(run.id)
    except NotFound as exc:
        store.runs.set_status(run.id, "failed", error=str(exc)[:500])
        return RetryOutcome(status="refused", said=f"Run {run.id} cannot be retried: {exc}", run_id=run.id)
    except Exception as exc:
        store.runs.set_status(run.id, "failed", error=str(exc)[:500])
        return RetryOutcome(
            status="retried",
            said=f"Run {run.id} failed again: {exc}. `coo ledger {run.id}` has the details.",
            run_id=run.id,
        )
    after = store.runs.get(run.id)
    return RetryOutcome(status="retried", said=f"Run {run.id} retried: now {after.status}.", run_id=run.id)
