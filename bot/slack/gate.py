"""Who may talk to coo on Slack and what counts as a person talking: two Bolt global
middlewares, run before any listener, so no listener repeats these rules.

* ``ignore_non_humans``: bot posts, message edits, joins and deletions are not a person
  writing; they are acknowledged and dropped. E-mail shares (Slack's e-mail integration posts
  them, not a person) pass: an e-mail is data, taken whoever sent it.
* ``RequireOperator``: anyone but the operators is refused politely where they addressed coo
  (a DM, a mention, a button, a form) and ignored in channel chatter; nothing else happens.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltResponse

from bot.intake import Intake
from bot.slack.text import from_slack
from graphs.envelope import Envelope

# Message subtypes that are a person writing; edits, joins, deletions and bot posts are not.
HUMAN_SUBTYPES = (None, "file_share", "thread_broadcast")

Next = Callable[[], BoltResponse]


def thread_id(channel: str, thread_ts: str) -> str:
    """coo's thread id for a Slack thread; ``bot.delivery`` splits it back."""
    return f"{channel}:{thread_ts}"


def is_email_share(event: dict[str, Any]) -> bool:
    files = event.get("files")
    return isinstance(files, list) and any(
        isinstance(f, dict) and (f.get("filetype") == "email" or f.get("mode") == "email") for f in files
    )


def ignore_non_humans(body: dict[str, Any], next: Next) -> BoltResponse:  # noqa: A002 (Bolt's name)
    event = body.get("event")
    if not isinstance(event, dict) or is_email_share(event):
        return next()
    if event.get("bot_id") or not event.get("user"):
        return BoltResponse(status=200, body="")
    if event.get("type") == "message" and event.get("subtype") not in HUMAN_SUBTYPES:
        return BoltResponse(status=200, body="")
    return next()


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class RequireOperator:
    """Only the operators' events, taps and forms reach the listeners."""

    def __init__(self, intake: Intake, operators: frozenset[str]) -> None:
        self.intake = intake
        self.operators = operators

    def __call__(self, body: dict[str, Any], context: dict[str, Any], next: Next) -> BoltResponse:  # noqa: A002
        event = body.get("event")
        if isinstance(event, dict):
            user = event.get("user")
            if user is None or user in self.operators or is_email_share(event):
                return next()
            # Strangers chatting in a channel are not refused, just not heard; a mention comes
            # as app_mention too, and that one is answered.
            if event.get("type") == "app_mention" or event.get("channel_type") == "im":
                self.intake.refuse(self._event_envelope(body, event, context.get("bot_user_id")), ephemeral=True)
            return BoltResponse(status=200, body="")
        user = _dict(body.get("user")).get("id")
        if user is None or user in self.operators:
            return next()
        envelope = self._interaction_envelope(body, str(user))
        if envelope is not None:
            self.intake.refuse(envelope, ephemeral=True)
        return BoltResponse(status=200, body="")

    @staticmethod
    def _event_envelope(body: dict[str, Any], event: dict[str, Any], bot_user_id: str | None) -> Envelope:
        return Envelope(
            channel="slack",
            event_id=str(body.get("event_id") or event.get("ts")),
            thread_id=thread_id(str(event.get("channel")), str(event.get("thread_ts") or event.get("ts"))),
            user_id=str(event["user"]),
            text=from_slack(str(event.get("text") or ""), bot_user_id),
        )

    @staticmethod
    def _interaction_envelope(body: dict[str, Any], user: str) -> Envelope | None:
        """Where a stranger's tap or form came from; None when the payload does not say."""
        view = _dict(body.get("view"))
        if view:
            try:
                meta = _dict(json.loads(view.get("private_metadata") or "{}"))
            except ValueError:
                meta = {}
            channel, ts = meta.get("channel"), meta.get("thread_ts")
            event_id = f"{view.get('id')}@{view.get('hash', '')}"
        else:
            message, container = _dict(body.get("message")), _dict(body.get("container"))
            channel = _dict(body.get("channel")).get("id") or container.get("channel_id")
            ts = message.get("thread_ts") or container.get("message_ts")
            actions = body.get("actions") if isinstance(body.get("actions"), list) else []
            action = _dict(actions[0]) if actions else {}
            event_id = f"{action.get('action_id')}@{action.get('action_ts')}"
        if not channel or not ts:
            return None
        return Envelope(
            channel="slack",
            event_id=event_id,
            thread_id=thread_id(str(channel), str(ts)),
            user_id=user,
            text="(a tap or form from someone who is not an operator)",
        )
