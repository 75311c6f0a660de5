"""Who wrote a message the operator forwarded in Telegram, read from every shape Telegram uses.

Bot API 7+ sends ``forward_origin`` (a user, a user who hides their account, a group, a
channel); older payloads (and some clients' bridges) still carry ``forward_from``,
``forward_sender_name``, ``forward_from_chat`` and ``forward_signature``, which
python-telegram-bot keeps in ``api_kwargs``. Either way the author has a name, never an e-mail
address: the message is rebuilt as an e-mail from that name (graphs.chat_forward), which the
intake files as a note instead when the author hides their account (graphs.chat_note).
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, formataddr
from typing import Any

from telegram import Message

from bot.rfc822 import compose
from graphs.chat_forward import ChatForward, OriginKind


def _full_name(user: dict[str, Any]) -> str:
    return " ".join(str(user.get(k) or "").strip() for k in ("first_name", "last_name")).strip()


def _title(chat: Any) -> str:
    return str(getattr(chat, "title", None) or getattr(chat, "full_name", None) or getattr(chat, "username", "") or "")


def _from_origin(origin: Any) -> ChatForward | None:
    kind = getattr(origin, "type", None)
    signature = getattr(origin, "author_signature", None) or None
    if kind == "user" and origin.sender_user is not None:
        user = origin.sender_user
        return ChatForward(kind="user", name=user.full_name, username=user.username)
    if kind == "hidden_user":
        return ChatForward(kind="hidden_user", name=origin.sender_user_name)
    if kind == "chat" and origin.sender_chat is not None:
        return ChatForward(kind="chat", name=_title(origin.sender_chat), signature=signature)
    if kind == "channel" and origin.chat is not None:
        return ChatForward(kind="channel", name=_title(origin.chat), signature=signature)
    return None


def _from_legacy(extra: dict[str, Any]) -> ChatForward | None:
    user = extra.get("forward_from")
    if isinstance(user, dict) and _full_name(user):
        return ChatForward(kind="user", name=_full_name(user), username=user.get("username"))
    if extra.get("forward_sender_name"):
        return ChatForward(kind="hidden_user", name=str(extra["forward_sender_name"]))
    chat = extra.get("forward_from_chat")
    if isinstance(chat, dict):
        kind: OriginKind = "channel" if chat.get("type") == "channel" else "chat"
        title = str(chat.get("title") or chat.get("username") or "")
        if title:
            return ChatForward(kind=kind, name=title, signature=extra.get("forward_signature") or None)
    return None


def origin_of(message: Message) -> ChatForward | None:
    """The forwarded message's author, or None when the message is not a forward."""
    extra = dict(message.api_kwargs or {})
    if message.forward_origin is None and not any(key.startswith("forward_") for key in extra):
        return None
    forward = _from_origin(message.forward_origin) if message.forward_origin is not None else None
    forward = forward or _from_legacy(extra)
    if forward is None or not forward.name.strip():
        return ChatForward(kind="hidden_user", name="someone on Telegram")  # a forward with no name at all
    return forward


def _date(message: Message) -> datetime | None:
    if message.forward_origin is not None:
        return message.forward_origin.date
    stamp = (message.api_kwargs or {}).get("forward_date")
    return datetime.fromtimestamp(stamp, tz=UTC) if isinstance(stamp, int | float) else None


def as_email(message: Message, text: str, forward: ChatForward) -> bytes:
    """The forwarded message as an e-mail from its author's name (no address is invented)."""
    subject = next((line for line in text.splitlines() if line.strip()), "Forwarded message")[:120]
    when = _date(message)
    return compose(
        body=text,
        sender=formataddr((forward.person, "")),
        subject=subject,
        date=format_datetime(when) if when else None,
    )
