"""Message → reply latency through the console adapter, as the operator experiences it.

Each line goes through ``ConsoleChat.send`` — the same path `coo chat` uses: the message is
handed to the core, the console waits for the run to settle and prints the reply rows. Two
figures per message:

- ``reply``: handoff → the reply printed (what the operator waits for);
- ``written``: handoff → the reply row's ``created_at`` (when the core had answered). The
  difference is the console's settle polling (it looks every 20 ms), not the core's work.
"""

from __future__ import annotations

import io
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import mean, median, quantiles
from typing import Any

from bench.mix import KINDS, fill, operator_lines
from bot.console import THREAD, ConsoleChat
from bot.runtime import Runtime

# Replies that mean the message did not do what the mix intended: counted, shown, never hidden.
_TROUBLE = (
    "Still working on it in the background",
    "Sorry — run",
    "I'm not sure what you'd like",
    "I couldn't save that",
)
WARMUP = "what's overdue?"  # one unrecorded line first, so one-time imports don't count


@dataclass(frozen=True)
class Sample:
    kind: str
    reply_s: float
    written_s: float | None
    ok: bool


def _ms(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    p95 = quantiles(ordered, n=20, method="inclusive")[-1] if len(ordered) > 1 else ordered[0]
    return {
        "p50": round(median(ordered) * 1000, 1),
        "p95": round(p95 * 1000, 1),
        "mean": round(mean(ordered) * 1000, 1),
        "max": round(ordered[-1] * 1000, 1),
    }


def _send(console: ConsoleChat, text: str) -> tuple[str, float, float | None]:
    console.out = io.StringIO()
    before = console.seen
    handed = datetime.now(UTC)
    started = time.perf_counter()
    console.send(text)
    elapsed = time.perf_counter() - started
    replies = console.runtime.store.conversations.messages_after("console", THREAD, before)
    written = (replies[-1].created_at - handed).total_seconds() if replies else None
    return console.out.getvalue(), elapsed, written


def drive(runtime: Runtime, count: int, progress_every: int = 0) -> dict[str, Any]:
    """Send ``count`` lines of the mix and summarise the latencies."""
    console = ConsoleChat(runtime, io.StringIO(), settle_timeout=60)
    _send(console, WARMUP)
    samples: list[Sample] = []
    trouble: list[str] = []
    skipped = 0
    last_reply = ""
    started = time.perf_counter()
    for n, line in enumerate(operator_lines(count), 1):
        text = fill(line, last_reply)
        if text is None:  # the card it should approve never came: already counted as trouble
            skipped += 1
            continue
        shown, elapsed, written = _send(console, text)
        ok = bool(shown.strip()) and not any(t in shown for t in _TROUBLE)
        if not ok and len(trouble) < 5:
            trouble.append(f"{text!r} → {shown.strip()[:160]!r}")
        samples.append(Sample(line.kind, elapsed, written, ok))
        last_reply = shown
        if progress_every and n % progress_every == 0:
            print(f"bench:   … {n}/{count}", file=sys.stderr, flush=True)
    wall = time.perf_counter() - started
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_kind[s.kind].append(s)
    return {
        "messages": len(samples),
        "skipped": skipped,
        "unexpected_replies": sum(not s.ok for s in samples),
        "unexpected_examples": trouble,
        "wall_seconds": round(wall, 2),
        "reply_ms": _ms([s.reply_s for s in samples]),
        "written_ms": _ms([s.written_s for s in samples if s.written_s is not None]),
        "by_kind": {k: {"n": len(by_kind[k]), **_ms([s.reply_s for s in by_kind[k]])} for k in KINDS if by_kind[k]},
    }


def drive_lines(runtime: Runtime, lines: list[str]) -> list[str]:
    """Send fixed lines through the console; returns what was printed for each."""
    console = ConsoleChat(runtime, io.StringIO(), settle_timeout=60)
    return [_send(console, text)[0] for text in lines]
