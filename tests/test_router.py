"""The semantic router: the offline tier's reading of messages no rule reads (issue #12).

Accuracy is measured on phrasings the router never saw (graphs/eval/*.jsonl); safety on CLINC150
(everyday requests), where a side-effect intent must come from at most 0.5% of lines.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import pytest

from agents.embedders import HashingEmbedder, onnx_installed
from graphs.intents import INTENT_KINDS, SCHEDULED_KINDS
from graphs.offline_parser import OfflineParser
from graphs.offline_parsing.router import PHRASINGS_PATH, Route, SemanticRouter, load_phrasings, shipped_router
from graphs.parser_eval import (
    HELD_OUT_PATHS,
    all_phrasing_paths,
    evaluate_out_of_domain,
    evaluate_phrasings,
    format_phrasing_report,
)

# Not marked `clock`: nothing here reads business time, and the CLINC150 run is too dear to repeat.
pytestmark = pytest.mark.skipif(not onnx_installed(), reason="the shipped MiniLM ONNX model is not installed")

TODAY = date(2026, 11, 25)
CLIENTS = ["Copperleaf", "Lumen Works", "Vela"]


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> SemanticRouter:
    found = shipped_router(tmp_path_factory.mktemp("router-cache"))
    assert found is not None
    return found


@pytest.fixture(scope="module")
def parser(router: SemanticRouter) -> OfflineParser:
    return OfflineParser(router)


class CountingEmbedder:
    """The lexical hashing embedder, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        self.inner = HashingEmbedder(dim=64)
        self.name = self.inner.name
        self.embedded = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return self.inner.embed(texts)


def test_every_kind_a_parser_may_produce_has_phrasings() -> None:
    kinds = {kind for kind, _ in load_phrasings()}
    assert kinds == set(INTENT_KINDS) - SCHEDULED_KINDS
    assert len(load_phrasings()) >= 300


