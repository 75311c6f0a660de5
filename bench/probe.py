"""Where a run's time goes: ledger appends and checkpoint writes, per graph step.

Timing a graph "without persistence" would mean a different graph, so instead the probe wraps
the persistence calls of one live runtime (bench only, instance attributes, nothing global)
and splits the supervisor's run time: time inside ``Ledger.append`` and inside the
checkpointer's writes, divided by the number of graph nodes executed.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from bot.runtime import Runtime

# Checkpointer methods that write; get_tuple/list are reads and reported apart.
CHECKPOINT_WRITES: tuple[str, ...] = ("put", "put_writes", "delete_thread")
CHECKPOINT_READS: tuple[str, ...] = ("get_tuple",)


@dataclass
class Timer:
    calls: int = 0
    seconds: float = 0.0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        return timed


class _RunScope(threading.local):
    """Whether this thread is inside Supervisor.start/resume (intake appends happen outside)."""

    depth = 0


class StepCounter(BaseCallbackHandler):
    """Counts graph node executions (not the routing functions, which LangGraph also reports)."""

    def __init__(self) -> None:
        self.steps = 0

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        node = (metadata or {}).get("langgraph_node")
        # A node's own run is tagged graph:step:N; a routing function runs inside it as seq:step:N.
        if node and kwargs.get("name") == node and any(t.startswith("graph:step:") for t in tags or ()):
            self.steps += 1


@dataclass
class Probe:
    """Timers installed on one runtime; read the figures with :meth:`figures`."""

    ledger: Timer = field(default_factory=Timer)  # appends made while a run executes
    intake_ledger: Timer = field(default_factory=Timer)  # intent_received, edits: outside any run
    checkpoint_writes: dict[str, Timer] = field(default_factory=lambda: {m: Timer() for m in CHECKPOINT_WRITES})
    checkpoint_reads: Timer = field(default_factory=Timer)
    supervisor: Timer = field(default_factory=Timer)  # start() and resume(): the worker's share of a run
    counter: StepCounter = field(default_factory=StepCounter)
    scope: _RunScope = field(default_factory=_RunScope)

    def _scoped(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        timed = self.supervisor.wrap(fn)

        @functools.wraps(fn)
        def inside(*args: Any, **kwargs: Any) -> Any:
            self.scope.depth += 1
            try:
                return timed(*args, **kwargs)
            finally:
                self.scope.depth -= 1

        return inside

    def _ledger(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        in_run, intake = self.ledger.wrap(fn), self.intake_ledger.wrap(fn)

        @functools.wraps(fn)
        def append(*args: Any, **kwargs: Any) -> Any:
            return (in_run if self.scope.depth else intake)(*args, **kwargs)

        return append

    @classmethod
    def install(cls, runtime: Runtime) -> Probe:
        probe = cls()
        store = runtime.store
        # The conversation, the runner and the graph's nodes all hold this one Ledger object; a
        # batch of a run's events (append_many) is one statement, timed as one append.
        store.ledger.append = probe._ledger(store.ledger.append)  # type: ignore[method-assign]  # wrapped to time it
        store.ledger.append_many = probe._ledger(store.ledger.append_many)  # type: ignore[method-assign]
        saver = runtime.supervisor.checkpointer
        # The compiled graph holds the same saver object and looks its methods up per call.
        for name, timer in probe.checkpoint_writes.items():
            setattr(saver, name, timer.wrap(getattr(saver, name)))
        for name in CHECKPOINT_READS:
            setattr(saver, name, probe.checkpoint_reads.wrap(getattr(saver, name)))
        sup = runtime.supervisor
        sup.start = probe._scoped(sup.start)  # type: ignore[method-assign]  # wrapped to scope the timers
        sup.resume = probe._scoped(sup.resume)  # type: ignore[method-assign]  # wrapped to scope the timers
        config = sup._config

        def counted(run_id: str) -> dict[str, Any]:
            return {**config(run_id), "callbacks": [probe.counter]}

        sup._config = counted  # type: ignore[method-assign]  # adds the step counter to every run's config
        # A run that needs no approval runs its nodes as plain calls (Supervisor._direct), which
        # LangGraph's callbacks do not see: those are counted as they are called.
        table = sup.node_table

        def counted_nodes() -> dict[str, Any]:
            return {name: probe._counted_node(node) for name, node in table().items()}

        sup.node_table = counted_nodes  # this runtime's direct runs
        return probe

    def _counted_node(self, node: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(node)
        def run(*args: Any, **kwargs: Any) -> Any:
            self.counter.steps += 1
            return node(*args, **kwargs)

        return run

    def figures(self) -> dict[str, Any]:
        steps = self.counter.steps
        writes = sum(t.seconds for t in self.checkpoint_writes.values())
        run = self.supervisor.seconds

        def us(seconds: float, per: int) -> float | None:
            return round(seconds / per * 1e6, 1) if per else None

        def pct(seconds: float) -> float | None:  # None, not NaN: the JSON line must stay valid JSON
            return round(100 * seconds / run, 1) if run else None

        return {
            "graph_steps": steps,
            "supervisor_seconds": round(run, 4),
            "ledger_appends": self.ledger.calls,
            "intake_ledger_appends": self.intake_ledger.calls,
            "intake_ledger_us_per_append": us(self.intake_ledger.seconds, self.intake_ledger.calls),
            "ledger_us_per_append": us(self.ledger.seconds, self.ledger.calls),
            "ledger_us_per_step": us(self.ledger.seconds, steps),
            "checkpoint_writes": {n: t.calls for n, t in self.checkpoint_writes.items()},
            "checkpoint_write_us_per_step": us(writes, steps),
            "checkpoint_reads": self.checkpoint_reads.calls,
            "checkpoint_read_us_per_step": us(self.checkpoint_reads.seconds, steps),
            "supervisor_us_per_step": us(run, steps),
            "ledger_pct_of_run": pct(self.ledger.seconds),
            "checkpoint_write_pct_of_run": pct(writes),
            "checkpoint_read_pct_of_run": pct(self.checkpoint_reads.seconds),
        }
