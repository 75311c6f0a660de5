"""The one intake door: every channel's input is saved before anything is queued or parsed.

Adapters (Slack, Telegram, inbound e-mail, CSV drops) call :class:`Intake`, which writes the
input to the inbox (store/inbox.py) with its channel's dedupe key in one transaction, and only
then wakes a worker with a job naming the saved row. The adapter acknowledges the platform
after that commit. When the database cannot take it, :class:`IntakeUnavailable` tells the
adapter to answer with a status that makes the platform retry; when the queue is down, the
row stays saved and :meth:`Intake.sweep` (run by `coo serve` and `coo worker`) queues it as
soon as the queue is back.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel

from bot.job_registry import JOBS, JobName
from bot.refusal_limit import RefusalLimiter
from graphs.conversation import Conversation
from graphs.envelope import Envelope
from graphs.handled import Handled
from store.errors import StoreUnavailable
from store.facade import Store
from store.inbox import InboxKind, pack
from store.jobqueue import JobQueue
from store.outage import is_outage

log = logging.getLogger(__name__)


class IntakeUnavailable(Exception):
    """The input could not be saved (the database is down): nothing was accepted, retry later."""


class ReplyRef(BaseModel):
    """Where the operator's message sits on its platform, so replies can quote it."""

    platform: str
    chat_id: str
    ref: str


