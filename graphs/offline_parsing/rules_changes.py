"""Rules for changing and undoing what was said: "rename Acme to Acme Studio Ltd", "Globex's
email is now ap@globex.example", "move the logo for Acme to Friday", "mark the task call Bob
done", "delete deliverable 3", "remove client Test Co", "change Acme's rounds to 2", "undo that".

Each is anchored on its verb: a message that only mentions a name or a date is not a change.
A date that cannot be read leaves the rule unmatched rather than guessing one.
"""

from __future__ import annotations

import re
from datetime import date

from graphs.intents import (
    ChangeContact,
    DeleteRecord,
    DeliverableDone,
    MoveDue,
    RenameClient,
    TaskDone,
    Undo,
    UpdateTerms,
)
from graphs.offline_parsing.context import Ctx
from graphs.offline_parsing.dates import find_due
from graphs.offline_parsing.extract import revision_count
from graphs.offline_parsing.lazy_re import lazy_re
from graphs.offline_parsing.names import name_key
from graphs.offline_parsing.rules_done import deliverable_done
from graphs.offline_parsing.text import clean_phrase

_PRONOUNS = frozenset("them they their it its this that him her".split())
_END = r"\s*(?:please|pls|plz|thanks|thx)?[\s.!]*$"
_EMAIL = r"<?(?P<email>[\w.+'-]+@[\w-]+(?:\.[\w-]+)+)>?"
_WHAT_EMAIL = r"(?:contact\s+)?(?:e-?mail(?:\s+address)?|mail|address|contact(?:\s+address)?)"

_UNDO_RE = lazy_re(
    r"^(?:(?:oops|sorry|actually|no|wait|hmm|scratch\s+that)[\s,.!]+)*(?:please\s+|pls\s+)?(?:can\s+you\s+)?"
    r"(?:undo|undo\s+(?:that|it|this|the\s+last\s+(?:change|one|thing|step)|my\s+last\s+(?:change|one)|last"
    r"|what\s+you\s+(?:just\s+)?did)|"
    r"revert\s+(?:that|it|this)(?:\s+change)?|revert\s+the\s+last\s+(?:change|one|thing)|take\s+(?:that|it)\s+back|"
    r"scratch\s+that|"
    r"roll\s+(?:that|it)\s+back|reverse\s+(?:that|it|the\s+last\s+change))" + _END,
    re.I,
)

_RENAME_RES = (
    lazy_re(
        r"^(?:please\s+)?(?:re-?name|change\s+the\s+name\s+of)\s+(?:the\s+)?(?:client\s+)?(?P<who>.+?)\s+"
        r"(?:to|as|into)\s+(?P<new>.+?)" + _END,
        re.I,
    ),
    lazy_re(
        r"^(?:please\s+)?(?:change|update|set)\s+(?P<who>.+?)(?:['’]s)?\s+(?:company\s+|client\s+)?name\s+to\s+"
        r"(?P<new>.+?)" + _END,
        re.I,
    ),
    lazy_re(
        r"^(?P<who>.+?)\s+(?:is|are)\s+(?:now\s+)?(?:called|named|known\s+as|renamed(?:\s+to)?)\s+(?P<new>.+?)"
        r"(?:\s+now)?" + _END,
        re.I,
    ),
    lazy_re(
        r"^(?P<who>.+?)\s+(?:has\s+|have\s+|just\s+)?(?:changed|renamed)\s+(?:its|their|the\s+company)\s+"
        r"(?:name\s+)?(?:to\s+)?(?P<new>.+?)" + _END,
        re.I,
    ),
    lazy_re(r"^(?P<who>.+?)(?:['’]s)\s+new\s+name\s+is\s+(?P<new>.+?)" + _END, re.I),
)

_CONTACT_RES = (
    lazy_re(rf"^(?P<who>.+?)(?:['’]s)?\s+(?:new\s+)?{_WHAT_EMAIL}\s+is\s+(?:now\s+)?{_EMAIL}" + _END, re.I),
    lazy_re(
        rf"^(?:please\s+)?(?:use|send\s+(?:to|e-?mails\s+to))\s+{_EMAIL}\s+(?:for|as)\s+(?P<who>.+?)"
        r"(?:(?:['’]s)?\s+(?:contact|e-?mail|address))?(?:\s+from\s+now\s+on|\s+instead|\s+going\s+forward)?" + _END,
        re.I,
    ),
    lazy_re(
        rf"^(?:please\s+)?(?:change|update|set|switch)\s+(?P<who>.+?)(?:['’]s)?\s+{_WHAT_EMAIL}\s+to\s+{_EMAIL}" + _END,
        re.I,
    ),
    lazy_re(
        rf"^(?:please\s+)?add\s+{_EMAIL}\s+(?:as\s+(?:the\s+)?(?:contact|e-?mail)\s+)?(?:for|to)\s+(?P<who>.+?)"
        r"(?:\s+as\s+(?:the\s+|their\s+)?(?:contact|e-?mail))?" + _END,
        re.I,
    ),
    lazy_re(rf"^(?:new\s+)?{_WHAT_EMAIL}\s+for\s+(?P<who>.+?)\s*(?::|is|=)\s*{_EMAIL}" + _END, re.I),
)

