"""Sending what the operator approved, and what happens when the mail server does not take it.

A send that fails is never "done": it stays on record as not sent (``store.side_effects``), the
operator is told why in the run's thread, a transient failure (server unreachable, "try later")
is tried again with backoff — the retries are jobs on the queue's own schedule
(``bot.jobs.retry_send``) — and ``/resend N`` tries again at any time, optionally to a corrected
address. The same idempotency key guards every attempt, so nothing is ever sent twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from agents.errors import AgentError, DeliveryUncertain, SendFailed, SendUncertain
from graphs.actions import compensation_for, idempotency_key, perform
from graphs.approvals import EMAIL_RE, Action, Card, Draft
from graphs.autonomy_policy import lower_after_failure
from graphs.deps import Deps
from store.facade import Store
from store.jobqueue import JobQueue, JobSpec
from store.models import Approval

# After the 1st failed attempt the next comes 1 minute later, then 5, then 30; after the 4th,
# coo stops trying on its own and asks the operator to resend.
SEND_RETRY_DELAYS: tuple[timedelta, ...] = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
# The backoff is the schedule itself: a failed attempt is not also retried by the queue.
# RQ's scheduler keeps whole seconds (a job due at 15:01:02.57 runs from 15:01:02.00): a retry
# that fires up to this much before its time is due, or it would do nothing and, its job
# finished, never be scheduled again (found by the chaos suite: 3 of 8 approved e-mails).
SCHEDULE_EARLY = timedelta(seconds=2)
SEND_RETRY_JOB = JobSpec(queue="coo-email", timeout=120, retries=0, retry_intervals=[])

_WHAT = {
    "send_proposal": "proposal",
    "send_invoice": "invoice",
    "send_email": "e-mail",
    "send_credit_note": "credit note",
    "resend_invoice": "invoice",
    "send_reminder": "payment reminder for",
}


class SendResult(BaseModel):
    sent: bool  # left the machine (or was written to the outbox)
    note: str  # what the operator is told
    error: str | None = None  # why it was not sent
    retry_at: datetime | None = None  # when the next automatic attempt is due
    uncertain: bool = False  # an earlier attempt died mid-send: it may have gone out


def label(action: Action) -> str:
    what = _WHAT.get(action.action, "e-mail")
    return f"{what} #{action.card.number}" if action.card.number else what


def approved_action(approval: Approval) -> Action:
    """The action exactly as approved (with any edits): what every attempt sends."""
    return Action(
        step=approval.step,
        action=approval.action,
        card=Card.model_validate(approval.card),
        draft=Draft.model_validate(approval.draft),
    )


def send_approved(deps: Deps, run_id: str, action: Action, approval_id: int) -> SendResult:
    """One attempt at sending an approved action, recorded in the ledger either way."""
    store = deps.store
    what = label(action)
    earlier = store.side_effects.failed(idempotency_key(run_id, action.step))
    attempt = (earlier.attempts if earlier else 0) + 1
    try:
        receipt = perform(deps, run_id, action)
    except SendUncertain as exc:
        # sent-uncertain: told as such, the claim kept, never tried again on its own.
        store.ledger.append(run_id, action.step, "side_effect_uncertain", {"reason": str(exc), "attempt": attempt})
        to = action.draft.to or "(no address)"
        note = (
            f"⚠️ The {what} to {to} may or may not have gone out: {exc}. I won't send it again on my own; "
            "check the recipient's inbox or your mail server's log."
        )
        return SendResult(sent=False, note=note, error=f"sent-uncertain: {exc}", uncertain=True)
    except DeliveryUncertain as exc:
        store.ledger.append(run_id, action.step, "side_effect_uncertain", {"reason": str(exc)})
        # The recipient named: "check the recipient's inbox" needs to say whose.
        to = action.draft.to or "(no address)"
        note = f"I did not send the {what} to {to}: {exc}"
        return SendResult(sent=False, note=note, error=str(exc), uncertain=True)
    except AgentError as exc:
        return _not_sent(deps, run_id, action, approval_id, exc)
    store.ledger.append(
        run_id,
        action.step,
        "side_effect",
        {
            "action": action.action,
            "to": action.draft.to,
            "subject": action.draft.subject,
            "compensation": compensation_for(action),
            "attempt": attempt,
        },
        receipt=receipt,
    )
    if receipt.get("sent"):
        again = f" (attempt {attempt})" if attempt > 1 else ""
        note = f"Sent {what} to {action.draft.to}{again} (receipt {receipt['message_id']})."
    else:
        note = (
            f"Not sent — no SMTP server is configured (COO_SMTP_URL). The {what} to {action.draft.to} "
            f"is in the outbox: {receipt['detail']}."
        )
    return SendResult(sent=True, note=note)


def _not_sent(deps: Deps, run_id: str, action: Action, approval_id: int, exc: AgentError) -> SendResult:
    store = deps.store
    key = idempotency_key(run_id, action.step)
    failure = store.side_effects.failed(key)
    attempts = failure.attempts if failure else 0
    transient = isinstance(exc, SendFailed) and exc.transient
    retry_at = None
    if failure is not None and transient and attempts <= len(SEND_RETRY_DELAYS):
        retry_at = store.clock.now() + SEND_RETRY_DELAYS[attempts - 1]
        store.side_effects.retry_at(key, retry_at)
    store.ledger.append(
        run_id,
        action.step,
        "side_effect_failed",
        {
            "reason": str(exc),
            "transient": transient,
            "attempt": attempts,
            "retry_at": retry_at.isoformat() if retry_at else None,
        },
        dedupe=f"attempt-{attempts}",  # one event per failed attempt
    )
    what = label(action)
    to = action.draft.to or "(no address)"
    said = [f"⚠️ NOT SENT: I could not send the {what} to {to}: {exc}."]
    if action.card.invoice_id is not None:
        said.append("The invoice stays a draft until it goes out (nothing is owed on it yet).")
    if retry_at is not None:
        at = store.clock.local(retry_at).strftime("%H:%M")
        said.append(
            f"I'll try again at {at} (attempt {attempts + 1} of {len(SEND_RETRY_DELAYS) + 1}); "
            f"/resend {approval_id} tries now."
        )
    elif transient:
        said.append(f"I gave up after {attempts} attempts: /resend {approval_id} once the mail server is back.")
    elif failure is not None:
        said.append(
            f"Trying again won't help until that is fixed: /resend {approval_id} to=name@example.com "
            f"sends it to another address, /resend {approval_id} after fixing the mail settings."
        )
    lowered = lower_after_failure(store, run_id, action, approval_id)
    if lowered:
        said.append(lowered)
    return SendResult(sent=False, note=" ".join(said), error=str(exc), retry_at=retry_at)


class ResendRefused(Exception):
    """The approval cannot be resent; the message says why, in the operator's terms."""


