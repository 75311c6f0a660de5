"""`coo doctor`: checks everything coo needs — configuration, database and migrations, pgvector,
the ledger's protection, Redis, workers and their scheduler, Slack, Telegram, SMTP, disk space —
and prints each problem with its fix. Exit code 1 when there is a problem (warnings alone: 0).

Every check is read-only: the doctor opens the database without migrating it, sends no
message and no e-mail (SMTP is greeted and left), and asks the chat platforms only who the
token belongs to.
"""

from __future__ import annotations

import argparse
import shutil
import smtplib
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlparse

from pydantic import BaseModel

from bot.config_error import ConfigError
from bot.settings import Settings, load_settings
from store.db import Database, sqlite_path
from store.migrations import MIGRATIONS

Level = Literal["ok", "warn", "problem"]
# Below either, the data directory is too full to take the database's growth and the exports.
MIN_FREE_BYTES = 1024**3
MIN_FREE_SHARE = 0.05
NETWORK_TIMEOUT = 5.0


class Finding(BaseModel):
    check: str
    level: Level
    detail: str
    fix: str = ""

    def lines(self) -> list[str]:
        mark = {"ok": "ok     ", "warn": "WARN   ", "problem": "PROBLEM"}[self.level]
        out = [f"{mark} {self.check}: {self.detail}"]
        if self.fix and self.level != "ok":
            out.append(f"        fix: {self.fix}")
        return out


def ok(check: str, detail: str) -> Finding:
    return Finding(check=check, level="ok", detail=detail)


def warn(check: str, detail: str, fix: str) -> Finding:
    return Finding(check=check, level="warn", detail=detail, fix=fix)


def problem(check: str, detail: str, fix: str) -> Finding:
    return Finding(check=check, level="problem", detail=detail, fix=fix)


def _safe_url(url: str) -> str:
    parsed = urlparse(url)
    return url.replace(f":{parsed.password}@", ":***@") if parsed.password else url


# -- configuration --------------------------------------------------------------------------------


def check_configuration(settings: Settings) -> Iterator[Finding]:
    from bot.serve import check as check_serve
    from graphs.playbooks import PlaybookError, load_playbooks

    try:
        check_serve(settings)
    except ConfigError as exc:
        yield problem("configuration", str(exc), "set the variable named above (README: Configuration)")
    else:
        yield ok("configuration", "the settings load and are consistent")
    try:
        load_playbooks(*settings.playbook_dirs)
    except PlaybookError as exc:
        yield problem("playbooks", str(exc), "fix the playbook file named above (`coo playbooks` lists them)")
    if (settings.slack_bot_token or settings.telegram_bot_token) and not (
        settings.slack_operator_ids or settings.telegram_operator_ids
    ):
        yield problem(
            "operators",
            "no operator is configured: coo would refuse everyone",
            "set COO_SLACK_OPERATORS and/or COO_TELEGRAM_OPERATORS to your user id(s)",
        )


# -- database ---------------------------------------------------------------------------------------


def check_database(settings: Settings) -> Iterator[Finding]:
    url = settings.database
    if url.startswith("sqlite") and not sqlite_path(url).exists():
        yield ok(
            "database", f"no SQLite database yet at {sqlite_path(url)}: the first `coo chat` or `coo serve` creates it"
        )
        return
    db = Database(url, pool_timeout=NETWORK_TIMEOUT, load_vec=False)
    try:
        try:
            with db.transaction() as tx:
                version = tx.scalar("SELECT version() AS v") if db.dialect == "postgres" else "SQLite"
        except Exception as exc:
            fix = (
                "start PostgreSQL, or correct COO_DATABASE_URL (user, password, host, database)"
                if db.dialect == "postgres"
                else "check that COO_DATA_DIR (or the COO_DATABASE_URL path) is writable"
            )
            yield problem("database", f"cannot open {_safe_url(url)}: {str(exc).strip()[:200]}", fix)
            return
        yield ok("database", f"{str(version).split(' on ')[0]} at {_safe_url(url)}")
        yield from _migrations(db)
        if db.dialect == "postgres":
            yield from _pgvector(db)
            yield from _ledger_guard(db)
    finally:
        db.close()