# "move the logo for Acme to Friday", "push the brochure deadline to Dec 12", "reschedule task
# call Bob for Monday", "postpone the homepage for Acme until next week"
_MOVE_RE = lazy_re(
    r"^(?:please\s+)?(?:move|push(?:\s+back)?|shift|reschedule|re-schedule|postpone|delay|bring\s+forward|"
    r"pull\s+(?:in|forward)|change\s+the\s+(?:due\s+date|deadline)\s+(?:of|for))\s+(?:back\s+)?(?P<rest>.+?)" + _END,
    re.I,
)
_SPLIT_RE = lazy_re(r"\s+(?:back\s+)?(?:to|till|until|til|for|on)\s+", re.I)
# "the logo for Acme is now due Friday", "make the brochure due Dec 12"
_DUE_NOW_RE = lazy_re(
    r"^(?:make\s+)?(?P<what>.+?)\s+(?:is\s+)?(?:now\s+)?due\s+(?:on\s+)?(?P<when>.+?)(?:\s+now|\s+instead)?" + _END,
    re.I,
)
_DUE_NOW_GUARD_RE = lazy_re(r"\b(?:now|instead)\b|^make\s", re.I)
_NOT_WORK_RE = lazy_re(
    r"\b(?:retainer|billing|bill|invoices?|inv-?\d+|payments?|fee|rate|rounds?|meeting\s+with|call\s+with)\b", re.I
)
_KIND_RE = lazy_re(r"^(?:the\s+)?(?P<kind>task|to-?do|deliverable)\s+(?:#|no\.?\s*|number\s+)?", re.I)
_ID_RE = lazy_re(r"^(?:the\s+)?(?P<kind>task|to-?do|deliverable)\s+(?:#|no\.?\s*|number\s+)?(?P<id>\d+)$", re.I)
_DEADLINE_RE = lazy_re(r"\s+(?:deadline|due\s+date)$|^(?:the\s+)?(?:deadline|due\s+date)\s+(?:of|for)\s+", re.I)
_FOR_CLIENT_RE = lazy_re(r"^(?P<title>.+?)\s+(?:for|of|from)\s+(?P<who>[A-Za-z0-9][^,]*?)$", re.I)
_POSSESSIVE_RE = lazy_re(r"^(?P<who>[A-Z][\w&.\- ]*?)['’]s\s+(?P<title>.+)$")

_DONE_WORDS = r"(?:done|finished|complete|completed|ticked\s+off|checked\s+off)"
_TASK_DONE_RES = (
    lazy_re(
        rf"^(?:mark\s+)?(?:the\s+)?(?:task|to-?do)\s+(?P<title>.+?)\s+(?:as\s+)?(?:is\s+|was\s+)?{_DONE_WORDS}" + _END,
        re.I,
    ),
    lazy_re(
        r"^(?:i(?:'m|\s+am|\s+have|'ve)?\s+)?(?:just\s+)?(?:done|finished|completed)\s+(?:with\s+)?(?:the\s+)?"
        r"(?:task|to-?do)\s+(?P<title>.+?)" + _END,
        re.I,
    ),
    lazy_re(r"^(?:tick|check|cross)\s+off\s+(?:the\s+)?(?:task\s+|to-?do\s+)?(?P<title>.+?)" + _END, re.I),
    lazy_re(r"^(?:tick|check|cross)\s+(?:the\s+)?(?:task\s+|to-?do\s+)?(?P<title>.+?)\s+off" + _END, re.I),
    lazy_re(rf"^mark\s+(?:the\s+)?(?P<title>.+?)\s+(?:task\s+)?as\s+{_DONE_WORDS}" + _END, re.I),
)

_DELETE_RE = lazy_re(
    r"^(?:please\s+)?(?:delete|remove|drop|scrap|bin|trash|get\s+rid\s+of|erase)\s+(?:the\s+)?"
    r"(?P<kind>task|to-?do|deliverable|client|customer)\s+(?P<rest>.+?)" + _END,
    re.I,
)
_DELETE_ANY_RE = lazy_re(r"^(?:please\s+)?(?:delete|remove|scrap|bin|trash)\s+(?P<rest>.+?)" + _END, re.I)
_DELETE_AS_CLIENT_RE = lazy_re(
    r"^(?:please\s+)?(?:delete|remove|drop)\s+(?P<rest>.+?)\s+(?:as\s+a\s+client|from\s+(?:my\s+|the\s+)?clients)"
    + _END,
    re.I,
)

