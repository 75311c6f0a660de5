"""Documents sent to the bot in Telegram (an .eml e-mail, a bank CSV export), fetched by the
background job, never by the webhook handler.

The adapter only saves the document's ``file_id``, name and size (the webhook answers at
once); the job (bot.jobs) calls ``fetch_document`` on a worker: the Bot API's ``getFile`` gives
a path, then the file is downloaded from the Bot API's file endpoint (files of up to 20 MB). A
failure says what went wrong in words for the operator (``DownloadFailed``); a network error
is raised as ``DownloadUnreachable`` so the queue retries before the operator is told.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from bot.settings import Settings

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # the Bot API serves files up to 20 MB
TIMEOUT = 30.0
# What the job needs of a ``document``; the rest (thumbnails) stays behind.
DOCUMENT_FIELDS = ("file_id", "file_unique_id", "file_name", "mime_type", "file_size")


class DownloadFailed(Exception):
    """The document cannot be fetched; the message is said to the operator."""


class DownloadUnreachable(DownloadFailed):
    """Telegram could not be reached: worth another attempt."""


def document_entry(document: dict[str, Any]) -> dict[str, Any]:
    return {k: document[k] for k in DOCUMENT_FIELDS if document.get(k) is not None}


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def _get(url: str, form: dict[str, str] | None = None) -> bytes:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with urllib.request.urlopen(url, data=data, timeout=TIMEOUT) as response:  # noqa: S310 (the Bot API's URL)
            return bytes(response.read(MAX_DOCUMENT_BYTES + 1))
    except urllib.error.HTTPError as exc:
        raise DownloadFailed(f"Telegram answered {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DownloadUnreachable(f"I couldn't reach Telegram ({getattr(exc, 'reason', exc)})") from exc


def fetch_document(settings: Settings, document: dict[str, Any]) -> bytes:
    """The document's bytes; DownloadFailed (or DownloadUnreachable) says why not."""
    size = document.get("file_size")
    if isinstance(size, int) and size > MAX_DOCUMENT_BYTES:
        raise DownloadFailed(f"it is {_size(size)}; Telegram lets bots download files of up to 20 MB")
    token = settings.telegram_bot_token
    if not token:
        raise DownloadFailed("TELEGRAM_BOT_TOKEN is not set on this worker")
    root = settings.telegram_api_url.rstrip("/")
    answer = _get(f"{root}/bot{token}/getFile", {"file_id": str(document["file_id"])})
    try:
        path = json.loads(answer)["result"]["file_path"]
    except (ValueError, KeyError, TypeError) as exc:
        raise DownloadFailed("Telegram didn't say where the file is (it may have expired)") from exc
    data = _get(f"{root}/file/bot{token}/{urllib.parse.quote(str(path))}")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DownloadFailed(f"it is over {_size(MAX_DOCUMENT_BYTES)}; Telegram lets bots download up to 20 MB")
    return data
