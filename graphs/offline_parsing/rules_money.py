"""Rules for the intents with side effects: retainer, proposal, invoice, payment, e-mail.

Each rule returns ``None`` unless it sees both its trigger and a business signal (a
client-like name, invoice/retainer/proposal vocabulary). Returning ``None`` lets the message
fall through to a harmless intent or ``unknown``: a wrong guess here could bill or e-mail
someone, a clarifying question costs one message.
"""

from __future__ import annotations

import re

from graphs.intents import CreateInvoice, DraftProposal, RecordPayment, RetainerSignup, SendEmail
from graphs.offline_parsing.context import BUSINESS_RE, Ctx
from graphs.offline_parsing.dates import find_date, find_day_of_month
from graphs.offline_parsing.extract import (
    due_fields,
    invoice_number,
    name_after,
    remove_dates,
    revision_count,
    strip_article,
    subject_name,
)
from graphs.offline_parsing.items import parse_items
from graphs.offline_parsing.lazy_re import lazy_re
from graphs.offline_parsing.names import NameMatch, find_contact
from graphs.offline_parsing.text import clean_phrase
from graphs.parsing import FieldProblem

# --- retainer ------------------------------------------------------------------------------
_RETAINER_RE = lazy_re(r"\bretainers?\b", re.I)
_SIGN_VERBS_RE = lazy_re(
    r"(?:signed|signs|is\s+signing|agreed|said\s+yes|started|starts|is\s+starting|locked\s+in|"
    r"(?:is|are)\s+(?:now\s+)?on|went\s+for|accepted|renewed|confirmed|wants|want|is\s+doing|"
    r"'s\s+on|is\s+in|are\s+in|(?:is|are)\s+going)\b",
    re.I,
)
_RETAINER_ANCHOR_RE = lazy_re(
    r"\bretainers?\s*(?:with|for|from|signed\s+by|:|-)\s*|\bsigned\s+(?:up\s+)?(?=[A-Z])|\bnew\s+retainer\s*[:,-]?\s*"
    r"|\bonboard(?:ed)?\s+",
    re.I,
)
_MONTHLY_RE = lazy_re(r"\b(?:a|per|each|every)\s+month\b|/\s*mo(?:nth)?\b|\bmonthly\b|\bp/?m\b|\bmo\b", re.I)
# A retainer by another name: "agreed to go monthly", "an ongoing monthly arrangement".
_MONTHLY_DEAL_RE = lazy_re(
    r"\bgo(?:ing|es)?\s+(?:on\s+)?monthly\b|\bongoing\s+monthly\b|\bon\s+a\s+monthly\s+basis\b|"
    r"\bmonthly\s+(?:arrangement|deal|plan|contract|agreement|package|engagement|subscription)\b",
    re.I,
)


# "Acme doesn't want to continue the retainer", "Globex never signed": not a signup.
_NEGATED_RE = lazy_re(r"\b(?:doesn'?t|don'?t|didn'?t|won'?t|isn'?t|aren'?t|not|never|no\s+longer)\b", re.I)


