"""Block Kit for coo's approval cards, the digest's approval buttons and the Edit modal."""

from __future__ import annotations

import json
from typing import Any

from bot.cards import CardView, DigestView
from bot.offers import OfferView
from bot.slack.text import escape
from graphs.approvals import Draft

EDIT_CALLBACK = "coo_edit"
DIGEST_BLOCK = "coo_digest_"  # block_id prefix of the digest's button rows
OFFER_BLOCK = "coo_offer_"  # block_id prefix of a policy suggestion's button
PREVIEW_LINES = 12
SECTION_LIMIT = 2900  # Slack allows 3000 characters in a section's text
INPUT_LIMIT = 3000  # ... and in a plain-text input
MAX_BLOCKS = 50  # blocks in one message


def _section(text: str) -> dict[str, Any]:
    if len(text) > SECTION_LIMIT:
        text = text[: SECTION_LIMIT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _preview(draft: Draft) -> str:
    lines = draft.body.splitlines()
    shown = "\n".join(lines[:PREVIEW_LINES])
    more = f"\n… ({len(lines) - PREVIEW_LINES} more lines)" if len(lines) > PREVIEW_LINES else ""
    return "```" + escape(shown)[: SECTION_LIMIT - 100] + escape(more) + "```"


def card_blocks(view: CardView) -> list[dict[str, Any]]:
    """The card: what, to whom, how much, the draft; buttons while pending, the decision after."""
    card, draft = view.card, view.draft
    blocks: list[dict[str, Any]] = []
    if view.intro:
        blocks.append(_section(escape(view.intro)))
    blocks.append(_section(f"*{escape(card.question)}*  _(approval #{view.approval_id})_"))
    to = escape(draft.to or "") if view.can_approve else "_no e-mail address — Add an address to send it_"
    blocks.append(
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*To*\n{to}"},
                {"type": "mrkdwn", "text": f"*Subject*\n{escape(draft.subject)[:1900]}"},
            ],
        }
    )
    facts = [escape(d) for d in card.details]
    if card.comparison:
        facts.append(escape(card.comparison))
    if card.constraints:
        facts.append("Client constraints: " + escape("; ".join(card.constraints)))
    if facts:
        blocks.append(_section("\n".join(facts)))
    blocks.append(_section(_preview(draft)))
    if view.decision is None:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"coo_approval_{view.approval_id}",
                "elements": _decision_buttons(view.approval_id, view.can_approve),
            }
        )
    else:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": view.decision.line("slack")}]})
    return blocks


def card_fallback(view: CardView) -> str:
    """The notification / screen-reader text of a card message."""
    if view.decision is not None:
        return f"{view.card.title} — {view.decision.line('text')}"
    return f"Approval #{view.approval_id} needed: {view.card.question}"


def digest_blocks(view: DigestView) -> list[dict[str, Any]]:
    """The digest's text, then per waiting approval its title and the card's own buttons (same
    action ids and values, so the card's interaction handlers decide it)."""
    buttons: list[dict[str, Any]] = [{"type": "divider"}]
    for item in view.approvals:
        buttons.append(_section(f"*#{item.approval_id}* {escape(item.title)}"))
        buttons.append(
            {
                "type": "actions",
                "block_id": f"{DIGEST_BLOCK}{item.approval_id}",
                "elements": _decision_buttons(item.approval_id, item.can_approve),
            }
        )
    if view.more:
        buttons.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(view.more_line)}]})
    if view.offers:
        elements = [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": o.label},
                "action_id": o.action,
                "value": str(o.id),
            }
            for o in view.offers[:25]  # Slack's limit of elements in one actions block
        ]
        buttons.append({"type": "actions", "block_id": "coo_review_offers", "elements": elements})
    text = [_section(chunk) for chunk in _chunks(escape(view.text), SECTION_LIMIT)]
    return text[: MAX_BLOCKS - len(buttons)] + buttons


def offer_blocks(view: OfferView) -> list[dict[str, Any]]:
    """A policy suggestion and its one button (the tap is the operator's `/policy accept N`)."""
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": view.label},
        "action_id": view.action,
        "value": str(view.offer_id),
        "style": "primary",
    }
    text = [_section(chunk) for chunk in _chunks(escape(view.text), SECTION_LIMIT)][: MAX_BLOCKS - 1]
    return [*text, {"type": "actions", "block_id": f"{OFFER_BLOCK}{view.offer_id}", "elements": [button]}]


def offer_done_blocks(text: str, outcome: str) -> list[dict[str, Any]]:
    """The suggestion once tapped: its text, the button gone, what the tap did (both already
    Slack markup: the text as Slack sent it back, the outcome with a user mention)."""
    return [_section(text), {"type": "context", "elements": [{"type": "mrkdwn", "text": outcome}]}]


def _chunks(text: str, size: int) -> list[str]:
    """``text`` in pieces of at most ``size`` characters, cut at line ends where possible."""
    chunks: list[str] = []
    while len(text) > size:
        cut = text.rfind("\n", 0, size)
        cut = cut if cut > 0 else size
        chunks.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*chunks, text] if text else chunks


def _decision_buttons(approval_id: int, can_approve: bool) -> list[dict[str, Any]]:
    """Approve/Edit/Reject; without an e-mail address, "Add an address" (the Edit form) instead."""
    if not can_approve:
        return [
            _button("Add an address", "edit", approval_id, "primary"),
            _button("Reject", "reject", approval_id, "danger"),
        ]
    return [
        _button("Approve", "approve", approval_id, "primary"),
        _button("Edit", "edit", approval_id),
        _button("Reject", "reject", approval_id, "danger"),
    ]


def _button(label: str, verb: str, approval_id: int, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": f"coo:{verb}:{approval_id}",
        "value": str(approval_id),
    }
    if style:
        button["style"] = style
    return button


def edit_modal(approval_id: int, draft: Draft, channel: str, thread_ts: str) -> dict[str, Any]:
    """The Edit modal, prefilled with the draft; where to reply rides in private_metadata."""
    meta = json.dumps(
        {
            "approval_id": approval_id,
            "channel": channel,
            "thread_ts": thread_ts,
            "to": draft.to or "",
            "subject": draft.subject,
            "body": draft.body,
        }
    )
    blocks: list[dict[str, Any]] = [
        _input("to", "To", draft.to or "", optional=True),
        _input("subject", "Subject", draft.subject),
    ]
    if len(draft.body) <= INPUT_LIMIT:
        blocks.append(_input("body", "Draft", draft.body, multiline=True))
    else:
        blocks.append(
            _section(
                f"The draft is too long to edit here; reply `/edit {approval_id} <new text>` in the thread instead."
            )
        )
    if len(meta) > 3000:  # Slack's private_metadata limit: keep only what is needed to reply
        meta = json.dumps({"approval_id": approval_id, "channel": channel, "thread_ts": thread_ts})
    return {
        "type": "modal",
        "callback_id": EDIT_CALLBACK,
        "private_metadata": meta,
        "title": {"type": "plain_text", "text": f"Edit approval #{approval_id}"[:24]},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def _input(block_id: str, label: str, value: str, *, multiline: bool = False, optional: bool = False) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "multiline": multiline}
    if value:
        element["initial_value"] = value[:INPUT_LIMIT]
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    }
