"""Slack's message markup in and out: what the operator typed, and mrkdwn-safe replies."""

from __future__ import annotations

import html
import re

_ANGLE = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def from_slack(text: str, bot_user_id: str | None = None) -> str:
    """Slack's wire format → what the operator sees: links, mentions and escapes resolved."""

    def resolve(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            return "" if target[1:] == bot_user_id else f"@{label or target[1:]}"
        if target.startswith("#"):
            return f"#{label or target[1:]}"
        if target.startswith("!"):
            return f"@{(label or target[1:]).split('^')[0]}"
        if target.startswith("mailto:"):
            return label or target.removeprefix("mailto:")
        return label or target

    return html.unescape(_ANGLE.sub(resolve, text)).strip()


def escape(text: str) -> str:
    """Plain text → mrkdwn that shows exactly that text (Slack wants &, < and > escaped)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
