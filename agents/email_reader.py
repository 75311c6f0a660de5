"""Reading a raw RFC 822 e-mail into a ``ParsedEmail``, whatever arrives.

The standard library's ``email`` package does the parsing (``policy.default``; ``compat32``
when the default policy trips over broken headers). Nothing here raises on input: what
cannot be read is described in ``problems`` so the operator hears about it.

A forwarded e-mail is the common case — the operator forwards a client's mail to coo — so
the message the operator forwarded (an attached ``message/rfc822`` part, or an inline
"---------- Forwarded message ---------" block) is parsed too, as ``forwarded``: its sender
is the client, not the operator who forwarded it.

The content is untrusted data: this module only describes it, it never acts on it.
"""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Literal

from pydantic import BaseModel, Field

from agents.email_text import clean_text, html_to_text
from agents.spam_signs import SpamSigns, read_signs

MAX_BODY = 100_000  # characters of body text kept; longer bodies are cut and the cut is reported
MAX_DEPTH = 3  # nested forwards read; deeper ones are listed, not parsed

_MSGID = re.compile(r"<[^<>\s]+>")
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
# Senders no person answers, in their common spellings: "noreply", "no-reply", "no_reply",
# "gmail-noreply", "donotreply", "do-not-reply", "mailer-daemon", "postmaster", "bounce+…",
# list robots ("…-request", "owner-…").
_AUTOMATED_LOCAL = re.compile(
    r"(?:^|[._+-])(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|dont[-_.]?reply|bounces?|notifications?"
    r"|newsletters?)(?:$|[._+-])"
    r"|^(?:mailer[-_.]?daemon|postmaster|alerts?|mailing[-_.]?list|listserv|majordomo)(?:$|[._+-])"
    r"|-(?:request|owner|bounces)$|^owner-",
    re.I,
)
# Reports about other mail (RFC 6522): bounces, delivery delays, read receipts, abuse reports.
_REPORT_TYPES = {
    "delivery-status": "it is a delivery report (a bounce or delay notice)",
    "disposition-notification": "it is a read receipt",
    "feedback-report": "it is an abuse/spam complaint report",
}
_REPORT_PARTS = {
    "message/delivery-status": _REPORT_TYPES["delivery-status"],
    "message/disposition-notification": _REPORT_TYPES["disposition-notification"],
    "message/feedback-report": _REPORT_TYPES["feedback-report"],
}
_SPAM_SUBJECT = re.compile(r"^\s*(?:\[spam\]|\*{2,}\s*spam\s*\*{2,}|\{spam\??\}|spam:)", re.I)
_DEFECTS = {
    "StartBoundaryNotFoundDefect": "the multipart boundary never appears, so the parts could not be separated",
    "CloseBoundaryNotFoundDefect": "the message ends without its closing boundary (it may be cut short)",
    "MultipartInvariantViolationDefect": "it claims to be multipart but has no parts",
    "NoBoundaryInMultipartDefect": "a multipart part has no boundary",
    "MissingHeaderBodySeparatorDefect": "a header line is malformed (no blank line before the body)",
    "InvalidBase64PaddingDefect": "an attachment's base64 encoding is damaged",
    "InvalidBase64CharactersDefect": "an attachment's base64 encoding contains invalid characters",
    "InvalidBase64LengthDefect": "an attachment's base64 encoding is truncated",
    "InvalidMultipartContentTransferEncodingDefect": "a multipart part declares an invalid transfer encoding",
}


class Mailbox(BaseModel):
    """One address from a header; either part may be missing in broken mail."""

    name: str | None = None
    address: str | None = None  # as written, domain lower-cased; None when unreadable

    def display(self) -> str:
        if self.name and self.address:
            return f"{self.name} <{self.address}>"
        return self.address or self.name or "(unknown)"

    @property
    def domain(self) -> str | None:
        return self.address.rpartition("@")[2] if self.address else None


class Attachment(BaseModel):
    filename: str | None = None
    content_type: str
    size: int  # decoded bytes

    def display(self) -> str:
        size = (
            f"{self.size} B"
            if self.size < 1024
            else (f"{self.size / 1024:.0f} KB" if self.size < 1024 * 1024 else f"{self.size / 1024 / 1024:.1f} MB")
        )
        return f"{self.filename or '(unnamed)'} ({self.content_type}, {size})"


