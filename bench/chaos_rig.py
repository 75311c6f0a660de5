"""The services a chaos run breaks, each of its own: a PostgreSQL cluster (initdb + pg_ctl on a
free port), a Redis server without persistence, the fake Slack and Telegram Web APIs, a counting
SMTP server, `coo serve` and N `coo worker` processes. Nothing shared is touched: the shared
PostgreSQL and Redis other work uses are never restarted or flushed.

The fakes live in tests/fakes (a source checkout), so they are imported when a rig is built, as
bench/slack.py does."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:  # imported when a rig starts: an installed coo has no tests/
    from tests.fakes.pg_cluster import PgCluster
    from tests.fakes.slack_api import SlackApi
    from tests.fakes.smtp import SmtpServer
    from tests.fakes.telegram_api import TelegramApi

REPO = Path(__file__).resolve().parents[1]
SIGNING_SECRET = "chaos-signing-secret"
SLACK_OPERATOR = "UCHAOS"
TG_OPERATOR = 5150
TG_SECRET = "chaos-webhook-secret"
TG_TOKEN = "123456:CHAOS-TOKEN"
SLACK_TOKEN = "xoxb-chaos"
START_TIMEOUT = 120.0  # a loaded 2-core machine starts a Python process in seconds, not minutes


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class RedisProc:
    """A redis-server of the rig's own on a fixed port, to kill, flush and start again (empty:
    ``--save ''`` and no AOF, so a restart loses every key, as a crashed cache without
    persistence does)."""

    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        from redis import Redis

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                Redis.from_url(self.url, socket_timeout=1).ping()
                return
            except Exception:  # not listening yet
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start:\n{_tail(self.log)}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def flush(self) -> None:
        from redis import Redis

        client = Redis.from_url(self.url, socket_timeout=2)
        try:
            client.flushall()
        finally:
            client.close()


class CooProcess:
    """One `coo serve` or `coo worker` process (its own session, so a SIGKILL takes its children)."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", *self.command],
                env=self.env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            assert self.proc is not None
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(15)

    def stop(self) -> None:
        """SIGTERM (RQ's warm shutdown, uvicorn's graceful stop), SIGKILL if it lingers."""
        if not self.alive():
            return
        assert self.proc is not None
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()


