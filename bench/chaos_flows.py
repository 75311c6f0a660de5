"""Approval flows driven as Slack and Telegram drive them: a signed message event (or webhook
update) asking for an invoice, the card coo posts, a tap on its Approve button, the e-mail — and
as an operator at `coo chat` does: the request typed into a long-running console, the card read
from its output, `/approve N` typed, the outcome line read.

Delivery follows the platforms: a request that was not acknowledged (no 2xx: refused, timed
out, 5xx) is sent again — Slack re-sends the same event with X-Slack-Retry-Num, Telegram the
same update_id, and an operator whose Slack tap failed taps again. What counts afterwards is
what coo acknowledged: each acknowledged message must get its card, each acknowledged tap its
outcome line, exactly once. A console line is acknowledged when the console echoed it (`you> …`:
it read the line) and did not answer "I couldn't save that"; a line typed into a console that
exited before reading it, or refused, is typed again.

Every `coo chat` shows every message of the console thread, so a console flow's answers are the
messages naming its e-mail address, in whichever console printed them (a restarted console does
not reprint what another one already showed); a second copy in one console is a duplicate."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from bench.chaos_rig import SIGNING_SECRET, SLACK_OPERATOR, TG_OPERATOR, TG_SECRET, Rig

Channel = Literal["slack", "telegram", "console"]
CHANNELS: tuple[Channel, ...] = ("slack", "telegram", "console")
REQUEST_TIMEOUT = 3.0  # Slack gives up on an ack after 3 s and sends the event again
RETRY_AFTER = 1.0  # the pause before a delivery is tried again
TAP_AFTER = 0.2  # an operator reads the card before tapping
LOOK_AGAIN = 5.0  # an operator waiting on an outcome types a question to see what came meanwhile
LOOK_LINE = "any approvals waiting?"  # coo chat prints new messages only after a line it read
CONSOLE_APPROVE = re.compile(r"\[/approve (\d+)\]")


def _name(index: int) -> str:
    """A client name without digits (the offline parser reads digits as amounts)."""
    letters = "bcdfghklmnprstvz"
    word = ""
    n = index
    for _ in range(4):
        word += letters[n % len(letters)]
        n //= len(letters)
    return word.capitalize()


@dataclass
class Flow:
    index: int
    phase: str
    channel: Channel
    client: str
    email: str
    thread: str  # Slack: the message ts; Telegram: the message_id
    due: float  # when the message is first sent (monotonic)
    message_sends: int = 0
    message_acked: float | None = None
    tap_sends: int = 0
    tap_acked: float | None = None
    approval_id: int | None = None
    card: dict[str, Any] | None = None
    finished: float | None = None  # when its outcome line was seen
    next_try: float = 0.0
    errors: list[str] = field(default_factory=list)
    console: int = 0  # which of the rig's consoles a console flow types into
    typed_start: int = 0  # that console's start count when the pending line was typed
    look_from: int = 0  # where in its output to look for the pending line's echo

    @property
    def text(self) -> str:
        amount = 100 + self.index
        return f"invoice Chaos {self.client} ${amount:,} for design work, contact {self.email}"


class Driver:
    """Sends each flow's requests at their time and watches the fakes for coo's answers."""

    _update_ids = itertools.count(700_001)
    _message_ids = itertools.count(20_001)

    def __init__(self, rig: Rig, channels: tuple[Channel, ...] = ("slack", "telegram")) -> None:
        self.rig = rig
        self.channels = channels
        self.http = httpx.Client(timeout=REQUEST_TIMEOUT)
        self.flows: list[Flow] = []
        self.requests_5xx = 0
        self.requests_refused = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seq = itertools.count(1)
        self._index: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._console_lines: list[list[str]] = [[] for _ in rig.consoles]
        self._console_messages: list[list[str]] = [[] for _ in rig.consoles]
        self._looked: dict[int, float] = {}

    def refresh(self) -> None:
        """Index what the fakes recorded by thread, once per pass (not once per flow)."""
        for number, console in enumerate(self.rig.consoles):
            lines = console.output()
            if len(lines) != len(self._console_lines[number]):
                self._console_lines[number] = lines
                self._console_messages[number] = _console_messages(lines)
        index: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for call in self.rig.slack.recorded("chat.postMessage"):
            index.setdefault(("slack", str(call.get("thread_ts"))), []).append(call)
        for sent in self.rig.telegram.recorded("sendMessage"):
            quoted = (sent.get("reply_parameters") or {}).get("message_id")
            index.setdefault(("telegram", str(quoted)), []).append(sent)
        self._index = index

    def add(self, phase: str, count: int, spread: float) -> list[Flow]:
        """``count`` flows of ``phase`` starting over the next ``spread`` seconds, the channels
        taking turns (console flows taking turns over the consoles)."""
        now = time.monotonic()
        added = []
        for i in range(count):
            index = next(self._seq)
            channel = self.channels[(index - 1) % len(self.channels)]
            client = _name(index)
            thread = f"{1764090000 + index}.000100" if channel == "slack" else str(next(self._message_ids))
            flow = Flow(
                index=index,
                phase=phase,
                channel=channel,
                client=client,
                email=f"billing-{client.lower()}@chaos.example",
                thread=thread,
                due=now + spread * i / max(1, count),
                console=(index // len(self.channels)) % max(1, len(self.rig.consoles)),
            )
            added.append(flow)
        self.flows.extend(added)
        return added

    # -- the loop --------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chaos-driver", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        self.http.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.rig.revive_consoles()
            self.refresh()
            now = time.monotonic()
            for flow in list(self.flows):
                if self._stop.is_set():
                    return
                try:
                    self._step(flow, now)
                except Exception as exc:  # one flow's surprise must not stop the others
                    flow.errors.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.05)

    def _step(self, flow: Flow, now: float) -> None:
        if flow.finished is not None or now < flow.due or now < flow.next_try:
            return
        if flow.channel == "console":
            self._console_step(flow, now)
            return
        if flow.message_acked is None:
            if self._post(self._message_request(flow)):
                flow.message_acked = time.monotonic()
            else:
                flow.next_try = time.monotonic() + RETRY_AFTER
            flow.message_sends += 1
            return
        if flow.card is None:
            flow.card = self.card(flow)
            flow.next_try = time.monotonic() + TAP_AFTER
            return
        if flow.tap_acked is None:
            if self._post(self._tap_request(flow)):
                flow.tap_acked = time.monotonic()
            else:
                flow.next_try = time.monotonic() + RETRY_AFTER
            flow.tap_sends += 1
            return
        if self.outcomes(flow):
            flow.finished = time.monotonic()

    def _post(self, request: tuple[str, str, dict[str, str]]) -> bool:
        path, body, headers = request
        try:
            response = self.http.post(f"{self.rig.url}{path}", content=body, headers=headers)
        except httpx.HTTPError:
            self.requests_refused += 1
            return False
        if response.status_code >= 500:
            self.requests_5xx += 1
        return 200 <= response.status_code < 300

    # -- the console, typed into ------------------------------------------------------------------

    def _console_step(self, flow: Flow, now: float) -> None:
        if flow.message_acked is None:
            if self._typed(flow, flow.text):
                flow.message_acked = time.monotonic()
            return
        if flow.card is None:
            flow.card = self.card(flow)
            flow.next_try = time.monotonic() + TAP_AFTER
            if flow.card is not None:
                flow.typed_start = 0  # the approval is a new line to type
            else:
                self._look_again(flow, now)  # told "the reply will show with your next message"
            return
        if flow.tap_acked is None:
            if self._typed(flow, f"/approve {flow.approval_id}", tap=True):
                flow.tap_acked = time.monotonic()
            return
        if self.outcomes(flow):
            flow.finished = time.monotonic()
        else:
            self._look_again(flow, now)

    def _look_again(self, flow: Flow, now: float) -> None:
        """coo chat prints what arrived meanwhile (a card made after an outage, a retried send's
        outcome) after the next line it reads, as an operator sees it when they type again."""
        if now - self._looked.get(flow.console, 0.0) > LOOK_AGAIN:
            self._looked[flow.console] = now
            self.rig.consoles[flow.console].type(LOOK_LINE)

    def _typed(self, flow: Flow, text: str, *, tap: bool = False) -> bool:
        """Type ``text`` (again, if the console it went to exited unread or refused it); True
        once the console echoed it and did not refuse it."""
        console = self.rig.consoles[flow.console]
        lines = self._console_lines[flow.console]
        if flow.typed_start == console.starts and flow.typed_start:
            echo = _find(lines, f"you> {text}", flow.look_from)
            if echo is None:
                return False  # still queued on its stdin behind earlier lines
            reply = _find_prefix(lines, "coo> ", echo + 1)
            if reply is None:
                return False
            if not lines[reply].startswith("coo> I couldn't save that"):
                return True
            flow.look_from = reply + 1  # refused: typed again, as the reply asks
        if not console.alive():
            flow.next_try = time.monotonic() + RETRY_AFTER
            return False
        flow.look_from = len(lines)
        flow.typed_start = console.starts
        if console.type(text):
            if tap:
                flow.tap_sends += 1
            else:
                flow.message_sends += 1
        else:
            flow.typed_start = 0
            flow.next_try = time.monotonic() + RETRY_AFTER
        return False

    # -- requests as the platforms send them -----------------------------------------------------

    def _message_request(self, flow: Flow) -> tuple[str, str, dict[str, str]]:
        from tests.fakes.slack_api import event_body, sign

        if flow.channel == "slack":
            event = {
                "type": "message",
                "channel": "DCHAOS",
                "channel_type": "im",
                "user": SLACK_OPERATOR,
                "text": flow.text,
                "ts": flow.thread,
                "event_ts": flow.thread,
            }
            body = event_body(event, f"EvChaos{flow.index}")
            headers = {"Content-Type": "application/json", **sign(SIGNING_SECRET, body)}
            if flow.message_sends:
                headers |= {"X-Slack-Retry-Num": str(flow.message_sends), "X-Slack-Retry-Reason": "http_error"}
            return "/slack/events", body, headers
        update = {
            "update_id": 600_000 + flow.index,  # the same id on every redelivery, as Telegram does
            "message": {
                "message_id": int(flow.thread),
                "date": int(time.time()),
                "text": flow.text,
                "chat": {"id": TG_OPERATOR, "type": "private", "first_name": "Ana"},
                "from": {"id": TG_OPERATOR, "is_bot": False, "first_name": "Ana"},
            },
        }
        return "/telegram/webhook", json.dumps(update), self._tg_headers()

    def _tap_request(self, flow: Flow) -> tuple[str, str, dict[str, str]]:
        from tests.fakes.slack_api import block_actions, interaction_body, sign

        card, approval = flow.card, flow.approval_id
        assert card is not None and approval is not None
        if flow.channel == "slack":
            action_ts = f"{1764190000 + flow.index}.{flow.tap_sends:06d}"  # a new tap each time
            payload = block_actions(card, "approve", approval, SLACK_OPERATOR, action_ts)
            body = interaction_body(payload)
            return (
                "/slack/events",
                body,
                {"Content-Type": "application/x-www-form-urlencoded", **sign(SIGNING_SECRET, body)},
            )
        update = {
            "update_id": 800_000 + flow.index,
            "callback_query": {
                "id": f"cb-chaos-{flow.index}",
                "chat_instance": "chaos",
                "data": f"coo:approve:{approval}",
                "from": {"id": TG_OPERATOR, "is_bot": False, "first_name": "Ana"},
                "message": {
                    "message_id": card["sent_message_id"],
                    "date": int(time.time()),
                    "text": "card",
                    "chat": {"id": TG_OPERATOR, "type": "private"},
                },
            },
        }
        return "/telegram/webhook", json.dumps(update), self._tg_headers()

    @staticmethod
    def _tg_headers() -> dict[str, str]:
        return {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TG_SECRET}

    # -- what coo said in a flow's thread --------------------------------------------------------

    def replies(self, flow: Flow) -> list[dict[str, Any]]:
        if flow.channel == "console":
            return [r for shown in self._console_replies(flow) for r in shown]
        return self._index.get((flow.channel, flow.thread), [])

    def _console_replies(self, flow: Flow) -> list[list[dict[str, Any]]]:
        """Per console, the messages it printed that name the flow's e-mail address."""
        return [
            [{"text": text, "console": number} for text in messages if flow.email in text]
            for number, messages in enumerate(self._console_messages)
        ]

    def _per_console(self, flow: Flow, keep: Any) -> list[dict[str, Any]]:
        """The matching messages of the console that printed the most of them: one copy in any
        console answers the flow; a second copy in one console is a duplicate."""
        shown = [[r for r in replies if keep(r)] for replies in self._console_replies(flow)]
        return max(shown, key=len, default=[])

    def console_shown(self) -> set[int]:
        """Approval ids of the cards any console printed."""
        return {int(m) for messages in self._console_messages for t in messages for m in CONSOLE_APPROVE.findall(t)}

    def cards(self, flow: Flow) -> list[dict[str, Any]]:
        """The approval cards posted in the flow's thread."""
        if flow.channel == "console":
            return self._per_console(flow, lambda r: _approve_id(r) is not None)
        found = []
        for call in self.replies(flow):
            if _approve_id(call) is not None:
                found.append(call)
        return found

    def card(self, flow: Flow) -> dict[str, Any] | None:
        cards = self.cards(flow)
        if not cards:
            return None
        flow.approval_id = _approve_id(cards[0])
        return cards[0]

    def outcomes(self, flow: Flow) -> list[str]:
        """The lines that tell how the approved send ended: sent, or may or may not have gone out."""
        if flow.channel == "console":
            return [str(r["text"]) for r in self._per_console(flow, lambda r: _outcome(str(r["text"])))]
        return [text for text in (str(c.get("text") or "") for c in self.replies(flow)) if _outcome(text)]


