"""A real local HTTP server speaking the Telegram Bot API (the part coo uses), recording calls.

Point python-telegram-bot at it with ``base_url=f"{server.url}/bot"`` (TELEGRAM_API_URL). Updates
queued with :meth:`TelegramApi.push_update` are served to ``getUpdates`` (long polling).
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

from tests.fakes.local_api import LocalApiServer

BOT = {
    "id": 777000,
    "is_bot": True,
    "first_name": "coo",
    "username": "coo_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_JSON_FIELDS = ("reply_markup", "reply_parameters", "allowed_updates")


class Call(dict):
    @property
    def method(self) -> str:
        return str(self["method"])


class TelegramApi(LocalApiServer):
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}  # file_path → bytes, served by getFile and downloads
        self.lock = threading.Lock()
        self._ids = itertools.count(5001)
        super().__init__()

    json_fields = _JSON_FIELDS

    def handle_post(self, method: str, args: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        return self.answer(method, args)

    def handle_get(self, path: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
        # file downloads: /file/bot<token>/<file_path>
        data = self.files.get(path.split("/", 3)[-1])
        return (200, "application/octet-stream", data) if data is not None else (404, "text/plain", b"")

    @property
    def url(self) -> str:
        return self.root

    def push_update(self, update: dict[str, Any]) -> None:
        with self.lock:
            self.updates.append(update)

    def _message(self, args: dict[str, Any], message_id: int | None = None) -> dict[str, Any]:
        chat_id = int(args["chat_id"])
        return {
            "message_id": message_id or next(self._ids),
            "date": int(time.time()),
            "from": BOT,
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "text": args.get("text", ""),
        }

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        call = Call(args, method=method)
        with self.lock:
            self.calls.append(call)
        if method == "getMe":
            return {"ok": True, "result": BOT}
        if method == "getWebhookInfo":
            hooks = [c for c in self.calls if c.method in ("setWebhook", "deleteWebhook")]
            url = hooks[-1].get("url", "") if hooks and hooks[-1].method == "setWebhook" else ""
            return {"ok": True, "result": {"url": url, "has_custom_certificate": False, "pending_update_count": 0}}
        if method in ("setWebhook", "deleteWebhook", "answerCallbackQuery"):
            return {"ok": True, "result": True}
        if method == "getUpdates":
            offset = int(args.get("offset") or 0)
            with self.lock:
                ready = [u for u in self.updates if u["update_id"] >= offset]
            if not ready:
                time.sleep(min(float(args.get("timeout") or 0), 0.05))
            return {"ok": True, "result": ready}
        if method == "getFile":
            path = f"documents/{args['file_id']}.eml"
            return {
                "ok": True,
                "result": {
                    "file_id": args["file_id"],
                    "file_unique_id": args["file_id"],
                    "file_size": len(self.files.get(path, b"")),
                    "file_path": path,
                },
            }
        if method == "sendMessage":
            sent = self._message(args)
            call["sent_message_id"] = sent["message_id"]
            return {"ok": True, "result": sent}
        if method in ("editMessageText", "editMessageReplyMarkup"):
            return {"ok": True, "result": self._message(args, int(args["message_id"]))}
        return {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    # -- what tests read ----------------------------------------------------------------------

    def recorded(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10, **match: Any) -> list[Call]:
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.recorded(method) if all(str(c.get(k)) == str(v) for k, v in match.items())]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.01)
