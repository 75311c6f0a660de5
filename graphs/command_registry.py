"""The chat commands: each one's name, arguments, who may run it and its help line, in one
registry that both dispatches ``/name …`` and writes ``/help``.

A command's handler turns the typed text after its name into the same typed command a button
or form produces (``graphs.commands``) and hands it to the conversation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from graphs.commands import Decide, EditError, EditFields, Verdict, parse_edit
from graphs.envelope import Envelope
from graphs.handled import Handled
from graphs.replies import HELP_EXAMPLES


class Conversation(Protocol):
    """What a command may ask of the conversation that dispatches it (graphs.conversation)."""

    def reply(self, env: Envelope, text: str, payload: dict[str, Any] | None = None) -> None: ...
    def say(self, env: Envelope, text: str) -> Handled: ...
    def cancel(self, env: Envelope) -> Handled: ...
    def cancel_run(self, env: Envelope, run_id: str) -> Handled: ...
    def decide(self, env: Envelope, command: Decide) -> Handled: ...
    def edit(self, env: Envelope, approval_id: int, fields: EditFields | None) -> Handled: ...
    def resend(self, env: Envelope, approval_id: int, to: str | None) -> Handled: ...
    def accept(self, env: Envelope, intent: dict[str, Any], text: str) -> Handled: ...
    def autonomy(self, env: Envelope, rest: str) -> str: ...
    def policy(self, env: Envelope, rest: str) -> str: ...
    def profile(self, env: Envelope, rest: str) -> str: ...
    def billing(self, env: Envelope, rest: str) -> str: ...
    def open_deliverables(self) -> str: ...
    def waiting_list(self) -> str: ...


Who = Literal["operator"]  # strangers are refused by the adapters before anything runs


@dataclass(frozen=True)
class ChatCommand:
    name: str
    args: str  # as shown in /help: "N", "[agent auto|ask]", ""
    help: str
    run: Callable[[Conversation, Envelope, str], Handled]
    who: Who = "operator"
    aliases: tuple[str, ...] = ()

    @property
    def usage(self) -> str:
        return f"/{self.name} {self.args}".rstrip()


def _approval_number(conversation: Conversation, env: Envelope, name: str, rest: str) -> int | None:
    number = rest.split(" ", 1)[0].lstrip("#")
    if number.isdigit():
        return int(number)
    conversation.reply(env, f"Which approval? Write /{name} N, e.g. /{name} 1.{conversation.waiting_list()}")
    return None


def _decide(verdict: Verdict) -> Callable[[Conversation, Envelope, str], Handled]:
    def run(conversation: Conversation, env: Envelope, rest: str) -> Handled:
        number = _approval_number(conversation, env, verdict, rest)
        if number is None:
            return Handled()
        return conversation.decide(env, Decide(approval_id=number, verdict=verdict))

    return run


def _edit(conversation: Conversation, env: Envelope, rest: str) -> Handled:
    number = _approval_number(conversation, env, "edit", rest)
    if number is None:
        return Handled()
    _, _, text = rest.partition(" ")
    try:
        fields = parse_edit(text) if text.strip() else None
    except EditError as exc:
        return conversation.say(env, str(exc))
    return conversation.edit(env, number, fields)


def _resend(conversation: Conversation, env: Envelope, rest: str) -> Handled:
    number = _approval_number(conversation, env, "resend", rest)
    if number is None:
        return Handled()
    _, _, text = rest.partition(" ")
    text = text.strip()
    if not text:
        return conversation.resend(env, number, None)
    key, eq, address = text.partition("=")
    if not eq or key.strip().lower() != "to" or not address.strip():
        return conversation.say(env, f"Write /resend {number} or /resend {number} to=name@example.com.")
    return conversation.resend(env, number, address.strip())


def _done(conversation: Conversation, env: Envelope, rest: str) -> Handled:
    number = rest.lstrip("#").split(" ")[0]
    if not number.isdigit():
        return conversation.say(env, conversation.open_deliverables())
    return conversation.accept(env, {"kind": "deliverable_done", "deliverable_id": int(number)}, f"/done {rest}")


def _undo(conversation: Conversation, env: Envelope, rest: str) -> Handled:
    return conversation.accept(env, {"kind": "undo"}, f"/undo {rest}".strip())


def _help(conversation: Conversation, env: Envelope, rest: str) -> Handled:
    return conversation.say(env, help_text())


def _cancel(conversation: Conversation, env: Envelope, rest: str) -> Handled:
    if rest.strip():
        return conversation.cancel_run(env, rest)
    return conversation.cancel(env)


def _autonomy(conversation: Conversation, env: Envelope, rest: str) -> Handled:
    return conversation.say(env, conversation.autonomy(env, rest))


def _policy(conversation: Conversation, env: Envelope, rest: str) -> Handled:
    return conversation.say(env, conversation.policy(env, rest))


def _profile(conversation: Conversation, env: Envelope, rest: str) -> Handled:
    return conversation.say(env, conversation.profile(env, rest))


def _billing(conversation: Conversation, env: Envelope, rest: str) -> Handled:
    return conversation.say(env, conversation.billing(env, rest))


COMMANDS: tuple[ChatCommand, ...] = (
    ChatCommand("approve", "N", "send or do what approval N proposes", _decide("approve")),
    ChatCommand("edit", "N field=value… | N new text", "change approval N's draft before deciding", _edit),
    ChatCommand("reject", "N", "drop what approval N proposes; nothing is sent", _decide("reject")),
    ChatCommand("resend", "N [to=address]", "try again to send approval N's e-mail that did not go out", _resend),
    ChatCommand("done", "N", "deliverable N is delivered (without N: the open ones)", _done),
    ChatCommand("autonomy", "[agent auto|ask]", "show or set which routine work may go out without asking", _autonomy),
    ChatCommand("policy", "[agent kind level …]", "show or set autonomy per agent and kind of work", _policy),
    ChatCommand("undo", "", "undo your last change (again: the one before)", _undo),
    ChatCommand("cancel", "[RUN]", "drop the question I asked (RUN: a paused run)", _cancel),
    ChatCommand(
        "profile", "[field=value…]", "show or set your details on invoices (name, address, VAT id, IBAN)", _profile
    ),
    ChatCommand(
        "billing", "CLIENT [field=value…]", "show or set a client's billing details (address, tax id, PO)", _billing
    ),
    ChatCommand("help", "", "this help", _help, aliases=("start",)),
)
REGISTRY: dict[str, ChatCommand] = {n: c for c in COMMANDS for n in (c.name, *c.aliases)}


def lookup(name: str) -> ChatCommand | None:
    return REGISTRY.get(name.lower())


def command_list() -> str:
    """One line: every command's usage."""
    return " · ".join(c.usage for c in COMMANDS)


def help_text() -> str:
    lines = [HELP_EXAMPLES, "Commands:"]
    lines.extend(f"  {c.usage} — {c.help}" for c in COMMANDS)
    lines.append("Nothing leaves the machine (e-mails, invoices, proposals) until you approve it.")
    return "\n".join(lines)
