"""Secrets never leave the process in clear: every log record, and every value written to the
database (so the ledger, replies and exports too), has the registered secrets masked.

The composition root registers the secrets it was configured with (bot/secret_values.py).
Log records are cleaned as they are created (a log-record factory), so every handler — a file,
the console, a test's capture — sees the masked text, including formatted tracebacks.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any
from urllib.parse import quote

MASK = "[redacted]"
# Shorter values (a test password "pw", a port) would mask ordinary words.
MIN_LENGTH = 6

_secrets: tuple[str, ...] = ()
_lock = threading.Lock()
_installed = False


def register(*values: str | None) -> None:
    """Mask these values (and their URL-encoded forms) from now on."""
    global _secrets
    found = set(_secrets)
    for value in values:
        if value and len(value) >= MIN_LENGTH:
            found.update({value, quote(value, safe="")})
    with _lock:
        # Longest first: a token that contains another secret is masked whole.
        _secrets = tuple(sorted(found, key=len, reverse=True))
    install_log_filter()


def registered() -> tuple[str, ...]:
    return _secrets


def forget_all() -> None:
    """Tests: start from no secrets."""
    global _secrets
    with _lock:
        _secrets = ()


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def contains_secret(text: str) -> bool:
    return any(secret in text for secret in _secrets)


def _clean(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: leave it for logging to report
        return
    # Frozen as text now: arguments are often live objects (PTB's dicts gain the file URL, with
    # the token, after they were logged), and a handler may format them later.
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if contains_secret(text):
            record.exc_text = redact(text)  # Formatter uses exc_text as it is


def install_log_filter() -> None:
    """Clean every log record from now on (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _secrets:
            _clean(record)
        return record

    logging.setLogRecordFactory(factory)
