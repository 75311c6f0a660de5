"""A list that code within a block adds to, through a context variable: what a step's model
calls changed (agents.llm), what the policy let a step do (graphs.confirm), whether an invoice
may have been settled (store.settling). Outside a block the variable holds None: nothing is
collected, and the code that adds knows it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")


@contextmanager
def collecting(var: ContextVar[list[T] | None]) -> Iterator[list[T]]:
    """Within the block, ``var`` holds a fresh list (yielded); the one before afterwards."""
    items: list[T] = []
    token = var.set(items)
    try:
        yield items
    finally:
        var.reset(token)
