"""`coo bench --quick`: a smoke run that prints every figure and a JSON line scripts can read."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bench.mix import APPROVAL, fill, operator_lines
from bot.cli import main
from tests.conftest import PG_URL, REDIS_URL

EXPECTED_KIND = {
    "new_client": "new_client",
    "invoice": "create_invoice",
    "status": "status_query",
    "payment": "record_payment",
    "remember": "remember_fact",
}


def _run_bench(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[str, dict]:
    code = main(["bench", "--quick", *argv])
    out = capsys.readouterr().out
    assert code == 0, out
    last = out.strip().splitlines()[-1]
    return out, json.loads(last)["bench"]


def test_the_mix_is_what_it_claims_to_be():
    """Every non-approval line of the mix parses to a complete intent of its kind, for fresh clients."""
    from graphs.offline_parser import OfflineParser

    parser = OfflineParser()
    lines = list(operator_lines(400))
    assert len(lines) == 400
    for line in lines:
        if line.kind == "approve":
            assert APPROVAL in line.text
            continue
        result = parser.parse(line.text, date(2026, 11, 25))
        assert result.intent.kind == EXPECTED_KIND[line.kind], line.text
        assert not result.problems and not result.intent.missing_fields(), line.text
    assert fill(lines[2], "Send it?  [/approve 7] [/reject 7]") == "/approve 7"
    assert fill(lines[2], "Added client X.") is None


def test_bench_quick_on_the_embedded_default(capsys, coo_env, monkeypatch):
    monkeypatch.delenv("COO_TEST_DATABASE_URL", raising=False)
    monkeypatch.delenv("COO_TEST_REDIS_URL", raising=False)
    out, figures = _run_bench(capsys)

    for heading in (
        "Offline intent parse",
        "Message → reply",
        "Persistence per graph step",
        "Storage per run",
        "Tokens per intent",
    ):
        assert heading in out
    parse = figures["parse"]["phrasings"]
    assert parse["us_per_msg"] > 0 and parse["msgs_per_s"] > 0 and parse["ratio_to_json_dumps"] > 1

    embedded = figures["targets"]["embedded"]
    latency = embedded["latency"]
    assert latency["messages"] == 20 and latency["unexpected_replies"] == 0
    assert 0 < latency["reply_ms"]["p50"] <= latency["reply_ms"]["p95"]
    assert {"invoice", "approve", "status", "new_client", "payment", "remember"} <= set(latency["by_kind"])
    probe = embedded["persistence"]
    assert probe["graph_steps"] > 20 and probe["ledger_appends"] > 0 and probe["checkpoint_writes"]["put"] > 0
    storage = embedded["storage"]
    assert storage["waiting_runs"] >= 1 and storage["checkpoint_bytes_per_waiting_run"] > 0
    assert storage["checkpoint_bytes_per_finished_run"] == 0  # finished runs keep only their ledger
    assert storage["ledger_bytes_per_run"] > 0
    assert "skipped" in figures["targets"]["postgres+redis+worker"]

    tokens = figures["tokens"]
    assert tokens["intents"] == 10 and tokens["model_failures"] == 0
    assert tokens["prompt_tokens_per_intent"] > tokens["completion_tokens_per_intent"] > 0
    assert tokens["repeat_cache_hits"] == "10/10"
    assert tokens["in_run_calls"]["mid:draft_proposal"]["prompt"] > 0  # recorded in the ledger by the run


def test_bench_quick_on_postgres_redis_and_a_worker(capsys, coo_env):
    out, figures = _run_bench(capsys, "--postgres", PG_URL, "--redis", REDIS_URL)
    worker = figures["targets"]["postgres+redis+worker"]
    assert worker["latency"]["messages"] == 20 and worker["latency"]["unexpected_replies"] == 0
    assert worker["storage"]["checkpoint_bytes_per_finished_run"] == 0
    assert worker["storage"]["checkpoint_bytes_per_waiting_run"] > 0
    assert figures["targets"]["postgres in-process"]["persistence"]["graph_steps"] > 20
    assert "postgres+redis+worker" in out
