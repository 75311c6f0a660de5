"""Signs that untrusted text (a forwarded e-mail, a client's message, a CSV reference) is trying to
instruct coo rather than inform the operator.

Finding them changes nothing about what the text can do — untrusted text never reaches a
command, a policy or an approval, whatever it says — it only lets coo warn the operator that
someone tried. The text is looked at as written and also normalised (Unicode compatibility
forms, so "／approve" is "/approve"; zero-width characters removed; %-escapes and long base64
runs decoded), because hidden instructions are usually disguised.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from urllib.parse import unquote

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")

SIGNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "a chat command",
        re.compile(r"(?:^|[\s\"'(\[>:])/(?:approve|reject|edit|resend|policy|autonomy|undo|done|cancel)\b", re.I),
    ),
    (
        "an instruction to ignore the rules",
        re.compile(
            r"\b(?:ignore|disregard|forget|override|bypass)\b.{0,40}\b(?:instructions?|prompts?|rules|above|previous|"
            r"policy|policies|approvals?|safeguards?)\b|\bnew instructions\b",
            re.I,
        ),
    ),
    (
        "a fake system message",
        re.compile(
            r"<\|im_(?:start|end)\|>|\[(?:system|admin|operator|inst)\]|</?(?:system|admin|instructions?)>|"
            r"(?:^|\n|#\s*)\s*(?:system|developer|admin)\s*(?:message|prompt|override|note)?\s*:|"
            r"\"role\"\s*:\s*\"(?:system|developer)\"|\b(?:system|developer) (?:prompt|message|override)\b|"
            r"\badmin mode\b|\boverride code\b",
            re.I,
        ),
    ),
    (
        "a fake approval",
        re.compile(
            r"\b(?:pre-?approved|auto-?approv\w*)\b|\bapproval #?\d+\s*:\s*approved\b|"
            r"\b(?:operator|owner|ana|you)\b.{0,30}\bha(?:s|ve) (?:already )?approved\b|"
            r"\bapproved by (?:the )?(?:operator|owner|admin)\b|"
            r"\bapprove (?:all|every\w*|#?\d+|(?:the |all )?pending|(?:invoice|approval) #?\d+)\b",
            re.I,
        ),
    ),
    (
        "an attempt to change coo's policy",
        re.compile(
            r"\b(?:autonomy|policy|policies|spend(?:ing)? caps?|budget caps?|approval step)\b.{0,40}"
            r"\b(?:auto|raise|increase|disable|turn(?:ed)? off|set|change|enable|bypass|remove|is now)\b|"
            r"\b(?:raise|increase|set|change|disable|remove|lift|turn(?:ed)? off|switch(?:ed)? off)\b.{0,30}\b(?:autonomy|policy|spend(?:ing)? caps?|"
            r"budget caps?|approval step)\b",
            re.I,
        ),
    ),
    (
        "an order addressed to the assistant",
        re.compile(
            r"\b(?:assistant|coo|bot|ai|agent)\s*[:,]\s*(?:please\s+)?(?:send|approve|pay|transfer|wire|delete|"
            r"forward|issue|create|mark|set|raise)\b|\byou are (?:now )?(?:an? |the )?(?:ai|assistant|"
            r"language model|bot|operator)\b|\bas (?:an|the) (?:ai|assistant)\b",
            re.I,
        ),
    ),
)


def _decoded(text: str) -> list[str]:
    """The text as written, normalised, %-unescaped, and any base64 run that decodes to text."""
    plain = _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text))
    views = [text, plain, unquote(plain)]
    for run in _BASE64.findall(plain):
        try:
            decoded = base64.b64decode(run + "=" * (-len(run) % 4), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if decoded.isprintable() or "\n" in decoded:
            views.append(decoded)
    return views


def injection_signs(text: str) -> list[str]:
    """What in ``text`` looks like an instruction to coo (empty when nothing does)."""
    if not text:
        return []
    found: list[str] = []
    for view in _decoded(text):
        for name, pattern in SIGNS:
            if name not in found and pattern.search(view):
                found.append(name)
    if found and not any(pattern.search(text) for _, pattern in SIGNS):
        found.append("disguised (encoded, or look-alike characters)")
    return found
