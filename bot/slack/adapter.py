"""The Slack adapter: a Bolt app whose listeners verify, normalise to an Envelope, and hand off.

Bolt verifies every request's signature and timestamp and drops the bot's own events; two
global middlewares (bot/slack/gate.py) drop other bots and edits and keep strangers out; the
listeners below only build Envelopes and save them (bot.intake) before the ack. Replies reach Slack through ``bot.delivery``. A bank or provider
CSV shared by an operator is queued as its ``files`` entry; the job downloads it (bot.slack.files).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltResponse
from slack_sdk import WebClient

from bot.intake import Intake, IntakeUnavailable
from bot.offers import OFFER_ACTION, tapped_command
from bot.payload_shape import shape
from bot.rfc822 import address, compose
from bot.slack.blocks import DIGEST_BLOCK, EDIT_CALLBACK, OFFER_BLOCK, edit_modal, offer_done_blocks
from bot.slack.files import file_entry, is_email_file, is_payments_export
from bot.slack.gate import RequireOperator, ignore_non_humans, thread_id
from bot.slack.text import from_slack
from graphs.approvals import Draft
from graphs.commands import Command, Decide, Edit, EditFields, Verdict
from graphs.envelope import Envelope
from store.models import Approval

log = logging.getLogger(__name__)

DECISION = re.compile(r"^coo:(approve|reject):(\d+)$")
EDIT = re.compile(r"^coo:edit:(\d+)$")


def _action_match(pattern: re.Pattern[str], action: dict[str, Any]) -> re.Match[str]:
    """The action id's groups; Bolt routes an action here only when its id matches ``pattern``."""
    match = pattern.match(action["action_id"])
    if match is None:
        raise ValueError(f"unexpected action id {action['action_id']!r}")
    return match


def split_thread(thread: str) -> tuple[str, str | None]:
    channel, _, ts = thread.partition(":")
    return channel, ts or None