# "change Acme's rounds to 2", "set Globex's revision rounds to 3", "give Acme 2 revision rounds"
_ROUNDS_RE = lazy_re(
    r"^(?:please\s+)?(?:change|set|make|update)\s+(?P<who>.+?)(?:['’]s)?\s+(?:retainer\s+)?(?:revision\s+|design\s+)?"
    r"(?:rounds|revisions|revision\s+limit)\s+(?:to\s+)?(?P<n>.+?)" + _END,
    re.I,
)
_FEE_RE = lazy_re(
    r"^(?P<who>.+?)(?:['’]s)\s+(?:retainer|monthly\s+fee|fee)\s+is\s+now\s+(?P<rest>.+?)" + _END,
    re.I,
)


def _who(raw: str | None) -> str | None:
    """A client name as said, without "the", a possessive or quotes; None for "them" or nothing."""
    if raw is None:
        return None
    name = clean_phrase(raw)
    name = re.sub(r"^(?:the\s+)?(?:client|customer)\s+", "", name, flags=re.I)
    name = re.sub(r"^the\s+", "", name, flags=re.I)
    name = re.sub(r"['’]s$", "", name).strip(" \"'“”")
    if not name or name.lower() in _PRONOUNS or len(name.split()) > 6:
        return None
    return name


def undo(ctx: Ctx) -> Undo | None:
    return Undo() if _UNDO_RE.match(ctx.text) else None


_NOT_A_CLIENT_NAME_RE = lazy_re(
    r"^(?:my|our|your|his|her|their|me|i|we|you|it|this|that|what|which|who|how|tell|do|does|is|are)\b"
    r"|\b(?:what|which|who|how)\b",
    re.I,
)


def rename_client(ctx: Ctx) -> RenameClient | None:
    for pattern in _RENAME_RES:
        m = pattern.match(ctx.text)
        if not m:
            continue
        who, new = _who(m.group("who")), clean_phrase(m.group("new")).strip("\"'“”")
        if who is None or not new or len(new.split()) > 8 or re.match(r"(?i)(?:task|deliverable)\b", who):
            return None
        # "change my name to Bob", "what this song is called", "tell me what … is called": the
        # operator's own life or a question, never a client's new name.
        if _NOT_A_CLIENT_NAME_RE.search(who):
            return None
        if "@" in new or _NOT_WORK_RE.search(new):
            return None
        return RenameClient(client_name=who, new_name=new)
    return None


# Not a client's name but the start of another request: "onboard Tidewater Yoga, their email is …",
# "remember that Oakridge's contact is …", "add a client: Copperleaf, contact is …".
_NOT_A_CHANGE_RE = lazy_re(
    r"^(?:remember|note|onboard|add\s+(?:a\s+)?(?:new\s+)?client|new\s+client|sign)\b|[,:;]", re.I
)


def change_contact(ctx: Ctx) -> ChangeContact | None:
    for index, pattern in enumerate(_CONTACT_RES):
        m = pattern.match(ctx.text)
        if m:
            who = _who(m.group("who"))
            if who is None or _NOT_A_CHANGE_RE.search(m.group("who")):
                return None
            # "Halcyon's accounts email is ap@…" is a fact to remember; a change says so ("now", "new").
            if index == 0 and not re.search(r"(?i)\b(?:now|new)\b", ctx.text):
                return None
            return ChangeContact(client_name=who, contact_email=m.group("email"))
    return None


def _when(text: str, today: date) -> date | None:
    """The new due date, when ``text`` is only a date phrase."""
    found = find_due(text, today)
    if found is None or found.value is None:
        return None
    leftover = (text[: found.start] + text[found.end :]).strip(" ,.!")
    return found.value if not re.sub(r"(?i)\b(?:the|on|by|next|this|a|an)\b", "", leftover).strip() else None


def _work_item(
    what: str, known: frozenset[str] = frozenset()
) -> tuple[str | None, int | None, str | None, str | None] | None:
    """(kind, id, title, client) of "the logo for Acme", "task 3", "the brochure deadline"."""
    what = _DEADLINE_RE.sub("", clean_phrase(what)).strip()
    m = _ID_RE.match(what)
    if m:
        said = "task" if m.group("kind").lower() != "deliverable" else "deliverable"
        return said, int(m.group("id")), None, None
    kind: str | None = None
    m = _KIND_RE.match(what)
    if m:
        kind = "task" if m.group("kind").lower() != "deliverable" else "deliverable"
        what = what[m.end() :]
    what = re.sub(r"^(?:the|my|our)\s+", "", what, flags=re.I)
    client = None
    m = _POSSESSIVE_RE.match(what)
    if m:
        client, what = m.group("who"), m.group("title")
    else:
        m = _FOR_CLIENT_RE.match(what)
        if m and (m.group("who")[:1].isupper() or name_key(m.group("who")) in known) and kind != "task":
            client, what = _who(m.group("who")), m.group("title")
    what = _DEADLINE_RE.sub("", re.sub(r"^(?:the|my|our)\s+", "", what, flags=re.I)).strip()
    if not what or what.lower() in _PRONOUNS or _NOT_WORK_RE.search(what):
        return None
    return kind, None, what, client


