"""Decide the intent of one message: try the rules in priority order, else ``unknown``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import TYPE_CHECKING

from graphs.intents import SIDE_EFFECT_KINDS, Intent, Unknown
from graphs.offline_parsing import (
    rules_changes,
    rules_currency,
    rules_done,
    rules_invoices,
    rules_memory,
    rules_money,
    rules_recall,
    rules_reports,
    rules_retainer,
    rules_work,
)
from graphs.offline_parsing.context import Ctx
from graphs.parsing import ParseResult

if TYPE_CHECKING:  # the router loads numpy and the embedder on first use, never at import
    from graphs.offline_parsing.router import SemanticRouter

Rule = Callable[[Ctx], Intent | None]

# Order matters: the more specific phrasing wins.
# - help before anything ("?" is also a question);
# - tasks before money ("remind me to invoice Acme" is a to-do, not an invoice);
# - facts before money ("remember that Acme pays net 45");
# - recall before status ("find the invoice for Acme" looks the document up);
# - status before money (questions about invoices never create one);
# - retainer before new client and payment ("signed the retainer" beats "signed on");
# - proposal before invoice ("send Acme a proposal"), invoice before e-mail ("send Acme an invoice");
# - bare client statements ("Acme prefers Slack") last: "Acme wants a proposal" is a proposal.
RULES: tuple[Rule, ...] = (
    rules_reports.bare_answer,  # "yes" with no question waiting: unknown, never routed to small talk
    rules_reports.small_talk,  # "hi", "thanks!": before help (which also knows "hi")
    rules_work.help_,
    *rules_retainer.RULES,  # ending, pausing, resuming a retainer (anchored phrasings only)
    *rules_changes.RULES,  # rename, contact, due date, task done, delete, undo (anchored on their verb)
    rules_currency.change_currency,  # "Globex is billed in EUR from now on": a currency, no amount
    rules_done.deliverable_done,  # "the logo for Acme is done": a statement no other rule wants
    rules_memory.update_terms,
    rules_memory.profile,
    rules_memory.revision_request,
    *rules_invoices.RULES,  # void, resend, payment reminder: an invoice number or a reminder verb
    rules_work.task,
    rules_work.remember_fact,
    *rules_reports.RULES,  # reports over the books: an invoice number, earnings, paid/owed, by state
    rules_recall.recall,
    rules_work.status,
    rules_money.retainer,
    rules_money.proposal,
    rules_money.invoice,
    rules_money.payment,
    rules_work.new_client,
    rules_work.deliverable,
    rules_money.email,
    rules_work.client_statement,
    rules_reports.question,  # any other question goes to recall, never to the help text
)


def _safe(ctx: Ctx, intent: Intent) -> bool:
    """Last line of defence: a side-effect intent never targets the operator's private life."""
    if intent.kind not in SIDE_EFFECT_KINDS:
        return True
    name = getattr(intent, "client_name", None)
    # Signing a client up names it on purpose: "new client: Google" is a real company as client;
    # once it is one (``ctx.clients``), any request may name it.
    return name is None or not ctx.is_personal(name, explicit=intent.kind in ("new_client", "retainer_signup"))


def classify(text: str, today: date, clients: Iterable[str] = (), router: SemanticRouter | None = None) -> ParseResult:
    """Parse one operator message into a typed intent plus any unreadable-field problems.
    ``clients`` are the operator's client names: a real company among them ("Google") is read
    as a client wherever it is named, which an everyday company in free text is not.

    The result is assembled with ``model_construct``: its parts are already typed models
    (built and validated by the rules), and validating them again would build the whole
    intent union's validator on every process start.
    """
    ctx = Ctx.build(text, today, clients)
    if not ctx.text:  # "hi", "hello coo": only a polite prefix, which normalising drops
        said = rules_reports.small_talk(ctx) or Unknown(text=text, reason="empty message")
        return ParseResult.model_construct(intent=said)
    for rule in RULES:
        intent = rule(ctx)
        if intent is not None and router is not None and _weak(rule, ctx):
            intent = _second_opinion(ctx, intent, router)
        if intent is not None and _safe(ctx, intent):
            # A problem stays only when its field is still unset (None, or no invoice lines).
            problems = [p for p in ctx.problems if getattr(intent, p.field, "absent") in (None, [])]
            return ParseResult.model_construct(intent=intent, problems=problems)
        ctx.problems.clear()
    reason = (
        "mentions business words but matches no request I know"
        if ctx.has_business_words or ctx.explicit_amounts()
        else "not something coo handles (clients, invoices, payments, deliverables, tasks)"
    )
    if router is None:
        return ParseResult.model_construct(intent=Unknown(text=text, reason=reason))
    return _routed(ctx, text, reason, router)


def _weak(rule: Rule, ctx: Ctx) -> bool:
    """A rule that reads by elimination: a bare statement about a client ("Acme wants …") is a
    fact only because no other rule wanted it; a question naming nothing but a name ("what's the
    capital of Peru") a status summary, and any other question ("what can u do", "how far is the
    airport") a memory search, only because it is a question."""
    from graphs.offline_parsing.rules_work import status_topic

    return (
        rule is rules_work.client_statement
        or rule is rules_reports.question
        or (rule is rules_work.status and status_topic(ctx) is None)
    )


def _second_opinion(ctx: Ctx, intent: Intent, router: SemanticRouter) -> Intent | None:
    """The router's reading of what a weak rule read: kept when the router agrees or is unsure;
    another kind when the router is sure of it (and may act on it); None when it is surely none of
    coo's business."""
    from graphs.offline_parsing import routed

    route = router.route(routed.masked(ctx))
    if route.out_of_scope:
        return None
    if route.kind in ("unknown", intent.kind):
        return intent
    if rules_reports.asks_nothing(ctx, route.kind):
        return intent  # "Lumen Co's hourly rate is $120" tells a figure; it does not ask for one
    other = routed.build(route.kind, ctx)
    if other.kind in SIDE_EFFECT_KINDS and not routed.plainly_for_a_client(ctx, other):
        return intent
    return other if not routed.dates_point_back(ctx, other) else intent


def _routed(ctx: Ctx, text: str, reason: str, router: SemanticRouter) -> ParseResult:
    from graphs.offline_parsing import routed

    route = router.route(routed.masked(ctx))
    # "I paid Netflix $15" is no balance question, "tell carl he owes me lunch" no status question
    if route.kind != "unknown" and not rules_reports.asks_nothing(ctx, route.kind):
        intent = routed.build(route.kind, ctx)
        plain = intent.kind not in SIDE_EFFECT_KINDS or routed.plainly_for_a_client(ctx, intent)
        if _safe(ctx, intent) and plain and not routed.dates_point_back(ctx, intent):
            problems = [p for p in ctx.problems if getattr(intent, p.field, "absent") in (None, [])]
            return ParseResult.model_construct(intent=intent, problems=problems)
    unsure = Unknown(text=text, reason=reason, candidates=list(route.candidates) or None)
    return ParseResult.model_construct(intent=unsure)
