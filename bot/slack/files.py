"""Files shared in Slack: a bank or payment-provider CSV export, downloaded and reconciled.

The adapter only saves the file's ``files`` entry (the HTTP handler makes no network call);
the job (bot.jobs) calls ``fetch_export`` on a worker, which builds a Web API client from the settings, downloads
``url_private_download`` with the bot token as a bearer token (Slack's documented way; the
app needs ``files:read``) and hands the bytes to ``graphs.payments_intake``. The token is only
ever sent to Slack's own hosts (or SLACK_API_URL's host), also across redirects.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from http.client import HTTPMessage
from typing import IO, Any
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.runtime import Runtime
from graphs.payments_intake import MAX_CSV_BYTES, looks_like_csv

log = logging.getLogger(__name__)

SLACK_HOSTS = ("slack.com", "slack-gov.com")
# What the job needs of a ``files`` entry; the rest (previews, thumbnails, shares) stays behind.
FILE_FIELDS = ("id", "name", "title", "filetype", "mimetype", "size", "url_private_download", "url_private")


class DownloadFailed(Exception):
    """The file could not be fetched; the message is said to the operator."""


def is_payments_export(file: dict[str, Any]) -> bool:
    kind = (file.get("filetype") or "").lower()
    return kind in ("csv", "tsv") or looks_like_csv(file.get("name"), file.get("mimetype"))


def file_entry(file: dict[str, Any]) -> dict[str, Any]:
    return {k: file[k] for k in FILE_FIELDS if file.get(k) is not None}


def slack_client(runtime: Runtime) -> WebClient:
    """The bot's Web API client, built like ``bot.serve`` builds the app's."""
    settings = runtime.settings
    if not settings.slack_bot_token:
        raise DownloadFailed("SLACK_BOT_TOKEN is not set on this worker.")
    api_url = settings.slack_api_url
    return WebClient(token=settings.slack_bot_token, base_url=api_url if api_url.endswith("/") else api_url + "/")


def trusted(url: str, api_url: str) -> bool:
    """Whether the bot token may be sent to ``url``: Slack's hosts over HTTPS, or the API's own host."""
    parts, api = urlsplit(url), urlsplit(api_url)
    host = (parts.hostname or "").lower()
    on_slack = parts.scheme == "https" and any(host == h or host.endswith("." + h) for h in SLACK_HOSTS)
    return on_slack or (parts.scheme, parts.netloc) == (api.scheme, api.netloc)


class _KeepTokenOnSlack(urllib.request.HTTPRedirectHandler):
    def __init__(self, api_url: str) -> None:
        self.api_url = api_url

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and not trusted(newurl, self.api_url):
            new.remove_header("Authorization")
        return new


def download(client: WebClient, url: str, *, limit: int = MAX_CSV_BYTES) -> bytes:
    """GET a file's private URL with the bot token; at most ``limit`` bytes."""
    if not trusted(url, client.base_url):
        raise DownloadFailed("its address is not on Slack, so I didn't send my token there.")
    handlers: list[urllib.request.BaseHandler] = [_KeepTokenOnSlack(client.base_url)]
    if client.ssl is not None:
        handlers.append(urllib.request.HTTPSHandler(context=client.ssl))
    if client.proxy:
        handlers.append(urllib.request.ProxyHandler({"http": client.proxy, "https": client.proxy}))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {client.token}"})
    try:
        with opener.open(request, timeout=client.timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise DownloadFailed(_too_big(int(declared), limit))
            kind = response.headers.get_content_type()
            data = response.read(limit + 1)
    except urllib.error.HTTPError as exc:
        raise DownloadFailed(f"Slack answered {exc.code} {exc.reason}.") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadFailed(f"I couldn't reach Slack ({reason}).") from exc
    if len(data) > limit:
        raise DownloadFailed(_too_big(None, limit))
    if kind == "text/html":
        # Slack's answer to a token without files:read is its sign-in page, with status 200.
        raise DownloadFailed(
            "Slack sent its sign-in page instead of the file; the app needs the files:read "
            "scope (add it and reinstall the app)."
        )
    return data


def _too_big(size: int | None, limit: int) -> str:
    shown = f"{size / 1024 / 1024:.0f} MB" if size else f"over {limit // 1024 // 1024} MB"
    return f"it is {shown}; I read payment exports up to {limit // 1024 // 1024} MB. Export a shorter period?"


def _url(client: WebClient, file: dict[str, Any]) -> str:
    url = file.get("url_private_download") or file.get("url_private")
    if url:
        return str(url)
    try:  # some shares (Slack Connect) carry only the id: ask files.info
        info = client.files_info(file=file["id"])["file"]
    except (SlackApiError, KeyError) as exc:
        raise DownloadFailed(f"Slack didn't tell me where the file is ({exc}).") from exc
    url = info.get("url_private_download") or info.get("url_private")
    if not url:
        raise DownloadFailed("Slack didn't tell me where the file is.")
    return str(url)


def fetch_export(runtime: Runtime, file: dict[str, Any]) -> bytes:
    """Download one shared CSV export with the bot token; DownloadFailed says why not."""
    size = file.get("size")
    if isinstance(size, int) and size > MAX_CSV_BYTES:
        raise DownloadFailed(_too_big(size, MAX_CSV_BYTES))
    client = slack_client(runtime)
    return download(client, _url(client, file))


# -- e-mails (.eml) shared as files -------------------------------------------------------------

MAX_EML_BYTES = 20 * 1024 * 1024


def is_email_file(file: dict[str, Any]) -> bool:
    """An .eml file uploaded to Slack (not an e-mail the channel's address received)."""
    if file.get("mode") == "email" or (file.get("filetype") or "").lower() == "email":
        return False
    name = str(file.get("name") or file.get("title") or "").lower()
    return name.endswith(".eml") or (file.get("mimetype") or "").lower() == "message/rfc822"


def fetch_email(runtime: Runtime, file: dict[str, Any]) -> bytes:
    """Download one shared .eml file with the bot token; DownloadFailed says why not."""
    size = file.get("size")
    if isinstance(size, int) and size > MAX_EML_BYTES:
        raise DownloadFailed(f"it is {size / 1024 / 1024:.0f} MB; I read e-mails up to 20 MB.")
    client = slack_client(runtime)
    return download(client, _url(client, file), limit=MAX_EML_BYTES)