def retainer(ctx: Ctx) -> RetainerSignup | None:
    """ "Acme Studio signed the retainer: $4,000 a month, 3 design rounds, bill on the 1st"."""
    if _NEGATED_RE.search(ctx.text):
        return None
    monthly_deal = bool(_MONTHLY_DEAL_RE.search(ctx.text)) and bool(ctx.amounts)
    has_word = bool(_RETAINER_RE.search(ctx.text)) or monthly_deal
    monthly = bool(_MONTHLY_RE.search(ctx.text)) or any(a.rate_unit == "month" for a in ctx.amounts)
    if not has_word and not (monthly and re.search(r"(?i)\bsigned\b", ctx.text)):
        return None
    if ctx.is_question and not re.search(r"(?i)\bsigned\b", ctx.text):
        return None
    if _INVOICE_VERB_START_RE.match(ctx.text) or re.match(r"(?i)^(?:remind|email|tell|send)\b", ctx.text):
        return None  # "invoice Acme for the retainer" bills an existing retainer
    subject = subject_name(ctx, _SIGN_VERBS_RE, explicit=True)
    client = subject or name_after(ctx, _RETAINER_ANCHOR_RE, explicit=True)
    if client is None and not has_word:
        return None
    if subject is None and not monthly and not re.match(r"(?i)^(?:new\s+)?retainers?\b|.*\bsigned\b", ctx.text):
        return None
    amount, currency = ctx.money("monthly_amount", prefer_unit="month")
    contact_name, contact_email = find_contact(ctx.text)
    day = find_day_of_month(ctx.text)
    start = None
    start_m = re.search(r"(?i)\b(?:start(?:s|ing)?|from|beginning|kick(?:s|ing)?\s+off)\b", ctx.text)
    if start_m:
        found = find_date(ctx.text[start_m.end() :], ctx.today)
        start = found.value if found else None
    scope_m = re.search(r"(?i)\bretainer\s+for\s+(?P<s>[a-z][^,;:$€£.]+)", ctx.text)
    scope = None
    if scope_m and (client is None or client.name.lower() not in scope_m.group("s").lower()):
        scope = clean_phrase(strip_article(scope_m.group("s")))
    return RetainerSignup(
        client_name=client.name if client else None,
        contact_name=contact_name,
        contact_email=contact_email,
        monthly_amount=amount,
        currency=currency or "USD",
        revision_rounds=revision_count(ctx.text),
        billing_day=day.days if day else None,
        scope=scope or None,
        start_date=start,
    )


# --- proposal ------------------------------------------------------------------------------
_PROPOSAL_RE = lazy_re(r"\b(?:proposals?|sow|statement\s+of\s+work)\b", re.I)
_QUOTE_RE = lazy_re(r"\b(?:quote|estimate|pitch)\b", re.I)
_PROPOSAL_VERB_RE = lazy_re(
    r"\b(?:draft|write|prepare|put\s+together|send|make|create|whip\s+up|work\s+up|start|build|"
    r"need|needs|wants|want|new|do|get|asked\s+for|requested|spin\s+up|pull\s+together|knock\s+out)\b",
    re.I,
)
_STRONG_QUOTE_VERB_RE = lazy_re(
    r"^(?:draft|write|prepare|put\s+together|send|whip\s+up|work\s+up|create)\b|\b(?:wants|needs|asked\s+for|requested)\s+an?\s+(?:quote|estimate)",
    re.I,
)
_SEND_TO_RE = lazy_re(r"^(?:send|email|e-mail|shoot|get|give|write)(?:\s+(?:up|over|out))?\s+", re.I)
_TO_SELF_RE = lazy_re(r"^(?:send|email|e-mail|shoot|get|give|write|text|find|show)\s+(?:me|us|myself)\b", re.I)
_FOR_TO_RE = lazy_re(r"\b(?:for|to|with)\s+", re.I)
_SUBJECT_WANTS_RE = lazy_re(r"(?:wants|needs|asked\s+(?:me\s+)?for|requested|is\s+asking\s+for|would\s+like)\b", re.I)
_SCOPE_AFTER_RE = lazy_re(r"^\s*(?:'s\s+)?(?:[:,\-]\s*|\s+(?:for|on|about|re|regarding|covering)\s+)(?P<s>.+)$", re.I)
_SCOPE_CUT_RE = lazy_re(
    r"\s*(?:[,;(]|\s-\s|\bat\b|\bfor\s+(?:about\s+|around\s+)?[$€£\d]|[$€£]|\b\d|\bbudget\b|\baround\b|\babout\s+[$€£\d]|\bcontact\b|\bto\s+\S+@).*$",
    re.I,
)


def _scope(text: str) -> str | None:
    text = _SCOPE_CUT_RE.sub("", text)
    text = strip_article(clean_phrase(text))
    return text or None


