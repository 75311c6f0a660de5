"""`coo ledger`: runs, and the events of one run, readable by a person."""

from __future__ import annotations

import json

from store.facade import Store


def list_runs(store: Store, limit: int = 20) -> str:
    runs = store.runs.recent(limit)
    if not runs:
        return "No runs yet."
    lines = [f"{'RUN':<14} {'WHEN':<16} {'KIND':<16} {'STATUS':<17} SUMMARY"]
    for run in runs:
        when = store.clock.local(run.created_at).strftime("%Y-%m-%d %H:%M")
        summary = (run.summary or run.error or "").splitlines()[0][:70] if (run.summary or run.error) else ""
        lines.append(f"{run.id:<14} {when:<16} {run.kind:<16} {run.status:<17} {summary}")
    return "\n".join(lines)


def show_run(store: Store, run_id: str) -> str:
    run = store.runs.find(run_id)
    if run is not None:
        key = run.id
        lines = [f"Run {run.id} · {run.kind} · {run.status} · {run.channel} thread {run.thread_id}"]
        if run.error and run.status in ("failed", "sent_uncertain"):
            lines.append(f"  Why: {run.error}")
    else:
        # Work recorded in the ledger without a chat run: audits, imports, e-mail intake.
        key = run_id
        lines = [f"Ledger {run_id} (no chat run)"]
    events = store.ledger.events(key)
    if run is None and not events:
        return f"There is no run {run_id}. `coo ledger` lists the runs."
    for event in events:
        when = store.clock.local(event.created_at).strftime("%Y-%m-%d %H:%M:%S")
        payload = json.dumps(event.payload, ensure_ascii=False, default=str)
        if len(payload) > 160:
            payload = payload[:157] + "…"
        lines.append(f"  {when}  {event.kind:<22} {event.step:<18} {event.actor:<18} {payload}")
        if event.receipt:
            lines.append(f"  {'':19}  receipt: {json.dumps(event.receipt, default=str)}")
    usage = store.ledger.model_usage(key)
    if usage["calls"]:
        lines.append(
            f"  model calls: {int(usage['calls'])} · tokens {int(usage['prompt_tokens'])} in /"
            f" {int(usage['completion_tokens'])} out · ${usage['cost_usd']:.4f}"
        )
    return "\n".join(lines)
