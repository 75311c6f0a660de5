"""Delivering coo's replies (``messages`` rows) to Slack and Telegram, and keeping cards current.

Every reply coo makes is a row; this loop posts the undelivered ones into their thread, shows
approval cards also to the operators on the other platform, edits a card's copies in place
when the draft is edited, and once an approval is decided rewrites every copy to say who
decided, where, when, with the buttons gone. A delivery is claimed before the platform call,
so a message reaches each chat at most once even with two loops running.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from pydantic import BaseModel

from bot.cards import CardView, DigestView, card_view, digest_view, is_card, is_digest
from bot.offers import OfferView, is_offer, offer_view
from bot.reminders import remind_waiting
from store.deliveries import Deliveries
from store.errors import NotFound
from store.facade import Store
from store.models import Message

log = logging.getLogger(__name__)

# Channels whose replies have no chat thread of their own: they go to the operators directly.
OPERATOR_CHANNELS = ("email", "digest")  # posted to the operators wherever they are


class Target(BaseModel):
    """Where on a platform to post: a chat, optionally a thread or a message to reply to."""

    chat_id: str
    thread: str | None = None
    reply_to: str | None = None


class Outbound(Protocol):
    """One chat platform as the delivery loop sees it; refs are opaque strings it hands back."""

    platform: str

    def thread_target(self, thread_id: str, reply_to: str | None) -> Target: ...

    def operator_targets(self) -> list[Target]: ...

    def post_text(self, target: Target, text: str, ephemeral_to: str | None = None) -> str: ...

    def post_card(self, target: Target, view: CardView) -> str: ...

    def update_card(self, ref: str, view: CardView) -> None: ...

    def post_digest(self, target: Target, view: DigestView) -> str:
        """The digest's text with Approve/Reject buttons per waiting approval (the cards' own)."""
        ...

    def post_offer(self, target: Target, view: OfferView) -> str:
        """A policy suggestion with its one-tap button (graphs.policy_offers)."""
        ...


class Deliverer:
    def __init__(self, store: Store, outbounds: dict[str, Outbound], *, remind_after_hours: float = 0) -> None:
        self.store = store
        self.outbounds = outbounds
        self.deliveries = Deliveries(store.db, store.clock)
        self.remind_after_hours = remind_after_hours

    def tick(self) -> int:
        """Deliver what is waiting and settle decided cards; returns how much was done."""
        done = 0
        for channel in [*self.outbounds, *OPERATOR_CHANNELS]:
            for message in self.store.conversations.undelivered(channel):
                self._deliver(message)
                done += 1
        for delivery in self.deliveries.decided_cards():
            outbound = self.outbounds.get(delivery.platform)
            approval = self.store.runs.approval(delivery.approval_id or 0)
            if outbound is None or approval is None or delivery.ref is None:
                continue
            view = card_view(self.deliveries.message(delivery.message_id), approval, self.store.clock)
            try:
                outbound.update_card(delivery.ref, view)
            except Exception as exc:  # a deleted message or revoked token: don't retry forever
                log.warning("could not update card %s on %s: %s", delivery.ref, delivery.platform, exc)
                self.deliveries.failed(delivery.id, f"update: {exc}")
                continue
            self.deliveries.settle(delivery.id)
            done += 1
        return done

    def remind(self) -> list[int]:
        return remind_waiting(self.store, self.deliveries, self.remind_after_hours)

    def run(self, stop: threading.Event, *, interval: float = 0.05, remind_every: float = 60.0) -> None:
        """Poll until ``stop`` is set; an idle poll is one cheap query per channel."""
        next_reminder = time.monotonic()
        while not stop.is_set():
            busy = 0
            try:
                busy = self.tick()
                if time.monotonic() >= next_reminder:
                    self.remind()
                    next_reminder = time.monotonic() + remind_every
            except Exception:
                log.exception("delivery loop error; retrying")
                stop.wait(1.0)
            if not busy:
                stop.wait(interval)

    # -- one message --------------------------------------------------------------------------

    def _deliver(self, message: Message) -> None:
        card = is_card(message)
        approval = self.store.runs.approval(int(message.payload["approval_id"])) if card else None
        live = self.deliveries.cards(approval.id) if approval else []
        if card and live:
            # An edited draft: its card copies change in place; the thread hears what changed.
            view = card_view(message, approval, self.store.clock)
            for copy in live:
                self._safely(copy.platform, lambda c=copy: self.outbounds[c.platform].update_card(c.ref or "", view))
            self._post_text(message, view.intro or f"Approval #{view.approval_id} updated.")
        elif card:
            view = card_view(message, approval, self.store.clock)
            for outbound, target in self._targets(message, mirror=True):
                self._send(
                    message,
                    outbound,
                    target,
                    lambda o=outbound, t=target: o.post_card(t, view),
                    approval_id=view.approval_id,
                )
        elif is_digest(message):
            self._post_digest(message)
        elif is_offer(message):
            offer = offer_view(message)
            for outbound, target in self._targets(message, mirror=False):
                self._send(message, outbound, target, lambda o=outbound, t=target: o.post_offer(t, offer))
        else:
            self._post_text(message, message.text)
        self.store.conversations.mark_delivered(message.id)

    def _post_text(self, message: Message, text: str) -> None:
        ephemeral = message.payload.get("ephemeral_to")
        for outbound, target in self._targets(message, mirror=False):
            self._send(
                message, outbound, target, lambda o=outbound, t=target: o.post_text(t, text, ephemeral_to=ephemeral)
            )

    def _post_digest(self, message: Message) -> None:
        """Approvals still waiting get their buttons; a decided one is only listed. The buttons
        are not updated in place later: a tap on a decided one is answered "already approved"."""
        rows = [self.store.runs.approval(int(n)) for n in message.payload.get("approval_ids") or []]
        view = digest_view(message, [a for a in rows if a is not None])
        if not view.approvals and not view.offers:
            self._post_text(message, message.text)
            return
        for outbound, target in self._targets(message, mirror=False):
            self._send(message, outbound, target, lambda o=outbound, t=target: o.post_digest(t, view))

    def _targets(self, message: Message, *, mirror: bool) -> list[tuple[Outbound, Target]]:
        """The message's own thread, and (cards; operator channels) the operators elsewhere."""
        targets: list[tuple[Outbound, Target]] = []
        home = self.outbounds.get(message.channel)
        if home is not None:
            targets.append((home, home.thread_target(message.thread_id, self._reply_to(message))))
        if mirror or message.channel in OPERATOR_CHANNELS:
            for platform, outbound in self.outbounds.items():
                if platform != message.channel:
                    targets.extend((outbound, target) for target in outbound.operator_targets())
        return targets

    def _reply_to(self, message: Message) -> str | None:
        """The platform id of the operator message this reply answers (Telegram quotes it)."""
        key = None
        for prefix in ("reply:", "ack:"):
            if message.dedupe_key and message.dedupe_key.startswith(prefix):
                key = message.dedupe_key.removeprefix(prefix)
        if key is None and message.run_id:
            try:
                key = self.store.conversations.intent_for_run(message.run_id).idempotency_key
            except NotFound:
                return None
        inbound = self.deliveries.inbound(key) if key else None
        return inbound.ref if inbound and inbound.chat_id == message.thread_id else None

    def _send(
        self, message: Message, outbound: Outbound, target: Target, post: Post, approval_id: int | None = None
    ) -> None:
        claim = self.deliveries.claim(message.id, outbound.platform, target.chat_id, approval_id)
        if claim is None:
            return  # already delivered there (another loop, or before a restart)
        try:
            ref = post()
        except Exception as exc:
            log.warning("could not deliver message %s to %s %s: %s", message.id, outbound.platform, target.chat_id, exc)
            self.deliveries.failed(claim, str(exc))
            return
        self.deliveries.sent(claim, ref)

    def _safely(self, platform: str, call: Update) -> None:
        try:
            call()
        except Exception as exc:
            log.warning("could not update a card on %s: %s", platform, exc)


class Post(Protocol):
    """A platform call that posts a message and returns its ref there."""

    def __call__(self) -> str: ...


class Update(Protocol):
    """A platform call that changes a message already posted."""

    def __call__(self) -> None: ...