def _migrations(db: Database) -> Iterator[Finding]:
    with db.transaction() as tx:
        if db.dialect == "postgres":
            present = tx.scalar("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
        else:
            present = tx.scalar("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'schema_migrations'")
        applied = tx.scalar("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations") if present else 0
    latest = len(MIGRATIONS)
    if applied == latest:
        yield ok("migrations", f"schema version {applied}, up to date")
    elif applied < latest:
        yield problem(
            "migrations",
            f"schema version {applied} of {latest}: {latest - applied} migration(s) not applied",
            "start `coo serve` or `coo worker` once as the role that owns the schema (they migrate at start; "
            "README: Operating it → Database roles)",
        )
    else:
        yield problem(
            "migrations",
            f"schema version {applied} is newer than this coo knows ({latest})",
            "upgrade coo to the version that wrote this database",
        )


def _pgvector(db: Database) -> Iterator[Finding]:
    with db.transaction() as tx:
        installed = tx.scalar("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        available = tx.scalar("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'")
    if installed:
        yield ok("pgvector", f"vector {installed} installed")
    elif available:
        yield problem(
            "pgvector",
            "the vector extension is available but not created in this database",
            "as a superuser: CREATE EXTENSION vector; (then start coo once to migrate)",
        )
    else:
        yield problem(
            "pgvector",
            "the vector extension is not installed on this PostgreSQL server",
            "install pgvector (Debian/Ubuntu: apt-get install postgresql-NN-pgvector; or the pgvector/pgvector image)",
        )


def _ledger_guard(db: Database) -> Iterator[Finding]:
    """The append-only triggers protect the ledger only from roles that cannot drop them."""
    with db.transaction() as tx:
        row = tx.fetchone(
            "SELECT current_user AS me, pg_get_userbyid(c.relowner) AS owner,"
            " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,"
            " pg_has_role(current_user, c.relowner, 'USAGE') AS owns,"
            " has_table_privilege(current_user, 'ledger', 'UPDATE') AS can_update,"
            " has_table_privilege(current_user, 'ledger', 'DELETE') AS can_delete"
            " FROM pg_class c WHERE c.oid = to_regclass('ledger')"
        )
    if row is None:
        return  # not migrated yet: the migrations finding says so
    fix = (
        "run coo as an application role that may only SELECT and INSERT the ledger, with the schema owned by "
        "a separate migration role (README: Operating it → Database roles)"
    )
    if row["superuser"] or row["owns"]:
        why = "is a superuser" if row["superuser"] else f"owns the ledger (owner: {row['owner']})"
        yield warn(
            "ledger protection",
            f"the role coo runs as ({row['me']}) {why}: it could drop the ledger's append-only triggers",
            fix,
        )
    elif row["can_update"] or row["can_delete"]:
        yield warn(
            "ledger protection",
            f"the role {row['me']} may UPDATE or DELETE the ledger (the triggers still refuse it)",
            "REVOKE UPDATE, DELETE, TRUNCATE ON ledger FROM " + str(row["me"]),
        )
    else:
        yield ok("ledger protection", f"{row['me']} may only read and append the ledger (owner: {row['owner']})")


# -- Redis, workers, scheduler ----------------------------------------------------------------------


def check_queues(settings: Settings) -> Iterator[Finding]:
    if not settings.redis_url:
        yield ok("queues", "embedded: `coo serve` (or `coo chat`) runs the work and the schedule in process")
        return
    from redis import Redis
    from rq import Queue, Worker
    from rq.scheduler import RQScheduler

    from bot.job_registry import QUEUES

    redis = Redis.from_url(settings.redis_url, socket_timeout=NETWORK_TIMEOUT, socket_connect_timeout=NETWORK_TIMEOUT)
    try:
        try:
            info = redis.info("server")
        except Exception as exc:
            yield problem(
                "redis",
                f"cannot reach {_safe_url(settings.redis_url)}: {exc}",
                "start Redis, or correct COO_REDIS_URL",
            )
            return
        yield ok("redis", f"Redis {info.get('redis_version', '?')} at {_safe_url(settings.redis_url)}")
        workers = Worker.all(connection=redis)
        listened = {name for worker in workers for name in worker.queue_names()}
        waiting = {name: Queue(name, connection=redis).count for name in QUEUES}
        backlog = ", ".join(f"{n} {c}" for n, c in waiting.items() if c) or "none"
        if not workers:
            yield problem(
                "workers",
                f"no `coo worker` is running (jobs waiting: {backlog})",
                "start `coo worker` (Procfile: worker); run more than one to survive a crash",
            )
        else:
            yield ok("workers", f"{len(workers)} worker(s) alive; jobs waiting: {backlog}")
            missing = [name for name in QUEUES if name not in listened]
            if missing:
                yield problem(
                    "queues",
                    f"no worker listens on {', '.join(missing)}",
                    "start a `coo worker` without --queues (it listens on every queue), or one with those queues",
                )
        locked = [name for name in QUEUES if redis.exists(RQScheduler.get_locking_key(name))]
        if workers and not locked:
            yield problem(
                "scheduler",
                "no worker holds the scheduler: the digest, the daily tick and send retries would not run",
                "restart `coo worker` (it runs RQ's scheduler); check its log for scheduler errors",
            )
        elif locked:
            yield ok("scheduler", f"running (scheduling {len(locked)} of {len(QUEUES)} queues)")
    finally:
        redis.close()


# -- chat platforms and e-mail --------------------------------------------------------------------


def check_slack(settings: Settings) -> Iterator[Finding]:
    if not settings.slack_bot_token:
        return
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    base = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    client = WebClient(token=settings.slack_bot_token, base_url=base, timeout=int(NETWORK_TIMEOUT))
    try:
        who = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "error")
        yield problem(
            "slack",
            f"Slack refused SLACK_BOT_TOKEN ({error})",
            "copy the Bot User OAuth Token (xoxb-…) from your app's OAuth & Permissions page into SLACK_BOT_TOKEN",
        )
        return
    except Exception as exc:
        yield warn("slack", f"could not reach Slack at {base} to check the token ({type(exc).__name__})", _net_fix())
        return
    yield ok("slack", f"SLACK_BOT_TOKEN works: bot {who.get('user')} in {who.get('team')}")


def check_telegram(settings: Settings) -> Iterator[Finding]:
    if not settings.telegram_bot_token:
        return
    import httpx

    root = settings.telegram_api_url.rstrip("/")
    try:
        # The token is in the path: never in an error message (store.redaction masks it in logs).
        response = httpx.post(f"{root}/bot{settings.telegram_bot_token}/getMe", timeout=NETWORK_TIMEOUT)
        data = response.json()
    except Exception as exc:
        yield warn(
            "telegram", f"could not reach Telegram at {root} to check the token ({type(exc).__name__})", _net_fix()
        )
        return
    if not data.get("ok"):
        yield problem(
            "telegram",
            f"Telegram refused TELEGRAM_BOT_TOKEN ({data.get('description') or response.status_code})",
            "copy the token @BotFather gave you into TELEGRAM_BOT_TOKEN",
        )
        return
    yield ok("telegram", f"TELEGRAM_BOT_TOKEN works: @{(data.get('result') or {}).get('username')}")
    if settings.telegram_webhook_url:
        yield from _telegram_webhook(root, settings.telegram_bot_token, settings.telegram_webhook_url)


def _telegram_webhook(root: str, token: str, expected: str) -> Iterator[Finding]:
    """Where Telegram delivers updates, and the last error it met there."""
    import httpx

    try:
        info = httpx.post(f"{root}/bot{token}/getWebhookInfo", timeout=NETWORK_TIMEOUT).json()
    except Exception:
        return  # reachability was reported by the token check
    result = info.get("result") if info.get("ok") else None
    if not isinstance(result, dict):
        return
    url = result.get("url") or ""
    if url != expected:
        where = f"to {url}" if url else "nowhere (no webhook set)"
        yield warn(
            "telegram webhook",
            f"Telegram delivers updates {where}, not to TELEGRAM_WEBHOOK_URL ({expected})",
            "start `coo serve` (it sets the webhook at start); check that no other program uses this bot token",
        )
    elif result.get("last_error_message"):
        yield warn(
            "telegram webhook",
            f"Telegram's last delivery to {url} failed: {result['last_error_message']}",
            "check that TELEGRAM_WEBHOOK_URL reaches `coo serve` over HTTPS from the internet",
        )
    else:
        yield ok("telegram webhook", f"updates go to {url} ({result.get('pending_update_count', 0)} waiting)")


def _net_fix() -> str:
    return "check this machine's network and proxy (or the *_API_URL setting); the doctor re-checks on its next run"


def check_smtp(settings: Settings) -> Iterator[Finding]:
    if not settings.smtp_url:
        yield ok("smtp", f"no COO_SMTP_URL: approved e-mails are written to {settings.outbox_dir}")
        return
    url = urlparse(settings.smtp_url)
    host = url.hostname or "localhost"
    try:
        if url.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                host, url.port or 465, timeout=NETWORK_TIMEOUT, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, url.port or 25, timeout=NETWORK_TIMEOUT)
        with client:
            client.ehlo()
            if url.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if url.username:
                client.login(unquote(url.username), unquote(url.password or ""))
            client.noop()
    except smtplib.SMTPAuthenticationError as exc:
        yield problem(
            "smtp",
            f"{host} refused the login ({exc.smtp_code})",
            "correct the user and password in COO_SMTP_URL (smtp://user:pass@host:587)",
        )
        return
    except (OSError, smtplib.SMTPException) as exc:
        yield problem(
            "smtp",
            f"cannot talk to the mail server at {host}:{url.port or ''} ({type(exc).__name__}: {exc})",
            "start or reach the mail server, or correct COO_SMTP_URL; until then approved e-mails wait and retry",
        )
        return
    yield ok("smtp", f"{host} answers" + (" and accepts the login" if url.username else ""))


