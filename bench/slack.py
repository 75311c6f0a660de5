"""`coo bench-slack`: Slack ack latency and time to first reply, against a real `coo serve`.

Starts a fake Slack Web API here and `coo serve` as a subprocess pointed at it (a fresh embedded
SQLite database unless --database is given; in-process queue), fires N concurrent events signed
as Slack signs them, and prints the HTTP ack latency (p50/p99/max) and the time from sending an
event to coo's first reply reaching the Slack API. Runs from a source checkout (it uses the
fake server in tests/fakes).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:  # imported when the benchmark runs: an installed coo has no tests/
    from tests.fakes.slack_api import SlackApi

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret"
OPERATOR = "UBENCH"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _ms(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values) * 1000:6.1f} ms · p99 {_percentile(values, 0.99) * 1000:6.1f} ms · "
        f"max {max(values) * 1000:6.1f} ms"
    )


async def _fire(url: str, count: int, offset: int) -> list[tuple[str, float, float]]:
    """Open ``count`` connections, then send one signed event on each at once; time each ack.

    A raw HTTP/1.1 client, so the figure is the server's: an HTTP library's own per-request
    work would queue the later requests on the client side and be counted as ack latency."""
    from tests.fakes.slack_api import event_body, sign

    host, port = url.removeprefix("http://").split(":")
    requests = []
    for i in range(count):
        ts = f"1764090000.{offset + i:06d}"
        body = event_body(
            {
                "type": "message",
                "channel": "DBENCH",
                "channel_type": "im",
                "user": OPERATOR,
                "text": "what's overdue?",
                "ts": ts,
                "event_ts": ts,
            },
            f"EvBench{offset + i}",
        )
        headers = {
            "Host": f"{host}:{port}",
            "Content-Type": "application/json",
            "Content-Length": str(len(body.encode())),
            **sign(SECRET, body),
        }
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        requests.append((ts, f"POST /slack/events HTTP/1.1\r\n{head}\r\n{body}".encode()))
    connections = [await asyncio.open_connection(host, int(port)) for _ in range(count)]

    async def one(i: int) -> tuple[str, float, float]:
        reader, writer = connections[i]
        ts, raw = requests[i]
        sent = time.monotonic()
        writer.write(raw)
        status = await reader.readline()
        latency = time.monotonic() - sent
        writer.close()
        if b" 200 " not in status:
            raise RuntimeError(f"event {i}: {status.decode().strip()}")
        return ts, sent, latency

    return list(await asyncio.gather(*(one(i) for i in range(count))))


def _first_replies(api: SlackApi, sent: list[tuple[str, float, float]], timeout: float) -> list[float]:
    wanted = {ts: at for ts, at, _ in sent}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        first: dict[str, float] = {}
        for call in api.recorded("chat.postMessage"):
            ts = call.get("thread_ts")
            if ts in wanted and ts not in first:
                first[ts] = call["at"] - wanted[ts]
        if len(first) == len(wanted):
            return list(first.values())
        time.sleep(0.02)
    raise RuntimeError(f"only {len(first)} of {len(wanted)} events got a reply within {timeout:.0f} s")


def main(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(REPO))
    try:
        from tests.fakes.slack_api import SlackApi
        from tests.fakes.smtp import free_port
    except ImportError:
        print("coo bench-slack runs from a source checkout (it needs tests/fakes).", file=sys.stderr)
        return 2
    api = SlackApi().start()
    data = tempfile.mkdtemp(prefix="coo-bench-slack-")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COO_", "SLACK_", "TELEGRAM_"))}
    env |= {
        "COO_DATA_DIR": data,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api.url,
        "COO_SLACK_OPERATORS": OPERATOR,
        "PYTHONPATH": str(REPO),
    }
    if args.database:
        env["COO_DATABASE_URL"] = args.database
    log = open(Path(data) / "serve.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print(f"coo serve did not start; see {log.name}", file=sys.stderr)
                return 1
            time.sleep(0.05)
        warm = asyncio.run(_fire(url, 1, 900000))  # auth.test, first DB connections: not measured
        _first_replies(api, warm, 30)
        sent = asyncio.run(_fire(url, args.events, 0))
        acks = [latency for _, _, latency in sent]
        replies = _first_replies(api, sent, 120)
        database = args.database or "embedded SQLite"
        print(
            f"coo bench-slack: {args.events} concurrent signed message events → coo serve ({database}, "
            f"in-process queue) on this machine"
        )
        print(f"  HTTP ack           {_ms(acks)}")
        print(f"  event → 1st reply  {_ms(replies)}   (the reply reaching the fake Slack Web API)")
        print(f"  goal: ack p99 < 50 ms — {'met' if _percentile(acks, 0.99) < 0.05 else 'NOT met'}")
        return 0
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        api.stop()