BodySource = Literal["plain", "html", "none"]  # which part the body was read from


class ParsedEmail(BaseModel):
    """What a message says, as far as it could be read."""

    sender: Mailbox | None = None  # From (Sender when From is missing)
    reply_to: list[Mailbox] = Field(default_factory=list)
    to: list[Mailbox] = Field(default_factory=list)
    cc: list[Mailbox] = Field(default_factory=list)
    date: datetime | None = None
    subject: str = ""
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = Field(default_factory=list)
    body: str = ""  # the best text body (text/plain preferred, else HTML as text)
    body_source: BodySource = "none"
    attachments: list[Attachment] = Field(default_factory=list)
    nested_messages: int = 0  # message/rfc822 parts found at the top level
    forwarded: ParsedEmail | None = None  # the message this one forwards, if any
    forward_kind: Literal["attached", "inline"] | None = None
    note: str = ""  # with a forward: what the forwarder wrote above it
    automated: str | None = None  # why it looks machine-sent (mailing list, no-reply…), if it does
    spam: dict[str, float] = Field(default_factory=dict)  # spam signs and their weights (agents.spam_signs)
    problems: list[str] = Field(default_factory=list)

    @property
    def spam_reason(self) -> str | None:
        """Why it looks like spam, when its signs weigh enough; else None."""
        signs = SpamSigns(signs=dict(self.spam))
        return signs.reason() if signs.is_spam else None

    @property
    def original(self) -> ParsedEmail:
        """The message the client wrote: the forwarded one when this is a forward."""
        return self.forwarded or self


# -- headers ------------------------------------------------------------------------------------


def _raw_headers(msg: Message, name: str) -> list[str]:
    """Header values exactly as received (no policy parsing, so nothing can raise)."""
    out = []
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            out.append(str(value))
    return out


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n[ \t]+", " ", value).strip()


def decode_words(value: str) -> str:
    """RFC 2047 encoded words decoded (``=?iso-8859-1?q?Andr=E9?=`` → ``André``), never raising."""
    value = _unfold(value)
    if "=?" in value:
        try:
            value = str(make_header(decode_header(value)))
        except Exception:  # unknown charset or broken encoded word: keep it as written
            pass
    return clean_text(value).strip()


def _header(msg: Message, name: str, problems: list[str]) -> str:
    """One header's decoded text: the policy's own decoding, or the raw value decoded by hand."""
    raw = _raw_headers(msg, name)
    if not raw:
        return ""
    try:
        value = msg.get(name)
        text = str(value) if value is not None else ""
        # compat32 hands back the raw value; decoding an already-decoded value changes nothing.
        return decode_words(text or raw[0])
    except Exception:
        problems.append(f"the {name} header is malformed; shown as written")
        return decode_words(raw[0])


def _mailboxes(msg: Message, name: str) -> list[Mailbox]:
    """Addresses of a header. ``getaddresses`` on the raw value keeps old-style "(Name)" comments
    and quoted names with commas intact; each display name is then decoded on its own."""
    raw = ", ".join(_raw_headers(msg, name))
    if not raw.strip():
        return []
    out = []
    try:
        pairs = getaddresses([_unfold(raw)])
    except Exception:
        pairs = []
    for display, address in pairs:
        display = decode_words(display) if display else ""
        address = clean_text(address).strip().strip("<>")
        if address and _ADDRESS.match(address):
            local, _, domain = address.rpartition("@")
            out.append(Mailbox(name=display or None, address=f"{local}@{domain.lower()}"))
        elif display or address:
            out.append(Mailbox(name=(display or address) or None, address=None))
    if not out:
        out.append(Mailbox(name=decode_words(raw)[:200] or None, address=None))
    return out


def _date(msg: Message, problems: list[str]) -> datetime | None:
    raw = _raw_headers(msg, "date")
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(_unfold(raw[0]))
    except Exception:
        problems.append(f"the Date header ({clean_text(raw[0])[:40]!r}) could not be read")
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _msgids(msg: Message, name: str) -> list[str]:
    return [clean_text(m) for v in _raw_headers(msg, name) for m in _MSGID.findall(v)]


