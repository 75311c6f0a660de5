"""Is this bank payer one of the operator's clients? Names compared the way a bookkeeper does.

A payer is a client when its name, without the legal form (GmbH, Ltd, LLC, Inc, …) and the
bank's own words (SEPA, TRANSFER, PAYMENT, …), *is* the client's name treated the same way:
"ACME STUDIO LLC ACH CREDIT" is Acme Studio. A payer whose name holds the client's whole name
and more ("GLOBEX LOGISTICS GMBH" for Globex, "BLUEFIN DESIGN BUILD LLC" for Bluefin Design)
is another company until the operator says otherwise, and so is one that shares a word
("ACME STORAGE INC" for Acme Studio): both become questions, never bookings.

Descriptions without a payer column mix the name with the bank's words and the reference, so
they are cut into name segments first: the bank's words, numbers, invoice references and
e-mail addresses separate segments, and a legal form ends one.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal, NamedTuple

from agents.bank_csv import INVOICE_REF

Level = Literal["strong", "similar", "weak"]

LEGAL_FORMS = frozenset(
    {
        "llc", "inc", "incorporated", "ltd", "limited", "gmbh", "mbh", "ag", "co", "corp", "corporation",
        "company", "sa", "sas", "sarl", "eurl", "bv", "nv", "plc", "llp", "lp", "pllc", "pc", "ug", "kg",
        "ohg", "gbr", "ek", "ev", "kgaa", "se", "srl", "spa", "sl", "oy", "oyj", "ab", "as", "asa", "aps",
        "pty", "pte", "kk", "ou", "sro", "spzoo", "zoo", "bvba", "cv", "lda",
    }
)  # fmt: skip
# Words a bank puts around the payer's name; never part of a name that identifies anyone.
BANK_WORDS = frozenset(
    {
        "sepa", "transfer", "transfers", "payment", "payments", "pmt", "pymt", "wire", "ach", "credit",
        "deposit", "online", "mobile", "instant", "incoming", "inward", "faster", "fps", "bacs", "chaps",
        "swift", "zelle", "giro", "bank", "ref", "reference", "from", "to", "for", "by", "via", "the",
        "and", "of", "orig", "name", "id", "trn", "ctry", "txn", "trf", "xfer", "invoice", "inv", "no",
        "nr", "gutschrift", "ueberweisung", "uberweisung", "zahlung", "eingang", "dauerauftrag",
        "virement", "recu", "de", "du", "paiement", "transferencia", "thank", "thanks", "you", "danke",
        "rechnung", "re", "memo", "received", "receipt", "cr",
        # US ACH and wire details ("ORIG CO NAME:ACME INC ORIG ID:… DESC DATE:… SEC:CCD TRACE#:…")
        "desc", "descr", "date", "entry", "sec", "ccd", "ppd", "ctx", "trace", "ind", "dep", "org", "obi",
        "bnf", "type", "in", "remittance", "advice", "customer",
        # UK ("FASTER PAYMENTS RECEIPT", "BGC", "TFR", "DIRECT CREDIT")
        "bgc", "fpi", "tfr", "direct",
        # SEPA and continental banks ("SEPA-Gutschrift von …", "VIR SEPA RECU DE …", "Overboeking van …")
        "von", "vom", "an", "fuer", "eref", "mref", "kref", "svwz", "abwa", "cred", "iban", "bic", "end",
        "notprovided", "kundenreferenz", "verwendungszweck", "auftraggeber", "vir", "par", "pour",
        "overboeking", "naam", "omschrijving", "betaling",
    }
)  # fmt: skip
# Words too common in company names to tie a payer to a client on their own.
GENERIC = frozenset(
    {
        "studio", "studios", "design", "designs", "group", "agency", "media", "digital", "creative", "labs",
        "global", "solutions", "services", "consulting", "partners", "holdings", "international",
        "systems", "tech", "technologies", "software", "marketing", "management", "enterprises",
        "ventures", "trading", "industries", "associates", "north", "south", "east", "west", "new", "first",
    }
)  # fmt: skip
_BREAK = re.compile(r"[/,;:|()\[\]*]")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_FOLDS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("æ", "ae"), ("ø", "o"), ("å", "a"))


class Evidence(NamedTuple):
    """How a row points at one client: ``strong`` identifies it; ``similar`` and ``weak`` are
    questions, with ``seen_as`` the payer as the row wrote it."""

    level: Level
    seen_as: str
    mentioned: str | None = None  # the client's name as the reference wrote it, when another paid


class _Token(NamedTuple):
    key: str  # folded, "" for a break
    original: str
    kind: Literal["word", "legal", "break"]


def _fold(text: str) -> str:
    text = text.lower()
    for a, b in _FOLDS:
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


def _tokens(text: str, *, breaks: bool) -> list[_Token]:
    """Words of ``text`` with dotted abbreviations joined ("S.A.R.L." → sarl, "Inc." → inc).
    ``breaks``: bank words, numbers and punctuation split name segments (a description)."""
    text = _EMAIL.sub(" | ", text)
    if breaks:
        text = INVOICE_REF.sub(" | ", text)
    text = re.sub(r"(?<=\b\w)\.(?=\w\b)", "", text)  # S.A. → SA.
    text = re.sub(r"\bsp\.?\s*z\.?\s*o\.?\s*o\b\.?", "spzoo", text, flags=re.I)
    found: list[_Token] = []
    for piece in re.findall(r"[^\W_]+|" + _BREAK.pattern, text):
        key = _fold(piece)
        key = re.sub(r"[^a-z0-9]", "", key)
        if _BREAK.fullmatch(piece) or not key:
            found.append(_Token("", piece, "break"))
        elif key in LEGAL_FORMS:
            found.append(_Token(key, piece, "legal"))
        elif key in BANK_WORDS or key.isdigit() or (breaks and any(c.isdigit() for c in key)):
            found.append(_Token(key, piece, "break"))
        else:
            found.append(_Token(key, piece, "word"))
    return found


def name_words(name: str) -> list[str]:
    """A client's (or contact's) name as compared: folded, without legal form or bank words."""
    tokens = _tokens(name, breaks=False)
    words = [t.key for t in tokens if t.kind == "word"]
    return words or [t.key for t in tokens if t.kind != "break" or t.key]


class Segment(NamedTuple):
    words: list[str]
    shown: str  # as written, legal form included: "GLOBEX LOGISTICS GMBH"


def segments(text: str) -> list[Segment]:
    """The candidate payer names in a bank description."""
    found: list[Segment] = []
    words: list[str] = []
    shown: list[str] = []

    def close() -> None:
        if words:
            found.append(Segment(list(words), " ".join(shown)))
        words.clear()
        shown.clear()

    for token in _tokens(text, breaks=True):
        if token.kind == "word":
            words.append(token.key)
            shown.append(token.original)
        elif token.kind == "legal":
            if words:
                shown.append(token.original)
            close()
        else:
            close()
    close()
    return found


def payer_name(payer: str) -> Segment:
    """A payer column's value as one name (it holds nothing else)."""
    words = [t.key for t in _tokens(payer, breaks=False) if t.kind == "word"]
    return Segment(words, payer.strip())


