"""The human-readable tables of `coo bench` (the JSON line carries the same figures)."""

from __future__ import annotations

from typing import Any

from bench.mix import KINDS


def _v(value: Any, suffix: str = "") -> str:
    """A figure for a cell; '-' where there was nothing to measure."""
    return "-" if value is None else f"{value}{suffix}"


def _row(cells: list[Any], widths: list[int]) -> str:
    first, *rest = cells
    return f"  {str(first):<{widths[0]}}" + "".join(f"{str(c):>{w}}" for c, w in zip(rest, widths[1:], strict=True))


def _table(title: str, header: list[str], rows: list[list[Any]], widths: list[int]) -> list[str]:
    return [title, _row(header, widths), *(_row(r, widths) for r in rows), ""]


def _parse(figures: dict[str, Any]) -> list[str]:
    rows = [
        [
            name,
            f["messages"],
            f["us_per_msg"],
            f["msgs_per_s"],
            f["baseline_json_dumps_us"],
            f"{f['ratio_to_json_dumps']}×",
        ]
        for name, f in figures.items()
        if isinstance(f, dict)
    ]
    lines = _table(
        "Offline intent parse (best of rounds)",
        ["corpus", "msgs", "µs/msg", "msgs/s", "json.dumps µs", "parse/dumps"],
        rows,
        [16, 7, 9, 9, 15, 13],
    )
    if "note" in figures:
        lines.insert(-1, f"  ({figures['note']})")
    return lines


def _latency(targets: dict[str, dict[str, Any]]) -> list[str]:
    rows = []
    for name, t in targets.items():
        lat = t.get("latency")
        if not lat:
            continue
        r, w = lat["reply_ms"], lat.get("written_ms") or {}
        rows.append(
            [
                name,
                lat["messages"],
                r["p50"],
                r["p95"],
                r["mean"],
                r["max"],
                w.get("p50", "-"),
                w.get("p95", "-"),
                lat["unexpected_replies"],
            ]
        )
    lines = _table(
        "Message → reply, ms (reply = printed by the console; written = reply row stored)",
        ["target", "n", "p50", "p95", "mean", "max", "written p50", "written p95", "odd"],
        rows,
        [30, 5, 8, 8, 8, 8, 13, 13, 5],
    )
    kind_rows = []
    for kind in KINDS:
        cells: list[Any] = [kind]
        for t in targets.values():
            k = (t.get("latency") or {}).get("by_kind", {}).get(kind)
            if t.get("latency"):
                cells.append(f"{k['p50']} / {k['p95']}" if k else "-")
        kind_rows.append(cells)
    names = [n for n, t in targets.items() if t.get("latency")]
    lines += _table(
        "  by what the operator did: p50 / p95 ms",
        ["kind", *names],
        kind_rows,
        [12, *[max(len(n) + 2, 18) for n in names]],
    )
    for name, t in targets.items():
        for example in (t.get("latency") or {}).get("unexpected_examples", []):
            lines.insert(-1, f"  odd reply on {name}: {example}")
    return lines


def _persistence(targets: dict[str, dict[str, Any]]) -> list[str]:
    rows = []
    for name, t in targets.items():
        p = t.get("persistence")
        if p:
            rows.append(
                [
                    name,
                    p["graph_steps"],
                    _v(p["supervisor_us_per_step"]),
                    _v(p["ledger_us_per_step"]),
                    _v(p["ledger_pct_of_run"], "%"),
                    _v(p["checkpoint_write_us_per_step"]),
                    _v(p["checkpoint_write_pct_of_run"], "%"),
                    _v(p["checkpoint_read_us_per_step"]),
                    _v(p["ledger_us_per_append"]),
                ]
            )
    return _table(
        "Persistence per graph step, µs (share of the supervisor's run time)",
        ["target", "steps", "run/step", "ledger", "ledger %", "ckpt write", "write %", "ckpt read", "µs/append"],
        rows,
        [30, 7, 10, 9, 10, 12, 9, 11, 11],
    )


def _storage(targets: dict[str, dict[str, Any]]) -> list[str]:
    rows = []
    for name, t in targets.items():
        s = t.get("storage")
        if s:
            rows.append(
                [
                    name,
                    s["runs"],
                    s["finished_runs"],
                    s["checkpoint_bytes_per_finished_run"],
                    s["waiting_runs"],
                    s["checkpoint_bytes_per_waiting_run"],
                    s["ledger_bytes_per_run"],
                    s["ledger_events_per_run"],
                ]
            )
    lines = _table(
        "Storage per run, bytes",
        ["target", "runs", "finished", "ckpt B/finished", "waiting", "ckpt B/waiting", "ledger B/run", "events/run"],
        rows,
        [30, 6, 10, 17, 9, 16, 14, 12],
    )
    for name, t in targets.items():
        rel = (t.get("storage") or {}).get("relation_bytes")
        if rel:
            sizes = ", ".join(f"{k} {v / 1024:.0f} KiB" for k, v in rel.items())
            lines.insert(-1, f"  {name} relations on disk (with indexes, unvacuumed rows): {sizes}")
    return lines


def _tokens(t: dict[str, Any]) -> list[str]:
    lines = [
        f"Tokens per intent on the small tier ({t['tier']}; ≈ tokens = words + punctuation marks)",
        f"  {t['intents']} intents: prompt {t['prompt_tokens_per_intent']} "
        f"in {t['calls_per_intent']} calls (the kind, then only its fields; per call: messages "
        f"{t['prompt_message_tokens']} + tool schema {t['prompt_schema_tokens']}; the kind schema is "
        f"{t['prompt_schema_chars']} characters), "
        f"completion {t['completion_tokens_per_intent']}; model failures {t['model_failures']}",
        "  by kind (prompt / completion): "
        + ", ".join(f"{k} {v['prompt']:.0f}/{v['completion']:.0f}" for k, v in t["by_kind"].items()),
        f"  same prompts again: {t['repeat_cache_hits']} answered by the output cache (0 tokens)",
        "  calls booked to runs, from the ledger (prompt / completion per call): "
        + (
            ", ".join(f"{k} ×{v['n']} {v['prompt']:.0f}/{v['completion']:.0f}" for k, v in t["in_run_calls"].items())
            or "none"
        ),
        f"  source: {t['source']}",
        "",
    ]
    return lines


def render(result: dict[str, Any]) -> str:
    lines: list[str] = []
    if "parse" in result:
        lines += _parse(result["parse"])
    targets = result.get("targets", {})
    if targets:
        lines += _latency(targets) + _persistence(targets) + _storage(targets)
    for name, t in targets.items():
        if "error" in t:
            lines.append(f"{name}: FAILED — {t['error']}")
        if "skipped" in t:
            lines.append(f"{name}: skipped — {t['skipped']}")
    if "tokens" in result:
        lines += _tokens(result["tokens"])
    return "\n".join(lines).rstrip() + "\n"