def _automated(msg: Message, sender: Mailbox | None) -> str | None:
    """Why the message looks machine-sent or bulk (so it gets no reply draft), or None."""
    report = _report(msg)
    if report:
        return report
    spam = " ".join(_raw_headers(msg, "x-spam-flag") + _raw_headers(msg, "x-spam-status")).strip().lower()
    if spam.startswith("yes") or _SPAM_SUBJECT.match(" ".join(_raw_headers(msg, "subject"))):
        return "it is marked as spam"
    if _raw_headers(msg, "list-id") or _raw_headers(msg, "list-unsubscribe"):
        return "it came through a mailing list"
    precedence = " ".join(_raw_headers(msg, "precedence")).strip().lower()
    if precedence in ("bulk", "list", "junk"):
        return f"it is marked as {precedence} mail"
    auto = " ".join(_raw_headers(msg, "auto-submitted")).strip().lower()
    if auto and auto != "no":
        return "it is an automatic message (Auto-Submitted)"
    if sender and sender.address and _AUTOMATED_LOCAL.search(sender.address.rpartition("@")[0]):
        return f"it was sent from an automated address ({sender.address})"
    if any(v.strip() == "<>" for v in _raw_headers(msg, "return-path")):
        return "it was sent with no return address (a bounce or system notice)"
    return None


def _report(msg: Message) -> str | None:
    """A multipart/report, or a message carrying a delivery-status / receipt / feedback part."""
    if _content_type(msg) == "multipart/report":
        kind = str(msg.get_param("report-type", "", header="content-type") or "").lower()
        return _REPORT_TYPES.get(kind, "it is an automatic report about another message")
    if msg.is_multipart():
        for part in msg.walk():
            found = _REPORT_PARTS.get(_content_type(part))
            if found:
                return found
    return None


# -- body and parts -----------------------------------------------------------------------------


class _Parts:
    """What a walk over the MIME tree found."""

    def __init__(self) -> None:
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[Attachment] = []
        self.nested: list[ParsedEmail] = []
        self.problems: list[str] = []


