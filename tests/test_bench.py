"""`coo bench --quick`: a smoke run that prints every figure and a JSON line scripts can read;
`coo bench --startup`: process start figures; and what `coo parse` leaves out when it starts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date

import pytest

from bench.mix import APPROVAL, fill, operator_lines
from bot.cli import main
from tests.conftest import REPO

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


@pytest.mark.slow  # a bench run
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


@pytest.mark.slow  # a bench run
def test_bench_quick_on_postgres_redis_and_a_worker(capsys, coo_env, pg_url, redis_url):
    # The test's own Redis database (the bench flushes it) and PostgreSQL server (the bench makes
    # its databases there), never the shared COO_TEST_* ones: parallel runs must not collide.
    out, figures = _run_bench(capsys, "--postgres", pg_url, "--redis", redis_url)
    worker = figures["targets"]["postgres+redis+worker"]
    assert worker["latency"]["messages"] == 20 and worker["latency"]["unexpected_replies"] == 0
    assert worker["storage"]["checkpoint_bytes_per_finished_run"] == 0
    assert worker["storage"]["checkpoint_bytes_per_waiting_run"] > 0
    assert figures["targets"]["postgres in-process"]["persistence"]["graph_steps"] > 20
    assert "postgres+redis+worker" in out


def test_bench_startup_names_each_command_with_a_figure(capsys, coo_env):
    """Figures only: the machine is shared, so no wall time is asserted."""
    code = main(["bench", "--startup", "--runs", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    for label in ("python -c pass", "coo --help", 'coo parse "Acme paid $4,000"'):
        assert re.search(re.escape(label) + r"\s+\d+ ms\s+\d+ ms\s+\d+\.\d×", out), out
    figures = json.loads(out.strip().splitlines()[-1])["bench"]["startup"]
    assert set(figures) == {"python -c pass", "coo --help", 'coo parse "Acme paid $4,000"'}
    assert all(f["median_ms"] > 0 and f["runs"] == 1 for f in figures.values())
    assert figures["python -c pass"]["ratio_to_bare_python"] == 1.0


HEAVY = ("langgraph", "langchain_core", "psycopg", "redis", "numpy", "onnxruntime", "pydantic_settings")


def test_parse_with_the_offline_parser_does_not_import_the_heavy_libraries(coo_env):
    """Structural, not timed: `coo parse` starts fast because it loads none of these."""
    script = (
        "import sys; from bot.cli import main; main(['parse', 'Acme paid $4,000']); "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("COO_")} | coo_env | {"COO_MODEL_SMALL": "offline"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    intent, loaded = done.stdout.strip().splitlines()
    assert json.loads(intent)["kind"] == "record_payment"
    assert loaded == "[]"
