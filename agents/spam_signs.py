"""Signs that an e-mail is unsolicited bulk mail (spam, scams, phishing), read offline from the
message alone: its headers, its subject, the words and links of its body, its attachments.

Each sign is a general trait of spam, in the spirit of SpamAssassin's header and body rules
(the ``ADV:`` subject label, "undisclosed recipients", a display name that is another address,
removal instructions, medication and money-making vocabulary, executable attachments); none
names a particular message. A message whose signs weigh ``THRESHOLD`` or more is treated as
bulk mail by the e-mail intake (filed, one line in the digest, never a reply draft). The
standard GTUBE test string is spam by definition, as in every spam filter.

Mail linked to a client for sure (its address or its thread) is never judged by these signs:
a client who writes "click here to unsubscribe" in a forwarded newsletter is still the client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message

THRESHOLD = 5.0
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

_RISKY_EXTENSIONS = re.compile(
    r"\.(?:exe|scr|pif|com|bat|cmd|js|jse|vbs|vbe|wsf|hta|jar|msi|lnk|iso|docm|xlsm|pptm|dotm|xlam)$", re.I
)
# Phrases of bulk advertising, scams and phishing, grouped so one kind counts once.
_PHRASES: dict[str, tuple[float, re.Pattern[str]]] = {
    "removal instructions": (
        2.0,
        re.compile(
            r"\bto be removed\b|\bremove (?:me|yourself)\b|\bremoved? from (?:our|this|the) (?:mailing )?list\b"
            r"|\bopt[- ]?out\b|\bto unsubscribe\b|\breply with ['\"]?remove\b",
            re.I,
        ),
    ),
    "claims it is not spam": (3.0, re.compile(r"\bthis (?:e-?mail |message )?is not (?:spam|unsolicited)\b", re.I)),
    "sales pressure": (
        1.5,
        re.compile(
            r"\bact now\b|\blimited time\b|\border (?:now|today)\b|\bbuy now\b|\bcall now\b|\bdon'?t (?:miss|delay)\b"
            r"|\bspecial (?:offer|deal|package|promotion)\b|\bonce in a lifetime\b|\bno obligation\b",
            re.I,
        ),
    ),
    "free-money promises": (
        2.0,
        re.compile(
            r"\b100% free\b|\bfree of charge\b|\bfor free!|\bfree!|\bmake money\b|\bextra income\b|\bwork from home\b|\bfinancial freedom\b"
            r"|\bearn \$|\bobscene amounts\b|\bget rich\b|\bfortune\b|\brisk[- ]free\b|\bmoney[- ]back guarantee\b"
            r"|\bcash bonus\b|\byou(?: have|'ve) (?:won|been selected)\b|\bwinning\b|\blottery\b|\bjackpot\b",
            re.I,
        ),
    ),
    "medication or adult offers": (
        2.5,
        re.compile(
            r"\bviagra\b|\bcialis\b|\bmedz?\b|\bpharmacy\b|\bprescription\b|\bdr-?script\b|\bpills?\b|\bweight loss\b"
            r"|\bherbal\b|\bdizcou?nn?t\b|\bpurr?chaze\b|\bteenie\b|\badult\b|\bxxx\b",
            re.I,
        ),
    ),
    "advance-fee or phishing wording": (
        2.5,
        re.compile(
            r"\bnext of kin\b|\bbeneficiary\b|\bconfidential business (?:proposal|transaction)\b|\bsecret to\b"
            r"|\bverify your (?:account|identity|password)\b|\baccount (?:has been )?suspended\b"
            r"|\bdear (?:friend|sir/madam|beneficiary|customer)\b",
            re.I,
        ),
    ),
    "mass-mailing wording": (
        2.0,
        re.compile(
            r"\bbulk (?:e-?mail|mail)\b|\bmillions? of (?:e-?mail )?(?:addresses|customers|people)\b"
            r"|\btargeted (?:e-?mail|traffic)\b|\bwebsite traffic\b|\bsearch engine (?:ranking|position)s?\b"
            r"|\btop (?:placement|ranking)\b"
            r"|\bclick (?:here|below)\b|\bvisit (?:our|this) (?:web ?site|link)\b",
            re.I,
        ),
    ),
}
_UNDISCLOSED = re.compile(r"undisclosed[- ]recipients?|^\s*:;|recipient list (?:not shown|suppressed)", re.I)
_ADDRESS_IN_NAME = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://[^\s\"'<>]+", re.I)


@dataclass
class SpamSigns:
    """What was found, with its weight."""

    signs: dict[str, float] = field(default_factory=dict)

    def add(self, sign: str, weight: float) -> None:
        self.signs[sign] = max(weight, self.signs.get(sign, 0.0))

    @property
    def score(self) -> float:
        return sum(self.signs.values())

    @property
    def is_spam(self) -> bool:
        return self.score >= THRESHOLD

    def reason(self) -> str:
        """ "it looks like spam (removal instructions, an "ADV:" subject)", strongest signs first."""
        ranked = sorted(self.signs, key=lambda s: -self.signs[s])
        return "it looks like spam (" + ", ".join(ranked[:3]) + ")"


def _headers(msg: Message, name: str) -> list[str]:
    return [str(v) for k, v in msg.raw_items() if k.lower() == name]


def _letters_upper(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) >= 0.6


def read_signs(
    msg: Message,
    *,
    sender_name: str | None,
    sender_address: str | None,
    reply_to: str | None,
    subject: str,
    body: str,
    attachment_names: list[str],
) -> SpamSigns:
    """The spam signs of one message (already parsed into its parts by agents.email_reader)."""
    found = SpamSigns()
    if GTUBE in body:
        found.add("the GTUBE spam test string", THRESHOLD)
        return found
    to = " ".join(_headers(msg, "to"))
    if not to.strip() or _UNDISCLOSED.search(to):
        found.add("no named recipient", 1.5)
    recipients = {a.lower() for a in _ADDRESS_IN_NAME.findall(" ".join([to, *_headers(msg, "cc")]))}
    if len(recipients) >= 5:
        found.add(f"sent to {len(recipients)} addresses at once", 2.0)
    if re.match(r"^\s*\[?ADV\s*[:\]]", subject, re.I):
        found.add("an “ADV:” advertising subject", THRESHOLD)
    if _letters_upper(subject):
        found.add("a shouting subject", 1.5)
    if re.search(r"!{2,}|\${2,}|\s{5,}\S|\bfree\b", subject, re.I):
        found.add("a subject with spam punctuation or “free”", 1.5)
    if sender_name and sender_address:
        shown = _ADDRESS_IN_NAME.search(sender_name)
        if shown and shown.group(0).lower() != sender_address.lower():
            found.add("a sender name that is another address", 3.0)
    if reply_to and sender_address and reply_to.rpartition("@")[2] != sender_address.rpartition("@")[2]:
        found.add("replies go to another domain", 1.0)
    if not _headers(msg, "message-id") or not any("@" in v for v in _headers(msg, "message-id")):
        found.add("no proper Message-ID", 1.0)
    for name, (weight, pattern) in _PHRASES.items():
        if pattern.search(body) or pattern.search(subject):
            found.add(name, weight)
    shouted = [line for line in body.splitlines() if len(line.split()) >= 4 and _letters_upper(line)]
    if len(shouted) >= 2:
        found.add("lines in capitals", 1.5)
    if body.count("!") >= 6:
        found.add("many exclamation marks", 1.0)
    if len(set(_URL.findall(body))) >= 5:
        found.add("many links", 1.0)
    if any(_RISKY_EXTENSIONS.search(n) for n in attachment_names):
        found.add("an executable or macro attachment", 3.0)
    return found