class ConsoleProcess:
    """A long-running `coo chat` fed through its stdin, as an operator types into it; a thread
    reads its stdout into :attr:`lines` (kept over restarts, so an answer printed before a crash
    still counts) and into its log. Not in the faults' reach: it is restarted only when it exited
    on its own (a crash the phase counts)."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.env = env  # the rig's: start() reads it then (the SMTP port is known only once started)
        self.log = log
        self.proc: subprocess.Popen[str] | None = None
        self.starts = 0
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        with self.log.open("ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "chat"],
                env=self.env | {"PYTHONUNBUFFERED": "1"},  # the "you> …" echo shows once a line is read
                cwd=REPO,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                bufsize=1,
                start_new_session=True,
            )
        self.starts += 1
        threading.Thread(target=self._read, args=(self.proc,), name=f"chaos-{self.name}", daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        with self.log.open("a") as log:
            for line in proc.stdout:
                log.write(line)
                log.flush()
                with self._lock:
                    self.lines.append(line.rstrip("\n"))

    def output(self) -> list[str]:
        with self._lock:
            return list(self.lines)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def type(self, text: str) -> bool:
        """One line on its stdin; False when the process is gone (the line was not read)."""
        if not self.alive():
            return False
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(text + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            return False
        return True

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(15)


class Rig:
    """Everything a chaos run needs, started by :meth:`start`, torn down by :meth:`close`."""

    def __init__(self, workers: int, consoles: int = 0) -> None:
        sys.path.insert(0, str(REPO))
        from tests.fakes.pg_cluster import PgCluster
        from tests.fakes.slack_api import SlackApi
        from tests.fakes.smtp import SmtpServer, free_port
        from tests.fakes.telegram_api import TelegramApi

        self.dir = Path(tempfile.mkdtemp(prefix="coo-chaos-"))
        self.pg: PgCluster = PgCluster()
        self.redis = RedisProc(free_port(), self.dir / "redis.log")
        self.slack: SlackApi = SlackApi(token=SLACK_TOKEN)
        self.telegram: TelegramApi = TelegramApi()
        self.smtp: SmtpServer = SmtpServer()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = self._env()
        self.serve = CooProcess("serve", ["serve", "--port", str(self.port)], self.env, self.dir / "serve.log")
        self.workers = [
            CooProcess(f"worker-{i + 1}", ["worker"], self.env, self.dir / f"worker-{i + 1}.log")
            for i in range(workers)
        ]
        self.consoles = [
            ConsoleProcess(f"console-{i + 1}", self.env, self.dir / f"console-{i + 1}.log") for i in range(consoles)
        ]
        self.console_exits: list[str] = []
        self.lock = threading.Lock()  # one fault at a time per process list (restart vs. teardown)
        self.smtp_up = True
        self.pg_up = False

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COO_", "SLACK_", "TELEGRAM_"))}
        env |= {
            "COO_DATABASE_URL": self.pg.url,
            "COO_REDIS_URL": self.redis.url,
            "COO_DATA_DIR": str(self.dir / "data"),
            "COO_TIMEZONE": "UTC",
            "COO_SMTP_URL": self.smtp.url,
            "COO_FROM_EMAIL": "Ana Ruiz <ana@studio.example>",
            "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack.url,
            "COO_SLACK_OPERATORS": SLACK_OPERATOR,
            "TELEGRAM_BOT_TOKEN": TG_TOKEN,
            "TELEGRAM_API_URL": self.telegram.url,
            "TELEGRAM_WEBHOOK_URL": "https://coo.example/telegram/webhook",
            "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
            "COO_TELEGRAM_OPERATORS": str(TG_OPERATOR),
            "PYTHONPATH": str(REPO),
        }
        return env

    def start(self) -> None:
        self.pg.start()
        self.pg_up = True
        self.redis.start()
        self.slack.start()
        self.telegram.start()
        self.smtp.start()
        self.env["COO_SMTP_URL"] = self.smtp.url  # start() may have moved to another free port
        self.serve.start()
        for worker in self.workers:
            worker.start()
        self.wait_serving(START_TIMEOUT)
        self.wait_workers(START_TIMEOUT)
        for console in self.consoles:
            console.start()

    def wait_serving(self, timeout: float) -> float:
        """Seconds until `coo serve` answers /readyz 200 (it is restarted if it died)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"coo serve not ready within {timeout:.0f} s:\n{_tail(self.serve.log)}")

    def wait_workers(self, timeout: float) -> None:
        from redis import Redis
        from rq import Worker

        deadline = time.monotonic() + timeout
        redis = Redis.from_url(self.redis.url, socket_timeout=2)
        try:
            while len(Worker.all(connection=redis)) < len(self.workers):
                dead = [w for w in self.workers if not w.alive()]
                if dead:
                    raise RuntimeError(f"{dead[0].name} exited:\n{_tail(dead[0].log)}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"workers did not register within {timeout:.0f} s")
                time.sleep(0.2)
        finally:
            redis.close()

    def heal(self) -> list[str]:
        """Every service back up (after a phase's faults): a dead process is started again.
        Returns the coo processes found dead: the faults start again what they kill, so these
        exited on their own (a crash the phase must report, not hide)."""
        processes: list[CooProcess | ConsoleProcess] = [self.serve, *self.workers, *self.consoles]
        crashed = [p.name for p in processes if not p.alive()]
        with self.lock:
            if not self.pg_up:
                self.pg.start()
                self.pg_up = True
            if self.redis.proc is None or self.redis.proc.poll() is not None:
                self.redis.start()
            if not self.smtp_up:
                self.smtp.restart()
                self.smtp_up = True
            self.smtp.recorder.delay = 0.0
            if not self.serve.alive():
                self.serve.start()
            for worker in self.workers:
                if not worker.alive():
                    worker.start()
        for console in self.consoles:
            if not console.alive():
                console.start()
        return crashed

    def revive_consoles(self) -> None:
        """Consoles that exited on their own started again at once, each exit noted in
        :attr:`console_exits` (the driver calls it during a phase: no fault touches a console,
        so an exit is a crash the phase counts)."""
        for console in self.consoles:
            if not console.alive() and console.proc is not None:
                self.console_exits.append(console.name)
                console.start()

    def close(self) -> None:
        processes: list[CooProcess | ConsoleProcess] = [*self.consoles, self.serve, *self.workers]
        for process in processes:
            try:
                process.kill()
            except Exception:  # best effort: the rig is going away
                pass
        self.redis.kill()
        self.pg.destroy()
        for server in (self.slack, self.telegram):
            server.stop()
        if self.smtp_up:
            self.smtp.stop()

    def logs(self) -> list[Path]:
        return [self.serve.log, *(w.log for w in self.workers), *(c.log for c in self.consoles)]
