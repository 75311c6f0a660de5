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


_SEQUENCES = (list, tuple)


def storable(value: Any) -> Any:
    """``value`` with every string in it storable (dicts and lists copied only when changed)."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        changed = False
        cleaned: dict[Any, Any] = {}
        for key, item in value.items():
            new_key = storable_text(key) if isinstance(key, str) else key
            new_item = storable(item)
            changed = changed or new_key is not key or new_item is not item
            cleaned[new_key] = new_item
        return cleaned if changed else value
    if isinstance(value, _SEQUENCES):
        items = [storable(item) for item in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value