class SlackAdapter:
    def __init__(
        self, app: App, intake: Intake, operators: frozenset[str], approval: Callable[[int], Approval | None]
    ) -> None:
        self.app = app
        self.intake = intake
        self.operators = operators
        self.approval = approval
        # Who may talk and what is a person talking: once, before any listener (bot/slack/gate.py).
        app.use(ignore_non_humans)
        app.use(RequireOperator(intake, operators))
        app.event("message")(self.on_message)
        app.event("app_mention")(self.on_mention)
        app.action(DECISION)(self.on_decision)
        app.action(EDIT)(self.on_edit)
        app.action(OFFER_ACTION)(self.on_offer)
        app.view(EDIT_CALLBACK)(self.on_edit_submit)
        app.error(self.on_error)

    def on_error(self, error: Exception, body: dict[str, Any]) -> BoltResponse:
        """Every listener's failure ends here, once: an input that could not be saved gets 503
        (Slack retries it); anything else is logged with the payload's shape and answered 200,
        since a retry of a payload coo cannot read would fail the same way."""
        if isinstance(error, IntakeUnavailable):
            return BoltResponse(status=503, body="not saved; please retry", headers={"Retry-After": "5"})
        log.error(
            "Slack request failed (%s: %s); payload shape: %s",
            type(error).__name__,
            str(error)[:200],
            shape(body),
            exc_info=not isinstance(error, KeyError | TypeError | ValueError | json.JSONDecodeError),
        )
        return BoltResponse(status=200, body="")

    # -- messages ---------------------------------------------------------------------------

    def on_message(self, event: dict[str, Any], body: dict[str, Any], context: Any) -> None:
        if self._emails(event, body):
            return
        bot = context.get("bot_user_id")
        direct = event.get("channel_type") == "im"
        if not direct and bot and f"<@{bot}>" in event.get("text", ""):
            return  # the app_mention event for the same message does the work
        self._message(event, body, addressed=direct, bot_user_id=bot)

    def on_mention(self, event: dict[str, Any], body: dict[str, Any], context: Any) -> None:
        self._message(event, body, addressed=True, bot_user_id=context.get("bot_user_id"))

    def _message(
        self, event: dict[str, Any], body: dict[str, Any], *, addressed: bool, bot_user_id: str | None
    ) -> None:
        env = Envelope(
            channel="slack",
            event_id=body["event_id"],
            thread_id=thread_id(event["channel"], event.get("thread_ts") or event["ts"]),
            user_id=event["user"],
            text=from_slack(event.get("text", ""), bot_user_id),
        )
        exports = [f for f in event.get("files") or [] if is_payments_export(f)]
        for file in exports:  # bank/provider CSVs: downloaded and reconciled by the queued job
            self.intake.shared_payments(
                file_entry(file),
                env.model_copy(update={"event_id": f"{env.event_id}:{file.get('id')}"}),
                addressed=addressed,
            )
        mails = [f for f in event.get("files") or [] if is_email_file(f)]
        for file in mails:  # .eml files: downloaded and filed as forwarded e-mail by the queued job
            self.intake.shared_email(
                file_entry(file),
                env.model_copy(update={"event_id": f"{env.event_id}:{file.get('id')}"}),
                addressed=addressed,
            )
        if not exports and not mails:
            self.intake.submit(env, addressed=addressed)

    def _emails(self, event: dict[str, Any], body: dict[str, Any]) -> bool:
        """E-mails sent to a channel's address arrive as e-mail file shares, posted by Slack's
        e-mail integration rather than a person; the mail is data and proposes work that still
        waits for the operator's approval, so it is taken whoever sent it."""
        files = [f for f in event.get("files") or [] if f.get("filetype") == "email" or f.get("mode") == "email"]
        for number, file in enumerate(files):
            headers = file.get("headers") or {}
            raw = compose(
                body=file.get("plain_text") or file.get("preview_plain_text") or file.get("preview") or "",
                sender=address(file["from"][0]) if file.get("from") else None,
                to=[address(a) for a in file.get("to") or []],
                cc=[address(a) for a in file.get("cc") or []],
                subject=file.get("subject") or file.get("title"),
                date=headers.get("date"),
                message_id=headers.get("message_id"),
                in_reply_to=headers.get("in_reply_to"),
            )
            env = Envelope(
                channel="slack",
                event_id=f"{body['event_id']}:{number}",
                thread_id=thread_id(event["channel"], event.get("thread_ts") or event["ts"]),
                user_id=event.get("user") or "slack-email",
                text=file.get("subject") or "e-mail",
            )
            self.intake.email(raw, env)
        return bool(files)

    # -- approval buttons -------------------------------------------------------------------

    def _tap(self, body: dict[str, Any], action: dict[str, Any], text: str, command: Command) -> Envelope:
        message = body.get("message") or {}
        channel = body["channel"]["id"]
        return Envelope(
            channel="slack",
            event_id=f"{action['action_id']}@{action['action_ts']}",
            thread_id=thread_id(channel, message.get("thread_ts") or body["container"]["message_ts"]),
            user_id=body["user"]["id"],
            text=text,
            command=command,
        )

    def on_decision(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        verb, number = _action_match(DECISION, action).groups()
        verdict: Verdict = "approve" if verb == "approve" else "reject"
        env = self._tap(
            body, action, f"(tapped {verb.capitalize()} on #{number})", Decide(approval_id=int(number), verdict=verdict)
        )
        # The card itself is updated in place once the decision is recorded: no "Approved." reply.
        # A tap in the daily digest (which is not updated) is answered in the digest's thread.
        from_digest = str(action.get("block_id") or "").startswith(DIGEST_BLOCK)
        self.intake.submit(env, post_ack=from_digest)

    def on_offer(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        """A tap on a policy suggestion's button: the operator's `/policy accept N` (the gate has
        already kept strangers out); the core checks the offer still stands and says what it did."""
        ack()
        number = int(_action_match(OFFER_ACTION, action).group(1))
        message = body.get("message") or {}
        channel = body["channel"]["id"]
        env = Envelope(
            channel="slack",
            event_id=f"{action['action_id']}@{action['action_ts']}",
            thread_id=thread_id(channel, message.get("thread_ts") or body["container"]["message_ts"]),
            user_id=body["user"]["id"],
            text=tapped_command(number),
        )
        self.intake.submit(env, post_ack=False)
        if not str(action.get("block_id") or "").startswith(OFFER_BLOCK):
            return  # a digest's review button: the digest stays as it is; the reply says the outcome
        # The button goes at once, so a second tap can't race the first; the reply says the outcome.
        text = str(message.get("text") or "")
        outcome = f"Tapped by <@{body['user']['id']}>: the reply below says what changed."
        client.chat_update(
            channel=channel, ts=body["container"]["message_ts"], text=text, blocks=offer_done_blocks(text, outcome)
        )

    def on_edit(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        number = int(_action_match(EDIT, action).group(1))
        env = self._tap(body, action, f"(tapped Edit on #{number})", Edit(approval_id=number, fields=EditFields()))
        approval = self.approval(number)
        if approval is None or approval.status != "pending":
            # Let the core say who decided it and when, in the thread.
            self.intake.submit(env, post_ack=False)
            return
        channel, ts = split_thread(env.thread_id)
        # trigger_id expires after 3 s: the modal has to open now, not from the queue.
        client.views_open(
            trigger_id=body["trigger_id"],
            view=edit_modal(number, Draft.model_validate(approval.draft), channel, ts or ""),
        )

    def on_edit_submit(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        user = body["user"]["id"]
        meta = json.loads(view["private_metadata"])
        values = view["state"]["values"]

        def field(name: str) -> str | None:
            block = values.get(name)
            return None if block is None else (block["value"].get("value") or "")

        to, subject, text = field("to"), field("subject"), field("body")
        # Only what the operator changed: an untouched field must not overwrite a newer draft.
        fields = EditFields(
            to=to.strip() if to is not None and to.strip() and to.strip() != meta.get("to") else None,
            subject=subject.strip()
            if subject is not None and subject.strip() and subject.strip() != meta.get("subject")
            else None,
            body=text if text is not None and text.strip() and text != meta.get("body") else None,
        )
        number = int(meta["approval_id"])
        env = Envelope(
            channel="slack",
            event_id=f"{view['id']}@{view.get('hash', '')}",
            thread_id=thread_id(meta["channel"], meta["thread_ts"]),
            user_id=user,
            text=f"(edited #{number} in the form: {', '.join(fields.changed()) or 'no change'})",
            command=Edit(approval_id=number, fields=fields),
        )
        if fields.changed():
            self.intake.submit(env, post_ack=False)


def build_slack_app(
    *,
    token: str,
    signing_secret: str | None,
    api_url: str,
    intake: Intake,
    operators: frozenset[str],
    approval: Callable[[int], Approval | None],
) -> SlackAdapter:
    """A Bolt app talking to ``api_url``; without a signing secret it serves Socket Mode only."""
    client = WebClient(token=token, base_url=api_url if api_url.endswith("/") else api_url + "/")
    app = App(
        client=client,
        signing_secret=signing_secret or "",
        request_verification_enabled=bool(signing_secret),
        # Listeners only enqueue, so running them before the HTTP response keeps the ack
        # honest (the work is queued when Slack hears 200) and still takes a millisecond or two.
        process_before_response=True,
        logger=logging.getLogger("coo.slack"),
    )
    return SlackAdapter(app, intake, operators, approval)
