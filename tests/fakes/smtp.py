"""A real local SMTP server (aiosmtpd) that records what it receives."""

from __future__ import annotations

import email
import errno
import socket
import threading
import time
from email.message import Message

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Recorder:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self.delay = 0.0  # seconds to hold DATA before answering (simulates a slow server)
        # A reply to give instead of accepting, as a real server would ("451 4.3.0 Try again later",
        # "550 5.1.1 No such user"): to every recipient, or to the message's DATA.
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None
        # Take the message, then drop the connection before the reply to DATA: the client cannot
        # know whether it went out (a relay that crashed, a network cut at the worst moment).
        self.drop_after_data = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        if self.data_reply:
            return self.data_reply
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        if self.drop_after_data:
            server.transport.abort()
            return "250 OK queued"  # never reaches the client
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        return "250 OK queued"


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.recorder = _Recorder()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[Message]:
        with self.recorder.lock:
            return list(self.recorder.messages)

    def wait_for(self, count: int, timeout: float = 10) -> list[Message]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.messages) < count:
            time.sleep(0.02)
        return self.messages

    def start(self) -> SmtpServer:
        for _ in range(20):
            try:
                self.controller.start()
                return self
            except OSError as exc:
                # free_port() only probes: under pytest-xdist another process (or a client's
                # ephemeral port) may take the port before aiosmtpd binds it. Take another one.
                if exc.errno != errno.EADDRINUSE:
                    raise
                self.port = free_port()
                self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        raise RuntimeError("no free port for the SMTP server")

    def stop(self) -> None:
        self.controller.stop()

    def restart(self) -> None:
        """Back on the same port after ``stop()`` (a mail server that was down)."""
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()


def text_body(message: Message) -> str:
    """The plain-text body of a received e-mail, whether it carries attachments (an invoice's PDF)
    or not."""
    part = next((p for p in message.walk() if p.get_content_type() == "text/plain"), message)
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes), "no text body"
    return payload.decode(part.get_content_charset() or "utf-8")
