"""Client names, contact names and e-mail addresses.

A client name is read as a short run of words after an anchor ("for", "from", "invoice …"),
ending at a word that can't be part of a name ("for", "that", "paid", a number, a comma).
Capitalisation is kept exactly as typed. Names that denote the operator's private life
("my bank", "mom", "the cable company") are rejected: coo must never invoice or e-mail them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache

from graphs.offline_parsing.lazy_re import lazy_re

EMAIL_RE = lazy_re(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# "Jane Doe <jane@x.com>" and "jane@x.com (Jane Doe)".
_ANGLE_CONTACT_RE = lazy_re(r"(?P<name>[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,3})\s*<(?P<email>[^<>\s]+@[^<>\s]+)>")
_PAREN_CONTACT_RE = lazy_re(
    r"(?P<email>[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})\s*\((?P<name>[A-Za-z][\w'. -]{0,40})\)"
)
# "contact is Jane Doe", "contact: Jane Doe", "contact person Jane".
_CONTACT_NAME_RE = lazy_re(
    r"\b(?i:contact)(?i:\s+person)?(?i:\s+is|\s*:|\s+name\s+is)?\s+(?P<name>[A-Z][a-zA-Z'-]+(?:\s+[A-Z][a-zA-Z'-]+)?)\b"
)

# Words that end a name: prepositions, verbs that follow a subject, pronouns, articles.
BOUNDARY_WORDS: frozenset[str] = frozenset(
    """
    for that to about with at on by due from in into re regarding saying asking telling
    and or but so because if when while until before after since as of per via
    paid pays pay paying sent sends signed signs signing has have had is are was were be been
    needs need needed wants want wanted expects expecting owes owe owed will would should could
    can may might must shall did does do just already finally today tomorrow yesterday tonight
    the a an this these those that's there their they them it it's its we we're our us you
    your i i'm i'd i'll i've me my he she his her him we'd we'll we've you'd you'll they'd they'll
    please pls thanks thank ok okay asap now
    invoice invoices invoiced bill billed proposal quote estimate retainer payment deliverable
    email e-mail note message reminder a.s.a.p
    monthly month months week weeks day days hours hour hrs
    net within allows allow prefers prefer likes like uses use only never always hates requires
    gets got asked asking doesn't don't won't isn't aren't send usd eur gbp dollars bucks euros up
    chf cad aud nzd sek nok dkk pln czk jpy inr francs
    """.split()
)
# Nouns that may follow a possessive inside a business name ("jane's bakery", "Joe's Pizza").
_POSSESSIVE_NAME_NOUNS: frozenset[str] = frozenset(
    "bakery bakeries studio studios shop store cafe café kitchen salon garage agency co company "
    "pizza diner bar books bikes farm place deli grill pub florist barbershop barber gym "
    "designs consulting clinic dental law landscaping plumbing cleaning catering coffee".split()
)
# Names that mean the operator's private life, never a client.
PRIVATE_NAMES: frozenset[str] = frozenset(
    """
    me myself i you us we mom mum mommy mother dad daddy father wife husband hubby brother sister
    son daughter kids kid family friend friends boss grandma grandpa granny grandmother
    grandfather aunt uncle cousin girlfriend boyfriend babe baby honey roommate neighbor
    neighbour landlord doctor dentist bank
    everyone someone somebody anyone nobody everybody him her them it
    """.split()
)
# Companies the operator usually pays or uses ("paid via PayPal", "my Netflix"): in free text
# they are not read as a client. An explicit "new client: Google" or a retainer signup naming
# one still makes it a client (``explicit=True``), and once it is one, every request may name it
# (``known``, the operator's clients): real companies can be clients.
EVERYDAY_COMPANIES: frozenset[str] = frozenset(
    """
    chase visa mastercard amex discover citi citibank paypal venmo zelle irs netflix spotify
    comcast xfinity verizon sprint dte spectrum alexa siri google
    """.split()
)
PERSONAL_NAMES: frozenset[str] = PRIVATE_NAMES | EVERYDAY_COMPANIES
# The operator's own money accounts ("checking", "savings account", "money market", "household",
# "joint credit card"): a name made only of these words is an account, never a client.
ACCOUNT_WORDS: frozenset[str] = frozenset(
    """
    checking chequing savings saving money market household account accounts card cards credit debit
    joint personal business main primary secondary spending emergency fund brokerage ira roth hsa
    401k wallet cash reserve reserves checkings
    """.split()
)
_PERSONAL_PREFIXES: tuple[str, ...] = (
    "my ",
    "the ",
    "a ",
    "an ",
    "our ",
    "your ",
    "his ",
    "her ",
    "their ",
    "this ",
    "that ",
    "some ",
    "any ",
    "all ",
)
_COMPANY_PREFIXES: tuple[str, ...] = ("bank of ", "wells fargo", "capital one", "american express")
# A token of a name: words, initials, "&", "37signals", "O'Neil", "Smith-Jones", "Co.".
_TOKEN_RE = lazy_re(r"\s*(?P<tok>&|[A-Za-z0-9][\w&'.\-]*[\w&]|[A-Za-z])(?P<punct>[,:;!?)\]]|\.(?=\s|$))?")


# "3k", "12h", "1st", "10am": numbers with a suffix are amounts, quantities or dates, not names.
_NUMBERISH_RE = lazy_re(r"(?i)^\d[\d.,]*(?:k|m|st|nd|rd|th|h|hrs?|am|pm|x|d)?$")
_KEY_RE = lazy_re(r"[^a-z0-9@&]+")
# An invoice number is never a client name.
_INVOICE_NO_RE = lazy_re(r"(?i)inv[-#]?\d+|#\d+")


@dataclass(frozen=True)
class NameMatch:
    """A name read from text, with the span it covered."""

    name: str
    start: int
    end: int


def _is_capitalised(token: str) -> bool:
    return token[:1].isupper()


def take_name(
    text: str, start: int, max_tokens: int = 5, *, explicit: bool = False, known: Collection[str] = ()
) -> NameMatch | None:
    """Read a client-like name starting at ``start``; None if what's there isn't a name.

    The name ends at a boundary word, a number, punctuation, or (when it began capitalised) at
    the first lowercase word, so "tell Bob Lee files are up" reads "Bob Lee". ``explicit``: the
    text says this is a client ("new client: Google"), so an everyday company name is kept;
    ``known`` (client name keys, see ``client_keys``) keeps one that already is a client.
    """
    tokens: list[str] = []
    pos = start
    name_start: int | None = None
    end = start
    while len(tokens) < max_tokens:
        m = _TOKEN_RE.match(text, pos)
        if not m:
            break
        tok, punct = m.group("tok"), m.group("punct")
        low = tok.lower()
        if low in BOUNDARY_WORDS or not any(ch.isalpha() for ch in tok) and tok != "&" or _NUMBERISH_RE.match(tok):
            break
        if "@" in tok or _INVOICE_NO_RE.fullmatch(tok):
            break
        if tokens and _is_capitalised(tokens[0]) and not _is_capitalised(tok) and tok != "&":
            # "Acme files …": a lowercase word after a capitalised name starts the next phrase.
            if low not in ("and", "&", "of", "de", "van", "von", "la", "le", "da"):
                break
        possessive = low.endswith("'s")
        if possessive and not punct:
            nxt = _TOKEN_RE.match(text, m.end())
            nxt_tok = nxt.group("tok") if nxt else ""
            continues = bool(nxt_tok) and (
                nxt_tok.lower() in _POSSESSIVE_NAME_NOUNS
                or (_is_capitalised(nxt_tok) and nxt_tok.lower() not in BOUNDARY_WORDS)
            )
            if not continues:
                tokens.append(tok[:-2])
                name_start = m.start("tok") if name_start is None else name_start
                end = m.end("tok") - 2
                break
        if name_start is None:
            name_start = m.start("tok")
        tokens.append(tok)
        end = m.end("tok")
        pos = m.end()
        if punct:
            break
    while tokens and tokens[-1] in ("&",):
        tokens.pop()
    if not tokens or name_start is None:
        return None
    name = " ".join(tokens).strip(" .'-")
    if not name or is_personal(name, explicit=explicit, known=known):
        return None
    return NameMatch(name, name_start, end)


@lru_cache(maxsize=16384)
def name_key(name: str) -> str:
    """Case- and punctuation-insensitive form of a name: "Google, Inc." -> "google inc".
    Remembered: the client names are keyed again whenever one of them changes."""
    return " ".join(_KEY_RE.sub(" ", name.lower()).split())


class ClientKeys(frozenset[str]):
    """The keys of the operator's client names, with every key's leading words ("google" for
    "google llc"): ``is_known`` looks a name up instead of scanning every client."""

    prefixes: frozenset[str]

    def __new__(cls, keys: Iterable[str], prefixes: frozenset[str] | None = None) -> ClientKeys:
        self = super().__new__(cls, keys)
        self.prefixes = frozenset(_prefixes(self)) if prefixes is None else prefixes
        return self

    def extended(self, keys: Iterable[str]) -> ClientKeys:
        """These keys and ``keys``: only the new keys' leading words are worked out."""
        added = frozenset(keys) - self
        if not added:
            return self
        return ClientKeys(self | added, self.prefixes | _prefixes(added))