def proposal(ctx: Ctx) -> DraftProposal | None:
    """ "draft a proposal for Acme for a brand refresh, $6k"."""
    trigger = _PROPOSAL_RE.search(ctx.text)
    quote_only = trigger is None
    if trigger is None:
        trigger = _QUOTE_RE.search(ctx.text)
        if trigger is None or not _STRONG_QUOTE_VERB_RE.search(ctx.text):
            return None
        if _TO_SELF_RE.match(ctx.text):
            return None  # "send me a motivational quote": a quote for the operator is not a proposal
    if not _PROPOSAL_VERB_RE.search(ctx.text) and not re.match(r"(?i)^(?:proposals?|sow)\b", ctx.text):
        return None
    if ctx.is_question:
        return None
    client: NameMatch | None = subject_name(ctx, _SUBJECT_WANTS_RE)
    if client is None:
        # "send Polaris Media a proposal for …"
        lead = _SEND_TO_RE.match(ctx.text)
        named = ctx.take_name(lead.end()) if lead else None
        if named is not None and re.match(
            r"(?i)\s+(?:a|an|the|our|my)\s+(?:\w+\s+)?(?:proposal|quote|estimate|sow)", ctx.text[named.end :]
        ):
            client = named
    if client is None and quote_only:
        # "quote"/"estimate" alone is everyday English: it is a proposal only when addressed to a
        # client ("send Acme a quote", "Acme wants an estimate", "a quote for Acme").
        named = name_after(ctx, _FOR_TO_RE, trigger.end())
        adjacent = named is not None and re.fullmatch(r"(?i)s?\s+(?:for|to)\s+", ctx.text[trigger.end() : named.start])
        if named is None or not (named.name[:1].isupper() or adjacent):
            return None
        client = named
    if client is None:
        client = name_after(ctx, _FOR_TO_RE, trigger.end()) or ctx.take_name(trigger.end() + 1)
        if client is None:
            colon = re.search(r"(?i)(?:proposals?|sow)\s*[:\-]\s*", ctx.text)
            client = ctx.take_name(colon.end()) if colon else None
    if client is None and _QUOTE_RE.search(ctx.text) and not _PROPOSAL_RE.search(ctx.text):
        return None  # "send a quote" without a client is not clearly ours
    scope = None
    if client is not None and client.end > trigger.start():
        after = _SCOPE_AFTER_RE.match(ctx.text[client.end :])
        if after:
            scope = _scope(after.group("s"))
        if scope is None and client.start > trigger.end():
            between = ctx.text[trigger.end() : client.start]
            between = re.sub(r"(?i)^\s*(?:for|on|about|re)\s+|\s+(?:for|to|with)\s*$", "", between)
            scope = _scope(between)
    else:
        after = _SCOPE_AFTER_RE.match(ctx.text[trigger.end() :])
        scope = _scope(after.group("s")) if after else None
    amount, currency = ctx.money("amount")
    price = ctx.trailing_price() if amount is None and not ctx.malformed else None
    if price is not None:
        amount = price.value
    _, contact_email = find_contact(ctx.text)
    return DraftProposal(
        client_name=client.name if client else None,
        contact_email=contact_email,
        scope=scope,
        amount=amount,
        currency=currency or "USD",
    )


# --- invoice -------------------------------------------------------------------------------
_INVOICE_VERB_START_RE = lazy_re(r"^(?P<v>invoice|bill|charge|re-?invoice)\b\s*(?:to\s+|for\s+)?", re.I)
_INVOICE_NOUN_RE = lazy_re(
    r"\b(?:send|create|make|draft|raise|issue|prepare|do|generate|new|write(?:\s+up)?|cut|put\s+together|"
    r"need|want|start|set\s+up|bill\s+out|invoice)\b[^.?!]{0,30}?\binvoices?\b|^invoices?\b",
    re.I,
)
_BARE_FEE_RE = lazy_re(r"(?<![\w$€£.,/-])(?P<n>\d{2,}(?:,\d{3})*(?:\.\d{1,2})?)(?=\s+for\b)")
_TRAILING_FEE_RE = lazy_re(r"(?<![\w$€£.,/-])(?P<n>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?)(?=[\s.!]*$)")
_INVOICE_CLIENT_ANCHOR_RE = lazy_re(r"\b(?:to|for)\s+|^invoices?\s*[:\-]\s*|\binvoices?\s*[:\-]\s*", re.I)


