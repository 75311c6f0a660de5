"""`coo serve`: the web app under uvicorn, plus whatever runs beside it in the same process —
Slack Socket Mode (SLACK_APP_TOKEN), Telegram long polling (TELEGRAM_BOT_TOKEN without
TELEGRAM_WEBHOOK_URL), the delivery loop that posts coo's replies, and approval reminders.
With COO_REDIS_URL unset the work itself runs here too, on the in-process queue.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette

from bot.dashboard import dashboard_token
from bot.delivery import Deliverer, Outbound
from bot.digest import schedule_next_digest
from bot.intake import Intake
from bot.jobs import schedule_send_retries
from bot.recovery import SWEEP_EVERY, sweep_once
from bot.runtime import Runtime, use_runtime
from bot.settings import ConfigError, Settings, load_settings
from bot.slack.adapter import SlackAdapter, build_slack_app
from bot.slack.outbound import SlackOutbound
from bot.telegram.adapter import ALLOWED_UPDATES, TelegramAdapter, build_telegram_app
from bot.telegram.outbound import Pacer, TelegramOutbound
from bot.ticks import schedule_next_tick
from bot.web import build_web_app
from bot.worker import requeue_saved_work
from graphs.envelope import Envelope

log = logging.getLogger(__name__)


def check(settings: Settings) -> None:
    """Refuse configurations that would run insecurely, with the variable to fix."""
    if settings.telegram_webhook_url and not settings.telegram_webhook_secret:
        raise ConfigError(
            "TELEGRAM_WEBHOOK_SECRET: required with TELEGRAM_WEBHOOK_URL (Telegram sends it back "
            "on every update; requests without it are refused)"
        )
    if settings.slack_bot_token and not (settings.slack_signing_secret or settings.slack_app_token):
        raise ConfigError("SLACK_SIGNING_SECRET: required for /slack/events (or set SLACK_APP_TOKEN for Socket Mode)")


class Services:
    """The adapters, delivery loop and background connections of one `coo serve` process."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        delivery_interval: float = 0.05,
        pacer: Pacer | None = None,
        schedule: bool = True,
        sweep_interval: float = 2.0,
    ) -> None:
        """``schedule=False`` leaves the digest and the tick off the in-process schedule (tests that
        do not ask for them; RQ deployments schedule them in `coo worker` anyway)."""
        settings = runtime.settings
        check(settings)
        self.runtime = runtime
        self.settings = settings
        self.delivery_interval = delivery_interval
        self.pacer = pacer
        self.schedule = schedule
        self.sweep_interval = sweep_interval
        self._sweeper: threading.Thread | None = None
        self.intake = intake = Intake(runtime.store, runtime.queue)
        self.slack: SlackAdapter | None = None
        if settings.slack_bot_token:
            self.slack = build_slack_app(
                token=settings.slack_bot_token,
                signing_secret=settings.slack_signing_secret,
                api_url=settings.slack_api_url,
                intake=intake,
                operators=settings.slack_operator_ids,
                approval=runtime.store.runs.approval,
            )
        self.telegram: TelegramAdapter | None = None
        if settings.telegram_bot_token:
            self.telegram = build_telegram_app(
                token=settings.telegram_bot_token,
                api_url=settings.telegram_api_url,
                polling=not settings.telegram_webhook_url,
                intake=intake,
                operators=settings.telegram_operator_ids,
            )
        self.deliverer: Deliverer | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._socket: Any = None

    def app(self) -> Starlette:
        settings = self.settings
        return build_web_app(
            slack=self.slack.app if self.slack and settings.slack_signing_secret else None,
            slack_signing_secret=settings.slack_signing_secret,
            telegram=self.telegram.application if self.telegram and settings.telegram_webhook_url else None,
            telegram_secret=settings.telegram_webhook_secret,
            email_secret=settings.inbound_email_secret,
            ingest_email=self._inbound_email,
            healthy=self._healthy,
            lifespan=self._lifespan,
            metrics=self._metrics,
            figures_token=settings.metrics_token,
            dashboard=self._dashboard,
            dashboard_token=lambda: dashboard_token(settings),
        )

    def _dashboard(self) -> str:
        from bot.dashboard import render_dashboard
        from bot.figures_view import build_view

        store = self.runtime.store
        return render_dashboard(build_view(store, store.observability.figures(), self.runtime.queue.depths()))

    def _metrics(self) -> bytes:
        from bot.metrics import render

        store = self.runtime.store
        return render(store.observability.figures, self.runtime.queue.depths)

    def _inbound_email(self, raw: bytes) -> None:
        """POST /inbound/email: the same bytes posted twice (a relay's retry) are one e-mail."""
        digest = hashlib.sha256(raw).hexdigest()
        self.intake.email(
            raw,
            Envelope(
                channel="email",
                event_id=digest[:32],
                thread_id=f"inbox-{digest[:12]}",
                user_id="inbound-email",
                text="e-mail",
            ),
        )

    def _healthy(self) -> dict[str, Any]:
        """The database must be up for coo to accept anything; a queue that is down only delays
        work (inputs are saved and queued by the sweeper when it is back)."""
        health: dict[str, Any] = {
            "database": "up",
            "redis": "up" if self.settings.redis_url else "unused",
            "queue": "up",
        }
        try:
            health["waiting"] = self.runtime.store.inbox.waiting()
        except Exception:  # a health check reports, it does not raise
            health["database"] = "down"
        if self.settings.redis_url:
            from redis import Redis

            try:
                Redis.from_url(self.settings.redis_url, socket_timeout=1, socket_connect_timeout=1).ping()
            except Exception:
                health["queue"] = health["redis"] = "down"
        health["ok"] = health["database"] == "up"
        return health

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    async def start(self) -> None:
        settings = self.settings
        outbounds: dict[str, Outbound] = {}
        if self.slack is not None:
            outbounds["slack"] = SlackOutbound(self.slack.app.client, settings.slack_operator_ids)
            if settings.slack_app_token:
                from slack_bolt.adapter.socket_mode import SocketModeHandler

                self._socket = SocketModeHandler(self.slack.app, settings.slack_app_token)
                await asyncio.to_thread(self._socket.connect)
                log.info("Slack Socket Mode connected")
        if self.telegram is not None:
            application = self.telegram.application
            await application.initialize()
            await application.start()
            if settings.telegram_webhook_url:
                await application.bot.set_webhook(
                    settings.telegram_webhook_url,
                    secret_token=settings.telegram_webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
            else:
                assert application.updater is not None
                await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
                log.info("Telegram long polling started")
            outbounds["telegram"] = TelegramOutbound(
                application.bot, asyncio.get_running_loop(), settings.telegram_operator_ids, self.pacer
            )
        self.deliverer = Deliverer(self.runtime.store, outbounds, remind_after_hours=settings.approval_remind_after)
        if self.schedule and not settings.redis_url:
            # Embedded default: the in-process queue keeps the digest's and the tick's schedule
            # (workers do otherwise).
            schedule_next_digest(self.runtime)
            schedule_next_tick(self.runtime)
            schedule_send_retries(self.runtime)
        if not settings.redis_url:
            # Embedded: work this process was doing when it stopped is started again here.
            restarted = requeue_saved_work(self.runtime, running=True) + self.intake.requeue_taken()
            if restarted:
                log.info("re-queued %d unfinished run(s) and input(s)", restarted)
        self._sweeper = threading.Thread(target=self._sweep, name="coo-inbox-sweeper", daemon=True)
        self._sweeper.start()
        self._thread = threading.Thread(
            target=self.deliverer.run,
            args=(self._stop,),
            kwargs={"interval": self.delivery_interval},
            name="coo-delivery",
            daemon=True,
        )
        self._thread.start()

    def _sweep(self) -> None:
        """Queue inputs saved while the queue was down, as soon as it is back; and every few
        seconds, work RQ lost (bot.recovery)."""
        last_recovery = 0.0
        failing = False
        while not self._stop.wait(self.sweep_interval):
            try:
                if self.intake.sweep():
                    log.info("queued inputs saved while the queue was down")
                if time.monotonic() - last_recovery >= SWEEP_EVERY:
                    last_recovery = time.monotonic()
                    recovered = sweep_once(self.runtime, f"serve-{os.getpid()}")
                    if recovered.count:
                        log.info("re-queued %d lost job(s)", recovered.count)
                failing = False
            except Exception as exc:  # the database or Redis may be down; the next round tries again
                if not failing:  # one line per outage, not one every 2 s
                    log.warning("sweep failed (%s: %s); retrying", type(exc).__name__, str(exc)[:200])
                failing = True

    async def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            # The delivery thread may be waiting on a Telegram call scheduled on this loop: don't block it.
            await asyncio.to_thread(self._thread.join, 10)
        if self._socket is not None:
            await asyncio.to_thread(self._socket.close)
        if self.telegram is not None:
            application = self.telegram.application
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()


def serve(settings: Settings, host: str, port: int) -> int:
    import uvicorn

    from bot.service_wait import start_when_ready

    runtime = start_when_ready(settings, "serve", lambda: Runtime(settings))
    use_runtime(runtime)
    try:
        services = Services(runtime)
        if services.slack is None and services.telegram is None:
            log.warning(
                "neither SLACK_BOT_TOKEN nor TELEGRAM_BOT_TOKEN is set: serving /inbound/email and /healthz only"
            )
        # No per-request access log: at chat volumes it is noise, and it sits on the ack path.
        uvicorn.run(services.app(), host=host, port=port, log_level="info", access_log=False)
    finally:
        runtime.close()
    return 0


def main(args: argparse.Namespace) -> int:
    logging.getLogger().setLevel(logging.INFO)
    return serve(load_settings(), args.host, args.port)