def _prefixes(keys: Iterable[str]) -> set[str]:
    prefixes: set[str] = set()
    for key in keys:
        cut = key.find(" ")
        while cut > 0:
            prefixes.add(key[:cut])
            cut = key.find(" ", cut + 1)
    return prefixes


def client_keys(names: Iterable[str]) -> ClientKeys:
    """The keys of the operator's client names, as ``take_name`` and ``is_personal`` take them."""
    if isinstance(names, tuple):
        return _client_keys(names)  # the store's cached names: the same tuple every message
    return ClientKeys(key for key in map(name_key, names) if key)


# The last names keyed and their keys: a client added keys one name, not every name again.
_last_keyed: list[tuple[frozenset[str], ClientKeys]] = []


@lru_cache(maxsize=4)
def _client_keys(names: tuple[str, ...]) -> ClientKeys:
    current = frozenset(names)
    last = _last_keyed[-1] if _last_keyed else None
    if last is not None and last[0] <= current:  # only names added (a rename or removal: all again)
        keys = last[1].extended(key for key in map(name_key, current - last[0]) if key)
    else:
        keys = ClientKeys(key for key in map(name_key, names) if key)
    _last_keyed[:] = [(current, keys)]
    return keys


def is_known(name: str, known: Collection[str]) -> bool:
    """Whether ``name`` is one of the ``known`` clients: the same name, or one starting the other
    ("Google" for the client "Google LLC"), as the store finds clients."""
    if not known:
        return False
    key = name_key(name)
    if not key:
        return False
    index = known if isinstance(known, ClientKeys) else ClientKeys(known)
    if key in index or key in index.prefixes:
        return True
    cut = key.find(" ")
    while cut > 0:
        if key[:cut] in index:
            return True
        cut = key.find(" ", cut + 1)
    return False


