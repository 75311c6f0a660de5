"""A real local HTTP server speaking the Slack Web API (the part coo uses), recording every call.

Point slack_sdk at it with ``base_url=server.url`` (SLACK_API_URL). Also signs requests the
way Slack signs them, for posting events and interactions to coo's /slack/events.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from typing import Any
from urllib.parse import urlencode

from tests.fakes.local_api import LocalApiServer

BOT_USER = "UCOOBOT"
BOT_ID = "BCOOBOT"
TEAM = "T0001"


class Call(dict):
    """One recorded API call: its arguments, plus ``method`` and ``token``."""

    @property
    def method(self) -> str:
        return str(self["method"])


FILES_PREFIX = "/files-pri/"
LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"


class SlackApi(LocalApiServer):
    def __init__(self, token: str = "xoxb-test") -> None:
        self.calls: list[Call] = []
        self.token = token  # the bot token uploaded files are served to
        self.files: dict[str, bytes] = {}  # path under FILES_PREFIX -> content (see ``upload``)
        self.file_info: dict[str, dict[str, Any]] = {}  # file id -> its files.info entry
        self.revoked: set[str] = set()  # tokens auth.test answers invalid_auth for
        self.lock = threading.Lock()
        self._ts = itertools.count(1)
        super().__init__()

    json_fields = ("blocks", "view")

    def handle_post(self, method: str, args: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        return self.answer(method, args, headers.get("Authorization", ""))

    def handle_get(self, path: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
        # A file's url_private_download: Slack serves it to a bearer of a token with
        # files:read, and anyone else gets the sign-in page (HTML, status 200).
        return self.download(path, headers.get("Authorization", ""))

    @property
    def url(self) -> str:
        return f"{self.root}/api/"

    def upload(
        self, file_id: str, name: str, content: bytes, *, filetype: str = "csv", mimetype: str = "text/csv"
    ) -> dict[str, Any]:
        """Store a file and return it as a ``files`` entry of a file_share message event."""
        private, download = f"{TEAM}-{file_id}/{name}", f"{TEAM}-{file_id}/download/{name}"
        self.files[private] = self.files[download] = content
        self.file_info[file_id] = {
            "id": file_id,
            "name": name,
            "title": name,
            "filetype": filetype,
            "mimetype": mimetype,
            "size": len(content),
            "mode": "hosted",
            "is_external": False,
            "url_private": f"{self.root}{FILES_PREFIX}{private}",
            "url_private_download": f"{self.root}{FILES_PREFIX}{download}",
        }
        return dict(self.file_info[file_id])

    def download(self, path: str, auth: str) -> tuple[int, str, bytes]:
        call = Call({"path": path}, method="files.download", token=auth.removeprefix("Bearer "), at=time.monotonic())
        with self.lock:
            self.calls.append(call)
        if not path.startswith(FILES_PREFIX) or path.removeprefix(FILES_PREFIX) not in self.files:
            return 404, "text/plain", b"file not found"
        if auth != f"Bearer {self.token}":
            return 200, "text/html; charset=utf-8", LOGIN_PAGE
        return 200, "text/csv", self.files[path.removeprefix(FILES_PREFIX)]

    def next_ts(self) -> str:
        return f"{1764082800 + next(self._ts)}.000100"

    def answer(self, method: str, args: dict[str, Any], auth: str) -> dict[str, Any]:
        call = Call(args, method=method, token=auth.removeprefix("Bearer "), at=time.monotonic())
        with self.lock:
            self.calls.append(call)
        if method == "auth.test" and auth.removeprefix("Bearer ") in self.revoked:
            return {"ok": False, "error": "invalid_auth"}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://coo.slack.example/",
                "team": "Studio",
                "user": "coo",
                "team_id": TEAM,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
            }
        if method == "chat.postMessage":
            channel = str(args.get("channel"))
            if channel.startswith("U"):  # a DM opened by writing to a user id
                channel = "D" + channel[1:]
            call["posted"] = {"channel": channel, "ts": self.next_ts()}
            return {"ok": True, **call["posted"], "message": {"text": args.get("text"), "bot_id": BOT_ID}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self.next_ts()}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts"), "text": args.get("text")}
        if method == "files.info":
            info = self.file_info.get(str(args.get("file")))
            return {"ok": True, "file": info} if info else {"ok": False, "error": "file_not_found"}
        if method == "views.open":
            return {"ok": True, "view": {"id": "V0001", **(args.get("view") or {})}}
        return {"ok": False, "error": "unknown_method"}

    # -- what tests read ----------------------------------------------------------------------

    def recorded(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10, **match: Any) -> list[Call]:
        """Wait until ``count`` calls of ``method`` whose arguments include ``match`` were made."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.recorded(method) if all(c.get(k) == v for k, v in match.items())]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.01)


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends: v0 HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def event_body(event: dict[str, Any], event_id: str) -> str:
    """An Events API callback as Slack posts it (JSON)."""
    return json.dumps(
        {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0001",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        }
    )


def interaction_body(payload: dict[str, Any]) -> str:
    """An interaction (button tap, modal submit) as Slack posts it: form-encoded ``payload=``."""
    return urlencode({"payload": json.dumps({"team": {"id": TEAM}, "api_app_id": "A0001", **payload})})


def block_actions(card: dict[str, Any], verb: str, approval_id: int, user: str, action_ts: str) -> dict[str, Any]:
    """A block_actions payload as Slack sends it: ``user`` tapped ``verb`` on the card that the
    recorded chat.postMessage call ``card`` posted."""
    channel, ts = card["posted"]["channel"], card["posted"]["ts"]
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower()},
        "trigger_id": f"trigger-{action_ts}",
        "channel": {"id": channel},
        "container": {"type": "message", "message_ts": ts, "channel_id": channel},
        "message": {"ts": ts, "thread_ts": card.get("thread_ts"), "text": card.get("text")},
        "actions": [
            {
                "type": "button",
                "action_id": f"coo:{verb}:{approval_id}",
                "block_id": "b",
                "value": str(approval_id),
                "action_ts": action_ts,
            }
        ],
    }
