"""Outgoing e-mail: SMTP when configured, otherwise an outbox of .eml files.

The Message-ID is derived from the side effect's idempotency key, so the same approved
e-mail always carries the same id, and a receipt names exactly what left the machine.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from pydantic import BaseModel

from agents.errors import AgentError, SendFailed, SendUncertain

# One plain address: a bare name ("Tom") or a list is never handed to the mail server.
_ADDRESS_RE = re.compile(r"^[^@\s<>,;\"()]+@[^@\s<>,;\"()]+\.[^@\s<>,;\"().]+$")


class Attachment(BaseModel):
    """A file sent with the e-mail (an invoice's PDF)."""

    filename: str
    content_type: str
    data: bytes


class OutgoingEmail(BaseModel):
    to: str
    subject: str
    body: str
    idempotency_key: str
    attachments: list[Attachment] = []
    # A reply to a client's e-mail stays in their thread: the Message-ID it answers, and the
    # chain of ids before it (space-separated, as in the header).
    in_reply_to: str | None = None
    references: str | None = None


class EmailReceipt(BaseModel):
    transport: str  # "smtp" or "outbox"
    message_id: str
    to: str
    sent: bool  # False: written to the outbox only, not delivered
    detail: str


class Mailer(Protocol):
    def send(self, email: OutgoingEmail) -> EmailReceipt: ...


def _message(email: OutgoingEmail, sender: str) -> EmailMessage:
    if not _ADDRESS_RE.match(email.to):
        raise AgentError(f'"{email.to}" is not an e-mail address; nothing was sent.')
    digest = hashlib.sha256(email.idempotency_key.encode()).hexdigest()[:24]
    domain = sender.rpartition("@")[2] or "coo.local"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = email.to
    msg["Subject"] = email.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<coo.{digest}@{domain}>"
    if email.in_reply_to:
        msg["In-Reply-To"] = email.in_reply_to
        msg["References"] = email.references or email.in_reply_to
    msg.set_content(email.body)
    for item in email.attachments:
        maintype, _, subtype = item.content_type.partition("/")
        msg.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.filename)
    return msg


def _try_later(code: int) -> bool:
    """SMTP's own split: 4xx is a temporary failure, 5xx a permanent one (smtplib reports a
    reply it could not read as -1: the connection broke, which is worth another try)."""
    return code < 0 or 400 <= code < 500


def _text(message: bytes | str) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


class SmtpMailer:
    """Sends through ``smtp://user:pass@host:port`` (STARTTLS when offered) or ``smtps://``."""

    def __init__(self, url: str, sender: str) -> None:
        self.url = urlparse(url)
        self.sender = sender

    def send(self, email: OutgoingEmail) -> EmailReceipt:
        msg = _message(email, self.sender)
        host, port = self.url.hostname or "localhost", self.url.port
        # Once the message's final "." has left, the server may have taken it: a dropped
        # connection or a lost reply from then on means "may or may not have gone out".
        handed_over = False
        try:
            if self.url.scheme == "smtps":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    host, port or 465, timeout=30, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(host, port or 25, timeout=30)
            raw_send = client.send

            def send_tracking(data: Any) -> None:
                nonlocal handed_over
                raw_send(data)
                if isinstance(data, bytes) and data.endswith(b"\r\n.\r\n"):
                    handed_over = True

            client.send = send_tracking  # type: ignore[method-assign,assignment]
            try:
                client.ehlo()
                if self.url.scheme == "smtp" and client.has_extn("starttls"):
                    client.starttls(context=ssl.create_default_context())
                    client.ehlo()
                if self.url.username:
                    client.login(unquote(self.url.username), unquote(self.url.password or ""))
                refused = client.send_message(msg)
            finally:
                _quit(client)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            refused_text = "; ".join(f"{to}: {code} {_text(msg)}" for to, (code, msg) in exc.recipients.items())
            raise SendFailed(
                f"the mail server at {host} refused the recipient ({refused_text})",
                transient=all(_try_later(code) for code in codes),
            ) from exc
        except smtplib.SMTPResponseException as exc:
            # A reply was read, so the server's answer is known, even after the final ".".
            raise SendFailed(
                f"the mail server at {host} answered {exc.smtp_code} {_text(exc.smtp_error)}",
                transient=_try_later(exc.smtp_code),
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            if handed_over:
                raise SendUncertain(
                    f"the mail server at {host} was handed the message, then the connection dropped "
                    f"before it confirmed ({exc or type(exc).__name__}), so it may or may not have gone out"
                ) from exc
            # Unreachable, timed out or hung up before the message was complete: the next attempt may find it back.
            raise SendFailed(
                f"the mail server at {host} did not answer ({exc or type(exc).__name__})", transient=True
            ) from exc
        if refused:
            raise SendFailed(f"the mail server at {host} refused {', '.join(refused)}", transient=False)
        return EmailReceipt(
            transport="smtp",
            message_id=msg["Message-ID"],
            to=email.to,
            sent=True,
            detail=f"accepted by {host} (250)",
        )


def _quit(client: smtplib.SMTP) -> None:
    """Say goodbye; the message's fate was settled by the reply to its DATA, so a connection
    that drops at QUIT changes nothing."""
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


class OutboxMailer:
    """No SMTP configured: the e-mail is written as an .eml file and the operator is told."""

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self.sender = sender

    def send(self, email: OutgoingEmail) -> EmailReceipt:
        msg = _message(email, self.sender)
        self.directory.mkdir(parents=True, exist_ok=True)
        name = msg["Message-ID"].strip("<>").split("@")[0] + ".eml"
        path = self.directory / name
        path.write_bytes(bytes(msg))
        return EmailReceipt(transport="outbox", message_id=msg["Message-ID"], to=email.to, sent=False, detail=str(path))
