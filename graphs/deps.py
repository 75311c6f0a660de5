"""Run-scoped dependencies handed to the supervisor's nodes (never read from globals).

``Deps`` is the supervisor graph's LangGraph context schema: each run gets it as
``invoke(..., context=deps)`` and a step reads it as ``runtime.context``. A (frozen) dataclass,
one of the kinds LangGraph takes as a context schema; it is never serialised into a checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.embedders import Embedder
from agents.llm import ModelRunner
from agents.mailer import Mailer
from store.facade import Store
from store.working_memory import InProcessWorkingMemory, WorkingMemory


@dataclass(frozen=True)
class Deps:
    store: Store
    runner: ModelRunner
    mailer: Mailer
    sender_name: str
    embedder: Embedder | None = None  # semantic memory, fixed (tests); None: chosen per use (embedder_name)
    embedder_name: str = ""  # COO_EMBEDDER; unset: the memory's own embedder, else the default
    working_memory: WorkingMemory = field(default_factory=InProcessWorkingMemory)
    report_weekday: int = 5  # ISO weekday of the weekly client reports (COO_REPORT_WEEKDAY)
    large_review_over: float = 5000.0  # invoices of at least this get a large-tier review (COO_LARGE_REVIEW_OVER)
