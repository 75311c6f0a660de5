"""Which configured values are secrets: registered with store.redaction when a process starts,
so they are masked in logs, the database (ledger, replies) and exports.

HTTP clients log each request's URL at INFO, and Telegram's Bot API puts the bot token in the
URL path: their loggers are also lowered to WARNING unless the operator set a level for them.
"""

from __future__ import annotations

import logging
import os
from urllib.parse import unquote, urlparse

from bot.settings import Settings
from store import redaction

CHATTY_HTTP_LOGGERS = ("httpx", "httpcore", "urllib3", "hpack")


def _password(url: str | None) -> str | None:
    if not url:
        return None
    try:
        password = urlparse(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def secrets_of(settings: Settings) -> list[str]:
    values = [
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.telegram_bot_token,
        settings.telegram_webhook_secret,
        settings.inbound_email_secret,
        settings.metrics_token,
        _password(settings.smtp_url),
        _password(settings.database_url),
        _password(settings.redis_url),
    ]
    token = settings.telegram_bot_token
    if token and ":" in token:
        values.append(token.split(":", 1)[1])  # the secret half, should the id be printed apart
    # Model providers' keys (OPENAI_API_KEY, ANTHROPIC_API_KEY, …) are read by their SDKs.
    values += [value for name, value in os.environ.items() if name.endswith("_API_KEY")]
    return [v for v in values if v]


def protect(settings: Settings) -> None:
    """Mask this process's secrets everywhere, and quiet the HTTP clients' URL logging."""
    redaction.register(*secrets_of(settings))
    for name in CHATTY_HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
