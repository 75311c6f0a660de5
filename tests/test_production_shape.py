"""The same core loop on PostgreSQL + Redis with real `coo worker` processes, driven through
the real `coo chat` command with piped input, as an operator's script would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow  # `coo chat` and `coo worker` processes

COO = [sys.executable, "-m", "bot.cli"]


def _env(base: dict[str, str], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COO_") or k.startswith("COO_TEST_")}
    env.update(base)
    env.update(extra)
    return env


def _chat(env: dict[str, str], lines: list[str], timeout: float = 90) -> str:
    result = subprocess.run(
        COO + ["chat"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        COO + ["worker"], env=env, cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def prod_env(coo_env, pg_url, redis_url, smtp) -> dict[str, str]:
    return _env(
        coo_env,
        COO_DATABASE_URL=pg_url,
        COO_REDIS_URL=redis_url,
        COO_SMTP_URL=smtp.url,
        COO_FROM_EMAIL="Ana Ruiz <ana@studio.example>",
    )


def test_piped_console_with_rq_worker_on_postgres(prod_env, smtp, tmp_path):
    worker = _worker(prod_env, tmp_path / "worker.log")
    try:
        out = _chat(
            prod_env,
            [
                "Acme Studio signed the retainer: $4,000 a month, 3 design rounds, bill on the 1st, contact jane@acme.example",
                "/approve 1",
                "/approve 1",
                "invoice Bob Lee for 12 hours of logo work at $95/h, due in 14 days",
                "what's overdue?",
                "asdf qwerty",
            ],
        )
    finally:
        _stop(worker)
    assert (
        "New retainer for Acme Studio (jane@acme.example): $4,000.00/month, 3 revision rounds, billed on day 1." in out
    )
    assert "Sent proposal #P-0001 to jane@acme.example (receipt <coo." in out
    assert "Approval #1 was already approved" in out
    assert "Invoice #INV-0001 for Bob Lee: $1,140.00" in out
    assert "Waiting for your approval:" in out and "#2 Send invoice #INV-0001" in out
    assert "I'm not sure what you'd like me to do" in out
    assert len(smtp.wait_for(1)) == 1

    ledger = subprocess.run(COO + ["ledger"], capture_output=True, text=True, env=prod_env, cwd=REPO, timeout=30)
    assert "retainer_signup  done" in ledger.stdout
    run_id = ledger.stdout.split("retainer_signup")[0].split()[-3]
    detail = subprocess.run(
        COO + ["ledger", run_id], capture_output=True, text=True, env=prod_env, cwd=REPO, timeout=30
    ).stdout
    assert "side_effect" in detail and "receipt:" in detail and "approval_answered" in detail


def test_saved_work_survives_dead_redis_and_runs_when_a_worker_starts(coo_env, pg_url, redis_url, smtp, tmp_path):
    dead = _env(coo_env, COO_DATABASE_URL=pg_url, COO_REDIS_URL="redis://127.0.0.1:1/0", COO_SMTP_URL=smtp.url)
    out = _chat(dead, ["new client: Northwind, contact ops@northwind.example"], timeout=60)
    assert "I've saved your request, but the work queue is unreachable" in out
    live = _env(coo_env, COO_DATABASE_URL=pg_url, COO_REDIS_URL=redis_url, COO_SMTP_URL=smtp.url)
    worker = _worker(live, tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 30
        out = ""
        while time.monotonic() < deadline and "Northwind" not in out:
            out = _chat(live, ["who are my clients?"])
    finally:
        _stop(worker)
    assert "Northwind <ops@northwind.example>" in out


def test_killed_worker_mid_send_never_sends_twice(prod_env, smtp, tmp_path):
    """The worker dies while the SMTP server holds the message; recovery must not send it again."""
    from redis import Redis
    from rq import Queue
    from rq.registry import ScheduledJobRegistry, StartedJobRegistry

    worker = _worker(prod_env, tmp_path / "w1.log")
    try:
        _chat(
            prod_env,
            [
                "new client: Northwind, contact ops@northwind.example",
                "invoice Northwind $2,000 for october design work",
            ],
        )
        smtp.recorder.delay = 5  # hold the DATA reply: the worker is mid-send when it is killed
        proc = subprocess.Popen(
            COO + ["chat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=prod_env, cwd=REPO
        )
        proc.stdin.write("/approve 1\n")
        proc.stdin.flush()
        smtp.wait_for(1, timeout=20)
        assert len(smtp.messages) == 1
        _stop(worker, signal.SIGKILL)  # killed mid-send
        proc.stdin.close()
        proc.kill()
        proc.wait()
    finally:
        _stop(worker, signal.SIGKILL)
    smtp.recorder.delay = 0
    # RQ notices the abandoned job once its heartbeat expires (fast-forwarded here) and
    # schedules a retry, which the next worker's scheduler runs.
    redis = Redis.from_url(prod_env["COO_REDIS_URL"])
    StartedJobRegistry("coo-billing", connection=redis).cleanup(timestamp=time.time() + 10_000)
    waiting = Queue("coo-billing", connection=redis).count
    assert waiting + ScheduledJobRegistry("coo-billing", connection=redis).count == 1
    for key in redis.scan_iter("rq:scheduler-lock:*"):  # the dead worker's scheduler lock, expired
        redis.delete(key)
    worker2 = _worker(prod_env, tmp_path / "w2.log")
    try:
        deadline = time.monotonic() + 30
        out = ""
        while time.monotonic() < deadline and "did not send" not in out:
            out = _chat(prod_env, ["/help"])
            time.sleep(0.3)
    finally:
        _stop(worker2)
    assert (
        "I did not send the invoice #INV-0001 to ops@northwind.example: an earlier attempt to send this was interrupted"
        in out
    )
    assert len(smtp.messages) == 1


def test_retried_job_after_approval_sends_exactly_once(prod_env, smtp, tmp_path):
    """A resume job delivered twice (RQ retry after a crash after sending) sends one e-mail."""
    worker = _worker(prod_env, tmp_path / "worker.log")
    try:
        _chat(
            prod_env,
            [
                "new client: Northwind, contact ops@northwind.example",
                "invoice Northwind $2,000 for october design work",
                "/approve 1",
            ],
        )
        assert len(smtp.wait_for(1)) == 1
        from redis import Redis
        from rq import Queue

        from bot.runtime import JOBS

        approval_run = _chat(prod_env, ["what's overdue?"])
        assert "Nothing is overdue" in approval_run
        # the same resume job again, under a new id, as a retry would deliver it
        runtime_env = {k: v for k, v in prod_env.items()}
        from store.facade import Store

        store = Store.open(runtime_env["COO_DATABASE_URL"])
        run_id = store.runs.approval(1).run_id
        store.close()
        again = Queue("coo-billing", connection=Redis.from_url(prod_env["COO_REDIS_URL"])).enqueue(
            JOBS.resume, kwargs={"run_id": run_id, "approval_id": 1}, job_id="resume-again"
        )
        deadline = time.monotonic() + 30
        while again.get_status(refresh=True) not in ("finished", "failed") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert again.get_status(refresh=True) == "finished"  # the worker ran it, and it did nothing
    finally:
        _stop(worker)
    assert len(smtp.messages) == 1


def test_approval_given_while_redis_is_down_is_carried_out_when_a_worker_starts(prod_env, smtp, tmp_path):
    worker = _worker(prod_env, tmp_path / "w1.log")
    try:
        _chat(
            prod_env,
            [
                "new client: Northwind, contact ops@northwind.example",
                "invoice Northwind $2,000 for october design work",
            ],
        )
    finally:
        _stop(worker)
    dead = {**prod_env, "COO_REDIS_URL": "redis://127.0.0.1:1/0"}
    out = _chat(dead, ["/approve 1"], timeout=60)
    assert "I've saved your request, but the work queue is unreachable" in out
    assert smtp.messages == []
    worker = _worker(prod_env, tmp_path / "w2.log")
    try:
        assert len(smtp.wait_for(1, timeout=30)) == 1
        deadline = time.monotonic() + 20
        out = ""
        while time.monotonic() < deadline and "Sent invoice" not in out:
            out = _chat(prod_env, ["/help"])
    finally:
        _stop(worker)
    assert "Sent invoice #INV-0001 to ops@northwind.example" in out
    assert len(smtp.messages) == 1
