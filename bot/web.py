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
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from bot.access import may_read_figures
from bot.body_limit import BodyTooLarge, read_body
from bot.intake import IntakeUnavailable
from bot.payload_shape import shape
from bot.slack.precheck import Refused, parse_payload, verify_signature
from bot.telegram.outcome import UpdateOutcome, current_update

log = logging.getLogger(__name__)

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
EMAIL_SECRET_HEADER = "X-Coo-Secret"
MAX_EMAIL_BYTES = 25 * 1024 * 1024
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def build_web_app(
    *,
    slack: App | None = None,
    slack_signing_secret: str | None = None,
    telegram: Application | None = None,
    telegram_secret: str | None = None,
    email_secret: str | None = None,
    ingest_email: Callable[[bytes], Any] | None = None,
    healthy: Callable[[], dict[str, Any]] = lambda: {"ok": True},
    lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None = None,
    metrics: Callable[[], bytes] | None = None,
    figures_token: str | None = None,
    dashboard: Callable[[], str] | None = None,
    dashboard_token: Callable[[], str] | None = None,
) -> Starlette:
    async def slack_events(request: Request) -> Response:
        if slack is None:
            return PlainTextResponse("Slack is not configured (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET).", 404)
        try:
            body = await read_body(request)
            # The signature over the raw bytes before anything is parsed; then the shape.
            if slack_signing_secret:
                verify_signature(body, request.headers, slack_signing_secret)
            if body.strip():
                parse_payload(body, request.headers.get("content-type", ""))
        except BodyTooLarge as exc:
            return exc.response()
        except Refused as exc:
            # Unsigned junk is logged quietly: a flood of it must not flood the log too.
            log.log(
                logging.INFO if exc.status == 401 else logging.WARNING,
                "Slack request refused (%d): %s",
                exc.status,
                exc,
            )
            return PlainTextResponse(f"Bad request: {exc}", exc.status)
        # Bolt checks the signature and timestamp, then runs the listener before answering.
        # Event listeners only enqueue (well under a millisecond), so events are dispatched right
        # here: a hop to a thread costs more than that when workers hold the GIL. Interactions
        # may call Slack (views.open), so they go to a thread.
        try:
            bolt_request = to_bolt_request(request, body)
        except Exception as exc:  # a body Bolt cannot even read: nothing to retry
            log.warning("unreadable Slack request (%d bytes): %s", len(body), type(exc).__name__)
            why = "the body is empty" if not body.strip() else f"the body could not be read ({type(exc).__name__})"
            return PlainTextResponse(
                f"Bad request: {why}; expected a signed Slack Events or interactivity payload", 400
            )
        # Errors inside listeners are answered by the adapter's error handler (bot.slack.adapter):
        # 503 when the input could not be saved (Slack retries), else 200 and a log line.
        try:
            if request.headers.get("content-type", "").startswith("application/json"):
                response = slack.dispatch(bolt_request)
            else:
                response = await run_in_threadpool(slack.dispatch, bolt_request)
        except Exception as exc:  # Bolt itself tripped on a shape Slack never sends
            log.warning(
                "Slack request Bolt could not dispatch (%s: %s); payload shape: %s",
                type(exc).__name__,
                str(exc)[:200],
                shape(bolt_request.body),
            )
            why = "the body is empty" if not body.strip() else "the payload is not one Slack sends"
            return PlainTextResponse(
                f"Bad request: {why}; expected a signed Slack Events or interactivity payload", 400
            )
        return to_starlette_response(response)

    async def telegram_webhook(request: Request) -> Response:
        if telegram is None or not telegram_secret:
            return PlainTextResponse("The Telegram webhook is not configured.", 404)
        if not _same(request.headers.get(TELEGRAM_SECRET_HEADER), telegram_secret):
            return PlainTextResponse("Forbidden", 403)
        try:
            raw = await read_body(request)
        except BodyTooLarge as exc:
            return exc.response()
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("an update is a JSON object with an integer update_id")
            update = Update.de_json(data, telegram.bot)
        except Exception as exc:  # any shape Telegram would never send
            log.warning("unreadable Telegram update: %s: %s", type(exc).__name__, str(exc)[:200])
            why = "the body is empty" if not raw.strip() else f"{type(exc).__name__}: {str(exc)[:120]}"
            return PlainTextResponse(f"Bad update ({why}): expected a Telegram Update object", 400)
        outcome = UpdateOutcome()
        token = current_update.set(outcome)
        try:
            await telegram.process_update(update)
        finally:
            current_update.reset(token)
        if outcome.unsaved:
            # Not saved (the database is down): a non-2xx status makes Telegram send it again.
            return PlainTextResponse("Not saved; please retry", 503, headers={"Retry-After": "5"})
        return Response(status_code=200)

    async def inbound_email(request: Request) -> Response:
        if ingest_email is None or not email_secret:
            return PlainTextResponse("Inbound e-mail is not configured (COO_INBOUND_EMAIL_SECRET).", 404)
        auth = request.headers.get("authorization", "")
        given = request.headers.get(EMAIL_SECRET_HEADER) or (auth[7:] if auth.lower().startswith("bearer ") else None)
        if not _same(given, email_secret):
            return PlainTextResponse("Forbidden", 403)
        try:
            raw = await read_body(request, MAX_EMAIL_BYTES)
        except BodyTooLarge as exc:
            return exc.response()
        if not raw.strip():
            return PlainTextResponse("Empty message: post the raw e-mail (RFC 822) as the request body", 400)
        try:
            await run_in_threadpool(ingest_email, raw)
        except IntakeUnavailable:
            return PlainTextResponse(
                "Not saved (the database is down); please retry", 503, headers={"Retry-After": "5"}
            )
        return JSONResponse({"ok": True, "queued": True}, status_code=202)

    async def healthz(request: Request) -> Response:
        health = await run_in_threadpool(healthy)
        return JSONResponse(health, status_code=200 if health.get("ok") else 503)

    async def metrics_endpoint(request: Request) -> Response:
        if metrics is None:
            return PlainTextResponse("Metrics are not served by this app.", 404)
        if not may_read_figures(request, figures_token):
            return PlainTextResponse("Forbidden: send Authorization: Bearer <COO_METRICS_TOKEN>", 403)
        body = await run_in_threadpool(metrics)
        return Response(body, media_type=METRICS_CONTENT_TYPE)

    async def dashboard_endpoint(request: Request) -> Response:
        if dashboard is None or dashboard_token is None:
            return PlainTextResponse("The dashboard is not served by this app.", 404)
        # Always a token (the link's, or the bearer token): the page is never open to the network.
        if not may_read_figures(request, dashboard_token()):
            return PlainTextResponse("Forbidden: open the link `coo dashboard-link` prints.", 403)
        page = await run_in_threadpool(dashboard)
        return HTMLResponse(page, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    async def readyz(request: Request) -> Response:
        # Ready to take traffic: the database can save what arrives (a Redis outage only delays
        # the work: inputs are saved and queued when it is back).
        health = await run_in_threadpool(healthy)
        ready = health.get("database") == "up"
        return JSONResponse({"ready": ready, **health}, status_code=200 if ready else 503)

    return Starlette(
        routes=[
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/dashboard", dashboard_endpoint, methods=["GET"]),
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/telegram/webhook", telegram_webhook, methods=["POST"]),
            Route("/inbound/email", inbound_email, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
