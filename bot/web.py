"""The one ASGI app `coo serve` runs: Slack events and interactions, the Telegram webhook,
inbound e-mail, and a health check. Each endpoint verifies, then hands off; none does the work.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
EMAIL_SECRET_HEADER = "X-Coo-Secret"
MAX_EMAIL_BYTES = 25 * 1024 * 1024


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def build_web_app(
    *,
    slack: App | None = None,
    telegram: Application | None = None,
    telegram_secret: str | None = None,
    email_secret: str | None = None,
    ingest_email: Callable[[bytes], Any] | None = None,
    healthy: Callable[[], bool] = lambda: True,
    lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None = None,
) -> Starlette:
    async def slack_events(request: Request) -> Response:
        if slack is None:
            return PlainTextResponse("Slack is not configured (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET).", 404)
        body = await request.body()
        # Bolt checks the signature and timestamp, then runs the listener before answering.
        # Event listeners only enqueue (well under a millisecond), so events are dispatched right
        # here: a hop to a thread costs more than that when workers hold the GIL. Interactions
        # may call Slack (views.open), so they go to a thread.
        bolt_request = to_bolt_request(request, body)
        if request.headers.get("content-type", "").startswith("application/json"):
            response = slack.dispatch(bolt_request)
        else:
            response = await run_in_threadpool(slack.dispatch, bolt_request)
        return to_starlette_response(response)

    async def telegram_webhook(request: Request) -> Response:
        if telegram is None or not telegram_secret:
            return PlainTextResponse("The Telegram webhook is not configured.", 404)
        if not _same(request.headers.get(TELEGRAM_SECRET_HEADER), telegram_secret):
            return PlainTextResponse("Forbidden", 403)
        try:
            data = json.loads(await request.body())
            update = Update.de_json(data, telegram.bot)
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("unreadable Telegram update: %s", exc)
            return PlainTextResponse("Bad update", 400)
        await telegram.process_update(update)
        return Response(status_code=200)

    async def inbound_email(request: Request) -> Response:
        if ingest_email is None or not email_secret:
            return PlainTextResponse("Inbound e-mail is not configured (COO_INBOUND_EMAIL_SECRET).", 404)
        auth = request.headers.get("authorization", "")
        given = request.headers.get(EMAIL_SECRET_HEADER) or (auth[7:] if auth.lower().startswith("bearer ") else None)
        if not _same(given, email_secret):
            return PlainTextResponse("Forbidden", 403)
        raw = await request.body()
        if not raw.strip():
            return PlainTextResponse("Empty message", 400)
        if len(raw) > MAX_EMAIL_BYTES:
            return PlainTextResponse("Message too large", 413)
        await run_in_threadpool(ingest_email, raw)
        return JSONResponse({"ok": True, "queued": True}, status_code=202)

    async def healthz(request: Request) -> Response:
        ok = await run_in_threadpool(healthy)
        return JSONResponse({"ok": ok}, status_code=200 if ok else 503)

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/telegram/webhook", telegram_webhook, methods=["POST"]),
            Route("/inbound/email", inbound_email, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