class Intake:
    """What adapters call: save an input, then queue its processing."""

    def __init__(self, store: Store, queue: JobQueue, limiter: RefusalLimiter | None = None) -> None:
        self.store = store
        self.queue = queue
        self.limiter = limiter or RefusalLimiter()

    def _record(
        self, kind: InboxKind, env: Envelope, options: dict[str, Any], data: bytes | None, *, queued: bool = False
    ) -> int | None:
        payload = {"envelope": env.model_dump(mode="json"), "options": options, **pack(data)}
        try:
            return self.store.inbox.save(env.idempotency_key, kind, env.channel, payload, queued=queued)
        except Exception as exc:
            # A connection that drops mid-statement surfaces as the driver's own error, not
            # StoreUnavailable: either way nothing was accepted and the sender is told so.
            if not (isinstance(exc, StoreUnavailable) or is_outage(exc)):
                raise
            log.error("could not save %s %s: %s", env.channel, kind, exc)
            raise IntakeUnavailable(str(exc)) from exc

    def _save(self, kind: InboxKind, env: Envelope, options: dict[str, Any], data: bytes | None = None) -> bool:
        """Save once, then queue; True when new (a platform's retry of the same event is False)."""
        # Saved as queued, its job queued next: one statement, not a second to mark it.
        item_id = self._record(kind, env, options, data, queued=True)
        if item_id is None:
            return False
        self.wake(item_id, _job_for(kind), marked=True)
        return True

    def save_here(self, env: Envelope) -> int | None:
        """The console: save the message like any other but queue nothing; the caller processes
        it at once (the operator waits at the terminal). Its inbox id, None for a repeat."""
        return self._record("message", env, {"post_ack": False}, None)

    def wake(self, item_id: int, name: JobName = "inbox", *, marked: bool = False) -> bool:
        """Queue a saved item (``marked``: it was saved as queued); False (and it stays saved for
        the sweeper) when the queue is down."""
        job = JOBS[name]
        try:
            self.queue.enqueue(job.func, f"inbox-{item_id}", job.spec, item_id=item_id)
            if not marked:
                self.store.inbox.queued(item_id)
        except Exception as exc:  # noqa: BLE001 - Redis down, flushed mid-call, the database gone
            # The item is saved: the platform's acknowledgement stands, and the sweeper queues it.
            log.warning("inbox item %d saved; not queued yet (%s: %s)", item_id, type(exc).__name__, exc)
            if marked:
                self._unmark(item_id)
            return False
        return True

    def _unmark(self, item_id: int) -> None:
        try:
            self.store.inbox.unqueued_after_all(item_id)
        except Exception as exc:  # noqa: BLE001 - the database went too: the lost-work sweep finds no job for it
            log.warning("inbox item %d stays marked queued (%s); the lost-work sweep queues it", item_id, exc)

    def sweep(self, limit: int = 100) -> int:
        """Queue what was saved while the queue was down; how many were queued."""
        woken = 0
        for item in self.store.inbox.unqueued(limit):
            if not self.wake(item.id, _job_for(item.kind)):
                break  # still down: the next sweep tries again
            woken += 1
        return woken

    def requeue_taken(self) -> int:
        """The embedded queue died with its process: every input it had taken and not finished
        is queued again (processing skips an item already done); how many."""
        count = 0
        for item in self.store.inbox.taken():
            job = JOBS[_job_for(item.kind)]
            if self.queue.enqueue(job.func, f"inbox-{item.id}", job.spec, item_id=item.id):
                count += 1
        return count

    # -- what the channels hand in ----------------------------------------------------------

    def submit(
        self, env: Envelope, *, addressed: bool = True, post_ack: bool = True, reply_ref: ReplyRef | None = None
    ) -> bool:
        """An operator message (text or a typed command)."""
        return self._save("message", env, {"addressed": addressed, "post_ack": post_ack, **_ref(reply_ref)})

    def email(
        self,
        raw: bytes,
        env: Envelope,
        *,
        reply_ref: ReplyRef | None = None,
        chat_forward: dict[str, Any] | None = None,
    ) -> bool:
        """A forwarded e-mail (raw RFC 822) for the e-mail ingester; ``env.text`` is unused.
        ``chat_forward``: it was rebuilt from a forwarded chat message (graphs.chat_forward)."""
        options = {**_ref(reply_ref), **({"chat_forward": chat_forward} if chat_forward else {})}
        return self._save("email", env, options, raw)

    def shared_email(self, file: dict[str, Any], env: Envelope, *, addressed: bool = True) -> bool:
        """An .eml file shared in Slack (its ``files`` entry): the job downloads it with the bot
        token and files it as a forwarded e-mail; the HTTP handler makes no network call."""
        return self._save("shared_email", env, {"file": file, "addressed": addressed})

    def telegram_file(
        self, document: dict[str, Any], purpose: str, env: Envelope, *, reply_ref: ReplyRef | None = None
    ) -> bool:
        """A document sent in Telegram (its ``document`` entry): the job downloads it and files it
        as an e-mail or reconciles it as a payments export (``purpose``)."""
        return self._save("telegram_file", env, {"document": document, "purpose": purpose, **_ref(reply_ref)})

    def payments(self, data: bytes, filename: str, env: Envelope, *, reply_ref: ReplyRef | None = None) -> bool:
        """A bank/provider CSV export for the reconciler (graphs.payments_intake)."""
        return self._save("payments", env, {"filename": filename, **_ref(reply_ref)}, data)

    def shared_payments(self, file: dict[str, Any], env: Envelope, *, addressed: bool = True) -> bool:
        """A CSV export shared in Slack (its ``files`` entry): the job downloads it with the bot
        token and reconciles it; the HTTP handler that calls this makes no network call."""
        return self._save("shared_payments", env, {"file": file, "addressed": addressed})

    def refuse(self, env: Envelope, *, ephemeral: bool = False, reply_ref: ReplyRef | None = None) -> bool:
        """A stranger wrote: a polite refusal, nothing else — and not even that past the
        limiter's pace (False then: nothing saved)."""
        if not self.limiter.allow(f"{env.channel}:{env.user_id}"):
            return False
        return self._save("refusal", env, {"ephemeral": ephemeral, **_ref(reply_ref)})


def _job_for(kind: InboxKind) -> JobName:
    return "stranger" if kind == "refusal" else "inbox"


def _ref(reply_ref: ReplyRef | None) -> dict[str, Any]:
    return {"reply_ref": reply_ref.model_dump()} if reply_ref else {}


class SchedulerDoor:
    """The scheduler's intents (retainer invoices, weekly reports) come through the same door:
    recorded in the inbox with their period's key, then accepted at once under the normal rules
    (the tick needs the run it started)."""

    def __init__(self, intake: Intake, conversation: Conversation) -> None:
        self.intake = intake
        self.conversation = conversation

    def submit(self, env: Envelope, intent: dict[str, Any], text: str) -> Handled:
        item_id = self.intake._record("scheduled", env, {"intent": intent, "text": text}, None)
        handled = self.conversation.submit(env, intent, text)  # a repeat is a no-op there too
        if item_id is not None:
            self.intake.store.inbox.done(item_id)
        return handled
