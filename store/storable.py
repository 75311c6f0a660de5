"""Text the databases can store, whatever arrived: PostgreSQL refuses NUL characters (in text
and in JSON) and both databases refuse lone UTF-16 surrogates (a Telegram or Slack client can
send "\\ud800" in JSON). Rather than lose the operator's message, the NUL goes and a lone
surrogate becomes U+FFFD; secrets are masked on the way (store.redaction)."""

from __future__ import annotations

import re
from typing import Any

from store import redaction

LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable_text(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii() and LONE_SURROGATE.search(text):
        text = LONE_SURROGATE.sub(REPLACEMENT, text)
    if redaction.registered():
        text = redaction.redact(text)
    return text


def storable(value: Any) -> Any:
    """``value`` with every string in it storable (dicts and lists copied only when changed)."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        cleaned = {storable(k) if isinstance(k, str) else k: storable(v) for k, v in value.items()}
        unchanged = len(cleaned) == len(value) and all(k in value and cleaned[k] is value[k] for k in cleaned)
        return value if unchanged else cleaned
    if isinstance(value, list | tuple):
        items = [storable(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value