def _decode_part(part: Message, problems: list[str]) -> str:
    """A text part's content in its declared charset, falling back to UTF-8, then Windows-1252."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        payload = str(part.get_payload() or "").encode("utf-8", "surrogateescape")
    charset = None
    try:
        charset = part.get_content_charset()
    except Exception:
        problems.append("a text part has an unreadable charset parameter")
    if charset:
        try:
            codecs.lookup(charset)
        except LookupError:
            problems.append(f"unknown charset {charset!r}; read as UTF-8")
            charset = None
    for candidate in (charset or "utf-8", "utf-8"):
        try:
            return clean_text(payload.decode(candidate))
        except (UnicodeDecodeError, LookupError):
            continue
    problems.append(f"some characters could not be decoded (declared charset {charset or 'none'})")
    return clean_text(payload.decode("cp1252", "replace"))


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name is None:
        return None
    return decode_words(str(name)) or None


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _walk(part: Message, found: _Parts, depth: int, parse_policy: policy.Policy) -> None:
    ctype = _content_type(part)
    # message/rfc822 counts as "multipart" to the library (its payload is a list): check it first.
    if ctype in ("message/rfc822", "message/global"):
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            if depth < MAX_DEPTH:
                found.nested.append(_read(inner[0], depth + 1, parse_policy))
            return
        # A message/rfc822 part with a transfer encoding (not allowed, but sent) stays unparsed.
        data = part.get_payload(decode=True)
        if isinstance(data, bytes) and data.strip() and depth < MAX_DEPTH:
            found.nested.append(parse_email(data, _depth=depth + 1))
        return
    if part.is_multipart():
        children = [c for c in part.get_payload() if isinstance(c, Message)]
        if ctype == "multipart/alternative" and children:
            _walk(_best_alternative(children), found, depth, parse_policy)
            return
        for child in children:
            _walk(child, found, depth, parse_policy)
        return
    filename = _filename(part)
    disposition = _disposition(part)
    if ctype.startswith("multipart/"):
        # The boundary was broken, so the "multipart" is one blob of text: read it as text.
        found.problems.append("a multipart section could not be split into its parts; read as plain text")
        found.plain.append(_decode_part(part, found.problems))
        return
    # Inline text is body even with a filename (some clients name every part); a named part
    # without a disposition is an attachment.
    if ctype in ("text/plain", "text/html") and (disposition == "inline" or (disposition is None and not filename)):
        text = _decode_part(part, found.problems)
        (found.plain if ctype == "text/plain" else found.html).append(text)
        return
    payload = part.get_payload(decode=True)
    size = len(payload) if isinstance(payload, bytes) else len(str(part.get_payload() or ""))
    found.attachments.append(Attachment(filename=filename, content_type=ctype, size=size))


def _best_alternative(children: list[Message]) -> Message:
    """text/plain when it has words, else HTML, else whatever richer part there is."""

    def has_text(c: Message) -> bool:
        payload = c.get_payload(decode=True)
        return isinstance(payload, bytes) and bool(payload.strip())

    for wanted in ("text/plain", "text/html"):
        for child in children:
            if _content_type(child) == wanted and has_text(child):
                return child
    for child in children:
        if child.is_multipart():
            return child
    return children[0]


def _defects(msg: Message) -> list[str]:
    names: list[str] = []
    for part in msg.walk():
        for defect in getattr(part, "defects", []) or []:
            names.append(type(defect).__name__)
    out = []
    for name in dict.fromkeys(names):
        if name in _DEFECTS:
            out.append(_DEFECTS[name])
    return out


# -- inline forwards ----------------------------------------------------------------------------

_FORWARD_MARKER = re.compile(
    r"^[ \t>]*(?:-{2,}\s*(?:Forwarded message|Forwarded Message|Original Message|Weitergeleitete Nachricht|"
    r"Message transféré|Mensaje reenviado|Messaggio inoltrato)\s*-{2,}|Begin forwarded message:|"
    r"Anfang der weitergeleiteten Nachricht:)[ \t]*$",
    re.I | re.M,
)
_FIELD = re.compile(r"^[ \t>]*\*?(?P<key>[A-Za-zéÀ-ÿ-]{2,12})\s?:\*?[ \t]*(?P<value>.*)$")
_FIELD_NAMES = {
    "from": "from",
    "von": "from",
    "de": "from",
    "van": "from",
    "da": "from",
    "to": "to",
    "an": "to",
    "à": "to",
    "para": "to",
    "a": "to",
    "cc": "cc",
    "date": "date",
    "sent": "date",
    "datum": "date",
    "gesendet": "date",
    "envoyé": "date",
    "fecha": "date",
    "subject": "subject",
    "betreff": "subject",
    "objet": "subject",
    "asunto": "subject",
    "oggetto": "subject",
    "reply-to": "reply_to",
}


def _inline_forward(body: str) -> tuple[str, ParsedEmail] | None:
    """The operator's note and the forwarded message, from a Gmail/Outlook/Apple-style inline forward."""
    marker = _FORWARD_MARKER.search(body)
    if marker is None:
        return None
    lines = body[marker.end() :].lstrip("\n").split("\n")
    fields: dict[str, str] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        match = _FIELD.match(line)
        key = _FIELD_NAMES.get(match.group("key").lower()) if match else None
        if match is None or key is None:
            if not line.strip().lstrip(">").strip() and not fields:
                index += 1  # blank line between the marker and the header block
                continue
            break
        fields.setdefault(key, match.group("value").strip())
        index += 1
    if "from" not in fields:
        return None
    holder = Message()
    for key, name in (("from", "From"), ("to", "To"), ("cc", "Cc"), ("reply_to", "Reply-To")):
        if key in fields:
            # Outlook writes "Jane Doe [mailto:jane@acme.example]"; make it an ordinary address.
            holder[name] = re.sub(r"\[mailto:([^\]]+)\]", r"<\1>", fields[key])
    senders = _mailboxes(holder, "from")
    problems: list[str] = []
    date = None
    if "date" in fields:
        try:
            date = parsedate_to_datetime(fields["date"])
            date = date if date.tzinfo else date.replace(tzinfo=UTC)
        except Exception:
            date = _loose_date(fields["date"])
    rest = "\n".join(line[1:].lstrip() if line.startswith(">") else line for line in lines[index:]).strip()
    forwarded = ParsedEmail(
        sender=senders[0] if senders else None,
        to=_mailboxes(holder, "to"),
        cc=_mailboxes(holder, "cc"),
        reply_to=_mailboxes(holder, "reply-to"),
        date=date,
        subject=decode_words(fields.get("subject", "")),
        body=rest[:MAX_BODY],
        body_source="plain",
        problems=problems,
    )
    return body[: marker.start()].strip(), forwarded


