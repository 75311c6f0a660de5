"""Request bodies read with a ceiling: a body larger than its endpoint allows is refused with
413 as soon as that is known (a declared Content-Length, or the bytes read so far), so a 100 MB
post never sits in memory. Each endpoint has its own ceiling (``LIMITS``)."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse

log = logging.getLogger(__name__)

MIB = 1024 * 1024
# Slack's events and interactions are a few KB (a modal submission with long fields stays well
# under 1 MB); Telegram sends files by reference, so an update is small too; an e-mail with
# attachments is the one large body, capped where common mail servers cap messages.
LIMITS: dict[str, int] = {
    "/slack/events": 1 * MIB,
    "/telegram/webhook": 1 * MIB,
    "/inbound/email": 25 * MIB,
}


class BodyTooLarge(Exception):
    """The body is over the endpoint's ceiling; nothing of it was kept."""

    def __init__(self, path: str, limit: int) -> None:
        super().__init__(f"{path} takes at most {limit} bytes")
        self.path = path
        self.limit = limit

    def response(self) -> PlainTextResponse:
        return PlainTextResponse(f"Request body too large: {self.path} takes at most {self.limit} bytes", 413)


async def read_body(request: Request, limit: int | None = None) -> bytes:
    """The whole body, or BodyTooLarge once it is certain to exceed ``limit`` (default: the
    path's entry in ``LIMITS``)."""
    path = request.url.path
    ceiling = limit if limit is not None else LIMITS.get(path, 1 * MIB)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > ceiling:
        log.warning("refused a %s-byte body on %s (limit %d)", declared, path, ceiling)
        raise BodyTooLarge(path, ceiling)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > ceiling:
            log.warning("refused a body over %d bytes on %s (sent without a usable Content-Length)", ceiling, path)
            raise BodyTooLarge(path, ceiling)
        chunks.append(chunk)
    return b"".join(chunks)
