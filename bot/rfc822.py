"""Rebuilding an RFC 822 message from what a chat platform shows of an e-mail, so forwards from
Slack (e-mail file shares) and Telegram (forwarded messages) reach the same e-mail ingester
as raw mail does."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTPUTF8
from email.utils import formataddr, formatdate


def compose(
    *,
    body: str,
    sender: str | None = None,
    to: list[str] | None = None,
    cc: list[str] | None = None,
    subject: str | None = None,
    date: str | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
) -> bytes:
    message = EmailMessage(policy=SMTPUTF8)
    for header, value in (
        ("From", sender),
        ("Subject", subject),
        ("Message-ID", message_id),
        ("In-Reply-To", in_reply_to),
    ):
        if value:
            message[header] = value.replace("\r", " ").replace("\n", " ")
    if to:
        message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Date"] = date or formatdate(localtime=False)
    message.set_content(body or "")
    return message.as_bytes()


def address(entry: dict[str, str]) -> str:
    """A Slack e-mail address object ({"address", "name", "original"}) as a header value.

    ``original`` is the header as written when Slack has it ("Jane Doe <jane@acme.example>"), but
    real shares often carry only the display name there ("Jane Doe"), with the address beside it:
    then the address is taken from ``address``."""
    original = (entry.get("original") or "").strip()
    addr = (entry.get("address") or "").strip()
    if original and ("@" in original or not addr):
        return original
    return formataddr((entry.get("name") or original or "", addr))
