"""`coo doctor`: every problem printed with its fix, exit 1 on problems; the ledger's
protection on PostgreSQL with a migration role and an application role (README: Database roles)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time

import psycopg
import pytest

from bot.doctor import check_disk
from bot.settings import load_settings
from tests.channels import slack_settings, telegram_settings
from tests.conftest import REPO

pytestmark = pytest.mark.slow  # a database, Redis, fake platforms, a `coo worker` process


def _lines(out: str) -> dict[str, str]:
    """check name → its line (with the fix line after it, if any)."""
    found: dict[str, str] = {}
    last = ""
    for line in out.splitlines():
        if line.startswith(("ok ", "WARN ", "PROBLEM ")):
            last = line.split(None, 1)[1].split(":", 1)[0]
            found[last] = line
        elif line.strip().startswith("fix:") and last:
            found[last] += "\n" + line
    return found


def test_a_fresh_embedded_setup_has_no_problem(coo):
    out = coo(["doctor"])
    assert out.returncode == 0, out.stdout
    checks = _lines(out.stdout)
    assert checks["database"].startswith("ok") and "creates it" in checks["database"]
    assert checks["queues"].startswith("ok") and "embedded" in checks["queues"]
    assert checks["disk"].startswith("ok")
    assert "coo has what it needs" in out.stdout
    assert coo(["chat"], stdin="list my clients\n").returncode == 0
    again = _lines(coo(["doctor"]).stdout)
    assert again["migrations"].startswith("ok") and "up to date" in again["migrations"]


@pytest.mark.empty_database  # what a database without coo's schema shows
def test_every_service_is_checked_and_each_problem_has_its_fix(
    coo, pg_url, redis_url, slack_api, telegram_api, smtp, tmp_path
):
    env = {
        "COO_DATABASE_URL": pg_url,
        "COO_REDIS_URL": redis_url,
        "COO_SMTP_URL": smtp.url,
        **{k.upper(): str(v) for k, v in slack_settings(slack_api).items()},
        **{k.upper(): str(v) for k, v in telegram_settings(telegram_api).items()},
    }
    env = {
        (k if k.startswith(("SLACK", "TELEGRAM")) else f"COO_{k}" if not k.startswith("COO_") else k): v
        for k, v in env.items()
    }
    out = coo(["doctor"], env)
    checks = _lines(out.stdout)
    assert out.returncode == 1
    assert "PROBLEM migrations: schema version 0" in checks["migrations"] and "fix:" in checks["migrations"]
    assert checks["pgvector"].startswith("ok")
    assert checks["redis"].startswith("ok")
    assert checks["workers"].startswith("PROBLEM") and "start `coo worker`" in checks["workers"]
    assert checks["slack"].startswith("ok") and "SLACK_BOT_TOKEN works" in checks["slack"]
    assert checks["telegram"].startswith("ok") and "@coo_test_bot" in checks["telegram"]
    hook = checks["telegram webhook"]
    assert hook.startswith("WARN") and "nowhere (no webhook set)" in hook and "start `coo serve`" in hook
    assert checks["smtp"].startswith("ok")

    # a worker (with its scheduler) comes up: the queue problems go
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"],
        cwd=REPO,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("COO_")},
            **env,
            "COO_DATA_DIR": str(tmp_path / "worker"),
            "PYTHONPATH": str(REPO),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            checks = _lines(coo(["doctor"], env).stdout)
            if checks.get("scheduler", "").startswith("ok") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(20)
    assert checks["workers"].startswith("ok") and "1 worker(s) alive" in checks["workers"], checks
    assert checks["scheduler"].startswith("ok"), checks
    assert checks["migrations"].startswith("ok")  # the worker migrated at start
    # as the superuser: the ledger's triggers could be dropped
    assert checks["ledger protection"].startswith("WARN") and "superuser" in checks["ledger protection"]

    # a revoked Slack token, an unreachable Telegram, a mail server that is down
    slack_api.revoked.add("xoxb-test")
    broken = {**env, "TELEGRAM_API_URL": "http://127.0.0.1:9", "COO_SMTP_URL": "smtp://127.0.0.1:9"}
    out = coo(["doctor"], broken)
    checks = _lines(out.stdout)
    assert out.returncode == 1
    assert "PROBLEM slack: Slack refused SLACK_BOT_TOKEN (invalid_auth)" in checks["slack"]
    assert "fix: copy the Bot User OAuth Token" in checks["slack"]
    assert checks["telegram"].startswith("WARN") and "could not reach Telegram" in checks["telegram"]
    assert checks["smtp"].startswith("PROBLEM") and "fix:" in checks["smtp"]
    assert "123456:TEST-TOKEN" not in out.stdout + out.stderr


def test_a_database_and_redis_that_are_down_are_problems_with_fixes(coo, tmp_path):
    env = {"COO_DATABASE_URL": "postgresql://coo:secret-pw@127.0.0.1:9/coo", "COO_REDIS_URL": "redis://127.0.0.1:9/0"}
    out = coo(["doctor"], env)
    checks = _lines(out.stdout)
    assert out.returncode == 1
    assert checks["database"].startswith("PROBLEM") and "start PostgreSQL" in checks["database"]
    assert checks["redis"].startswith("PROBLEM") and "start Redis" in checks["redis"]
    assert "secret-pw" not in out.stdout


def test_a_bad_setting_is_a_problem_not_a_traceback(coo):
    out = coo(["doctor"], {"COO_REDIS_URL": "http://nope"})
    assert out.returncode == 1 and "PROBLEM configuration: COO_REDIS_URL" in out.stdout


def test_a_full_disk_is_a_problem(coo_env):
    settings = load_settings()
    [finding] = list(check_disk(settings, usage=lambda path: (100 * 1024**3, 99.8 * 1024**3, int(0.2 * 1024**3))))
    assert finding.level == "problem" and "0.2 GiB free" in finding.detail and "free space" in finding.fix


def _psql(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def test_a_migration_role_and_an_application_role_keep_the_ledger_append_only(coo, tmp_path):
    """The README's steps, as written there."""
    from tests.conftest import PG_URL

    base, _, _ = PG_URL.rpartition("/")
    tag = secrets.token_hex(3)
    owner, app, name = f"coo_owner_{tag}", f"coo_app_{tag}", f"coo_roles_{tag}"
    host = base.split("@", 1)[1]
    owner_url, app_url = f"postgresql://{owner}@{host}/{name}", f"postgresql://{app}@{host}/{name}"
    admin = f"{base}/postgres"
    _psql(admin, f"CREATE ROLE {owner} LOGIN", f"CREATE ROLE {app} LOGIN", f"CREATE DATABASE {name} OWNER {owner}")
    try:
        _psql(f"{base}/{name}", "CREATE EXTENSION IF NOT EXISTS vector", f"ALTER SCHEMA public OWNER TO {owner}")
        # 1. the migration role creates the schema
        assert coo(["chat"], {"COO_DATABASE_URL": owner_url}, stdin="").returncode == 0
        # 2. the application role may read and write coo's tables, and only read and append the ledger
        _psql(
            owner_url,
            f"GRANT USAGE ON SCHEMA public TO {app}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}",
            f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {app}",
            f"REVOKE UPDATE, DELETE, TRUNCATE ON ledger FROM {app}",
        )
        out = coo(["doctor"], {"COO_DATABASE_URL": app_url})
        checks = _lines(out.stdout)
        assert checks["ledger protection"].startswith("ok"), out.stdout
        assert checks["migrations"].startswith("ok")
        # 3. coo runs as the application role
        said = coo(
            ["chat"], {"COO_DATABASE_URL": app_url}, stdin="new client: Northwind, contact ops@northwind.example\n"
        )
        assert said.returncode == 0 and "Northwind" in said.stdout, said.stdout + said.stderr
        with psycopg.connect(app_url, autocommit=True) as conn:
            assert conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0] > 0
            for statement in ("DROP TRIGGER ledger_append_only ON ledger", "DELETE FROM ledger", "DROP TABLE ledger"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
        # the owner as the application role: warned
        checks = _lines(coo(["doctor"], {"COO_DATABASE_URL": owner_url}).stdout)
        assert (
            checks["ledger protection"].startswith("WARN")
            and f"owns the ledger (owner: {owner})" in checks["ledger protection"]
        )
    finally:
        _psql(
            admin,
            f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
            f"DROP ROLE IF EXISTS {app}",
            f"DROP ROLE IF EXISTS {owner}",
        )
