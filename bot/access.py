"""Who may read coo's figures (`/metrics`, `/dashboard`): the holder of the token, or, when no
token is set, only a request from this machine (a reverse proxy on the same machine counts as
local: set COO_METRICS_TOKEN before exposing `coo serve`)."""

from __future__ import annotations

import hmac
import logging

from starlette.requests import Request

log = logging.getLogger(__name__)

LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def given_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.query_params.get("token")


def may_read_figures(request: Request, token: str | None) -> bool:
    if token:
        given = given_token(request)
        ok = given is not None and hmac.compare_digest(given.encode(), token.encode())
    else:
        ok = request.client is not None and request.client.host in LOCAL_HOSTS
    if not ok:
        host = request.client.host if request.client else "?"
        log.warning(
            "refused %s %s from %s: %s",
            request.method,
            request.url.path,
            host,
            "wrong or missing token" if token else "not local and no COO_METRICS_TOKEN is set",
        )
    return ok
