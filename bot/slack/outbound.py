"""Sending to Slack from the delivery thread: replies in threads, cards, in-place updates."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.cards import CardView, DigestView
from bot.delivery import Target
from bot.offers import OfferView
from bot.slack.adapter import split_thread
from bot.slack.blocks import card_blocks, card_fallback, digest_blocks, offer_blocks
from bot.slack.text import escape

LIMIT = 39000  # Slack truncates message text at 40,000 characters


class SlackOutbound:
    platform = "slack"

    def __init__(self, client: WebClient, operators: frozenset[str]) -> None:
        self.client = client
        self.operators = operators

    def thread_target(self, thread_id: str, reply_to: str | None) -> Target:
        channel, ts = split_thread(thread_id)
        return Target(chat_id=channel, thread=ts)

    def operator_targets(self) -> list[Target]:
        # chat.postMessage to a user id writes in the app's DM with that user.
        return [Target(chat_id=user) for user in sorted(self.operators)]

    def post_text(self, target: Target, text: str, ephemeral_to: str | None = None) -> str:
        body = escape(text)[:LIMIT]
        if ephemeral_to:
            sent = self.client.chat_postEphemeral(
                channel=target.chat_id, user=ephemeral_to, text=body, thread_ts=target.thread
            )
            return f"{target.chat_id}|{sent['message_ts']}"
        sent = self.client.chat_postMessage(channel=target.chat_id, thread_ts=target.thread, text=body)
        return f"{sent['channel']}|{sent['ts']}"

    def post_card(self, target: Target, view: CardView) -> str:
        sent = self.client.chat_postMessage(
            channel=target.chat_id, thread_ts=target.thread, text=card_fallback(view), blocks=card_blocks(view)
        )
        return f"{sent['channel']}|{sent['ts']}"

    def update_card(self, ref: str, view: CardView) -> None:
        channel, _, ts = ref.partition("|")
        self.client.chat_update(channel=channel, ts=ts, text=card_fallback(view), blocks=card_blocks(view))

    def post_digest(self, target: Target, view: DigestView) -> str:
        sent = self.client.chat_postMessage(
            channel=target.chat_id, thread_ts=target.thread, text=escape(view.text)[:LIMIT], blocks=digest_blocks(view)
        )
        return f"{sent['channel']}|{sent['ts']}"

    def post_offer(self, target: Target, view: OfferView) -> str:
        sent = self.client.chat_postMessage(
            channel=target.chat_id, thread_ts=target.thread, text=escape(view.text)[:LIMIT], blocks=offer_blocks(view)
        )
        return f"{sent['channel']}|{sent['ts']}"