def move_due(ctx: Ctx) -> MoveDue | None:
    m = _MOVE_RE.match(ctx.text)
    what, due = None, None
    if m is not None:
        rest = m.group("rest")
        # "move the logo for Acme to Friday": the last "to/for/until …" that is only a date.
        for split in reversed(list(_SPLIT_RE.finditer(rest))):
            due = _when(rest[split.end() :], ctx.today)
            if due is not None:
                what = rest[: split.start()]
                break
    else:
        m = _DUE_NOW_RE.match(ctx.text)
        if m is None or not _DUE_NOW_GUARD_RE.search(ctx.text) or ctx.is_question:
            return None
        what, due = m.group("what"), _when(m.group("when"), ctx.today)
    item = _work_item(what, ctx.clients) if due is not None and what else None
    if item is None:
        return None
    kind, item_id, title, client = item
    return MoveDue(item=kind, item_id=item_id, title=title, client_name=client, due_date=due)  # type: ignore[arg-type]


def task_done(ctx: Ctx) -> TaskDone | DeliverableDone | None:
    text = ctx.text
    if deliverable_done(ctx) is not None:  # "mark the logo for Acme as done" is a deliverable
        return None
    m = re.match(r"(?i)^(?:mark\s+)?task\s+#?(?P<id>\d+)\s+(?:as\s+)?(?:is\s+)?" + _DONE_WORDS + _END, text)
    if m:
        return TaskDone(task_id=int(m.group("id")))
    for n, pattern in enumerate(_TASK_DONE_RES):
        m = pattern.match(text)
        if m:
            title = re.sub(r"^(?:the|my)\s+", "", clean_phrase(m.group("title")), flags=re.I)
            item = _work_item(title, ctx.clients) if n >= 2 else None  # no "task" said: maybe a deliverable
            if item is not None and item[3] is not None:  # "tick off the logo for Acme"
                return DeliverableDone(client_name=item[3], title=item[2])
            return TaskDone(title=title) if title and not _NOT_WORK_RE.search(title) else None
    return None


def delete_record(ctx: Ctx) -> DeleteRecord | None:
    m = _DELETE_AS_CLIENT_RE.match(ctx.text)
    if m:
        who = _who(m.group("rest"))
        return DeleteRecord(record="client", client_name=who) if who else None
    m = _DELETE_RE.match(ctx.text)
    if m is None:
        # "delete the logo for Acme": a client's deliverable
        m = _DELETE_ANY_RE.match(ctx.text)
        item = _work_item(m.group("rest"), ctx.clients) if m else None
        if item is None or item[3] is None:
            return None
        return DeleteRecord(record="deliverable", title=item[2], client_name=item[3])
    kind = m.group("kind").lower()
    if kind in ("client", "customer"):
        who = _who(m.group("rest"))
        return DeleteRecord(record="client", client_name=who) if who else None
    record = "deliverable" if kind == "deliverable" else "task"
    item = _work_item(f"{record} {m.group('rest')}", ctx.clients)
    if item is None:
        return None
    _, item_id, title, client = item
    return DeleteRecord(record=record, record_id=item_id, title=title, client_name=client)  # type: ignore[arg-type]


def retainer_terms(ctx: Ctx) -> UpdateTerms | None:
    """Changing a named client's retainer where rules_memory has no phrasing for it."""
    m = _ROUNDS_RE.match(ctx.text)
    if m:
        who, rounds = _who(m.group("who")), revision_count(m.group("n") + " rounds")
        if who and rounds is not None:
            return UpdateTerms(client_name=who, revision_rounds=rounds)
        return None
    m = _FEE_RE.match(ctx.text)
    if m and ctx.amounts and re.search(r"(?i)\b(?:a|per|/)\s*(?:month|mo)\b|monthly", m.group("rest")):
        who = _who(m.group("who"))
        return UpdateTerms(client_name=who, monthly_amount=ctx.amounts[0].value) if who else None
    return None


# Registered in classify.py after the retainer rules and before everything that reads
# statements about clients ("Acme's email is now …" is a change, not a fact to remember).
RULES = (undo, rename_client, change_contact, delete_record, task_done, move_due, retainer_terms)
