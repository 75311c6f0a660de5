"""A payload's shape for logs: its keys and value types, never its values (tokens, text)."""

from __future__ import annotations

from typing import Any


def shape(value: Any, depth: int = 3) -> Any:
    """``{"event": {"type": "str", "files": ["dict"]}}``: enough to see what arrived."""
    if isinstance(value, dict):
        if depth <= 0:
            return "dict"
        return {str(k)[:40]: shape(v, depth - 1) for k, v in list(value.items())[:30]}
    if isinstance(value, list):
        return [shape(value[0], depth - 1)] if value and depth > 0 else "list"
    return type(value).__name__