# -- disk -------------------------------------------------------------------------------------------


def check_disk(
    settings: Settings, usage: Callable[[Path], tuple[int, int, int]] = shutil.disk_usage
) -> Iterator[Finding]:
    places = {settings.data_dir}
    if settings.database.startswith("sqlite"):
        places.add(sqlite_path(settings.database).parent)
    for place in sorted(places):
        existing = place
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        total, _, free = usage(existing)
        detail = f"{free / 1024**3:.1f} GiB free of {total / 1024**3:.1f} GiB at {place}"
        if free < MIN_FREE_BYTES or (total and free / total < MIN_FREE_SHARE):
            yield problem("disk", detail, f"free space on the disk holding {place} (old exports and backups?)")
        else:
            yield ok("disk", detail)


# -- the command ------------------------------------------------------------------------------------


def run_checks(settings: Settings) -> list[Finding]:
    findings: list[Finding] = []
    for check in (
        check_configuration,
        check_database,
        check_queues,
        check_slack,
        check_telegram,
        check_smtp,
        check_disk,
    ):
        try:
            findings.extend(check(settings))
        except Exception as exc:  # one broken check must not hide the others
            name = check.__name__.removeprefix("check_")
            findings.append(problem(name, f"the check itself failed: {type(exc).__name__}: {exc}", "see the log"))
    return findings


def main(args: argparse.Namespace) -> int:
    from bot.secret_values import protect

    try:
        settings = load_settings()
    except ConfigError as exc:
        for line in problem("configuration", str(exc), "set the variable named above (README: Configuration)").lines():
            print(line)
        print("\n1 problem: coo will not start until it is fixed.")
        return 1
    protect(settings)
    findings = run_checks(settings)
    for finding in findings:
        for line in finding.lines():
            print(line)
    problems = sum(f.level == "problem" for f in findings)
    warnings = sum(f.level == "warn" for f in findings)
    print()
    if problems:
        print(f"{problems} problem(s), {warnings} warning(s): fix the problems above.")
        return 1
    print("No problems" + (f"; {warnings} warning(s) above." if warnings else ": coo has what it needs."))
    return 0
