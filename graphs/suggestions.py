"""Replies to small talk, and what coo offers when it does not understand: the two or three
things it can do that are closest to what was said, not the whole help text."""

from __future__ import annotations

import re

from graphs.replies import HELP_EXAMPLES

_THANKS_RE = re.compile(r"\b(?:thanks?|thank\s+you|thx|ty|tysm|tx|cheers|ta|appreciated?)\b", re.I)
_GREETING_RE = re.compile(r"\b(?:hi|hello|hey|hiya|howdy|yo|heya|hallo|greetings)\b", re.I)
_TIME_OF_DAY_RE = re.compile(r"\b(?:good\s+)?(?P<part>morning|afternoon|evening|day)\b", re.I)
_HOW_ARE_YOU_RE = re.compile(r"\bhow\s+(?:are|r)\s+(?:you|u|things)\b", re.I)


def small_talk_reply(text: str) -> str:
    """A short friendly answer to a greeting, thanks or acknowledgement."""
    if _THANKS_RE.search(text):
        return "You're welcome! Anything else, just say."
    if _HOW_ARE_YOU_RE.search(text):
        return "All good here, thanks — the books are in order. What can I do for you?"
    part = _TIME_OF_DAY_RE.search(text)
    if part and not _GREETING_RE.search(text):
        return f"Good {part.group('part').lower()}! What can I do for you?"
    if _GREETING_RE.search(text) or part:
        return "Hi! What can I do for you? (Ask me anything about your clients and books, or say /help.)"
    return "Great. Anything else I can do?"


def _examples() -> list[str]:
    return [line for line in HELP_EXAMPLES.splitlines() if line.startswith("• ")]


# Words that say nothing about which thing is meant.
_STOP = frozenset(
    """
    a an the and or of for to in on at by with from me my i you we our us it is are was be do does did can could
    please just some any this that these those what which who when where how there here about as get got have has
    """.split()
)
_WORD_RE = re.compile(r"[a-z0-9]+")


def _stems(text: str) -> set[str]:
    return {w[:5] for w in _WORD_RE.findall(text.lower()) if w not in _STOP and len(w) > 1}


# When nothing is close: the everyday three.
_DEFAULTS = ("Invoice", "Payment", "Questions")


def closest_examples(text: str, n: int = 3) -> list[str]:
    """The ``n`` help lines sharing most words (by 5-letter prefix) with ``text``; the everyday
    three when none shares a word."""
    said = _stems(text)
    scored = []
    for index, line in enumerate(_examples()):
        overlap = len(said & _stems(line))
        if overlap:
            scored.append((-overlap, index, line))
    if scored:
        return [line for _, _, line in sorted(scored)[:n]]
    return [line for line in _examples() if line[2:].split(" — ")[0].split(" ")[0] in _DEFAULTS][:n]


def not_understood(text: str) -> str:
    """The answer to a message coo cannot act on: what it could mean, and where the rest is."""
    said = text if len(text) <= 120 else text[:119] + "…"
    closest = "\n".join(closest_examples(text))
    return (
        f"I'm not sure what you'd like me to do with “{said}”. The closest things I can do:\n{closest}\n"
        "Type /help to see everything."
    )
