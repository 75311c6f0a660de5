"""Measure an intent parser: accuracy on operator phrasings, and safety on out-of-domain text.

Phrasing file format (``graphs/eval/operator_phrasings.jsonl``), one JSON object per line::

    {"text": "Acme paid $4k", "expected": {"kind": "record_payment", "client_name": "Acme", "amount": 4000}}

Conventions for ``expected``:
- ``kind`` must always match.
- Every other key must equal the parsed intent's field as it appears in ``intent_to_dict``
  (JSON form: ISO dates, numeric amounts; ``items`` compares description, quantity,
  unit_price and unit of each line numerically).
- A key whose value is ``null`` asserts the field is absent/None, e.g. a malformed amount:
  ``{"kind": "retainer_signup", "client_name": "Acme", "monthly_amount": null}``.
- Fields not listed are not checked. String comparison is case-sensitive (names keep the
  capitalisation the operator typed).

A case may list the operator's ``clients`` (``"clients": ["Google"]``): the parser is told them,
as the conversation tells it ("Google paid $500" is a payment only once Google is a client).
``graphs/eval/books_phrasings.jsonl`` holds the "books you can trust" cases: amounts in
European, Swiss and English forms, dates that point the right way, real companies as clients.

Out-of-domain file: CLINC150 jsonl (``{"text": …, "intent": …}``); a misfire is any line that
parses to an intent in ``SIDE_EFFECT_KINDS``.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from graphs.intents import INTENT_KINDS, SIDE_EFFECT_KINDS, intent_to_dict
from graphs.offline_parsing.router import EXAMPLE_CLIENTS
from graphs.parsing import IntentParser

DEFAULT_PHRASINGS_PATH: Path = Path(__file__).resolve().parent / "eval" / "operator_phrasings.jsonl"
BOOKS_PHRASINGS_PATH: Path = DEFAULT_PHRASINGS_PATH.with_name("books_phrasings.jsonl")
HOLDOUT_PHRASINGS_PATH: Path = DEFAULT_PHRASINGS_PATH.with_name("operator_holdout.jsonl")
# Held out from the semantic router: typed as operators type (lower case, typos, no punctuation).
EVERYDAY_PHRASINGS_PATH: Path = DEFAULT_PHRASINGS_PATH.with_name("everyday_phrasings.jsonl")
# The router's own examples (graphs/offline_parsing/router_phrasings.jsonl, kind only): the
# labelled set's training split. Never the measure of the router alone; the held-out sets are.
ROUTER_PHRASINGS_PATH: Path = Path(__file__).resolve().parent / "offline_parsing" / "router_phrasings.jsonl"
PHRASING_SETS: tuple[tuple[str, Path], ...] = (
    ("operator phrasings (kind and fields)", DEFAULT_PHRASINGS_PATH),
    ("held-out operator phrasings (written after the rules)", HOLDOUT_PHRASINGS_PATH),
    ("books: money formats, date directions, companies as clients", BOOKS_PHRASINGS_PATH),
    ("everyday typing, held out from the router (kind and client)", EVERYDAY_PHRASINGS_PATH),
    ("the router's examples (its training split; kind only)", ROUTER_PHRASINGS_PATH),
)
# Sets the router never saw: its honest measure.
HELD_OUT_PATHS: tuple[Path, ...] = (
    DEFAULT_PHRASINGS_PATH,
    HOLDOUT_PHRASINGS_PATH,
    BOOKS_PHRASINGS_PATH,
    EVERYDAY_PHRASINGS_PATH,
)


def all_phrasing_paths() -> list[Path]:
    """Every labelled phrasing file, held-out and training alike."""
    return [path for _, path in PHRASING_SETS]


# The fixed "today" the phrasing file's expected dates were written against.
EVAL_TODAY: date = date(2026, 11, 25)


class PhrasingFailure(BaseModel):
    """One phrasing the parser got wrong."""

    text: str
    expected: dict[str, Any]
    got: dict[str, Any]
    mismatched: list[str]  # "kind" or the names of the fields that differ


class KindScore(BaseModel):
    """Accuracy for one expected kind."""

    kind: str
    total: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


class PhrasingReport(BaseModel):
    """Accuracy of a parser over the operator phrasings."""

    parser: str
    total: int
    correct: int
    accuracy: float
    per_kind: list[KindScore]
    failures: list[PhrasingFailure] = Field(default_factory=list)


class OutOfDomainReport(BaseModel):
    """How often everyday (non-business) requests became intents with side effects."""

    parser: str
    path: str
    total: int
    side_effect_count: int
    side_effect_rate: float
    by_kind: dict[str, int]
    examples: list[tuple[str, str]]  # (text, kind), first misfires
    seconds: float
    lines_per_second: float


def _num(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except Exception:  # noqa: BLE001 - anything non-numeric simply doesn't compare equal
        return None


def _equal(expected: Any, got: Any) -> bool:
    if expected is None:
        return got is None
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected == got
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        n = _num(got)
        return n is not None and n == _num(expected)
    if isinstance(expected, list):
        return (
            isinstance(got, list)
            and len(got) == len(expected)
            and all(_equal(e, g) for e, g in zip(expected, got, strict=True))
        )
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(_equal(v, got.get(k)) for k, v in expected.items())
    if (
        isinstance(expected, str)
        and isinstance(got, (int, float, str))
        and _num(expected) is not None
        and _num(got) is not None
    ):
        return _num(expected) == _num(got)
    return expected == got


def load_phrasings(path: Path | str | Sequence[Path | str] | None = None) -> list[dict[str, Any]]:
    """The phrasing cases (``text`` + ``expected``) from ``path`` (one file or several) or the
    packaged file. A line may also be ``{"kind": …, "text": …}`` (the router's examples). A case
    whose kind this build does not know is skipped: kinds arrive on other branches with their
    lines, and count once they are merged."""
    files = [DEFAULT_PHRASINGS_PATH] if path is None else [path] if isinstance(path, (str, Path)) else list(path)
    cases = []
    for file in files:
        for line in Path(file).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            case = json.loads(line)
            if "expected" not in case:  # a router example: its names are the operator's clients
                case = {"text": case["text"], "clients": EXAMPLE_CLIENTS, "expected": {"kind": case["kind"]}}
            if case["expected"]["kind"] in INTENT_KINDS:
                cases.append(case)
    return cases


def evaluate_phrasings(
    parser: IntentParser, path: Path | str | Sequence[Path | str] | None = None, today: date = EVAL_TODAY
) -> PhrasingReport:
    """Accuracy: kind correct AND every expected field equal, per kind, with the failures."""
    totals: dict[str, int] = defaultdict(int)
    corrects: dict[str, int] = defaultdict(int)
    failures: list[PhrasingFailure] = []
    cases = load_phrasings(path)
    for case in cases:
        expected: dict[str, Any] = case["expected"]
        kind = expected["kind"]
        totals[kind] += 1
        got = intent_to_dict(parser.parse(case["text"], today, case.get("clients", ())).intent)
        if got.get("kind") != kind:
            mismatched = ["kind"]
        else:
            mismatched = [k for k, v in expected.items() if k != "kind" and not _equal(v, got.get(k))]
        if mismatched:
            failures.append(PhrasingFailure(text=case["text"], expected=expected, got=got, mismatched=mismatched))
        else:
            corrects[kind] += 1
    correct = sum(corrects.values())
    return PhrasingReport(
        parser=parser.name,
        total=len(cases),
        correct=correct,
        accuracy=correct / len(cases) if cases else 0.0,
        per_kind=[KindScore(kind=k, total=totals[k], correct=corrects[k]) for k in sorted(totals)],
        failures=failures,
    )


def evaluate_out_of_domain(
    parser: IntentParser, path: Path | str, today: date = EVAL_TODAY, max_examples: int = 20
) -> OutOfDomainReport:
    """Rate of out-of-domain lines (CLINC150 jsonl) that became a side-effect intent."""
    file = Path(path)
    texts = [json.loads(line)["text"] for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_kind: dict[str, int] = defaultdict(int)
    examples: list[tuple[str, str]] = []
    started = time.perf_counter()
    for text in texts:
        kind = parser.parse(text, today).intent.kind
        if kind in SIDE_EFFECT_KINDS:
            by_kind[kind] += 1
            if len(examples) < max_examples:
                examples.append((text, kind))
    seconds = time.perf_counter() - started
    count = sum(by_kind.values())
    return OutOfDomainReport(
        parser=parser.name,
        path=str(file),
        total=len(texts),
        side_effect_count=count,
        side_effect_rate=count / len(texts) if texts else 0.0,
        by_kind=dict(by_kind),
        examples=examples,
        seconds=round(seconds, 3),
        lines_per_second=round(len(texts) / seconds, 1) if seconds > 0 else 0.0,
    )


def format_phrasing_report(report: PhrasingReport, max_failures: int = 30) -> str:
    """Printable summary: overall accuracy, per-kind table, then the failures."""
    lines = [
        f"Operator phrasings ({report.parser} parser): {report.correct}/{report.total} correct ({report.accuracy:.1%})",
        "",
        f"  {'kind':<18} {'correct':>7} {'total':>5} {'accuracy':>9}",
    ]
    for score in report.per_kind:
        lines.append(f"  {score.kind:<18} {score.correct:>7} {score.total:>5} {score.accuracy:>9.1%}")
    if report.failures:
        lines += ["", f"Failures ({len(report.failures)}):"]
        for failure in report.failures[:max_failures]:
            lines.append(f"  - {failure.text!r}")
            lines.append(f"      mismatched: {', '.join(failure.mismatched)}")
            lines.append(f"      expected:   {json.dumps(failure.expected, ensure_ascii=False)}")
            lines.append(f"      got:        {json.dumps(failure.got, ensure_ascii=False)}")
        if len(report.failures) > max_failures:
            lines.append(f"  … and {len(report.failures) - max_failures} more")
    return "\n".join(lines)


def format_out_of_domain_report(report: OutOfDomainReport) -> str:
    """Printable summary of side-effect misfires on out-of-domain text."""
    lines = [
        f"Out-of-domain safety ({report.parser} parser) on {report.path}:",
        f"  {report.side_effect_count}/{report.total} lines became a side-effect intent "
        f"({report.side_effect_rate:.2%}); {report.lines_per_second:,.0f} lines/s",
    ]
    if report.by_kind:
        lines.append("  by kind: " + ", ".join(f"{k}={v}" for k, v in sorted(report.by_kind.items())))
    for text, kind in report.examples:
        lines.append(f"  - [{kind}] {text}")
    return "\n".join(lines)
