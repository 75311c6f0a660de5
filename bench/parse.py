"""Offline intent-parse time per message, with an in-run baseline so slow machines compare.

Absolute µs depend on the machine and its load; the ratio to a fixed reference workload run
in the same process moments apart (``json.dumps`` of the very intent the parser produced,
i.e. the cheapest thing `coo parse -` must do per line anyway) is what stays comparable.
Each figure is the best of a few rounds: the minimum is the least disturbed by other work.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from graphs.intents import intent_to_dict
from graphs.offline_parser import OfflineParser
from graphs.parser_eval import DEFAULT_PHRASINGS_PATH, EVAL_TODAY

REPO = Path(__file__).resolve().parents[1]
CLINC_DEV = REPO.parent / "shared" / "corpora" / "clinc150" / "dev.jsonl"


def _texts(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh if line.strip()]


def _best_per_item(work: Callable[[Any], Any], items: Sequence[Any], rounds: int) -> float:
    """Seconds per item, best of ``rounds`` passes over ``items``."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for item in items:
            work(item)
        best = min(best, time.perf_counter() - started)
    return best / len(items)


def corpora(quick: bool) -> dict[str, list[str]]:
    """The realistic mix: every operator phrasing (repeated so a round is long enough to time),
    and everyday out-of-domain requests, which the parser must reject quickly too."""
    phrasings = _texts(DEFAULT_PHRASINGS_PATH)
    sets = {"phrasings": phrasings * (1 if quick else 5)}
    if CLINC_DEV.exists():
        clinc = _texts(CLINC_DEV)
        sets["clinc150_dev"] = clinc[:400] if quick else clinc
    return sets


def run(quick: bool) -> dict[str, Any]:
    parser = OfflineParser()
    rounds = 1 if quick else 3

    def parse(text: str) -> Any:
        return parser.parse(text, EVAL_TODAY)

    results: dict[str, Any] = {}
    sets = corpora(quick)
    sets["all"] = [t for texts in sets.values() for t in texts]
    for name, texts in sets.items():
        intents = [intent_to_dict(parse(t).intent) for t in texts]  # also warms every code path
        per_parse = _best_per_item(parse, texts, rounds)
        per_dump = _best_per_item(json.dumps, intents, rounds)
        per_lower = _best_per_item(str.lower, texts, rounds)
        results[name] = {
            "messages": len(texts),
            "us_per_msg": round(per_parse * 1e6, 1),
            "msgs_per_s": round(1 / per_parse),
            "baseline_json_dumps_us": round(per_dump * 1e6, 2),
            "ratio_to_json_dumps": round(per_parse / per_dump, 1),
            "baseline_str_lower_us": round(per_lower * 1e6, 3),
        }
    if "clinc150_dev" not in sets:
        results["note"] = f"CLINC150 dev set not found at {CLINC_DEV}; phrasings only"
    return results