def invoice(ctx: Ctx) -> CreateInvoice | None:
    """ "invoice Bob Lee for 12 hours of logo work at $95/h, due in 14 days"."""
    if ctx.is_question:
        return None
    verb = _INVOICE_VERB_START_RE.match(ctx.text)
    client: NameMatch | None = None
    if verb:
        client = ctx.take_name(verb.end())
        if verb.group("v").lower() in ("bill", "charge"):
            # "bill"/"charge" are also nouns and personal verbs: need a client and money.
            if client is None or not ctx.explicit_amounts() and not ctx.malformed:
                return None
    else:
        noun = _INVOICE_NOUN_RE.search(ctx.text)
        if noun is None:
            return None
        lead = _SEND_TO_RE.match(ctx.text)
        named = ctx.take_name(lead.end()) if lead else None
        if named is not None and re.match(
            r"(?i)\s+(?:a|an|the|their|this)\s+(?:\w+\s+)?invoice", ctx.text[named.end :]
        ):
            client = named  # "send Acme an invoice for …"
        else:
            word = re.search(r"(?i)\binvoices?\b", ctx.text[noun.start() :])
            after_word = noun.start() + (word.start() if word else 0)
            client = name_after(ctx, _INVOICE_CLIENT_ANCHOR_RE, after_word)
    if client is not None and ctx.is_personal(client.name):
        return None
    if client is None and not re.search(r"(?i)\binvoice", ctx.text):
        return None
    region = ctx.text[client.end :] if client else ctx.text[verb.end() if verb else 0 :]
    due_date, due_in_days = due_fields(region, ctx.today, work_dates=True)
    region = remove_dates(region, ctx.today)
    items = parse_items(region)
    if not items and not ctx.malformed:
        # "invoice orchid spa 400 for the business cards": a bare number right before "for" is the fee.
        items = parse_items(_BARE_FEE_RE.sub(r"$\g<n>", region, count=1))
    if not items and not ctx.malformed and ctx.trailing_price() is not None:
        # "invoice Acme for the brand audit for 3,000": a grouped number closing the message is the fee.
        items = parse_items(_TRAILING_FEE_RE.sub(r"$\g<n>", region, count=1))
    currency = next((a.currency for a in ctx.explicit_amounts() if a.currency), None)
    region_start = client.end if client else (verb.end() if verb else 0)
    bad = next((m for m in ctx.malformed if m.start >= region_start), None)
    if bad is not None:
        # "invoice Acme $4,0000 for october": never bill a guess, nor drop the line silently;
        # ask about the lines with the plausible readings ("did you mean $4,000 or $40,000?").
        items = []
        ctx.problems.append(FieldProblem(field="items", text=bad.raw, message=bad.message))
    _, contact_email = find_contact(ctx.text)
    return CreateInvoice(
        client_name=client.name if client else None,
        contact_email=contact_email,
        items=items,
        currency=currency,
        due_date=due_date,
        due_in_days=due_in_days,
    )