def test_adding_a_kind_is_adding_lines_and_unknown_kinds_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "phrasings.jsonl"
    rows = [
        {"kind": "record_payment", "text": "acme paid 500"},
        {"kind": "timesheet_export", "text": "export my timesheet"},  # a kind another branch brings
        {"kind": "help", "text": "what can you do"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert load_phrasings(path) == [("record_payment", "acme paid 500"), ("help", "what can you do")]
    assert load_phrasings(path, kinds={*INTENT_KINDS, "timesheet_export"})[1] == (
        "timesheet_export",
        "export my timesheet",
    )


def test_example_vectors_are_cached_by_embedder_and_phrasings(tmp_path: Path) -> None:
    first = CountingEmbedder()
    SemanticRouter(first, cache_dir=tmp_path).route("acme paid 500")
    assert first.embedded == len(load_phrasings()) + 1
    assert len(list(tmp_path.glob("router-hashing-v1-64-*.npy"))) == 1
    again = CountingEmbedder()
    SemanticRouter(again, cache_dir=tmp_path).route("acme paid 500")
    assert again.embedded == 1  # the message only: the examples came from the cache
    changed = tmp_path / "more.jsonl"
    changed.write_text(PHRASINGS_PATH.read_text() + json.dumps({"kind": "help", "text": "halp"}) + "\n")
    SemanticRouter(again, changed, cache_dir=tmp_path).route("acme paid 500")
    assert len(list(tmp_path.glob("router-hashing-v1-64-*.npy"))) == 2  # another file, another key


def test_a_torn_cache_file_is_embedded_again(tmp_path: Path) -> None:
    SemanticRouter(CountingEmbedder(), cache_dir=tmp_path).route("x")
    for file in tmp_path.glob("*.npy"):
        file.write_bytes(b"not numpy")
    embedder = CountingEmbedder()
    assert SemanticRouter(embedder, cache_dir=tmp_path).route("acme paid 500").kind
    assert embedder.embedded == len(load_phrasings()) + 1


def test_the_router_is_deterministic(router: SemanticRouter, tmp_path: Path) -> None:
    texts = ["Copperleaf is back, resume their retainer", "whats the weather in leeds", "the slides for Vela"]
    first = [router.route(t) for t in texts]
    fresh = shipped_router(tmp_path)
    assert fresh is not None
    assert [router.route(t) for t in texts] == first
    assert [fresh.route(t) for t in texts] == first


@pytest.mark.parametrize(
    ("text", "kind", "client"),
    [
        ("Copperleaf is back, resume their retainer", "retainer_resume", "Copperleaf"),
        ("put Copperleaf on ice till spring", "retainer_pause", "Copperleaf"),
        ("bump Vela to 3 rounds", "update_terms", "Vela"),
        ("Copperleaf menu design is complete", "deliverable_done", "Copperleaf"),
    ],
)
def test_the_router_reads_what_no_rule_reads(parser: OfflineParser, text: str, kind: str, client: str) -> None:
    assert OfflineParser().parse(text, TODAY, CLIENTS).intent.kind == "unknown"  # the rules alone
    intent = parser.parse(text, TODAY, CLIENTS).intent
    assert (intent.kind, getattr(intent, "client_name", None)) == (kind, client)


@pytest.mark.parametrize(
    "text",
    [
        "got $500 via PayPal",  # a channel, not a client, even when PayPal is one
        "pay my rent",
        "send mum the holiday photos",
        "resume it",  # a side effect for no one named: asked, never guessed
    ],
)
def test_side_effects_need_a_plainly_named_client(parser: OfflineParser, text: str) -> None:
    intent = parser.parse(text, TODAY, [*CLIENTS, "PayPal"]).intent
    assert not intent.has_side_effects, intent


def test_unsure_is_unknown_with_the_kinds_that_came_close(parser: OfflineParser) -> None:
    intent = parser.parse("hmm the thing with the stuff from before", TODAY).intent
    assert intent.kind == "unknown"
    assert intent.candidates and len(intent.candidates) <= 3
    assert set(intent.candidates) <= set(INTENT_KINDS) - {"unknown"}


def test_a_route_names_its_score_and_margin(router: SemanticRouter) -> None:
    route = router.route("Acme paid 500")
    assert isinstance(route, Route) and route.kind == "record_payment"
    assert 0 < route.margin <= route.score <= 1


def test_accuracy_on_phrasings_the_router_never_saw(parser: OfflineParser) -> None:
    report = evaluate_phrasings(parser, HELD_OUT_PATHS)
    assert report.total >= 480
    assert report.accuracy >= 0.95, format_phrasing_report(report)
    assert {s.kind for s in report.per_kind} == set(INTENT_KINDS) - SCHEDULED_KINDS


def test_accuracy_per_kind_over_every_labelled_phrasing(parser: OfflineParser) -> None:
    """≥ 95% overall and for every kind, the retainer changes included (their rules read "on ice",
    "won't renew", "X's retainer goes up to …" where the embedding barely tells pause from unpause)."""
    report = evaluate_phrasings(parser, all_phrasing_paths())
    assert report.total >= 600
    assert report.accuracy >= 0.95, format_phrasing_report(report)
    for score in report.per_kind:
        assert score.accuracy >= 0.95, format_phrasing_report(report)


# Embeds each of the ~4,800 lines no rule reads: about a minute on one worker, over the suite's
# 120 s bound when the machine is busy (measured at load 8–10).
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_clinc150_side_effect_rate_with_the_router(parser: OfflineParser, corpus: Callable[[str], Path]) -> None:
    """The final measure (test split); the thresholds were calibrated on the dev split."""
    report = evaluate_out_of_domain(parser, corpus("clinc150/test.jsonl"))
    assert report.total > 0
    assert report.side_effect_rate <= 0.005, report.examples


def test_the_calibration_reports_every_setting_on_dev_lines(router: SemanticRouter, tmp_path: Path) -> None:
    from bench.router import calibrate
    from graphs.offline_parsing.router import MARGIN, SIDE_EFFECT_THRESHOLD, THRESHOLD

    dev = tmp_path / "dev.jsonl"
    lines = ["how do you say hello in japanese", "set a timer for ten minutes", "Acme paid $4,000"]
    dev.write_text("".join(json.dumps({"text": t, "intent": "x"}) + "\n" for t in lines))
    rows = calibrate(router, dev)
    shipped = [
        r
        for r in rows
        if (r["threshold"], r["side_effect_threshold"], r["margin"]) == (THRESHOLD, SIDE_EFFECT_THRESHOLD, MARGIN)
    ]
    assert len(shipped) == 1
    assert shipped[0]["dev_lines_routed"] == 2  # the rules read the payment
    assert shipped[0]["dev_side_effect"] == 0
    assert 0.3 < shipped[0]["leave_one_out_accuracy"] <= 1