def _loose_date(text: str) -> datetime | None:
    """Gmail writes "Mon, Nov 23, 2026 at 4:05 PM" in inline forwards."""
    cleaned = re.sub(r"\s+at\s+", " ", text.strip())
    for fmt in (
        "%a, %b %d, %Y %I:%M %p",
        "%A, %B %d, %Y %I:%M %p",
        "%b %d, %Y %I:%M %p",
        "%d %B %Y %H:%M",
        "%A, %B %d, %Y %H:%M",
        "%d.%m.%Y %H:%M",
    ):
        try:
            return datetime.strptime(cleaned, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


# -- the whole message --------------------------------------------------------------------------


def _read(msg: Message, depth: int, parse_policy: policy.Policy) -> ParsedEmail:
    problems: list[str] = []
    senders = _mailboxes(msg, "from") or _mailboxes(msg, "sender")
    sender = senders[0] if senders else None
    if sender is None:
        problems.append("it has no sender (no From header)")
    elif sender.address is None:
        problems.append(f"the sender's address could not be read ({sender.name})")
    found = _Parts()
    try:
        _walk(msg, found, depth, parse_policy)
    except Exception as exc:  # a part the library cannot walk: keep what was read before it
        found.problems.append(f"part of the message could not be read ({type(exc).__name__})")
    problems.extend(dict.fromkeys(found.problems))
    problems.extend(_defects(msg))
    body = ""
    source: BodySource = "none"
    plain = "\n\n".join(t.strip() for t in found.plain if t.strip())
    if plain:
        body, source = plain, "plain"
    elif found.html:
        body, source = html_to_text("\n".join(found.html)), "html"
    if len(body) > MAX_BODY:
        problems.append(f"the text is long; only the first {MAX_BODY:,} characters were kept")
        body = body[:MAX_BODY]
    parsed = ParsedEmail(
        sender=sender,
        reply_to=_mailboxes(msg, "reply-to"),
        to=_mailboxes(msg, "to"),
        cc=_mailboxes(msg, "cc"),
        date=_date(msg, problems),
        subject=_header(msg, "subject", problems),
        message_id=next(iter(_msgids(msg, "message-id")), None),
        in_reply_to=next(iter(_msgids(msg, "in-reply-to")), None),
        references=_msgids(msg, "references"),
        body=body,
        body_source=source,
        attachments=found.attachments,
        nested_messages=len(found.nested),
        automated=_automated(msg, sender),
        problems=problems,
    )
    reply_to = parsed.reply_to[0].address if parsed.reply_to else None
    parsed.spam = read_signs(
        msg,
        sender_name=sender.name if sender else None,
        sender_address=sender.address if sender else None,
        reply_to=reply_to,
        subject=parsed.subject,
        body=body,
        attachment_names=[a.filename or "" for a in found.attachments],
    ).signs
    # One attached message is a forward; a digest, a bounce report or a list mail is not.
    forward = (
        len(found.nested) == 1
        and parsed.automated is None
        and _content_type(msg) not in ("multipart/digest", "multipart/report")
    )
    if forward:
        parsed.forwarded, parsed.forward_kind, parsed.note = found.nested[0], "attached", body
    elif found.nested:
        parsed.attachments.extend(
            Attachment(
                filename=f"message: {n.subject or '(no subject)'}", content_type="message/rfc822", size=len(n.body)
            )
            for n in found.nested
        )
    else:
        inline = _inline_forward(body)
        if inline is not None:
            parsed.note, parsed.forwarded = inline
            parsed.forward_kind = "inline"
    return parsed


def parse_email(raw: bytes | str, *, _depth: int = 0) -> ParsedEmail:
    """Parse raw RFC 822 bytes; never raises. ``problems`` says what could not be read."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    if not raw.strip():
        return ParsedEmail(problems=["the e-mail is empty"])
    notes: list[str] = []
    for parse_policy in (policy.default, policy.compat32):
        try:
            msg = BytesParser(policy=parse_policy).parsebytes(raw)
            parsed = _read(msg, _depth, parse_policy)
            parsed.problems = [*notes, *parsed.problems]
            return parsed
        except Exception as exc:  # the default policy raises on some broken headers
            notes.append(f"strict parsing failed ({type(exc).__name__}); read leniently")
    text = clean_text(raw[:MAX_BODY].decode("utf-8", "replace"))
    return ParsedEmail(
        body=text, body_source="plain", problems=[*notes, "it could not be read as an e-mail; kept as plain text"]
    )
