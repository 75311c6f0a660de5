"""An approval card as the chat platforms show it: the same facts, rendered per platform.

Built from a ``messages`` row (its payload carries the card and draft) and the approval's
current row (pending, or decided by whom, where, when, after how long).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from graphs.approvals import Card, Draft, is_address
from store.clock import Clock
from store.models import Approval, Decided, Message

_WITHDRAWN = {"undo": "you said undo", "paid": "the invoice was paid", "void": "the invoice was voided"}
PLATFORM_NAMES = {"slack": "Slack", "telegram": "Telegram", "console": "the console", "email": "e-mail"}


class Decision(BaseModel):
    status: Decided | Literal["withdrawn"]
    by: str
    via: str
    at: datetime  # in the operator's time zone
    waited_seconds: float | None = None

    def line(self, here: str) -> str:
        """ "✅ Approved by U123 in Slack at 2026-11-25 15:05 (waited 5 min)"; ``here`` is the viewing platform."""
        mark = "✅" if self.status == "approved" else "✖️"
        if self.status == "withdrawn":  # coo took it back: ``via`` says why ("undo", "paid", "void")
            return f"{mark} Withdrawn by coo ({_WITHDRAWN.get(self.via, self.via)}) at {self.at:%Y-%m-%d %H:%M %Z}"
        who = f"<@{self.by}>" if here == "slack" and self.via == "slack" else self.by
        where = PLATFORM_NAMES.get(self.via, self.via)
        waited = f" (waited {duration(self.waited_seconds)})" if self.waited_seconds is not None else ""
        return f"{mark} {self.status.capitalize()} by {who} in {where} at {self.at:%Y-%m-%d %H:%M %Z}{waited}"


class CardView(BaseModel):
    approval_id: int
    intro: str = ""  # what the run said before asking ("I drafted the proposal …")
    card: Card
    draft: Draft
    decision: Decision | None = None

    @property
    def can_approve(self) -> bool:
        """False while the draft has no e-mail address: the card offers "add an address" instead."""
        return is_address(self.draft.to)


def card_view(message: Message, approval: Approval | None, clock: Clock) -> CardView:
    """The view of a card message; the approval row (when given) has the latest draft and decision."""
    payload = message.payload
    card = Card.model_validate(approval.card if approval else payload["card"])
    draft = Draft.model_validate(approval.draft if approval else payload["draft"])
    question = Card.model_validate(payload["card"]).question
    at = message.text.find(question)
    intro = message.text[:at].strip() if at > 0 else ""
    decision = None
    if approval is not None and approval.status != "pending" and approval.decided_at is not None:
        decision = Decision(
            status=approval.status,
            by=approval.decided_by or "?",
            via=approval.decided_via or "?",
            at=clock.local(approval.decided_at),
            waited_seconds=(approval.decided_at - approval.asked_at).total_seconds(),
        )
    return CardView(approval_id=int(payload["approval_id"]), intro=intro, card=card, draft=draft, decision=decision)


DIGEST_BUTTONS = 10  # approvals given buttons in one digest; the rest are counted


class DigestApproval(BaseModel):
    approval_id: int
    title: str  # "Send invoice #INV-0002 to ops@northwind.example"
    can_approve: bool = True  # False while its draft has no e-mail address


class DigestOffer(BaseModel):
    """A one-tap policy action (graphs.policy_offers): its button sends `/policy accept N`."""

    id: int
    label: str

    @property
    def action(self) -> str:
        return f"coo:offer:{self.id}"


class DigestView(BaseModel):
    """The daily digest with a row of buttons per approval still waiting when it is delivered."""

    text: str
    approvals: list[DigestApproval] = Field(default_factory=list)
    more: int = 0  # waiting approvals beyond DIGEST_BUTTONS
    offers: list[DigestOffer] = Field(default_factory=list)  # the quarterly review's one-tap actions

    @property
    def more_line(self) -> str:
        return f"…and {self.more} more waiting: /approve N or /reject N." if self.more else ""


def digest_view(message: Message, approvals: list[Approval]) -> DigestView:
    """``approvals``: the rows named by the digest's ``approval_ids``; decided ones get no buttons."""
    waiting = [a for a in approvals if a.status == "pending"]
    shown = [
        DigestApproval(
            approval_id=a.id,
            title=str(a.card.get("title") or a.action),
            can_approve=is_address(a.draft.get("to")),
        )
        for a in waiting
    ]
    offers = [DigestOffer.model_validate(o) for o in message.payload.get("offers") or []]
    return DigestView(
        text=message.text,
        approvals=shown[:DIGEST_BUTTONS],
        more=max(0, len(shown) - DIGEST_BUTTONS),
        offers=offers,
    )


def is_digest(message: Message) -> bool:
    return message.channel == "digest" and bool(message.payload.get("approval_ids") or message.payload.get("offers"))


def is_card(message: Message) -> bool:
    return "approval_id" in message.payload and bool(message.payload.get("buttons"))


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes = int(seconds // 60)
    if minutes < 1:
        return f"{int(seconds)} s"
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min"
    return f"{hours // 24} days {hours % 24} h"
