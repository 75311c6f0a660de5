"""Text normalisation shared by the offline parser modules."""

from __future__ import annotations

import re

from graphs.offline_parsing.lazy_re import lazy_re

# Common operator typos, fixed before any rule runs so that every rule sees one spelling.
# Only words that are never part of a client name belong here.
_TYPOS: dict[str, str] = {
    "invoce": "invoice",
    "invioce": "invoice",
    "invocie": "invoice",
    "inovice": "invoice",
    "invoic": "invoice",
    "invoise": "invoice",
    "invoive": "invoice",
    "recieved": "received",
    "recived": "received",
    "receieved": "received",
    "recieve": "receive",
    "payed": "paid",
    "pyment": "payment",
    "paymnet": "payment",
    "retainor": "retainer",
    "retiner": "retainer",
    "retaner": "retainer",
    "reatiner": "retainer",
    "porposal": "proposal",
    "propsal": "proposal",
    "proposl": "proposal",
    "propasal": "proposal",
    "proposla": "proposal",
    "dollers": "dollars",
    "tommorow": "tomorrow",
    "tomorow": "tomorrow",
    "tommorrow": "tomorrow",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "2moro": "tomorrow",
    "deliverible": "deliverable",
    "delivrable": "deliverable",
    "overdeu": "overdue",
    "emial": "email",
    "emali": "email",
    "clinet": "client",
    "cleint": "client",
    "remeber": "remember",
    "rember": "remember",
    "pls": "please",
    "plz": "please",
    "wks": "weeks",
    "wk": "week",
}
_TYPO_RE = lazy_re(r"\b(" + "|".join(re.escape(k) for k in _TYPOS if k.isalnum()) + r")\b", re.I)

_SPACES_RE = lazy_re(r"\s+")
# Smart quotes and dashes from phones and Slack become their ASCII forms.
_TRANSLATE = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})

# Politeness and addressing that carry no meaning for the intent.
_PREFIX_RE = lazy_re(
    r"^(?:(?:hey|hi|hello|ok|okay|so|um+|yo)\b[\s,!]*(?:coo\b[\s,:]*)?|coo\b[\s,:]+|"
    r"(?:please|kindly)\s+|(?:can|could|would|will)\s+you\s+(?:please\s+)?|"
    r"i\s+(?:need|want|would like|'d like)\s+you\s+to\s+|go\s+ahead\s+and\s+|quick(?:ly)?[:,]?\s+|"
    r"(?:great|good|big|exciting|awesome)\s+news\b[\s,!:.\-]*|(?:yay|woo+h?o+|awesome|nice|wow)\b[\s,!:.\-]+)+",
    re.I,
)


def normalise(text: str) -> str:
    """Trim, collapse whitespace, ASCII-fy quotes/dashes and fix common typos (case kept)."""
    text = _SPACES_RE.sub(" ", text.translate(_TRANSLATE)).strip()

    def fix(match: re.Match[str]) -> str:
        return _TYPOS[match.group(1).lower()]

    return _TYPO_RE.sub(fix, text)


def strip_polite_prefix(text: str) -> str:
    """Drop "hey coo, could you please …" so rules can anchor on the command verb."""
    return _PREFIX_RE.sub("", text).strip()


def clean_phrase(text: str) -> str:
    """Trim whitespace, surrounding quotes and trailing punctuation from an extracted phrase."""
    text = _SPACES_RE.sub(" ", text).strip(" \t,;:-")
    text = text.rstrip(".!?").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text
