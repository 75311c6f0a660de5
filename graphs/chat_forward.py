"""A chat message the operator forwarded to coo (Telegram's "Forward"): mail to consider, from a
person known by name only.

Telegram tells who wrote a forwarded message (a user, a user who hides their account, a group
or a channel) but never an e-mail address. So the message is summarised like a forwarded
e-mail, linked to a client only on real evidence (a name alone is a question), and instead of a
reply draft to an address coo does not have, coo asks for the address: the operator's answer
completes the reply, which then waits for approval like any other. An author who hides their
account cannot be answered at all: that message is filed as a note (graphs.chat_note).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from graphs.intents import SendEmail, intent_to_dict
from store.facade import Store

OriginKind = Literal["user", "hidden_user", "chat", "channel"]
ADDRESS_FIELD = "to"


class ChatForward(BaseModel):
    """Who wrote the forwarded chat message, as the platform shows it."""

    platform: Literal["telegram"] = "telegram"
    kind: OriginKind
    name: str  # a person's name, a group's or channel's title; never an invented address
    username: str | None = None
    signature: str | None = None  # the author's signature on a channel or group post

    @property
    def platform_name(self) -> str:
        return self.platform.capitalize()

    def describe(self) -> str:
        """ "Lena Park (@lenap)", "Lena Park (account hidden)", "the channel “Acme News”"."""
        if self.kind == "channel":
            by = f", signed {self.signature}" if self.signature else ""
            return f"the channel “{self.name}”{by}"
        if self.kind == "chat":
            by = f"{self.signature} in " if self.signature else ""
            return f"{by}the group “{self.name}”"
        if self.kind == "hidden_user":
            return f"{self.name} (account hidden)"
        return f"{self.name} (@{self.username})" if self.username else self.name

    @property
    def person(self) -> str:
        """Whom a reply would go to: the author when a post is signed, else the name shown."""
        return self.signature if self.kind in ("chat", "channel") and self.signature else self.name


def address_question(forward: ChatForward) -> str:
    return (
        f"Nothing proposed yet: I have no e-mail address for {forward.person}. Tell me it and I'll draft a reply "
        "for your approval (or /cancel)."
    )


def ask_for_address(store: Store, thread_key: str, forward: ChatForward, subject: str, body: str, source: str) -> None:
    """Wait for the operator to give the address; their answer completes a reply draft (the
    conversation's usual clarifying-question path, so it still needs approval)."""
    draft = SendEmail(subject=subject, body=body)
    with store.db.transaction() as tx:
        store.conversations.ask(
            tx,
            thread_key,
            intent_to_dict(draft),
            [ADDRESS_FIELD],
            f"What is {forward.person}'s e-mail address?",
            source,
        )
