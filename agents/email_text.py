"""Text hygiene for e-mail content: HTML to readable text, safe strings, the new part of a reply.

E-mail text comes from anywhere: lone surrogates from 8-bit headers, NUL bytes, control
characters, HTML-only bodies. Everything that reaches the store or the operator goes through
``clean_text`` first (PostgreSQL refuses NUL bytes and unpaired surrogates in text and JSON).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """A string safe to store and show: surrogate-escaped bytes decoded, control characters gone."""
    if _SURROGATE.search(text):
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # surrogates that are not escaped bytes: drop them
            text = _SURROGATE.sub("\ufffd", text)
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("cp1252", "replace")
            text = _SURROGATE.sub("\ufffd", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def one_line(text: str, limit: int = 160) -> str:
    """Whitespace collapsed, shortened with an ellipsis: for summaries and cards."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


# -- HTML → text --------------------------------------------------------------------------------

_BLOCK = {
    "p",
    "div",
    "br",
    "tr",
    "table",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "hr",
    "section",
    "article",
    "header",
    "footer",
    "address",
    "dd",
    "dt",
    "dl",
    "form",
    "center",
}
_SKIP = {"script", "style", "head", "title", "template", "noscript", "svg"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr", "source"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.pre = 0
        self.quote = 0
        self.href: str | None = None
        self.link_text: list[str] = []

    def _newline(self) -> None:
        # Quoted history stays recognisable as quoted, as it would in a text/plain reply.
        self.parts.append("\n> " if self.quote else "\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += tag not in _VOID
            return
        if tag == "pre":
            self.pre += 1
        if tag == "blockquote":
            self.quote += 1
        if tag in _BLOCK:
            self._newline()
        if tag == "li":
            self.parts.append("• ")
        if tag == "td" or tag == "th":
            self.parts.append(" ")
        if tag == "a":
            self.href = dict(attrs).get("href")
            self.link_text = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag == "blockquote":
            self.quote = max(0, self.quote - 1)
        if tag == "a":
            # A link whose text is empty (an image, a bare anchor) is shown by its address,
            # otherwise the text alone is enough to read the message.
            if (
                self.href
                and self.href.startswith(("http:", "https:", "mailto:"))
                and not "".join(self.link_text).strip()
            ):
                self.parts.append(self.href.removeprefix("mailto:"))
            self.href = None
        if tag in _BLOCK:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if not self.pre:
            data = re.sub(r"[ \t\r\n\f]+", " ", data)
        if self.href is not None:
            self.link_text.append(data)
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable text from an HTML body: paragraphs and list items kept, markup and scripts gone."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
        text = "".join(extractor.parts)
    except Exception:  # html.parser is lenient, but a malformed declaration can still trip it
        text = re.sub(r"<[^>]*>", " ", html)
    lines = [line.strip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue  # at most one blank line in a row
        out.append(line)
    return "\n".join(out).strip()


# -- the new part of a message ------------------------------------------------------------------

_QUOTE_HEADER = re.compile(
    r"^\s*(?:On\s.{4,200}?\bwrote:|Am\s.{4,200}?\bschrieb.*:|Le\s.{4,200}?\ba écrit\s?:|"
    r"-{2,}\s*Original Message\s*-{2,}|_{10,})\s*$",
    re.I | re.M,
)
_OUTLOOK_QUOTE = re.compile(r"^\s*\*?From:\*?\s.+\n\s*\*?(?:Sent|Date):\*?\s", re.I | re.M)
_SIGNATURE = re.compile(r"^-- ?$", re.M)


def new_text(body: str) -> str:
    """The part of a message its sender just wrote: quoted history and signature cut off."""
    cut = len(body)
    for pattern in (_QUOTE_HEADER, _OUTLOOK_QUOTE, _SIGNATURE):
        match = pattern.search(body)
        if match and match.start() < cut:
            cut = match.start()
    lines = [line for line in body[:cut].splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()