def _inside(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return 0 < n <= len(haystack) and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def compare(candidate: Segment, name: list[str]) -> Level | None:
    """How one payer name relates to one client name (both as ``name_words``)."""
    if not candidate.words or not name:
        return None
    if candidate.words == name:
        return "strong"
    distinctive = [w for w in name if w not in GENERIC and len(w) >= 3]
    if _inside(candidate.words, name) and distinctive:
        return "similar"  # the client's whole name and more: "GLOBEX LOGISTICS GMBH" for Globex
    if _inside(name, candidate.words) and any(w in distinctive for w in candidate.words):
        return "similar"  # part of the client's name: "ACME" for Acme Studio
    if any(w in candidate.words for w in distinctive if len(w) >= 4):
        return "weak"  # one shared word: "ACME STORAGE INC" for Acme Studio
    return None


_RANK: dict[Level, int] = {"strong": 3, "similar": 2, "weak": 1}


def best(found: list[Evidence]) -> Evidence | None:
    return max(found, key=lambda e: _RANK[e.level], default=None)


def by_name(payer: str, text: str, names: list[list[str]]) -> Evidence | None:
    """The strongest tie between a row and one client's names (its name, its contact's).
    A payer column is the payer; without one, the description's name segments are. With a payer
    column, a client named only in the description is at most a question (someone else paid)."""
    found: list[Evidence] = []
    named = payer_name(payer)  # a column of only bank words or numbers names no one
    for candidate in [named] if named.words else segments(text):
        for name in names:
            level = compare(candidate, name)
            if level:
                found.append(Evidence(level, candidate.shown))
    if named.words and not found:
        for candidate in segments(text):
            for name in names:
                if compare(candidate, name):
                    found.append(Evidence("weak", payer.strip(), candidate.shown))
    return best(found)


def level_rank(level: Level) -> int:
    return _RANK[level]