def check_resendable(deps: Deps, approval_id: int) -> Approval:
    """The approval, if it was approved and its send failed; otherwise ``ResendRefused``."""
    approval = deps.store.runs.approval(approval_id)
    if approval is None:
        raise ResendRefused(f"There is no approval #{approval_id}.")
    if approval.status == "pending":
        raise ResendRefused(f"Approval #{approval_id} is still waiting for your decision: /approve {approval_id}.")
    if approval.status in ("rejected", "withdrawn"):
        raise ResendRefused(f"Approval #{approval_id} was {approval.status}; nothing is sent for it.")
    state = deps.store.side_effects.status(idempotency_key(approval.run_id, approval.step))
    if state == "done":
        raise ResendRefused(f"Approval #{approval_id} was already sent; nothing was sent again.")
    if state == "sending":
        raise ResendRefused(
            f"Approval #{approval_id} is being sent, or an attempt was interrupted mid-send and may have gone "
            "out; I won't send it again. Check the recipient's inbox or your mail log."
        )
    if state is None and deps.store.runs.get(approval.run_id).status != "failed":
        raise ResendRefused(f"Approval #{approval_id} is on its way; it has not failed.")
    return approval


def resend(deps: Deps, approval_id: int, *, by: str, to: str | None = None) -> SendResult:
    """The operator's ``/resend N [to=address]``: one more attempt, now."""
    try:
        approval = check_resendable(deps, approval_id)
    except ResendRefused as exc:
        return SendResult(sent=False, note=str(exc), error=str(exc))
    action = approved_action(approval)
    if to is not None:
        address = to.strip().strip("<>")
        if not EMAIL_RE.match(address):
            return SendResult(sent=False, note=f'"{to}" is not an e-mail address; nothing was sent.', error="address")
        action.draft.to = address
        action.card.question = f"Send it to {address}?"
        deps.store.runs.readdress(approval_id, action.card.model_dump(), action.draft.model_dump())
    deps.store.ledger.append(
        approval.run_id,
        approval.step,
        "resend_requested",
        {"approval_id": approval_id, "to": action.draft.to},
        actor=by,
    )
    return settle(deps, approval, action)


def retry_due(deps: Deps, approval_id: int) -> SendResult | None:
    """A scheduled retry: one more attempt if it is still due (the operator may have resent it)."""
    approval = deps.store.runs.approval(approval_id)
    if approval is None or approval.status != "approved":
        return None
    failure = deps.store.side_effects.failed(idempotency_key(approval.run_id, approval.step))
    if failure is None or failure.retry_at is None or failure.retry_at > deps.store.clock.now() + SCHEDULE_EARLY:
        return None
    return settle(deps, approval, approved_action(approval))


def settle(deps: Deps, approval: Approval, action: Action) -> SendResult:
    """Send, then make the run's status tell the truth: done once sent, failed while not."""
    result = send_approved(deps, approval.run_id, action, approval.id)
    if result.sent:
        deps.store.runs.set_status(approval.run_id, "done", summary=result.note[:200])
    elif result.uncertain and result.error is not None:
        deps.store.runs.set_status(approval.run_id, "sent_uncertain", error=result.error[:500])
    elif result.error is not None:
        deps.store.runs.set_status(approval.run_id, "failed", error=result.error[:500])
    return result


def schedule_retries(store: Store, queue: JobQueue, func: str, run_id: str | None = None) -> int:
    """Queue, at its time, the next attempt of every failed send that has one (of one run).

    The time is on record with the failed send, so the schedule survives a restart: workers and
    ``coo serve`` schedule what is due again on start, and a retry that finds the e-mail sent
    (or resent by the operator) does nothing."""
    count = 0
    for failure in store.side_effects.not_sent(run_id):
        if failure.retry_at is None:
            continue
        run, _, step = failure.key.partition(":")
        approval = store.runs.approval_for(run, step)
        if approval is None:
            continue
        job_id = f"send-retry-{approval.id}-{failure.attempts}"
        if queue.enqueue_at(failure.retry_at, func, job_id, SEND_RETRY_JOB, approval_id=approval.id):
            count += 1
    return count
