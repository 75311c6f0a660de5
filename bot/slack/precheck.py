"""What /slack/events checks before Bolt sees a request: the signature first (over the raw
bytes, before anything is parsed), then that the payload is a shape Slack sends. A stranger's
bytes are never parsed; a signed but odd payload is a clear 4xx, never a 500.

Bolt checks the signature again; this copy exists so that nothing unauthenticated is decoded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import Headers

log = logging.getLogger(__name__)

# Slack's own replay window: a signature older than this is refused.
MAX_AGE_SECONDS = 5 * 60
# Events that carry a message: coo needs to know where it was said and which message it is.
MESSAGE_EVENTS = ("message", "app_mention")


class Refused(Exception):
    """A request refused before Bolt; ``status`` and a message that says why."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status


def verify_signature(body: bytes, headers: Headers, secret: str) -> None:
    """Slack's v0 signature: HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the signing secret."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not timestamp or not signature:
        raise Refused(401, "missing Slack signature headers (X-Slack-Request-Timestamp, X-Slack-Signature)")
    if not timestamp.isdigit():
        raise Refused(401, "X-Slack-Request-Timestamp is not a number")
    # Wall time, not business time: the replay window is about this machine's clock.
    if abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS:
        raise Refused(401, "the Slack signature is too old (or this machine's clock is off)")
    expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Refused(401, "invalid Slack signature")


def parse_payload(body: bytes, content_type: str) -> dict[str, Any]:
    """The payload as Bolt will read it (JSON, or a form's ``payload`` field), checked for shape."""
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/json"):
            data: Any = json.loads(text)
        else:
            form = parse_qs(text, keep_blank_values=True)
            if "payload" in form:
                data = json.loads(form["payload"][0])
            elif "ssl_check" in form or "command" in form:
                return {key: values[0] for key, values in form.items()}
            else:
                raise Refused(400, "a form post without a payload field")
    except RecursionError:
        raise Refused(400, "the JSON is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refused(400, f"the body is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise Refused(400, f"the payload is a JSON {type(data).__name__}, not an object")
    _check_shape(data)
    return data


def _check_shape(data: dict[str, Any]) -> None:
    kind = data.get("type")
    if kind == "event_callback":
        event = data.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise Refused(400, "an event_callback without an event object")
        if not isinstance(data.get("event_id"), str):
            raise Refused(400, "an event_callback without an event_id")
        if event["type"] in MESSAGE_EVENTS:
            for field in ("channel", "ts"):
                if not isinstance(event.get(field), str) or not event[field]:
                    raise Refused(400, f"a {event['type']} event without {field}")
            for field in ("ts", "thread_ts"):
                if field in event and not _is_slack_ts(event[field]):
                    raise Refused(400, f"a {event['type']} event whose {field} is not a Slack timestamp")
            if "user" in event and not isinstance(event["user"], str):
                raise Refused(400, f"a {event['type']} event whose user is not a string")
    elif kind in ("block_actions", "view_submission", "view_closed", "block_suggestion", "shortcut"):
        if not isinstance(data.get("user"), dict):
            raise Refused(400, f"a {kind} payload without a user")


def _is_slack_ts(value: object) -> bool:
    """Slack's message ids are timestamps: "1764082800.000100"."""
    if not isinstance(value, str):
        return False
    seconds, _, fraction = value.partition(".")
    return seconds.isdigit() and (fraction == "" or fraction.isdigit())