def is_personal(name: str, *, explicit: bool = False, known: Collection[str] = ()) -> bool:
    """True for names from the operator's private life ("my bank", "mom", "the cable company"),
    and everyday companies ("PayPal") unless the text ``explicit``-ly names a client or the
    company is one of the ``known`` clients."""
    low = name.lower().strip()
    explicit = explicit or is_known(name, known)
    names = PRIVATE_NAMES if explicit else PERSONAL_NAMES
    prefixes = _PERSONAL_PREFIXES if explicit else _PERSONAL_PREFIXES + _COMPANY_PREFIXES
    if low in names or low.startswith(prefixes):
        return True
    if is_account(low):
        return True
    return any(word in names for word in low.split()[:1]) and len(low.split()) == 1


def is_account(name: str) -> bool:
    """True for the operator's own accounts: "checking", "savings account", "money market"."""
    words = name.lower().replace("-", " ").split()
    return bool(words) and all(word in ACCOUNT_WORDS for word in words)


def find_emails(text: str) -> list[str]:
    """Every e-mail address in the text, in order."""
    return EMAIL_RE.findall(text)


def find_contact(text: str) -> tuple[str | None, str | None]:
    """(contact_name, contact_email) from "Jane Doe <jane@x.com>", "contact jane@x.com", …"""
    m = _ANGLE_CONTACT_RE.search(text)
    if m:
        return m.group("name").strip(), m.group("email").strip()
    m = _PAREN_CONTACT_RE.search(text)
    if m:
        return m.group("name").strip(), m.group("email").strip()
    emails = find_emails(text)
    contact_name = None
    cm = _CONTACT_NAME_RE.search(text)
    if cm and cm.group("name").lower() not in BOUNDARY_WORDS:
        contact_name = cm.group("name")
    return contact_name, (emails[0] if emails else None)


def clean_client_name(raw: str, known: Collection[str] = ()) -> str | None:
    """Validate a name given on its own (a clarifying answer); None if it isn't a client name."""
    raw = raw.strip().strip("\"'").rstrip(".!?").strip()
    for prefix in ("it's ", "its ", "it is ", "client is ", "the client is ", "client: ", "name: "):
        if raw.lower().startswith(prefix):
            raw = raw[len(prefix) :].strip()
    if not raw or len(raw) > 80 or is_personal(raw, known=known) or not any(ch.isalpha() for ch in raw):
        return None
    return raw