def _outcome(text: str) -> bool:
    return text.startswith("Sent invoice") or "may or may not have gone out" in text


def _approve_id(call: dict[str, Any]) -> int | None:
    """The approval id of an Approve button on a Slack card (blocks) or Telegram card
    (reply_markup), or of the `[/approve N]` a console card ends with."""
    if "console" in call:
        found = CONSOLE_APPROVE.search(str(call.get("text") or ""))
        return int(found.group(1)) if found else None
    ids: list[str] = []
    for block in call.get("blocks") or []:
        if block.get("type") == "actions":
            ids.extend(str(e.get("action_id", "")) for e in block.get("elements", []))
    markup = call.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []) if isinstance(markup, dict) else []:
        ids.extend(str(b.get("callback_data", "")) for b in row)
    for action in ids:
        if action.startswith("coo:approve:"):
            return int(action.rsplit(":", 1)[1])
    return None


def _console_messages(lines: list[str]) -> list[str]:
    """coo chat's output as messages: a ``coo> `` line and the indented lines under it."""
    messages: list[list[str]] = []
    inside = False
    for line in lines:
        if line.startswith("coo> "):
            messages.append([line[5:]])
            inside = True
        elif inside and line.startswith("     "):
            messages[-1].append(line[5:])
        else:
            inside = False
    return ["\n".join(message) for message in messages]


def _find(lines: list[str], text: str, start: int) -> int | None:
    for number in range(start, len(lines)):
        if lines[number] == text:
            return number
    return None


def _find_prefix(lines: list[str], prefix: str, start: int) -> int | None:
    for number in range(start, len(lines)):
        if lines[number].startswith(prefix):
            return number
    return None