# --- payment -------------------------------------------------------------------------------
_PAID_VERBS_RE = lazy_re(
    r"(?:paid|pays|sent\s+(?:me\s+|us\s+|over\s+)?(?:the\s+)?(?:money|payment|[$€£\d])|settled|wired|transferred|cleared|"
    r"covered|paid\s+up|came\s+through|coughed\s+up)",
    re.I,
)
# Up to the next sentence end; a "." inside a number ("1.25k", "$99.50") does not end it.
_SAME_SENTENCE = r"(?:[^.?!]|\.(?=\d))*?"
_RECEIVED_RE = lazy_re(
    r"\b(?:got|received|receive|recvd|rcvd|collected|deposited|banked|cashed|came\s+in|come\s+in|landed|arrived)\b"
    + _SAME_SENTENCE
    + r"\b(?:from|by)\s+",
    re.I,
)
_PAYMENT_FROM_RE = lazy_re(
    r"\b(?:payment|check|cheque|wire|transfer|deposit)\b" + _SAME_SENTENCE + r"\b(?:from|by)\s+", re.I
)
_POSSESSIVE_PAYMENT_RE = lazy_re(
    r"^(?:'s)?\s*(?:payment|check|cheque|wire|transfer|invoice|deposit)\b[^.?!]*?\b(?:came|cleared|arrived|landed|"
    r"hit|is\s+in|was\s+received|got\s+paid|went\s+through|is\s+paid)",
    re.I,
)
# Moving money between the operator's own accounts ("transfer $300 from checking to savings",
# "move 5k to money market"): personal banking, never a client payment.
_OWN_TRANSFER_RE = lazy_re(
    r"\b(?:transfer(?:red|ring|s)?|mov(?:e|ed|es|ing)|shift|sweep|put)\b"
    + _SAME_SENTENCE
    + r"\b(?:to|from|into|out\s+of|between)\s+(?:my\s+|our\s+|the\s+)?(?:checking|chequing|savings?|money\s+market|"
    r"household|brokerage|ira|hsa|(?:[a-z]+\s+)?accounts?\b|(?:credit|debit)\s+cards?)\b",
    re.I,
)
_MARK_PAID_RE = lazy_re(r"^mark\s+(?P<rest>.+?)\s+(?:as\s+)?paid\b", re.I)
# Money that did not come in, or may: said about a payment, never a booking.
_NOT_RECEIVED_RE = lazy_re(
    r"\b(?:never|not\s+(?:yet|paid|received|arrived|come|came|in)|(?:did|has|have|had|does|do|is|was|were)n[o']?t\s+"
    r"|no\s+(?:payment|money|sign)|still\s+(?:waiting|owes?|hasn|haven|outstanding|unpaid|missing)|"
    r"supposed\s+to|should\s+(?:have|'ve|be)|meant\s+to|(?:was|were|am|are|i'm|we're)\s+expecting|expect(?:s|ed|ing)?\s+"
    r"|will\s+(?:pay|send|transfer|wire)|going\s+to\s+(?:pay|send|transfer|wire)|gonna\s+(?:pay|send)|promised|"
    r"(?:if|once|when|unless)\s+(?:they|he|she|\w+)\s+(?:pays?|sends?)|might|may\s+pay|hopefully|bounced|"
    r"reversed|charged\s+back|chargeback|refund(?:ed|s)?|cancel+ed\s+(?:the\s+)?(?:payment|transfer))\b",
    re.I,
)


# How a client pays, not a payment: "Lumen Works pays net 30", "Acme pays within 14 days",
# "Globex pays on receipt", "they pay net-45".
_PAYMENT_TERMS_RE = lazy_re(
    r"\bpays?\s+(?:us\s+|me\s+)?(?:on\s+|at\s+|with\s+)?(?:net[\s-]?\d+|within\s+\d+|in\s+\d+\s+days|\d+\s+days|"
    r"(?:on|upon)\s+receipt|(?:monthly|quarterly|weekly|yearly|annually|upfront|up\s+front|in\s+advance|in\s+arrears|"
    r"late|slowly|on\s+time)\b)",
    re.I,
)


def payment(ctx: Ctx) -> RecordPayment | None:
    """ "Acme paid $4,000", "got $1,140 from Bob Lee for INV-0001", "payment received from Acme, 2k"."""
    if ctx.is_question or _NOT_RECEIVED_RE.search(ctx.text):
        return None  # a question, a complaint or a hope about money is not money that came in
    if _PAYMENT_TERMS_RE.search(ctx.text) and not ctx.explicit_amounts():
        return None  # payment terms are a fact about the client
    number = invoice_number(ctx.text)
    client = subject_name(ctx, _PAID_VERBS_RE)
    trigger = client is not None
    if client is None:
        first = ctx.take_name(0)
        if first is not None and _POSSESSIVE_PAYMENT_RE.match(ctx.text[first.end :]):
            client, trigger = first, True
    if client is None and _OWN_TRANSFER_RE.search(ctx.text):
        return None
    if client is None:
        for pattern in (_RECEIVED_RE, _PAYMENT_FROM_RE):
            if pattern.search(ctx.text):
                trigger = True
                client = name_after(ctx, pattern)
                if client is not None:
                    break
    mark = _MARK_PAID_RE.match(ctx.text)
    if mark:
        trigger = True
        client = client or ctx.take_name(mark.start("rest"))
    if not trigger and number and re.search(r"(?i)\bpaid\b|\bpayment\b", ctx.text):
        trigger = True
    if not trigger:
        return None
    if client is not None and ctx.is_personal(client.name):
        return None
    if client is None and number is None:
        return None
    amount, currency = ctx.money("amount", allow_bare=True)
    # Business signal: money or an invoice number, plus a name that reads like a client.
    capitalised = client is not None and client.name[:1].isupper()
    if amount is None and number is None and not ctx.problems and not BUSINESS_RE.search(ctx.text):
        return None
    if not (capitalised or number or BUSINESS_RE.search(ctx.text) or (amount is not None and ctx.explicit_amounts())):
        return None
    received = find_date(ctx.text, ctx.today, past=True)  # money that came in came in already
    return RecordPayment(
        client_name=client.name if client else None,
        amount=amount,
        currency=currency,
        invoice_number=number,
        received_on=received.value if received else None,
    )


