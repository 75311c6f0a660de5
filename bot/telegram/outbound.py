"""Sending to Telegram from the delivery thread: replies, approval cards, in-place updates.

python-telegram-bot is asyncio; the delivery loop is a thread, so each call is run on the
web server's event loop (where the Application lives) and waited for. Flood limits are
respected by pacing sends (30 a second overall, 20 a minute per group) and by honouring
Telegram's RetryAfter.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest, RetryAfter

from bot.cards import CardView, DigestView
from bot.delivery import Target
from bot.offers import OfferView

LIMIT = 4096  # characters in one Telegram message
PREVIEW_LINES = 12


class Pacer:
    """Telegram's published limits: ~30 messages/s per bot, 20 messages/minute per group."""

    def __init__(
        self,
        per_second: float = 30.0,
        group_per_minute: int = 20,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.gap = 1.0 / per_second
        self.group_per_minute = group_per_minute
        self.sleep, self.now = sleep, now
        self.last = -1e9
        self.groups: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def wait(self, chat_id: str) -> None:
        with self.lock:
            delay = max(0.0, self.last + self.gap - self.now())
            if chat_id.startswith("-"):  # group and channel ids are negative
                sent = self.groups.setdefault(chat_id, deque())
                while sent and self.now() - sent[0] >= 60:
                    sent.popleft()
                if len(sent) >= self.group_per_minute:
                    delay = max(delay, 60 - (self.now() - sent[0]))
            if delay > 0:
                self.sleep(delay)
            self.last = self.now()
            if chat_id.startswith("-"):
                self.groups[chat_id].append(self.last)


def card_text(view: CardView) -> str:
    card, draft = view.card, view.draft
    lines = [view.intro, ""] if view.intro else []
    lines.append(f"{card.question} (approval #{view.approval_id})")
    hint = f"/edit {view.approval_id} to=name@example.com"
    lines.append(f"To: {draft.to if view.can_approve else f'(no e-mail address — add one: {hint})'}")
    lines.append(f"Subject: {draft.subject}")
    lines.extend(card.details)
    if card.comparison:
        lines.append(card.comparison)
    if card.constraints:
        lines.append("Client constraints: " + "; ".join(card.constraints))
    body = draft.body.splitlines()
    lines.append("── draft ──")
    lines.extend(body[:PREVIEW_LINES])
    if len(body) > PREVIEW_LINES:
        lines.append(f"… ({len(body) - PREVIEW_LINES} more lines)")
    if view.decision:
        footer = view.decision.line("telegram")
    elif view.can_approve:
        footer = f"To change it: /edit {view.approval_id} …"
    else:
        footer = f"It needs an e-mail address before it can be approved: {hint}"
    text = "\n".join(lines)
    return text[: LIMIT - len(footer) - 3] + "\n\n" + footer


def keyboard(approval_id: int, can_approve: bool = True) -> InlineKeyboardMarkup:
    """Approve/Reject; without an e-mail address only Reject (the text says how to add one)."""
    approve = [InlineKeyboardButton("Approve", callback_data=f"coo:approve:{approval_id}")] if can_approve else []
    return InlineKeyboardMarkup([[*approve, InlineKeyboardButton("Reject", callback_data=f"coo:reject:{approval_id}")]])


def digest_keyboard(view: DigestView) -> InlineKeyboardMarkup:
    """A row per waiting approval, with the cards' own callback data."""
    return InlineKeyboardMarkup(
        [
            [
                *(
                    [
                        InlineKeyboardButton(
                            f"Approve #{item.approval_id}", callback_data=f"coo:approve:{item.approval_id}"
                        )
                    ]
                    if item.can_approve
                    else []
                ),
                InlineKeyboardButton(f"Reject #{item.approval_id}", callback_data=f"coo:reject:{item.approval_id}"),
            ]
            for item in view.approvals
        ]
        + [[InlineKeyboardButton(offer.label, callback_data=offer.action)] for offer in view.offers]
    )


class TelegramOutbound:
    platform = "telegram"

    def __init__(
        self, bot: Bot, loop: asyncio.AbstractEventLoop, operators: frozenset[str], pacer: Pacer | None = None
    ) -> None:
        self.bot = bot
        self.loop = loop
        self.operators = operators
        self.pacer = pacer or Pacer()

    def _run(self, chat_id: str, call: Callable[[], Awaitable[Any]]) -> Any:
        for _ in range(3):
            self.pacer.wait(chat_id)
            try:
                return asyncio.run_coroutine_threadsafe(_await(call), self.loop).result(timeout=60)
            except RetryAfter as exc:
                wait = exc.retry_after
                time.sleep(min(wait.total_seconds() if isinstance(wait, timedelta) else float(wait), 60.0))
        raise RuntimeError(f"Telegram kept asking to slow down for chat {chat_id}")

    def thread_target(self, thread_id: str, reply_to: str | None) -> Target:
        return Target(chat_id=thread_id, reply_to=reply_to)

    def operator_targets(self) -> list[Target]:
        # A private chat's id is the user's id: operators who have started the bot can be written to.
        return [Target(chat_id=user) for user in sorted(self.operators)]

    def _reply(self, target: Target) -> ReplyParameters | None:
        if not target.reply_to:
            return None
        return ReplyParameters(message_id=int(target.reply_to), allow_sending_without_reply=True)

    def post_text(self, target: Target, text: str, ephemeral_to: str | None = None) -> str:
        sent = self._run(
            target.chat_id,
            lambda: self.bot.send_message(
                chat_id=target.chat_id, text=text[:LIMIT], reply_parameters=self._reply(target)
            ),
        )
        return f"{sent.chat_id}|{sent.message_id}"

    def post_card(self, target: Target, view: CardView) -> str:
        sent = self._run(
            target.chat_id,
            lambda: self.bot.send_message(
                chat_id=target.chat_id,
                text=card_text(view),
                reply_parameters=self._reply(target),
                reply_markup=keyboard(view.approval_id, view.can_approve),
            ),
        )
        return f"{sent.chat_id}|{sent.message_id}"

    def post_digest(self, target: Target, view: DigestView) -> str:
        more = f"\n\n{view.more_line}" if view.more else ""
        text = view.text[: LIMIT - len(more)] + more
        sent = self._run(
            target.chat_id,
            lambda: self.bot.send_message(
                chat_id=target.chat_id,
                text=text,
                reply_parameters=self._reply(target),
                reply_markup=digest_keyboard(view),
            ),
        )
        return f"{sent.chat_id}|{sent.message_id}"

    def post_offer(self, target: Target, view: OfferView) -> str:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(view.label, callback_data=view.action)]])
        sent = self._run(
            target.chat_id,
            lambda: self.bot.send_message(
                chat_id=target.chat_id,
                text=view.text[:LIMIT],
                reply_parameters=self._reply(target),
                reply_markup=markup,
            ),
        )
        return f"{sent.chat_id}|{sent.message_id}"

    def update_card(self, ref: str, view: CardView) -> None:
        chat_id, _, message_id = ref.partition("|")
        markup = None if view.decision else keyboard(view.approval_id, view.can_approve)
        try:
            # Without reply_markup, editMessageText also drops the inline keyboard.
            self._run(
                chat_id,
                lambda: self.bot.edit_message_text(
                    text=card_text(view), chat_id=chat_id, message_id=int(message_id), reply_markup=markup
                ),
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise


async def _await(call: Callable[[], Awaitable[Any]]) -> Any:
    return await call()