# --- e-mail --------------------------------------------------------------------------------
_STRONG_EMAIL_RE = lazy_re(
    r"^(?:e-?mail|mail|shoot\s+(?:an?\s+)?(?:quick\s+)?(?:e-?mail|note)\s+(?:to\s+)?|"
    r"send\s+(?:an?\s+)?(?:quick\s+)?(?:e-?mail|note|message|update|reply|follow-?up)\s+to|"
    r"write\s+(?:an?\s+)?(?:quick\s+)?(?:e-?mail\s+|note\s+)?to|drop\s+(?:an?\s+)?(?:quick\s+)?(?:e-?mail|note|line)\s+to|"
    r"reply\s+to|respond\s+to|follow\s+up\s+with|get\s+back\s+to)\s+",
    re.I,
)
_WEAK_EMAIL_RE = lazy_re(r"^(?P<v>tell|let|message|msg|ping|notify|inform|update|remind|ask|send|nudge|chase)\s+", re.I)
_BODY_LEAD_RE = lazy_re(
    r"^\s*(?:(?:an?\s+)?(?:quick\s+|short\s+)?(?:e-?mail|note|message|msg|update|line|reminder|heads[- ]up)\b\s*)?"
    r"(?:know\s+)?(?:that\s+|saying\s+(?:that\s+)?|to\s+say\s+(?:that\s+)?|about\s+|re:?\s+|regarding\s+|on\s+|"
    r"letting\s+(?:them|him|her)\s+know\s+(?:that\s+)?|and\s+(?:say|tell\s+(?:them|him|her)|let\s+(?:them|him|her)\s+know)\s+(?:that\s+)?|"
    r"[:,\-]\s*)?",
    re.I,
)
_CONTACT_AT_RE = lazy_re(r"^\s+(?:at|from|@)\s+", re.I)


def email(ctx: Ctx) -> SendEmail | None:
    """ "email Jane at Acme that the logo is ready", "tell Bob Lee the files are uploaded"."""
    strong = _STRONG_EMAIL_RE.match(ctx.text)
    weak = None if strong else _WEAK_EMAIL_RE.match(ctx.text)
    opening = strong or weak
    if opening is None:
        return None
    pos = opening.end()
    to: str | None = None
    client: NameMatch | None = None
    email_m = re.match(r"\s*(?P<e>[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})", ctx.text[pos:])
    if email_m:
        to = email_m.group("e")
        pos += email_m.end()
    else:
        client = ctx.take_name(pos)
        if client is None:
            return None
        pos = client.end
        at = _CONTACT_AT_RE.match(ctx.text[pos:])
        company = ctx.take_name(pos + at.end()) if at else None
        if company is not None:
            to, client = client.name, company
            pos = company.end
    rest = ctx.text[pos:]
    if weak:
        verb = weak.group("v").lower()
        if verb == "let" and not re.match(r"(?i)^\s*know\b", rest):
            return None
        if verb == "send" and not re.match(
            r"(?i)^\s*(?:an?\s+)?(?:quick\s+|short\s+)?(?:e-?mail|note|message|update|line|reminder)\b", rest
        ):
            return None
        if verb == "remind" and not re.match(r"(?i)^\s*(?:that|about|to)\b", rest):
            return None
    body = clean_phrase(_BODY_LEAD_RE.sub("", rest, count=1)) or None
    says_email = bool(strong and re.search(r"(?i)\be-?mail\b|^mail\b", strong.group(0)))
    if not says_email and not to:
        # A weak verb to a lowercase first name ("tell carl that …") is how people text friends;
        # only a business signal makes it a client e-mail.
        capitalised = client is not None and client.name[:1].isupper()
        if not (capitalised or (body and BUSINESS_RE.search(body))):
            return None
    subject = None
    return SendEmail(client_name=client.name if client else None, to=to, subject=subject, body=body)
